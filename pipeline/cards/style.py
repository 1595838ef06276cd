"""Colours, sizes and titles every part of an evidence card shares."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from stswatch.pipeline.cards.data import CardData

#: Vessel 1 (``mmsi_a``) blue, vessel 2 orange: the same in the GeoJSON's track styles.
COLOURS = {"a": "#1f6fb4", "b": "#d9620b"}
MEETING = "#d6247a"
LAND, COAST, SEA = "#e9dfc6", "#8a7650", "#f3f8fc"
#: Figure size in inches and resolution: 1,170 x 720 px, legible on a laptop.
FIG_SIZE_IN = (13.0, 8.0)
DPI = 90
#: Panel titles, also what the tests look for.
MAP_TITLE = "tracks, 12 h either side"
DISTANCE_TITLE = "distance apart"
SPEED_TITLE = "speed over ground, as reported"
DRAUGHT_TITLE = "draught reports"


def vessel_label(card: CardData, side: str) -> str:
    name = card.event.get(f"vessel_name_{side}")
    name = name if isinstance(name, str) and name.strip() else "no name"
    dark = card.event.get("dark_mmsi")
    suffix = (
        " (dark)" if dark is not None and pd.notna(dark) and int(dark) == card.mmsi(side) else ""
    )
    return f"vessel {1 if side == 'a' else 2}: {card.mmsi(side)} {name}{suffix}"


def panel_title(ax: Axes, text: str) -> None:
    """An axes title as plain figure text: ``set_title`` re-measures every tick label
    to place itself, which was a quarter of a card's drawing time."""
    box = ax.get_position()
    ax.figure.text(box.x0, box.y1 + 0.008, text, fontsize=10, va="bottom", ha="left", gid="title")
