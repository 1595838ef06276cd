"""Per-vessel look-ups around a rendezvous: pings in windows, stops, draught reports.

Each event has two "legs" (vessel a and vessel b). These helpers answer, for
one leg, where its pings are (:class:`VesselIndex`), whether it stopped
elsewhere (a port call) and what draught it reported before and after. The
features built on them live in :mod:`.darkness`, :mod:`.cargo` and
:mod:`.identity`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stswatch.pipeline.scoring.frames import HOUR_MS, epoch_ms, haversine_m, num_col


class VesselIndex:
    """Per-MMSI sorted arrays of pings, for cheap window look-ups by searchsorted."""

    def __init__(self, positions: pd.DataFrame, mmsis: np.ndarray) -> None:
        self.by_mmsi: dict[int, dict[str, np.ndarray]] = {}
        if positions is None or positions.empty:
            return
        pos = positions[positions["mmsi"].isin(set(mmsis.tolist()))]
        if pos.empty:
            return
        cols = {
            "t": epoch_ms(pos["timestamp"]),
            "mmsi": pos["mmsi"].to_numpy(dtype=np.int64),
            "lat": num_col(pos, "lat"),
            "lon": num_col(pos, "lon"),
            "sog": num_col(pos, "sog_kn"),
            "heading": num_col(pos, "heading_deg"),
            "cog": num_col(pos, "cog_deg"),
        }
        cls = pos["transceiver_class"] if "transceiver_class" in pos.columns else None
        cols["class_b"] = (
            (cls.astype("string") == "B").fillna(False).to_numpy(dtype=bool)
            if cls is not None
            else np.zeros(len(pos), dtype=bool)
        )
        order = np.lexsort((cols["t"], cols["mmsi"]))
        cols = {k: v[order] for k, v in cols.items()}
        bounds = np.flatnonzero(np.diff(cols["mmsi"])) + 1
        starts = np.r_[0, bounds]
        ends = np.r_[bounds, len(order)]
        for s, e in zip(starts, ends, strict=True):
            self.by_mmsi[int(cols["mmsi"][s])] = {k: v[s:e] for k, v in cols.items()}

    def get(self, mmsi: int) -> dict[str, np.ndarray] | None:
        return self.by_mmsi.get(int(mmsi))


def stationary_elsewhere_h(
    v: dict[str, np.ndarray],
    lo_ms: float,
    hi_ms: float,
    event_lo_ms: float,
    event_hi_ms: float,
    lat: float,
    lon: float,
    min_distance_m: float,
    max_speed_kn: float = 1.0,
    max_step_h: float = 2.0,
) -> float:
    """Hours the vessel sat still at least ``min_distance_m`` from (lat, lon), outside the event.

    A stop elsewhere between the two draught reports is a port or anchorage
    call, which explains a draught change without any transfer at sea.
    """
    t = v["t"]
    i0, i1 = np.searchsorted(t, lo_ms, "left"), np.searchsorted(t, hi_ms, "right")
    if i1 - i0 < 2:
        return 0.0
    tt = t[i0:i1]
    still = (v["sog"][i0:i1] < max_speed_kn) & ~((tt >= event_lo_ms) & (tt <= event_hi_ms))
    still &= haversine_m(v["lat"][i0:i1], v["lon"][i0:i1], lat, lon) >= min_distance_m
    both = still[:-1] & still[1:]
    dt_h = np.minimum(np.diff(tt) / HOUR_MS, max_step_h)
    return float(dt_h[both].sum())


def circular_mean_deg(values: np.ndarray) -> float:
    values = values[np.isfinite(values) & (values >= 0) & (values < 360)]
    if len(values) == 0:
        return np.nan
    r = np.radians(values)
    return float(np.degrees(np.arctan2(np.sin(r).mean(), np.cos(r).mean())) % 360)


def draught_reports(
    vessels: pd.DataFrame | None,
    mmsi: np.ndarray,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    settle_ms: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draught before and after each leg, with the times of those reports.

    Before: the last report at or before the start. After: the *last* report
    within ``settle_ms`` after the end (crews update the static draught hours
    after an operation, and the store repeats the old value at each day's first
    report), else the first report after that. merge_asof over all legs at once.
    """
    n = len(mmsi)
    nan = np.full(n, np.nan)
    if vessels is None or vessels.empty or "draught_m" not in vessels.columns:
        return nan, nan.copy(), nan.copy(), nan.copy()
    rep = vessels.loc[
        vessels["draught_m"].notna() & (vessels["draught_m"] > 0),
        ["mmsi", "timestamp", "draught_m"],
    ]
    rep = pd.DataFrame(
        {
            "mmsi": rep["mmsi"].to_numpy(np.int64),
            "t": epoch_ms(rep["timestamp"]),
            "d": num_col(rep, "draught_m"),
        }
    ).sort_values("t", kind="stable")
    rep["t_rep"] = rep["t"].astype(np.float64)
    legs = pd.DataFrame({"mmsi": mmsi.astype(np.int64), "leg": np.arange(n)})

    def asof(t: np.ndarray, direction: str) -> pd.DataFrame:
        q = legs.assign(t=t.astype(np.int64)).sort_values("t", kind="stable")
        return pd.merge_asof(q, rep, on="t", by="mmsi", direction=direction).sort_values("leg")

    before = asof(start_ms, "backward")
    settled = asof(end_ms + settle_ms, "backward")
    first_after = asof(end_ms, "forward")
    in_window = settled["t_rep"].to_numpy(np.float64, na_value=np.nan) > end_ms
    d_after = np.where(
        in_window,
        settled["d"].to_numpy(np.float64, na_value=np.nan),
        first_after["d"].to_numpy(np.float64, na_value=np.nan),
    )
    t_after = np.where(
        in_window,
        settled["t_rep"].to_numpy(np.float64, na_value=np.nan),
        first_after["t_rep"].to_numpy(np.float64, na_value=np.nan),
    )
    return (
        before["d"].to_numpy(np.float64, na_value=np.nan),
        before["t_rep"].to_numpy(np.float64, na_value=np.nan),
        d_after,
        t_after,
    )


def is_tanker(ship_type: np.ndarray) -> np.ndarray:
    """ITU ship-and-cargo types 80-89 are tankers."""
    return (ship_type >= 80) & (ship_type <= 89)
