"""Shared helpers for the simulator tests (pure functions over simulated frames)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from stswatch.pipeline.simulator.geometry import haversine_m


def pair_during(
    positions: pd.DataFrame, mmsi_a: int, mmsi_b: int, start, end, *, strict: bool = True
) -> pd.DataFrame:
    """Vessel A's rows in [start, end] with B's position interpolated at the same times.

    Columns: timestamp, sog_a, sog_b (B's nearest report), separation_m. Only A's
    rows between B's first and last report inside the window are kept (``strict``).
    """

    def rows(m: int) -> pd.DataFrame:
        r = positions[(positions["mmsi"] == m) & positions["lat"].between(-90, 90)]
        return r.sort_values("timestamp")

    a, b = rows(mmsi_a), rows(mmsi_b)
    a = a[(a["timestamp"] >= start) & (a["timestamp"] <= end)]
    b_in = b[(b["timestamp"] >= start) & (b["timestamp"] <= end)]
    if strict and len(b_in):
        # only where B's position is interpolated between two of its reports
        # inside the window (a sparse B's neighbours outside it are elsewhere)
        a = a[a["timestamp"].between(b_in["timestamp"].min(), b_in["timestamp"].max())]
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


#: A small but complete configuration: every scenario kind, 2 days (events
#: across midnight), a fleet small enough to simulate in about a second.
SMALL = {
    "n_days": 2,
    "n_background_vessels": 120,
    "n_illicit_rendezvous": 4,
    "n_legit_transfers": 4,
    "n_anchorage_crowds": 1,
    "n_passing": 2,
    "n_convoys": 2,
    "n_pair_trawls": 2,
    "n_short_meetings": 2,
    "n_loitering_dark_partner": 1,
    "dirty_row_fraction": 0.005,
}


@functools.cache
def small_simulation(seed: int = 3, region: str = "gulf_of_mexico", **overrides):
    """Cached small simulation shared by the simulator test modules (one process)."""
    from stswatch.pipeline.simulator import SimulationConfig, simulate

    return simulate(SimulationConfig(seed=seed, region=region, **{**SMALL, **overrides}))
