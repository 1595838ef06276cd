"""Shared helpers for the simulator tests (pure functions over simulated frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.simulator.geometry import haversine_m


def pair_during(positions: pd.DataFrame, mmsi_a: int, mmsi_b: int, start, end) -> pd.DataFrame:
    """Vessel A's rows in [start, end] with B's position interpolated at the same times.

    Columns: timestamp, sog_a, sog_b (B's nearest report), separation_m.
    """

    def rows(m: int) -> pd.DataFrame:
        r = positions[(positions["mmsi"] == m) & positions["lat"].between(-90, 90)]
        return r.sort_values("timestamp")

    a, b = rows(mmsi_a), rows(mmsi_b)
    a = a[(a["timestamp"] >= start) & (a["timestamp"] <= end)]
    ta = a["timestamp"].astype("int64").to_numpy()
    tb = b["timestamp"].astype("int64").to_numpy()
    lat_b = np.interp(ta, tb, b["lat"].to_numpy())
    lon_b = np.interp(ta, tb, b["lon"].to_numpy())
    nearest = np.clip(np.searchsorted(tb, ta), 0, len(tb) - 1)
    sep = haversine_m(a["lat"].to_numpy(), a["lon"].to_numpy(), lat_b, lon_b)
    return pd.DataFrame(
        {
            "timestamp": a["timestamp"].to_numpy(),
            "sog_a": a["sog_kn"].to_numpy(),
            "sog_b": b["sog_kn"].to_numpy()[nearest],
            "separation_m": sep,
        }
    )
