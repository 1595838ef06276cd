"""What one evidence card shows, cut from a run's frames: small, plain and picklable.

The run holds millions of pings; a card needs the two vessels' fixes over
a day around the meeting, their static reports and silences. Cutting that
slice once in the parent (:func:`card_inputs`) and shipping only the slice to
a worker process keeps the workers' memory bounded by the slice, not the day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SIDES = ("a", "b")
#: Static fields the identity table follows over the window.
IDENTITY_FIELDS = ("vessel_name", "callsign", "imo", "ship_type", "length_m")
_TRACK_COLUMNS = ("timestamp", "lat", "lon", "sog_kn")
_STATIC_COLUMNS = ("timestamp", *IDENTITY_FIELDS, "draught_m")


@dataclass
class CardData:
    """Everything one card draws and writes (no reference to the run's big frames)."""

    event: dict[str, Any]
    rank: int
    n_ranked: int
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    #: side -> fixes in the window (timestamp, lat, lon, sog_kn), time order
    tracks: dict[str, pd.DataFrame]
    #: side -> static reports (identity and draught) over the window read
    statics: dict[str, pd.DataFrame]
    #: silences of either vessel overlapping the window, longest first fields:
    #: side, start_time, end_time, hours, start_lat/lon, end_lat/lon, distance_m
    silences: list[dict[str, Any]] = field(default_factory=list)
    #: nearest port of the event's mean position: name, country, distance_m, lat, lon
    port: dict[str, Any] | None = None
    #: a silence at least this long is drawn dashed (the detector does not interpolate it)
    dash_gap_h: float = 1.0
    #: a silence at least this long is an "AIS gap" (GapConfig.min_gap_h)
    min_gap_h: float = 6.0
    #: outline of the listed STS area the event lies in: rings of (lat, lon) arrays
    area_rings: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.event.get("kind") or "rendezvous")

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.event["start_time"])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.event["end_time"])

    def mmsi(self, side: str) -> int:
        return int(self.event[f"mmsi_{side}"])


def _silences(
    side: str, fixes: pd.DataFrame, w0: pd.Timestamp, w1: pd.Timestamp, min_h: float
) -> list[dict[str, Any]]:
    """Consecutive fixes at least ``min_h`` apart whose silence overlaps [w0, w1]."""
    if len(fixes) < 2:
        return []
    t = fixes["timestamp"]
    dt_h = (t.diff().dt.total_seconds() / 3600.0).to_numpy()
    idx = np.flatnonzero(dt_h >= min_h)
    out = []
    for j in idx:
        s, e = t.iloc[j - 1], t.iloc[j]
        if e < w0 or s > w1:
            continue
        a, b = fixes.iloc[j - 1], fixes.iloc[j]
        out.append(
            {
                "side": side,
                "start_time": s,
                "end_time": e,
                "hours": float(dt_h[j]),
                "start_lat": float(a["lat"]),
                "start_lon": float(a["lon"]),
                "end_lat": float(b["lat"]),
                "end_lon": float(b["lon"]),
            }
        )
    return out


class _ByVessel:
    """Rows of a big frame for a few vessels, selected once and split by mmsi."""

    def __init__(self, frame: pd.DataFrame | None, mmsis: np.ndarray, columns: tuple[str, ...]):
        self.parts: dict[int, pd.DataFrame] = {}
        if frame is None or frame.empty or "mmsi" not in frame.columns:
            return
        cols = [c for c in columns if c in frame.columns]
        sel = frame.loc[frame["mmsi"].isin(mmsis), ["mmsi", *cols]]
        sel = sel.sort_values(["mmsi", "timestamp"], kind="stable")
        for mmsi, part in sel.groupby("mmsi", sort=False):
            self.parts[int(mmsi)] = part.drop(columns="mmsi").reset_index(drop=True)

    def get(self, mmsi: int, columns: tuple[str, ...]) -> pd.DataFrame:
        part = self.parts.get(int(mmsi))
        if part is None:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        for c in columns:
            if c not in part.columns:
                part = part.assign(**{c: np.nan})
        return part[list(columns)]


def area_rings(areas: Any, name: object) -> list[tuple[np.ndarray, np.ndarray]]:
    """The outline of the named area of ``areas`` (``StsAreas``) as (lat, lon) rings."""
    import shapely

    if areas is None or not isinstance(name, str) or name not in areas.names:
        return []
    index = areas.names.index(name)
    rings = []
    for i, geom in areas.polygons:
        if i == index:
            for part in shapely.get_parts(geom):
                xy = shapely.get_coordinates(shapely.get_exterior_ring(part))
                rings.append((xy[:, 1], xy[:, 0]))
    for k in np.flatnonzero(areas.disc_index == index):
        theta = np.linspace(0, 2 * np.pi, 73)
        r_deg = areas.disc_radius_m[k] / 111_195.0
        lat = areas.disc_lat[k] + r_deg * np.sin(theta)
        lon = areas.disc_lon[k] + r_deg * np.cos(theta) / np.cos(np.radians(areas.disc_lat[k]))
        rings.append((lat, lon))
    return rings


def card_inputs(
    ranked: pd.DataFrame,
    positions: pd.DataFrame,
    vessels: pd.DataFrame | None,
    *,
    window_h: float = 12.0,
    dash_gap_h: float = 1.0,
    min_gap_h: float = 6.0,
    ports: pd.DataFrame | None = None,
    areas: Any = None,
) -> Iterator[CardData]:
    """One :class:`CardData` per row of ``ranked`` (already cut to the top N, in rank order).

    ``ports``: the nearest port per event (``geo.ports.nearest_port`` columns
    plus ``lat``/``lon``), aligned with ``ranked``; None leaves the port out.
    ``areas``: the STS areas in force (``geo.sts_areas.StsAreas``), to outline
    the listed area an event lies in. Yields lazily, so the caller bounds how
    many slices exist at once.
    """
    if ranked.empty:
        return
    mmsis = np.union1d(ranked["mmsi_a"].to_numpy(np.int64), ranked["mmsi_b"].to_numpy(np.int64))
    fixes = _ByVessel(positions, mmsis, _TRACK_COLUMNS)
    statics = _ByVessel(vessels, mmsis, _STATIC_COLUMNS)
    pad = pd.Timedelta(hours=window_h)
    for rank, (i, row) in enumerate(ranked.iterrows(), start=1):
        event = row.to_dict()
        w0 = pd.Timestamp(event["start_time"]) - pad
        w1 = pd.Timestamp(event["end_time"]) + pad
        tracks, static, silences = {}, {}, []
        for side in SIDES:
            mmsi = int(event[f"mmsi_{side}"])
            all_fixes = fixes.get(mmsi, _TRACK_COLUMNS)
            silences += _silences(side, all_fixes, w0, w1, dash_gap_h)
            t = all_fixes["timestamp"]
            tracks[side] = all_fixes[(t >= w0) & (t <= w1)].reset_index(drop=True)
            static[side] = statics.get(mmsi, _STATIC_COLUMNS)
        port = None
        if ports is not None and i in ports.index and pd.notna(ports.loc[i, "name"]):
            port = {k: _plain(v) for k, v in ports.loc[i].to_dict().items()}
        yield CardData(
            event=event,
            rank=rank,
            n_ranked=len(ranked),
            window_start=w0,
            window_end=w1,
            tracks=tracks,
            statics=static,
            silences=sorted(silences, key=lambda s: -s["hours"]),
            port=port,
            dash_gap_h=dash_gap_h,
            min_gap_h=min_gap_h,
            area_rings=area_rings(areas, event.get("sts_area_name")),
        )


def _plain(value: Any) -> Any:
    if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
