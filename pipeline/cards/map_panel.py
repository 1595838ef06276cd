"""The map panel of an evidence card: both tracks in km around the meeting, on the coastline.

Kilometres east/north of the event's mean position (equirectangular,
antimeridian-safe): equal scale, a scale bar that needs no projection maths,
and the project's 1 km land mask drawn as the coastline. Silences of an hour
or more are dashed, the meeting is highlighted, the nearest port marked or
pointed at; an inset zooms on the meeting when the tracks span far more. The
inset, the legend and the scale bar go to the corners hiding the least track.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from stswatch.pipeline.cards.data import SIDES, CardData
from stswatch.pipeline.cards.style import (
    COAST,
    COLOURS,
    FIG_SIZE_IN,
    LAND,
    MAP_TITLE,
    MEETING,
    SEA,
    panel_title,
    vessel_label,
)

KM_PER_DEG = 6_371.0088 * np.pi / 180.0
_NICE_KM = (0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class LocalProjection:
    """Kilometres east/north of the event's mean position (equirectangular, antimeridian-safe)."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = float(lat0), float(lon0)
        self.kx = KM_PER_DEG * np.cos(np.radians(self.lat0))

    def __call__(self, lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
        dlon = (np.asarray(lon, dtype=float) - self.lon0 + 180.0) % 360.0 - 180.0
        return dlon * self.kx, (np.asarray(lat, dtype=float) - self.lat0) * KM_PER_DEG

    def inverse_box(self, x0: float, x1: float, y0: float, y1: float) -> tuple[float, ...]:
        """(lat_min, lat_max, lon_min, lon_max) of a km box; longitudes unwrapped."""
        return (
            self.lat0 + y0 / KM_PER_DEG,
            self.lat0 + y1 / KM_PER_DEG,
            self.lon0 + x0 / self.kx,
            self.lon0 + x1 / self.kx,
        )


def _segments(track: pd.DataFrame, dash_gap_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the steps between fixes: (reported, silent for dash_gap_h or longer)."""
    dt = track["timestamp"].diff().dt.total_seconds().to_numpy()[1:] / 3600.0
    silent = dt >= dash_gap_h
    return ~silent, silent


def _map_extent(card: CardData, proj: LocalProjection, aspect: float) -> tuple[float, ...]:
    """A box (x0, x1, y0, y1) in km holding both tracks and the meeting, at the axes' aspect."""
    xs, ys = [0.0], [0.0]
    for side in SIDES:
        x, y = proj(card.tracks[side]["lat"], card.tracks[side]["lon"])
        xs += list(x[np.isfinite(x)])
        ys += list(y[np.isfinite(y)])
    for s in card.silences:  # the ends of silences that fall inside the window
        for end in ("start", "end"):
            if card.window_start <= s[f"{end}_time"] <= card.window_end:
                x, y = proj(s[f"{end}_lat"], s[f"{end}_lon"])
                xs.append(float(x))
                ys.append(float(y))
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w = max((x1 - x0) * 0.55, 4.0)
    half_h = max((y1 - y0) * 0.55, 4.0)
    if half_w / half_h < aspect:
        half_w = half_h * aspect
    else:
        half_h = half_w / aspect
    return cx - half_w, cx + half_w, cy - half_h, cy + half_h


def _draw_land(ax: Axes, proj: LocalProjection, extent: tuple[float, ...]) -> bool:
    """Fill land and draw the coastline from the 1 km land mask; True if any land is in view."""
    from stswatch.geo.land_mask import land_mask_window

    lat_min, lat_max, lon_min, lon_max = proj.inverse_box(*extent)
    lats, lons, land = land_mask_window(lat_min, lat_max, lon_min, lon_max, max_px=360)
    if not land.any():
        return False
    xs = proj(np.full(len(lons), proj.lat0), lons)[0]
    ys = proj(lats, np.full(len(lats), proj.lon0))[1]
    gx, gy = np.meshgrid(xs, ys)
    ax.contourf(gx, gy, land.astype(float), levels=[0.5, 1.5], colors=[LAND], zorder=1)
    ax.contour(gx, gy, land.astype(float), levels=[0.5], colors=[COAST], linewidths=0.8, zorder=2)
    return True


def _draw_tracks(ax: Axes, card: CardData, proj: LocalProjection, *, bold: float = 1.6) -> None:
    t0, t1 = card.start, card.end
    for side in SIDES:
        tr = card.tracks[side]
        if tr.empty:
            continue
        x, y = proj(tr["lat"], tr["lon"])
        ok, silent = _segments(tr, card.dash_gap_h)
        colour = COLOURS[side]
        xs = np.column_stack([x[:-1], x[1:]])
        ys = np.column_stack([y[:-1], y[1:]])
        for mask, style in ((ok, "-"), (silent, "--")):
            if mask.any():
                px = np.column_stack([xs[mask], np.full(mask.sum(), np.nan)]).ravel()
                py = np.column_stack([ys[mask], np.full(mask.sum(), np.nan)]).ravel()
                ax.plot(px, py, style, color=colour, lw=bold if style == "-" else 1.2, zorder=4)
        during = ((tr["timestamp"] >= t0) & (tr["timestamp"] <= t1)).to_numpy()
        if during.any():
            ax.plot(x[during], y[during], "-", color=MEETING, lw=bold * 4, alpha=0.35, zorder=3)
        ax.plot(x[0], y[0], "o", mfc="white", mec=colour, ms=6, zorder=5)
        ax.plot(x[-1], y[-1], "s", color=colour, ms=5, zorder=5)


def _scale_bar(ax: Axes, extent: tuple[float, ...], corner: str) -> None:
    x0, x1, y0, y1 = extent
    width = x1 - x0
    length = max([k for k in _NICE_KM if k <= width / 4] or [_NICE_KM[0]])
    cx, cy = _CORNERS[corner]
    bx = x1 - 0.05 * width - length if cx else x0 + 0.05 * width
    by = y1 - 0.08 * (y1 - y0) if cy else y0 + 0.06 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], "-", color="black", lw=3, zorder=6, solid_capstyle="butt")
    label = f"{length:g} km" if length >= 1 else f"{length * 1000:.0f} m"
    ax.text(bx + length / 2, by + 0.015 * (y1 - y0), label, ha="center", va="bottom", fontsize=9)


def _compass(dx: float, dy: float) -> str:
    names = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")
    return names[int(((np.degrees(np.arctan2(dy, dx)) + 22.5) % 360) // 45)]


def _draw_port(ax: Axes, card: CardData, proj: LocalProjection, extent: tuple[float, ...]) -> str:
    """Mark the nearest port when it is in view; return the words for the map's title."""
    port = card.port
    if not port or port.get("lat") is None:
        return ""
    x, y = proj(port["lat"], port["lon"])
    x, y = float(x), float(y)
    label = f"{port['name']}, {port['distance_m'] / 1000:.0f} km"
    if extent[0] <= x <= extent[1] and extent[2] <= y <= extent[3]:
        ax.plot(x, y, "P", color="black", ms=8, zorder=6)
        ax.annotate(port["name"], (x, y), xytext=(6, -10), textcoords="offset points", fontsize=8)
        return f"nearest port {label}"
    return f"nearest port {label} to the {_compass(x, y)}"


#: Corners of the map as (x, y) axes fractions of the corner itself.
_CORNERS = {
    "upper left": (0, 1),
    "upper right": (1, 1),
    "lower left": (0, 0),
    "lower right": (1, 0),
}


def _corner_load(fx: np.ndarray, fy: np.ndarray, corner: str, w: float, h: float) -> int:
    """How many track points (axes fractions) a w x h box in ``corner`` would cover."""
    cx, cy = _CORNERS[corner]
    in_x = fx <= w if cx == 0 else fx >= 1 - w
    in_y = fy <= h if cy == 0 else fy >= 1 - h
    return int(np.count_nonzero(in_x & in_y))


def _place(
    card: CardData, proj: LocalProjection, extent: tuple[float, ...], inset: bool
) -> dict[str, str]:
    """Corners for the inset, the legend and the scale bar, where they hide the fewest fixes."""
    xs, ys = [], []
    for side in SIDES:  # the drawn lines, densified: sparse fixes still draw long lines
        tx, ty = proj(card.tracks[side]["lat"], card.tracks[side]["lon"])
        if len(tx) > 1:
            steps = np.linspace(0, len(tx) - 1, 400)
            xs.append(np.interp(steps, np.arange(len(tx)), tx))
            ys.append(np.interp(steps, np.arange(len(ty)), ty))
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    fx = (x - extent[0]) / (extent[1] - extent[0])
    fy = (y - extent[2]) / (extent[3] - extent[2])
    free = list(_CORNERS)
    out: dict[str, str] = {}
    for item, (w, h) in (("inset", (0.36, 0.45)), ("legend", (0.45, 0.32))):
        if item == "inset" and not inset:
            continue
        out[item] = min(
            free, key=lambda c, w=w, h=h: (_corner_load(fx, fy, c, w, h), free.index(c))
        )
        free.remove(out[item])
    lower = [c for c in free if c.startswith("lower")]
    out["scale"] = min(lower or free, key=lambda c: _corner_load(fx, fy, c, 0.3, 0.1))
    return out


def _draw_inset(fig: Figure, ax: Axes, card: CardData, proj: LocalProjection, corner: str) -> None:
    """Zoom on the meeting when the map is much wider than it."""
    pts = []
    for side in SIDES:
        tr = card.tracks[side]
        near = tr[(tr["timestamp"] >= card.start) & (tr["timestamp"] <= card.end)]
        pts.append(np.column_stack(proj(near["lat"], near["lon"])))
    xy = np.vstack(pts) if pts else np.zeros((0, 2))
    half = max(1.0, float(np.abs(xy).max()) * 1.3) if len(xy) else 1.0
    box = ax.get_position()
    cx, cy = _CORNERS[corner]
    w, h = 0.155, 0.24
    left = box.x1 - w - 0.005 if cx else box.x0 + 0.03
    bottom = box.y1 - h - 0.025 if cy else box.y0 + 0.04
    inset = fig.add_axes((left, bottom, w, h))
    inset.set_facecolor(SEA)
    _draw_tracks(inset, card, proj, bold=1.2)
    inset.plot(0, 0, "*", color=MEETING, ms=12, zorder=7)
    inset.set_xlim(-half, half)
    inset.set_ylim(-half, half)
    inset.set_aspect("equal", adjustable="box")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.text(
        0.5,
        0.98,
        f"meeting, ±{half:.1f} km",
        fontsize=7,
        ha="center",
        va="top",
        transform=inset.transAxes,
    )


def draw_map(fig: Figure, ax: Axes, card: CardData) -> None:
    proj = LocalProjection(card.event["mean_lat"], card.event["mean_lon"])
    bbox = ax.get_position()
    aspect = (bbox.width * FIG_SIZE_IN[0]) / (bbox.height * FIG_SIZE_IN[1])
    extent = _map_extent(card, proj, aspect)
    wide = extent[1] - extent[0] > 40.0
    corners = _place(card, proj, extent, inset=wide)
    _draw_land(ax, proj, extent)
    for lat, lon in card.area_rings:  # the listed STS area, where the meeting lies
        ax.plot(*proj(lat, lon), "--", color=MEETING, lw=1.2, alpha=0.8, zorder=2)
    _draw_tracks(ax, card, proj)
    ax.plot(0, 0, "*", color=MEETING, ms=15, mec="white", zorder=7)
    port = _draw_port(ax, card, proj, extent)
    _scale_bar(ax, extent, corners["scale"])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("km east of the meeting" + (f"  ·  {port}" if port else ""))
    title = MAP_TITLE
    area = card.event.get("sts_area_name")
    if isinstance(area, str) and area:
        source = card.event.get("sts_area_source")
        title += f"; in STS area {area}" + (f" ({source})" if source else "")
    panel_title(ax, title)
    handles = [
        Line2D([], [], color=COLOURS[s], lw=1.6, label=vessel_label(card, s)[:48]) for s in SIDES
    ]
    handles += [
        Line2D([], [], color="0.3", ls="--", lw=1.2, label=f"no AIS ≥ {card.dash_gap_h:g} h"),
        Line2D([], [], color=MEETING, lw=6, alpha=0.35, label="during the meeting"),
        Line2D([], [], ls="", marker="o", mfc="white", mec="0.3", label="first fix in window"),
        Line2D([], [], ls="", marker="s", color="0.3", label="last fix in window"),
    ]
    if card.area_rings:
        handles.append(Line2D([], [], color=MEETING, ls="--", lw=1.2, label="STS area (listed)"))
    ax.legend(handles=handles, loc=corners["legend"], fontsize=7, framealpha=0.9)
    if wide:
        _draw_inset(fig, ax, card, proj, corners["inset"])
