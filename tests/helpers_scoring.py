"""Tiny hand-built rendezvous, pings and static reports for the scoring tests.

Every builder returns frames with the columns the detector contract promises
(docs/ARCHITECTURE.md), defaults describing a clean, legitimate meeting of two
large tankers, so each test changes only the attribute it is about.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

T0 = pd.Timestamp("2026-03-10T12:00:00Z")  # noon UTC: daylight at lon ~0
MMSI_A = 235_000_001  # UK
MMSI_B = 477_000_002  # Hong Kong


def rendezvous_row(**overrides: Any) -> dict[str, Any]:
    """One rendezvous event as the detector emits it (defaults: clean, 4 h, daytime)."""
    row: dict[str, Any] = {
        "event_id": "ev1",
        "mmsi_a": MMSI_A,
        "mmsi_b": MMSI_B,
        "start_time": T0,
        "end_time": T0 + pd.Timedelta(hours=4),
        "duration_h": 4.0,
        "min_distance_m": 60.0,
        "median_distance_m": 80.0,
        "mean_lat": 10.0,
        "mean_lon": 0.0,
        "min_distance_to_coast_m": 80_000.0,
        "min_distance_to_port_m": 90_000.0,
        "min_distance_to_anchorage_m": 90_000.0,
        "n_ticks": 25,
    }
    for side, name, imo in (("a", "NORTH STAR", 9_100_001), ("b", "EAST WIND", 9_200_002)):
        row.update(
            {
                f"vessel_name_{side}": name,
                f"imo_{side}": imo,
                f"callsign_{side}": f"CALL{side.upper()}",
                f"ship_type_{side}": 80,
                f"length_m_{side}": 250.0,
                f"draught_before_m_{side}": 12.0,
                f"draught_after_m_{side}": 12.0,
                f"gap_before_h_{side}": np.nan,
                f"gap_after_h_{side}": np.nan,
            }
        )
    row.update(overrides)
    return row


def rendezvous_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows) or [rendezvous_row()])
    for c in ("start_time", "end_time"):
        frame[c] = pd.to_datetime(frame[c], utc=True).astype("datetime64[ms, UTC]")
    return frame


def pings(
    mmsi: int,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    every_min: float = 10.0,
    lat: float = 10.0,
    lon: float = 0.0,
    sog_kn: float = 0.5,
    heading_deg: float = 90.0,
    transceiver_class: str = "A",
) -> pd.DataFrame:
    """Regular pings of one vessel sitting at (lat, lon) from start to end inclusive."""
    times = pd.date_range(start, end, freq=pd.Timedelta(minutes=every_min))
    n = len(times)
    return pd.DataFrame(
        {
            "mmsi": np.full(n, mmsi, dtype=np.int32),
            "timestamp": times.astype("datetime64[ms, UTC]"),
            "lat": np.full(n, lat),
            "lon": np.full(n, lon),
            "sog_kn": np.full(n, sog_kn, dtype=np.float32),
            "cog_deg": np.full(n, heading_deg, dtype=np.float32),
            "heading_deg": np.full(n, heading_deg, dtype=np.float32),
            "nav_status": np.zeros(n, dtype=np.int8),
            "transceiver_class": [transceiver_class] * n,
            "source": ["simulated"] * n,
        }
    )


def day_of_pings(**kwargs: Any) -> pd.DataFrame:
    """Both vessels reporting every 10 min from 12 h before to 12 h after the event."""
    start, end = T0 - pd.Timedelta(hours=12), T0 + pd.Timedelta(hours=16)
    return pd.concat(
        [pings(MMSI_A, start, end, **kwargs), pings(MMSI_B, start, end, **kwargs)],
        ignore_index=True,
    )


def static_report(mmsi: int, when: pd.Timestamp, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "mmsi": mmsi,
        "timestamp": when,
        "vessel_name": "NORTH STAR",
        "imo": 9_100_001,
        "callsign": "CALLA",
        "ship_type": 80,
        "length_m": 250.0,
        "width_m": 44.0,
        "draught_m": 12.0,
        "transceiver_class": "A",
        "source": "simulated",
    }
    row.update(fields)
    return row


def vessels_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        frame = pd.DataFrame(columns=list(static_report(0, T0)))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ms, UTC]")
    return frame


def event_tracks_for(rendezvous: pd.DataFrame, separation_m: list[float]) -> pd.DataFrame:
    """Tracks of the first event: vessel A fixed, vessel B north of it at each separation."""
    ev = rendezvous.iloc[0]
    times = pd.date_range(ev["start_time"], periods=len(separation_m), freq="10min")
    dlat = np.asarray(separation_m) / 111_195.0
    a = pd.DataFrame(
        {"mmsi": ev["mmsi_a"], "lat": ev["mean_lat"], "lon": ev["mean_lon"]},
        index=range(len(times)),
    )
    b = pd.DataFrame({"mmsi": ev["mmsi_b"], "lat": ev["mean_lat"] + dlat, "lon": ev["mean_lon"]})
    frame = pd.concat([a.assign(timestamp=times), b.assign(timestamp=times)], ignore_index=True)
    frame["event_id"] = ev["event_id"]
    return frame[["event_id", "mmsi", "timestamp", "lat", "lon"]]
