"""Kinematics of a meeting: how two hulls moved relative to each other.

A transfer needs hours alongside and a steady stand-off; passing traffic and
anchorage neighbours drift apart. For a dark rendezvous (the partner's AIS
off) these are unmeasured: NaN, which the model reads as "not observed".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stswatch.pipeline.scoring.frames import haversine_m

SIDES = ("a", "b")


def separation_std_m(rendezvous: pd.DataFrame, tracks: pd.DataFrame | None) -> np.ndarray:
    """Standard deviation of the pair's distance over the event's shared ticks.

    Two hulls moored alongside keep a near-constant stand-off (std of tens of
    metres); vessels that just happen to drift near each other do not.
    ``tracks`` is either per-event tracks (with ``event_id``) or the detector's
    resampled grid (``mmsi``, ``timestamp``, ``lat``, ``lon``), where both
    vessels share tick times.
    """
    out = np.full(len(rendezvous), np.nan)
    if tracks is None or tracks.empty or rendezvous.empty:
        return out
    legs = rendezvous[["event_id", "mmsi_a", "mmsi_b", "start_time", "end_time"]].reset_index(
        drop=True
    )
    cols = ["mmsi", "timestamp", "lat", "lon"]
    sides = []
    for side in SIDES:
        if "event_id" in tracks.columns:
            part = tracks[["event_id", *cols]].merge(legs, on="event_id")
            part = part[part["mmsi"] == part[f"mmsi_{side}"]]
        else:
            part = tracks[cols].merge(legs, left_on="mmsi", right_on=f"mmsi_{side}")
            ts = part["timestamp"]
            part = part[(ts >= part["start_time"]) & (ts <= part["end_time"])]
        sides.append(part[["event_id", "timestamp", "lat", "lon"]])
    both = sides[0].merge(sides[1], on=["event_id", "timestamp"], suffixes=("_1", "_2"))
    if both.empty:
        return out
    both["d"] = haversine_m(both["lat_1"], both["lon_1"], both["lat_2"], both["lon_2"])
    std = both.groupby("event_id")["d"].std(ddof=0)
    return legs["event_id"].map(std).to_numpy(dtype=np.float64, na_value=np.nan)


def heading_alignment(heading_a_deg: np.ndarray, heading_b_deg: np.ndarray) -> np.ndarray:
    """|cos| of the angle between the two vessels' headings (1 = parallel/antiparallel).

    Ships lashed together for a transfer lie parallel and swing together with
    wind and current; unrelated neighbours point anywhere.
    """
    return np.abs(np.cos(np.radians(np.asarray(heading_a_deg) - np.asarray(heading_b_deg))))
