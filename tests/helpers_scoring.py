"""Tiny hand-built rendezvous, pings and static reports for the scoring tests.

Every builder returns frames with the columns the detector contract promises
(docs/ARCHITECTURE.md), defaults describing a clean, legitimate meeting of two
large tankers, so each test changes only the attribute it is about.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stswatch.pipeline.scoring.columns import COUNTED_IDENTITY_FLAGS

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
    for side, name, imo, callsign in (
        ("a", "NORTH STAR", 9_100_009, "GBTT1"),  # valid check digits; UK and Hong Kong
        ("b", "EAST WIND", 9_200_005, "VRAB2"),  # call signs, matching the MMSIs' MIDs
    ):
        row.update(
            {
                f"vessel_name_{side}": name,
                f"imo_{side}": imo,
                f"callsign_{side}": callsign,
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
        "imo": 9_100_009,
        "callsign": "GBTT1",
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


def synthetic_features(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature rows (model, context and detail columns) with labels, no detector involved.

    Illicit events are more often dark, with weak identities, small receivers
    and renames; location and time are drawn alike for both classes (as the
    simulator does). Distributions overlap, so a model must combine features.
    For fast model/persistence tests.
    """
    from stswatch.pipeline.scoring.features import (
        CONTEXT_FEATURES,
        DETAIL_COLUMNS,
        FEATURE_COLUMNS,
    )

    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)

    def pick(p_illicit: float, p_legit: float) -> np.ndarray:
        return (rng.random(n) < np.where(y == 1, p_illicit, p_legit)).astype(np.float64)

    f = pd.DataFrame({"event_id": [f"ev{i}" for i in range(n)]})
    f = f.reindex(columns=["event_id", *FEATURE_COLUMNS, *CONTEXT_FEATURES, *DETAIL_COLUMNS])
    f["kind"] = "rendezvous"
    f["duration_h"] = rng.uniform(2, 12, n)
    f["min_distance_m"] = rng.uniform(20, 300, n)
    f["median_distance_m"] = f["min_distance_m"] + rng.uniform(0, 150, n)
    f["separation_std_m"] = rng.uniform(5, 120, n)
    f["mean_sog_max_kn"] = rng.uniform(0, 1.8, n)
    f["heading_alignment"] = rng.uniform(0.6, 1, n)
    f["distance_to_coast_m"] = rng.uniform(12e3, 300e3, n)
    f["distance_to_port_m"] = f["distance_to_coast_m"] + rng.uniform(0, 30e3, n)
    f["distance_to_anchorage_m"] = f["distance_to_port_m"]
    f["recurrence_count"] = rng.poisson(2, n).astype(float)
    f["night_share"] = rng.uniform(0, 1, n)
    f["in_sts_area"] = pick(0.4, 0.4)
    f["shared_silence_h"] = 0.0
    for side in SIDES_AB:
        f[f"gap_before_h_{side}"] = pick(0.4, 0.03) * rng.uniform(6, 20, n)
        f[f"gap_after_h_{side}"] = pick(0.3, 0.03) * rng.uniform(6, 20, n)
        f[f"reappeared_m_{side}"] = rng.uniform(1e3, 40e3, n)
        f[f"switched_on_h_{side}"] = 0.0
        f[f"switched_off_h_{side}"] = 0.0
        f[f"reporting_ratio_{side}"] = np.clip(rng.normal(1 - 0.3 * y, 0.2), 0.05, 1.5)
        f[f"draught_change_m_{side}"] = rng.uniform(0.5, 3, n) * rng.choice([-1, 1], n)
        f[f"port_call_{side}"] = 0.0
        for name, (pi, pl) in {
            "missing_imo": (0.3, 0.03),
            "invalid_imo": (0.15, 0.02),
            "missing_name": (0.1, 0.01),
            "flag_mismatch": (0.15, 0.03),
            "registry_of_concern": (0.3, 0.04),
            "class_b_large": (0.12, 0.01),
        }.items():
            f[f"{name}_{side}"] = pick(pi, pl)
        f[f"mid_{side}"] = np.where(f[f"registry_of_concern_{side}"] > 0, 511.0, 235.0)
        f[f"ship_type_{side}"] = 80.0
        f[f"length_m_{side}"] = rng.uniform(110, 330, n)
        f[f"identity_changes_{side}"] = pick(0.25, 0.02) * rng.integers(1, 3, n)
        f[f"mean_sog_kn_{side}"] = f["mean_sog_max_kn"]
    small = pick(0.3, 0.04) > 0
    f.loc[small, "length_m_b"] = rng.uniform(45, 95, int(small.sum()))
    f["dark_before_max_h"] = np.fmax(f["gap_before_h_a"], f["gap_before_h_b"])
    f["dark_after_max_h"] = np.fmax(f["gap_after_h_a"], f["gap_after_h_b"])
    f["n_vessels_dark"] = sum(
        ((f[f"gap_before_h_{s}"] > 0) | (f[f"gap_after_h_{s}"] > 0)).astype(float) for s in SIDES_AB
    )
    f["n_switched_at_sea"] = 0.0
    f["partner_gap_h"] = 0.0
    f["reporting_ratio_min"] = np.fmin(f["reporting_ratio_a"], f["reporting_ratio_b"])
    f["draught_change_max_m"] = np.fmax(
        f["draught_change_m_a"].abs(), f["draught_change_m_b"].abs()
    )
    f["opposite_draught_change"] = (
        np.sign(f["draught_change_m_a"]) != np.sign(f["draught_change_m_b"])
    ).astype(float)
    for name in COUNTED_IDENTITY_FLAGS:
        f[f"n_{name}"] = f[f"{name}_a"] + f[f"{name}_b"]
    f["identity_changes_max"] = np.fmax(f["identity_changes_a"], f["identity_changes_b"])
    la, lb = f["length_m_a"], f["length_m_b"]
    f["min_length_m"] = np.fmin(la, lb)
    f["length_ratio"] = np.fmax(la, lb) / np.fmin(la, lb)
    f["tanker_with_small_or_unknown"] = (np.fmin(la, lb) < 100).astype(float)
    f["receiver_side"] = "b"
    f["receiver_length_m"] = lb
    f["small_receiver"] = (lb < 100).astype(float)
    return f, y


SIDES_AB = ("a", "b")


def fitted_model(n: int = 400, seed: int = 0, **params: Any):
    """A small SuspicionModel fitted on :func:`synthetic_features` (about a second)."""
    from stswatch.pipeline.scoring.features import FEATURE_COLUMNS
    from stswatch.pipeline.scoring.model import SuspicionModel, as_feature_matrix

    features, y = synthetic_features(n, seed)
    params = {"max_iter": 40, "random_state": seed, "version": "test-1", **params}
    return SuspicionModel(**params).fit(as_feature_matrix(features, FEATURE_COLUMNS), y)
