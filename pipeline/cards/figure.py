"""The evidence card image: a map of both tracks, their distance and speeds, their draught.

Built with matplotlib's object-oriented API (a ``Figure`` rendered through
the Agg canvas), never pyplot: pyplot keeps global state that is not safe in
worker processes and threads, and leaks figures that are never closed.

Layout, for a ten-second read:

* header: kind, score and rank, times, both vessels, verdict, watchlist hits;
* left: a local map in km around the meeting (equal scale, a scale bar, the
  coastline from the project's 1 km land mask), both tracks from 12 h before
  to 12 h after, silences of an hour or more dashed, the meeting highlighted,
  the nearest port marked or pointed at; an inset zooms on the meeting when
  the tracks span far more than it;
* right top: distance between the two vessels (log scale, the 500 m meeting
  threshold dotted) and both speeds over time, AIS silences shaded;
* right bottom: both vessels' draught reports over time;
* footer: the reasons with their numbers.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from stswatch.pipeline.cards.data import SIDES, CardData

COLOURS = {"a": "#1f6fb4", "b": "#d9620b"}
MEETING = "#d6247a"
LAND, COAST, SEA = "#e9dfc6", "#8a7650", "#f3f8fc"
KM_PER_DEG = 6_371.0088 * np.pi / 180.0
#: Figure size in inches and resolution: 1,170 x 720 px, legible on a laptop.
FIG_SIZE_IN = (13.0, 8.0)
DPI = 90
#: Axes titles, also what the tests look for.
MAP_TITLE = "tracks, 12 h either side"
DISTANCE_TITLE = "distance apart"
SPEED_TITLE = "speed over ground, as reported"
DRAUGHT_TITLE = "draught reports"
_NICE_KM = (0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _vessel_label(card: CardData, side: str) -> str:
    name = card.event.get(f"vessel_name_{side}")
    name = name if isinstance(name, str) and name.strip() else "no name"
    dark = card.event.get("dark_mmsi")
    suffix = (
        " (dark)" if dark is not None and pd.notna(dark) and int(dark) == card.mmsi(side) else ""
    )
    return f"vessel {1 if side == 'a' else 2}: {card.mmsi(side)} {name}{suffix}"


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
    from stswatch.geo.coast import land_mask_window

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


def _draw_map(fig: Figure, ax: Axes, card: CardData) -> None:
    proj = LocalProjection(card.event["mean_lat"], card.event["mean_lon"])
    bbox = ax.get_position()
    aspect = (bbox.width * FIG_SIZE_IN[0]) / (bbox.height * FIG_SIZE_IN[1])
    extent = _map_extent(card, proj, aspect)
    wide = extent[1] - extent[0] > 40.0
    corners = _place(card, proj, extent, inset=wide)
    ax.set_facecolor(SEA)
    _draw_land(ax, proj, extent)
    _draw_tracks(ax, card, proj)
    ax.plot(0, 0, "*", color=MEETING, ms=15, mec="white", zorder=7)
    port = _draw_port(ax, card, proj, extent)
    _scale_bar(ax, extent, corners["scale"])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="datalim")
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel("km east of the meeting" + (f"  ·  {port}" if port else ""))
    ax.set_ylabel("km north")
    title = MAP_TITLE
    area = card.event.get("sts_area_name")
    if isinstance(area, str) and area:
        source = card.event.get("sts_area_source")
        title += f"; in STS area {area}" + (f" ({source})" if source else "")
    _title(ax, title)
    handles = [
        Line2D([], [], color=COLOURS[s], lw=1.6, label=_vessel_label(card, s)[:48]) for s in SIDES
    ]
    handles += [
        Line2D([], [], color="0.3", ls="--", lw=1.2, label=f"no AIS ≥ {card.dash_gap_h:g} h"),
        Line2D([], [], color=MEETING, lw=6, alpha=0.35, label="during the meeting"),
        Line2D([], [], ls="", marker="o", mfc="white", mec="0.3", label="first fix in window"),
        Line2D([], [], ls="", marker="s", color="0.3", label="last fix in window"),
    ]
    ax.legend(handles=handles, loc=corners["legend"], fontsize=7, framealpha=0.9)
    if wide:
        _draw_inset(fig, ax, card, proj, corners["inset"])


def _title(ax: Axes, text: str) -> None:
    """An axes title as plain figure text: ``set_title`` re-measures every tick label
    to place itself, which was a quarter of a card's drawing time."""
    box = ax.get_position()
    ax.figure.text(box.x0, box.y1 + 0.008, text, fontsize=10, va="bottom", ha="left", gid="title")


def _time_axis(ax: Axes) -> None:
    locator = AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
    ax.tick_params(labelsize=8)


def _shade(ax: Axes, card: CardData) -> None:
    ax.axvspan(card.start, card.end, color=MEETING, alpha=0.12, lw=0)
    for s in card.silences:
        ax.axvspan(
            max(s["start_time"], card.window_start),
            min(s["end_time"], card.window_end),
            color=COLOURS[s["side"]],
            alpha=0.13,
            lw=0,
            hatch="//" if s["side"] == "a" else "\\\\",
        )
    ax.set_xlim(card.window_start, card.window_end)


def pair_distance_km(card: CardData, step_min: int = 10) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Distance between the two vessels on a regular grid, NaN where either is silent."""
    grid = pd.date_range(card.window_start, card.window_end, freq=f"{step_min}min")
    g = grid.as_unit("ms").asi8.astype(float)
    pos = []
    for side in SIDES:
        tr = card.tracks[side]
        if len(tr) < 2:
            return grid, np.full(len(grid), np.nan)
        t = tr["timestamp"].dt.as_unit("ms").astype("int64").to_numpy().astype(float)
        lat = np.interp(g, t, tr["lat"].to_numpy(float))
        lon = np.degrees(np.unwrap(np.radians(tr["lon"].to_numpy(float))))
        lon = np.interp(g, t, lon)
        k = np.clip(np.searchsorted(t, g), 1, len(t) - 1)
        bridged = (t[k] - t[k - 1]) / 3.6e6
        bad = (g < t[0]) | (g > t[-1]) | (bridged >= card.dash_gap_h)
        lat[bad] = np.nan
        pos.append((lat, lon))
    (la1, lo1), (la2, lo2) = pos
    from stswatch.geo.distance import haversine_m

    return grid, haversine_m(la1, lo1, la2, lo2) / 1000.0


def _draw_distance(ax: Axes, card: CardData) -> None:
    grid, km = pair_distance_km(card)
    _shade(ax, card)
    ax.plot(grid, np.clip(km, 0.01, None), color="black", lw=1.4)
    ax.axhline(0.5, color="0.4", ls=":", lw=1)
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    # plain numbers: the default 10^n labels go through mathtext, a tenth of a card's time
    ax.yaxis.set_major_locator(FixedLocator([0.01, 0.1, 1, 10, 100, 1000]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_ylabel("km apart", fontsize=9)
    _title(ax, DISTANCE_TITLE)
    handles = [
        Line2D([], [], color="black", lw=1.4, label="distance"),
        Line2D([], [], color="0.4", ls=":", label="500 m"),
        Patch(fc=MEETING, alpha=0.25, label="meeting"),
        Patch(fc=COLOURS["a"], alpha=0.3, hatch="//", label="v1 silent"),
        Patch(fc=COLOURS["b"], alpha=0.3, hatch="\\\\", label="v2 silent"),
    ]
    ax.legend(
        handles=handles,
        fontsize=7,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=5,
        frameon=False,
        handlelength=1.5,
        columnspacing=1.0,
    )
    _time_axis(ax)


def _broken(times: pd.Series, values: pd.Series, gap_h: float) -> tuple[np.ndarray, np.ndarray]:
    """The series with a NaN after every silence of ``gap_h`` or more: no line across it."""
    t = times.to_numpy()
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    cut = np.flatnonzero(np.diff(t) >= np.timedelta64(int(gap_h * 3600), "s")) + 1
    return np.insert(t, cut, t[cut - 1]), np.insert(v, cut, np.nan)


def _draw_speed(ax: Axes, card: CardData) -> None:
    _shade(ax, card)
    for side in SIDES:
        tr = card.tracks[side]
        if tr.empty:
            continue
        t, sog = _broken(tr["timestamp"], tr["sog_kn"], card.dash_gap_h)
        ax.plot(t, sog, color=COLOURS[side], lw=0.9, alpha=0.9)
    ax.set_ylabel("speed (kn)", fontsize=9)
    ax.set_ylim(bottom=0)
    _title(ax, SPEED_TITLE)
    _time_axis(ax)


def _draw_draught(ax: Axes, card: CardData) -> None:
    _shade(ax, card)
    any_report = False
    for side in SIDES:
        st = card.statics[side]
        d = st.dropna(subset=["draught_m"]) if "draught_m" in st else st.iloc[0:0]
        if d.empty:
            continue
        before = d[d["timestamp"] < card.window_start].tail(1)
        inside = d[(d["timestamp"] >= card.window_start) & (d["timestamp"] <= card.window_end)]
        series = pd.concat([before.assign(timestamp=card.window_start), inside])
        if series.empty:
            continue
        after = series.tail(1).assign(timestamp=card.window_end)
        series = pd.concat([series, after])
        ax.step(series["timestamp"], series["draught_m"], where="post", color=COLOURS[side], lw=1.5)
        ax.plot(inside["timestamp"], inside["draught_m"], "o", color=COLOURS[side], ms=4)
        any_report = True
    if not any_report:
        ax.text(0.5, 0.5, "no draught reported", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_ylabel("draught (m)", fontsize=9)
    _title(ax, DRAUGHT_TITLE)
    _time_axis(ax)


def _header(fig: Figure, card: CardData) -> None:
    e = card.event
    kind = card.kind.replace("_", " ")
    hours = float(e.get("duration_h") or 0.0)
    score = float(e.get("score") or 0.0)
    head = (
        f"{kind}  ·  score {score:.2f} (#{card.rank} of {card.n_ranked})  ·  "
        f"{card.start:%Y-%m-%d %H:%M}–{card.end:%H:%M} UTC, {hours:.1f} h  ·  event {e['event_id']}"
    )
    fig.text(0.02, 0.965, head, fontsize=13, weight="bold", va="top")
    vessels = "     ".join(_vessel_label(card, s) for s in SIDES)
    fig.text(0.02, 0.925, vessels, fontsize=10, va="top")
    verdict = e.get("verdict")
    if isinstance(verdict, str) and verdict:
        at = pd.Timestamp(e.get("reviewed_at")) if e.get("reviewed_at") is not None else None
        when = f" at {at:%Y-%m-%d %H:%M} UTC" if at is not None and pd.notna(at) else ""
        status = f"verdict: {verdict.upper()} by {e.get('reviewed_by')}{when}"
    else:
        status = "verdict: not reviewed"
    fig.text(0.98, 0.925, status, fontsize=10, va="top", ha="right", weight="bold")
    hits = e.get("watchlist_hits")
    if isinstance(hits, list) and hits:
        from stswatch.pipeline.screening import hit_text

        line = "WATCHLIST: " + " | ".join(hit_text(h) for h in hits[:2])
        fig.text(0.02, 0.893, textwrap.shorten(line, 190), fontsize=9, color="#b00020", va="top")


def _footer(fig: Figure, card: CardData) -> None:
    reasons = card.event.get("reasons")
    reasons = list(reasons) if isinstance(reasons, list | tuple | np.ndarray) else []
    lines = [textwrap.shorten(f"• {r}", 150) for r in reasons[:4]] or ["• no reason stood out"]
    fig.text(0.02, 0.115, "why it ranks here:", fontsize=9, weight="bold", va="top")
    fig.text(0.02, 0.09, "\n".join(lines), fontsize=9, va="top", linespacing=1.35)


def build_card_figure(card: CardData) -> Figure:
    """The card as a matplotlib Figure (not yet rendered), with Agg as its canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=FIG_SIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    ax_map = fig.add_axes((0.06, 0.19, 0.44, 0.66))
    ax_dist = fig.add_axes((0.57, 0.64, 0.41, 0.21))
    ax_speed = fig.add_axes((0.57, 0.405, 0.41, 0.17), sharex=ax_dist)
    ax_draught = fig.add_axes((0.57, 0.19, 0.41, 0.15), sharex=ax_dist)
    _header(fig, card)
    _draw_map(fig, ax_map, card)
    _draw_distance(ax_dist, card)
    _draw_speed(ax_speed, card)
    _draw_draught(ax_draught, card)
    for ax in (ax_dist, ax_speed):  # one time axis, under the draught panel
        ax.tick_params(labelbottom=False)
    _footer(fig, card)
    return fig


def write_card_png(card: CardData, path: Any) -> None:
    """Render the card to ``path`` (PNG) through the Agg canvas."""
    fig = build_card_figure(card)
    # zlib level 1: a third of the encoding time for ~15% more bytes
    fig.savefig(path, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 1})
