"""Tiny hand-built AIS tracks for detector tests (after GFW's ``series_data.py``).

Each builder returns a positions frame with POSITION_SCHEMA dtypes, so tests
read like the case they cover: ``meeting(...)``, ``drifting(...)``,
``steaming(...)``, combined with :func:`positions`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from stswatch.geo.distance import METRES_PER_DEGREE, wrap_lon
from stswatch.pipeline.schemas import POSITION_SCHEMA, VESSEL_SCHEMA

#: A calm spot in the mid North Atlantic, > 500 km from any coast or port.
OFFSHORE = (35.0, -40.0)
#: A day with nothing special about it; events are placed relative to it.
DAY = pd.Timestamp("2024-03-05", tz="UTC")


def at(hours: float) -> pd.Timestamp:
    """``DAY`` + ``hours`` (may exceed 24 to go into the next day)."""
    return DAY + pd.Timedelta(hours=hours)


def offset(
    lat: float, lon: float, north_m: float = 0.0, east_m: float = 0.0
) -> tuple[float, float]:
    """Position ``north_m``/``east_m`` metres away (local flat approximation, antimeridian-safe)."""
    dlat = north_m / METRES_PER_DEGREE
    dlon = east_m / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
    return lat + dlat, float(wrap_lon(lon + dlon))


def drifting(
    mmsi: int,
    start: pd.Timestamp,
    hours: float,
    lat: float,
    lon: float,
    *,
    sog_kn: float = 0.5,
    every_min: float = 3.0,
    drift_east_m_per_h: float = 0.0,
) -> pd.DataFrame:
    """A vessel reporting every ``every_min`` minutes while (nearly) stationary."""
    n = round(hours * 60 / every_min) + 1
    h = np.arange(n) * every_min / 60.0
    lats = np.full(n, lat)
    lons = np.array([offset(lat, lon, 0.0, drift_east_m_per_h * x)[1] for x in h])
    return _frame(mmsi, start + pd.to_timedelta(h, unit="h"), lats, lons, np.full(n, sog_kn))


def steaming(
    mmsi: int,
    start: pd.Timestamp,
    hours: float,
    lat: float,
    lon: float,
    *,
    sog_kn: float = 12.0,
    heading: str = "east",
    every_min: float = 3.0,
) -> pd.DataFrame:
    """A vessel moving at ``sog_kn`` due east or north (positions consistent with speed)."""
    n = round(hours * 60 / every_min) + 1
    h = np.arange(n) * every_min / 60.0
    metres = h * sog_kn * 1852.0
    pts = [
        offset(lat, lon, m if heading == "north" else 0.0, m if heading == "east" else 0.0)
        for m in metres
    ]
    lats = np.array([p[0] for p in pts])
    lons = np.array([p[1] for p in pts])
    return _frame(mmsi, start + pd.to_timedelta(h, unit="h"), lats, lons, np.full(n, sog_kn))


def meeting(
    mmsi_a: int,
    mmsi_b: int,
    start: pd.Timestamp,
    hours: float,
    lat: float,
    lon: float,
    *,
    separation_m: float = 200.0,
    sog_kn: float = 0.5,
) -> pd.DataFrame:
    """Two vessels drifting ``separation_m`` apart (east-west) for ``hours``."""
    lat_b, lon_b = offset(lat, lon, east_m=separation_m)
    return positions(
        drifting(mmsi_a, start, hours, lat, lon, sog_kn=sog_kn),
        drifting(mmsi_b, start + pd.Timedelta(minutes=1), hours, lat_b, lon_b, sog_kn=sog_kn),
    )


def positions(*frames: pd.DataFrame) -> pd.DataFrame:
    """Concatenate builder frames, sorted by (mmsi, timestamp) as the store keeps them."""
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["mmsi", "timestamp"], kind="stable").reset_index(drop=True)


def _frame(
    mmsi: int, ts: pd.DatetimeIndex, lat: np.ndarray, lon: np.ndarray, sog: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mmsi": np.full(len(ts), mmsi, dtype=np.int32),
            "timestamp": pd.Series(ts).astype("datetime64[ms, UTC]"),
            "lat": lat.astype(np.float64),
            "lon": lon.astype(np.float64),
            "sog_kn": sog.astype(np.float32),
        }
    )


def vessels(rows: list[dict]) -> pd.DataFrame:
    """A vessel (static report) table from dicts with at least mmsi and timestamp."""
    frame = pd.DataFrame(rows)
    frame["mmsi"] = frame["mmsi"].astype(np.int32)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ms, UTC]")
    for col, dtype in (
        ("vessel_name", object),
        ("imo", "Int32"),
        ("callsign", object),
        ("ship_type", "Int16"),
        ("length_m", np.float32),
        ("draught_m", np.float32),
    ):
        if col not in frame.columns:
            frame[col] = pd.Series(
                [None] * len(frame), dtype=dtype if dtype is not object else object
            )
        else:
            frame[col] = frame[col].astype(dtype)
    return frame


def to_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    cols = {}
    for f in schema:
        if f.name in frame.columns:
            cols[f.name] = pa.array(frame[f.name], type=f.type, from_pandas=True)
        else:
            cols[f.name] = pa.nulls(len(frame), f.type)
    return pa.table(cols, schema=schema)


def write_store(root, pos: pd.DataFrame, ves: pd.DataFrame | None = None) -> None:
    from stswatch.pipeline.storage import Store

    store = Store(root)
    for name, frame, schema in (
        ("positions", pos, POSITION_SCHEMA),
        ("vessels", ves, VESSEL_SCHEMA),
    ):
        if frame is None:
            continue
        day = frame["timestamp"].dt.date
        for d in sorted(day.unique()):
            store.write_day(name, d, to_table(frame[day == d].reset_index(drop=True), schema))
