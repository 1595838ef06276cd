"""Loitering: one slow vessel far offshore for hours (a partner may be dark)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stswatch.detectors.anchorages import learn_anchorages
from stswatch.detectors.loitering import (
    LOITERING_COLUMNS,
    detect_loitering,
    drop_explained_by_rendezvous,
)
from stswatch.pipeline.config import Config

CFG = Config()
T0 = pd.Timestamp("2024-03-01T00:00:00Z")
GULF_OFFSHORE = (27.0, -90.0)  # 200+ km from coast and port
OFF_GALVESTON = (29.28, -94.78)  # ~1 km off the beach, 4 km from the port
VESSEL = 538_000_001


def ticks(
    start_h: float,
    hours: float,
    *,
    lat: float,
    lon: float,
    sog_kn: float = 0.5,
    mmsi: int = VESSEL,
    segment: int = 0,
    drift_deg_per_h: float = 0.005,
) -> pd.DataFrame:
    """A resampled track piece on the 10-minute grid, drifting slowly north-east."""
    n = round(hours * 6) + 1
    h = start_h + np.arange(n) / 6.0
    return pd.DataFrame(
        {
            "mmsi": np.int32(mmsi),
            "timestamp": (T0 + pd.to_timedelta(h * 60, unit="min").round("min")).astype(
                "datetime64[ms, UTC]"
            ),
            "lat": lat + drift_deg_per_h * (h - start_h),
            "lon": (lon + drift_deg_per_h * (h - start_h) + 180.0) % 360.0 - 180.0,
            "sog_kn": np.float32(sog_kn),
            "segment": np.int32(segment),
            "interpolated": False,
        }
    )


def test_slow_vessel_far_offshore_for_six_hours_is_loitering() -> None:
    events = detect_loitering(ticks(0.0, 6.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1]), CFG)
    assert list(events.columns) == LOITERING_COLUMNS
    assert len(events) == 1
    ev = events.iloc[0]
    assert ev["mmsi"] == VESSEL
    assert ev["start_time"] == T0
    assert ev["end_time"] == T0 + pd.Timedelta(hours=6)
    assert ev["duration_h"] == pytest.approx(6.0)
    assert ev["mean_lat"] == pytest.approx(27.015, abs=1e-6)
    assert ev["mean_sog_kn"] == pytest.approx(0.5)
    assert ev["min_distance_to_coast_m"] > 100_000
    assert ev["min_distance_to_port_m"] > 100_000


def test_slow_vessel_near_coast_is_not_loitering() -> None:
    events = detect_loitering(ticks(0.0, 6.0, lat=OFF_GALVESTON[0], lon=OFF_GALVESTON[1]), CFG)
    assert events.empty


def test_run_that_ends_near_the_coast_is_dropped_whole() -> None:
    """Away-from-port must hold along the whole run, not at its mean position."""
    offshore = ticks(0.0, 10.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    inshore = ticks(10 + 1 / 6, 1.0, lat=OFF_GALVESTON[0], lon=OFF_GALVESTON[1])
    assert detect_loitering(pd.concat([offshore, inshore]), CFG).empty


def test_moving_vessel_is_not_loitering() -> None:
    track = ticks(0.0, 6.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1], sog_kn=9.0)
    assert detect_loitering(track, CFG).empty


def test_short_slow_spell_is_not_loitering() -> None:
    track = ticks(0.0, 3.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    assert detect_loitering(track, CFG).empty


def test_runs_merged_across_a_short_gap_before_the_duration_rule() -> None:
    # 3 h slow, 40 min of nothing (reception hole), 3 h slow: one 6 h 40 min event.
    first = ticks(0.0, 3.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    second = ticks(3 + 40 / 60, 3.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    events = detect_loitering(pd.concat([second, first]), CFG)  # any row order
    assert len(events) == 1
    assert events["duration_h"].iloc[0] == pytest.approx(6 + 40 / 60)


def test_runs_not_merged_across_a_long_gap() -> None:
    first = ticks(0.0, 3.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    second = ticks(5.0, 3.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    assert detect_loitering(pd.concat([first, second]), CFG).empty


def test_fast_leg_in_the_middle_splits_the_run() -> None:
    slow1 = ticks(0.0, 3.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    fast = ticks(3 + 1 / 6, 2.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1], sog_kn=12.0)
    slow2 = ticks(5 + 2 / 6, 3.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    assert detect_loitering(pd.concat([slow1, fast, slow2]), CFG).empty


def test_two_vessels_give_two_events_with_distinct_stable_ids() -> None:
    a = ticks(0.0, 5.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    b = ticks(0.0, 5.0, lat=26.0, lon=-88.0, mmsi=VESSEL + 1)
    events = detect_loitering(pd.concat([a, b]), CFG)
    again = detect_loitering(pd.concat([b, a]).iloc[::-1], CFG)
    assert events["mmsi"].tolist() == [VESSEL, VESSEL + 1]
    assert events["event_id"].nunique() == 2
    assert events["event_id"].tolist() == again["event_id"].tolist()


def test_loitering_across_the_antimeridian() -> None:
    track = ticks(0.0, 6.0, lat=-5.0, lon=179.98)  # drifts east over 180° into -179.99
    assert (track["lon"] < 0).any() and (track["lon"] > 0).any()
    events = detect_loitering(track, CFG)
    assert len(events) == 1
    assert abs(events["mean_lon"].iloc[0]) > 179.9


def test_learned_anchorage_suppresses_loitering_there() -> None:
    crowd = pd.concat(
        [
            ticks(0.0, 6.0, lat=GULF_OFFSHORE[0] + k * 0.002, lon=GULF_OFFSHORE[1], mmsi=VESSEL + k)
            for k in range(6)
        ]
    ).assign(sog_kn=np.float32(0.1))
    anchorages = learn_anchorages(crowd, CFG.port_filter)
    assert not anchorages.empty
    assert len(detect_loitering(crowd, CFG)) == 6
    assert detect_loitering(crowd, CFG, anchorages=anchorages).empty


def test_loitering_explained_by_a_rendezvous_is_dropped_unexplained_kept() -> None:
    a = ticks(0.0, 6.0, lat=GULF_OFFSHORE[0], lon=GULF_OFFSHORE[1])
    b = ticks(0.0, 6.0, lat=26.0, lon=-88.0, mmsi=VESSEL + 1)
    loitering = detect_loitering(pd.concat([a, b]), CFG)
    meeting = pd.DataFrame(
        {
            "mmsi_a": np.int32([VESSEL - 5]),
            "mmsi_b": np.int32([VESSEL]),  # VESSEL met someone during its slow spell
            "start_time": [T0 + pd.Timedelta(hours=2)],
            "end_time": [T0 + pd.Timedelta(hours=5)],
        }
    )
    kept = drop_explained_by_rendezvous(loitering, meeting)
    assert kept["mmsi"].tolist() == [VESSEL + 1]
    later = meeting.assign(
        start_time=T0 + pd.Timedelta(hours=7), end_time=T0 + pd.Timedelta(hours=9)
    )
    assert len(drop_explained_by_rendezvous(loitering, later)) == 2
