"""Cargo moved at sea: draught changes without a port call, and who received it.

A ship's static draught rises when it loads and falls when it discharges.
Across a meeting with no port call in between (the vessel sat still nowhere
else, :func:`~.legs.stationary_elsewhere_h`), a change is cargo moved at sea;
one ship deeper and the other lighter is the transfer itself. Both classes
move cargo, so this is confirmation more than suspicion; what guidance adds
is *who* received it: the UN Panel of Experts documents small tankers
(under ~100 m) loading from larger ones at sea for onward delivery, while
in legitimate bunkering the small ship is the supplier.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from stswatch.pipeline.config import ScoringConfig
from stswatch.pipeline.scoring.frames import side_col
from stswatch.pipeline.scoring.legs import VesselIndex, draught_reports, stationary_elsewhere_h

SIDES = ("a", "b")


def _port_calls(
    index: VesselIndex,
    mmsi: np.ndarray,
    lo_ms: np.ndarray,
    hi_ms: np.ndarray,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    cfg: ScoringConfig,
) -> np.ndarray:
    """1.0 where the vessel stopped elsewhere long enough for a port call between its reports."""
    out = np.zeros(len(mmsi), dtype=np.float64)
    for i, m in enumerate(mmsi.tolist()):
        v = index.get(m)
        if v is None:
            continue
        stopped_h = stationary_elsewhere_h(
            v,
            lo_ms[i],
            hi_ms[i],
            start_ms[i],
            end_ms[i],
            lat[i],
            lon[i],
            cfg.min_port_call_distance_m,
        )
        out[i] = float(stopped_h >= cfg.min_port_call_h)
    return out


def draught_legs(
    rv: pd.DataFrame,
    vessels: pd.DataFrame | None,
    index: VesselIndex,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    settle_ms: float,
    cfg: ScoringConfig,
) -> dict[str, np.ndarray]:
    """Per side: draught before/after, the change and whether a port call explains it."""
    lat, lon = rv["mean_lat"].to_numpy(np.float64), rv["mean_lon"].to_numpy(np.float64)
    out: dict[str, np.ndarray] = {}
    for side in SIDES:
        mmsi = rv[f"mmsi_{side}"].to_numpy(np.int64)
        d_before, t_before, d_after, t_after = draught_reports(
            vessels, mmsi, start_ms, end_ms, settle_ms
        )
        # the store's reports give the settled value; the detector's columns fill in
        d_before = np.where(np.isfinite(d_before), d_before, side_col(rv, "draught_before_m", side))
        d_after = np.where(np.isfinite(d_after), d_after, side_col(rv, "draught_after_m", side))
        lo = np.where(np.isfinite(t_before), t_before, start_ms - settle_ms)
        hi = np.where(np.isfinite(t_after), t_after, end_ms + settle_ms)
        out[f"draught_before_m_{side}"] = d_before
        out[f"draught_after_m_{side}"] = d_after
        out[f"draught_change_m_{side}"] = d_after - d_before
        out[f"port_call_{side}"] = _port_calls(index, mmsi, lo, hi, start_ms, end_ms, lat, lon, cfg)
    return out


def cargo_features(legs: Mapping[str, np.ndarray], cfg: ScoringConfig) -> dict[str, np.ndarray]:
    """Event-level cargo and receiver features from the per-side draught columns.

    ``draught_change_max_m``: the larger unexplained change (0 below the noise
    floor or when a port call explains it); ``opposite_draught_change``: one
    deeper, the other lighter; ``receiver_side``: "a"/"b" for the ship that got
    deeper (None when unknown); ``small_receiver``: that ship is shorter than
    ``large_ship_length_m`` (NaN when no receiver or no length is known).
    """
    eff = {
        s: np.where(
            np.asarray(legs[f"port_call_{s}"]) > 0,
            0.0,
            np.asarray(legs[f"draught_change_m_{s}"], dtype=np.float64),
        )
        for s in SIDES
    }
    big = {s: np.abs(np.nan_to_num(eff[s])) >= cfg.min_draught_change_m for s in SIDES}
    size = {s: np.abs(np.nan_to_num(eff[s])) * big[s] for s in SIDES}
    sign = {s: np.sign(np.nan_to_num(eff[s])) for s in SIDES}
    rise = {s: big[s] & (sign[s] > 0) for s in SIDES}
    receiver = np.where(
        rise["a"] & (~rise["b"] | (size["a"] >= size["b"])),
        "a",
        np.where(rise["b"], "b", None),
    ).astype(object)
    length = {s: np.asarray(legs[f"length_m_{s}"], dtype=np.float64) for s in SIDES}
    # Both deeper by the same amount: either could be the receiver, so the smaller
    # hull counts (the vessels' a/b order is arbitrary and must not decide it).
    tie = rise["a"] & rise["b"] & (size["a"] == size["b"])
    receiver_length = np.where(
        tie,
        np.fmin(length["a"], length["b"]),
        np.where(receiver == "a", length["a"], np.where(receiver == "b", length["b"], np.nan)),
    ).astype(np.float64)
    small = np.where(
        np.isfinite(receiver_length), (receiver_length < cfg.large_ship_length_m) * 1.0, np.nan
    )
    known = np.isfinite(eff["a"]) | np.isfinite(eff["b"])
    return {
        # unknown (no draught reported on either side) is not "no change"
        "draught_change_max_m": np.where(known, np.fmax(size["a"], size["b"]), np.nan),
        "opposite_draught_change": (big["a"] & big["b"] & (sign["a"] != sign["b"])).astype(
            np.float64
        ),
        "receiver_side": receiver,
        "receiver_length_m": receiver_length,
        "small_receiver": small,
    }
