"""AIS off around a meeting: one-sided gaps, tracks switched on or off at sea.

Disabling AIS is the first indicator of every sanctions advisory. For each
vessel of an event ("leg") this module measures, from the vessel's own
pings:

* the longest one-sided **gap** that ended within the link window before the
  meeting (and where the vessel reappeared, relative to the meeting), and the
  longest that started within it after (and where it fell silent);
* a track that **starts or ends at sea next to the meeting**: the vessel's
  first fix in the window read comes shortly before the meeting, within
  ``switch_at_sea_radius_m`` of it, far from the coast, while the window
  began hours earlier. It was silent all that time: AIS switched on at sea,
  not a zero-hour gap. The silence is known only from below (the window
  start), so its hours are a lower bound;
* the reporting rate during the meeting against the vessel's usual rate, and
  the vessel's speed, heading and transceiver class there.

Gaps shared by both vessels of a pair (a reception hole, ``shared_silence_h``)
are the detector's business and are not counted here: the detector's linked
gap columns only count one-sided silence, and they take precedence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stswatch.pipeline.config import GapConfig, ScoringConfig
from stswatch.pipeline.scoring.frames import (
    HOUR_MS,
    epoch_ms,
    haversine_scalar_m,
    num_col,
    side_col,
)
from stswatch.pipeline.scoring.legs import VesselIndex, circular_mean_deg


@dataclass(frozen=True)
class Window:
    """First and last fix of the whole window read (any vessel), epoch ms."""

    start_ms: float
    end_ms: float

    @classmethod
    def of(cls, positions: pd.DataFrame | None) -> Window:
        if positions is None or positions.empty:
            return cls(np.nan, np.nan)
        t = epoch_ms(positions["timestamp"])
        return cls(float(t.min()), float(t.max()))


#: Per-leg columns produced by :func:`leg_activity` (suffixed ``_a``/``_b``).
LEG_COLUMNS = (
    "mean_sog_kn",
    "heading_deg",
    "class_b",
    "reporting_ratio",
    "gap_before_h",
    "reappeared_m",
    "gap_after_h",
    "went_silent_m",
    "switched_on_h",
    "switched_off_h",
    "switch_lat",
    "switch_lon",
)


def _gap_around(
    t: np.ndarray, lo_ms: float, hi_ms: float, min_gap_ms: float, *, ending: bool
) -> tuple[float, int]:
    """Longest gap >= min_gap whose end (``ending``) or start lies in [lo, hi]: (hours, fix index).

    The fix index is the first fix after the gap (``ending``) or the last fix
    before it, so the caller can say where the vessel reappeared / fell silent.
    """
    if len(t) < 2:
        return 0.0, -1
    dt = np.diff(t)
    edge = t[1:] if ending else t[:-1]
    ok = (dt >= min_gap_ms) & (edge >= lo_ms) & (edge <= hi_ms)
    if not ok.any():
        return 0.0, -1
    k = int(np.flatnonzero(ok)[np.argmax(dt[ok])])
    return float(dt[k] / HOUR_MS), k + 1 if ending else k


def _meeting_stats(v: dict, i0: int, i1: int, duration_h: float, min_gap_h: float) -> dict:
    """Speed, heading, class and reporting ratio of one vessel during the meeting."""
    out = {"mean_sog_kn": np.nan, "heading_deg": np.nan, "class_b": 0.0, "reporting_ratio": 0.0}
    t = v["t"]
    if len(t) and v["class_b"].mean() > 0.5:
        out["class_b"] = 1.0
    if i1 <= i0:  # no fix at all during the meeting: silent there (a dark partner)
        return out
    sog = v["sog"][i0:i1]
    out["mean_sog_kn"] = float(np.nanmean(sog)) if np.isfinite(sog).any() else np.nan
    hd = v["heading"][i0:i1]
    out["heading_deg"] = circular_mean_deg(hd if np.isfinite(hd).any() else v["cog"][i0:i1])
    # usual rate over the time the vessel was transmitting at all: gaps of
    # min_gap_h+ are going dark (measured separately), not a lower usual rate
    steps_h = np.diff(t) / HOUR_MS
    covered_h = steps_h[steps_h < min_gap_h].sum()
    out["reporting_ratio"] = (
        ((i1 - i0) / max(duration_h, 1e-6)) / (len(t) / covered_h) if covered_h > 0 else np.nan
    )
    return out


def leg_activity(
    v: dict | None,
    start_ms: float,
    end_ms: float,
    lat: float,
    lon: float,
    duration_h: float,
    window: Window,
    cfg: ScoringConfig,
    gap_cfg: GapConfig,
) -> dict[str, float]:
    """Every :data:`LEG_COLUMNS` value of one vessel around one meeting."""
    out = dict.fromkeys(LEG_COLUMNS, np.nan)
    out.update(gap_before_h=0.0, gap_after_h=0.0, switched_on_h=0.0, switched_off_h=0.0)
    if v is None:  # no ping at all in the window: nothing is known about this vessel
        out.update(class_b=0.0)
        return out
    t = v["t"]
    i0, i1 = np.searchsorted(t, start_ms, "left"), np.searchsorted(t, end_ms, "right")
    out.update(_meeting_stats(v, i0, i1, duration_h, gap_cfg.min_gap_h))
    link_ms, min_gap_ms = gap_cfg.link_window_h * HOUR_MS, gap_cfg.min_gap_h * HOUR_MS
    hours, k = _gap_around(t, start_ms - link_ms, start_ms, min_gap_ms, ending=True)
    if k >= 0:
        out["gap_before_h"] = hours
        out["reappeared_m"] = float(haversine_scalar_m(v["lat"][k], v["lon"][k], lat, lon))
    hours, k = _gap_around(t, end_ms, end_ms + link_ms, min_gap_ms, ending=False)
    if k >= 0:
        out["gap_after_h"] = hours
        out["went_silent_m"] = float(haversine_scalar_m(v["lat"][k], v["lon"][k], lat, lon))
    # a track that starts (ends) next to the meeting, hours after (before) the window's edge
    first, last = 0, len(t) - 1
    for idx, silence_ms, near, key in (
        (first, t[first] - window.start_ms, start_ms - link_ms <= t[first] <= end_ms, "on"),
        (last, window.end_ms - t[last], start_ms <= t[last] <= end_ms + link_ms, "off"),
    ):
        if not (near and silence_ms >= min_gap_ms):
            continue
        if haversine_scalar_m(v["lat"][idx], v["lon"][idx], lat, lon) > cfg.switch_at_sea_radius_m:
            continue
        out[f"switched_{key}_h"] = float(silence_ms / HOUR_MS)
        out["switch_lat"], out["switch_lon"] = float(v["lat"][idx]), float(v["lon"][idx])
    return out


def legs_frame(
    rv: pd.DataFrame,
    side: str,
    index: VesselIndex,
    window: Window,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    duration_h: np.ndarray,
    cfg: ScoringConfig,
    gap_cfg: GapConfig,
) -> pd.DataFrame:
    """:func:`leg_activity` for vessel ``side`` of every event (one row per event).

    The detector's linked gap columns (one-sided silences) take precedence over
    the vessel's own pings; a switch at sea counts only when its first/last
    fix is at least ``switch_at_sea_min_distance_to_coast_m`` off the coast.
    """
    from stswatch.geo.coast import distance_to_coast_m

    lat, lon = rv["mean_lat"].to_numpy(np.float64), rv["mean_lon"].to_numpy(np.float64)
    mmsi = rv[f"mmsi_{side}"].to_numpy(np.int64)
    # a reception hole shared by both vessels is nobody's throttling: the
    # reporting rate is measured over the time the pair could be heard
    shared_h = np.nan_to_num(num_col(rv, "shared_silence_h"), nan=0.0)
    heard_h = np.maximum(duration_h - shared_h, np.minimum(duration_h, 0.5))
    rows = [
        leg_activity(
            index.get(mmsi[i]),
            start_ms[i],
            end_ms[i],
            lat[i],
            lon[i],
            heard_h[i],
            window,
            cfg,
            gap_cfg,
        )
        for i in range(len(rv))
    ]
    legs = pd.DataFrame(rows, columns=list(LEG_COLUMNS), index=rv.index)
    for kind in ("before", "after"):
        det = side_col(rv, f"gap_{kind}_h", side)
        own = legs[f"gap_{kind}_h"].to_numpy()
        hours = np.where(np.isfinite(det), det, own)
        # only gaps of at least min_gap_h are going dark (reception holes are shorter)
        legs[f"gap_{kind}_h"] = np.where(hours >= gap_cfg.min_gap_h, hours, 0.0)
    switched = (legs["switched_on_h"] > 0) | (legs["switched_off_h"] > 0)
    if switched.any():
        sel = switched.to_numpy()
        coast = distance_to_coast_m(legs.loc[sel, "switch_lat"], legs.loc[sel, "switch_lon"])
        inshore = np.zeros(len(legs), dtype=bool)
        inshore[np.flatnonzero(sel)] = coast < cfg.switch_at_sea_min_distance_to_coast_m
        legs.loc[inshore, ["switched_on_h", "switched_off_h"]] = 0.0
    return legs
