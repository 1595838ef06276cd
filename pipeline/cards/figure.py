"""The evidence card image: a map of both tracks, their distance and speeds, their draught.

Built with matplotlib's object-oriented API (a ``Figure`` rendered through
the Agg canvas), never pyplot: pyplot keeps global state that is not safe in
worker processes and threads, and leaks figures that are never closed.

Layout, for a ten-second read:

* header: kind, score and rank, times, both vessels, verdict, watchlist hits;
* left: a local map in km around the meeting (:mod:`.map_panel`);
* right: distance between the two vessels (log scale, the 500 m meeting
  threshold dotted), both speeds and both vessels' draught reports over
  time, AIS silences shaded, the meeting highlighted;
* footer: the reasons with their numbers.
"""

from __future__ import annotations

import textwrap
import threading
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
from stswatch.pipeline.cards.map_panel import LocalProjection, draw_map
from stswatch.pipeline.cards.style import (
    COLOURS,
    DISTANCE_TITLE,
    DPI,
    DRAUGHT_TITLE,
    FIG_SIZE_IN,
    MAP_TITLE,
    MEETING,
    SEA,
    SPEED_TITLE,
    panel_title,
    vessel_label,
)

__all__ = [
    "DISTANCE_TITLE",
    "DPI",
    "DRAUGHT_TITLE",
    "FIG_SIZE_IN",
    "MAP_TITLE",
    "SPEED_TITLE",
    "CardFigure",
    "LocalProjection",
    "build_card_figure",
    "pair_distance_km",
    "write_card_png",
]


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
    ax.plot(_naive(grid), np.clip(km, 0.01, None), color="black", lw=1.4)


def _naive(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC times as plain datetime64: matplotlib converts them without a per-value
    Python loop (tz-aware values go through Timestamp objects, ~5 ms a series)."""
    index = pd.DatetimeIndex(times)
    return (index.tz_convert(None) if index.tz is not None else index).to_numpy()


def _broken(times: pd.Series, values: pd.Series, gap_h: float) -> tuple[np.ndarray, np.ndarray]:
    """The series with a NaN after every silence of ``gap_h`` or more: no line across it."""
    t = _naive(times)
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
    ax.set_ylim(bottom=0)


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
        ax.step(
            _naive(series["timestamp"]),
            series["draught_m"].to_numpy(float),
            where="post",
            color=COLOURS[side],
            lw=1.5,
        )
        ax.plot(
            _naive(inside["timestamp"]),
            inside["draught_m"].to_numpy(float),
            "o",
            color=COLOURS[side],
            ms=4,
        )
        any_report = True
    if not any_report:
        ax.text(0.5, 0.5, "no draught reported", transform=ax.transAxes, ha="center", color="0.4")


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
    vessels = "     ".join(vessel_label(card, s) for s in SIDES)
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


def _static_layout(fig: Figure) -> dict[str, Axes]:
    """The axes and everything on them that is the same on every card."""
    axes = {
        "map": fig.add_axes((0.06, 0.19, 0.44, 0.66)),
        "distance": fig.add_axes((0.57, 0.64, 0.41, 0.21)),
    }
    axes["speed"] = fig.add_axes((0.57, 0.405, 0.41, 0.17), sharex=axes["distance"])
    axes["draught"] = fig.add_axes((0.57, 0.19, 0.41, 0.15), sharex=axes["distance"])
    m = axes["map"]
    m.set_facecolor(SEA)
    m.set_ylabel("km north")
    m.xaxis.set_major_locator(MaxNLocator(6))
    m.yaxis.set_major_locator(MaxNLocator(6))
    d = axes["distance"]
    d.axhline(0.5, color="0.4", ls=":", lw=1)
    d.set_yscale("log")
    d.yaxis.set_minor_locator(NullLocator())
    # plain numbers: the default 10^n labels go through mathtext, a tenth of a card's time
    d.yaxis.set_major_locator(FixedLocator([0.01, 0.1, 1, 10, 100, 1000]))
    d.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    handles = [
        Line2D([], [], color="black", lw=1.4, label="distance"),
        Line2D([], [], color="0.4", ls=":", label="500 m"),
        Patch(fc=MEETING, alpha=0.25, label="meeting"),
        Patch(fc=COLOURS["a"], alpha=0.3, hatch="//", label="v1 silent"),
        Patch(fc=COLOURS["b"], alpha=0.3, hatch="\\\\", label="v2 silent"),
    ]
    d.legend(
        handles=handles,
        fontsize=7,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=5,
        frameon=False,
        handlelength=1.5,
        columnspacing=1.0,
    )
    for key, label, title in (
        ("distance", "km apart", DISTANCE_TITLE),
        ("speed", "speed (kn)", SPEED_TITLE),
        ("draught", "draught (m)", DRAUGHT_TITLE),
    ):
        axes[key].set_ylabel(label, fontsize=9)
        panel_title(axes[key], title)
        _time_axis(axes[key])
    for key in ("distance", "speed"):  # one time axis, under the draught panel
        axes[key].tick_params(labelbottom=False)
    return axes


class CardFigure:
    """One card-sized Figure, reused card after card.

    Building the axes, ticks and fixed labels is half of a card's drawing
    time, so a worker builds them once: before each card, everything a card
    added (lines, spans, land, legends, texts, the inset) is removed and
    the autoscaling is reset, leaving the figure as :func:`_static_layout`
    made it. A test draws cards in turn on one figure and compares them with
    fresh figures, pixel for pixel.
    """

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = Figure(figsize=FIG_SIZE_IN, dpi=DPI)
        FigureCanvasAgg(self.fig)
        self.axes = _static_layout(self.fig)
        self._static = {ax: set(ax.get_children()) for ax in self.fig.axes}
        self._static_texts = set(self.fig.texts)

    def _reset(self) -> None:
        for ax in list(self.fig.axes):
            if ax not in self._static:  # the inset
                self.fig.delaxes(ax)
                continue
            for child in ax.get_children():
                if child not in self._static[ax]:
                    child.remove()
            ax.set_autoscale_on(True)
            ax.relim()
        for text in list(self.fig.texts):
            if text not in self._static_texts:
                text.remove()

    def draw(self, card: CardData) -> Figure:
        """The figure showing ``card`` (only valid until the next call)."""
        self._reset()
        _header(self.fig, card)
        draw_map(self.fig, self.axes["map"], card)
        _draw_distance(self.axes["distance"], card)
        _draw_speed(self.axes["speed"], card)
        _draw_draught(self.axes["draught"], card)
        self.axes["distance"].set_xlim(card.window_start, card.window_end)
        _footer(self.fig, card)
        return self.fig


def build_card_figure(card: CardData) -> Figure:
    """The card as a fresh matplotlib Figure (not yet rendered), with Agg as its canvas."""
    return CardFigure().draw(card)


_LOCAL = threading.local()


def write_card_png(card: CardData, path: Any) -> None:
    """Render the card to ``path`` (PNG) on this thread's reused :class:`CardFigure`."""
    if not hasattr(_LOCAL, "figure"):
        _LOCAL.figure = CardFigure()
    fig = _LOCAL.figure.draw(card)
    # zlib level 1: a third of the encoding time for ~15% more bytes
    fig.savefig(path, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 1})
