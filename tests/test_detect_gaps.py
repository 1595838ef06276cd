"""AIS gaps (going dark) and their attribution to rendezvous vessels and sides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.detectors.gaps import GAP_COLUMNS, detect_gaps, link_gaps
from stswatch.pipeline.config import GapConfig

CFG = GapConfig()
T0 = pd.Timestamp("2024-03-01T00:00:00Z")
VESSEL_A = 311_000_001
VESSEL_B = 311_000_002


def fixes(mmsi: int, rows: list[tuple[float, float, float]]) -> pd.DataFrame:
    """Clean positions of one vessel from (hours after T0, lat, lon)."""
    h, lat, lon = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "mmsi": np.int32(mmsi),
            "timestamp": (T0 + pd.to_timedelta(np.array(h), unit="h")).astype(
                "datetime64[ms, UTC]"
            ),
            "lat": np.array(lat, dtype=np.float64),
            "lon": np.array(lon, dtype=np.float64),
            "sog_kn": np.float32(10.0),
        }
    )


def test_seven_hour_silence_is_one_gap_with_correct_ends_and_speed() -> None:
    # 1 h of regular reports, silent 7 h, then 1 h more; 0.7 deg of latitude = 42 nm.
    track = fixes(
        VESSEL_A, [(0.0, 27.0, -90.0), (1.0, 27.1, -90.0), (8.0, 27.8, -90.0), (9.0, 27.9, -90.0)]
    )
    gaps = detect_gaps(track, CFG)
    assert list(gaps.columns) == GAP_COLUMNS
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert gap["mmsi"] == VESSEL_A
    assert gap["start_time"] == T0 + pd.Timedelta(hours=1)
    assert gap["end_time"] == T0 + pd.Timedelta(hours=8)
    assert gap["duration_h"] == pytest.approx(7.0)
    assert (gap["start_lat"], gap["end_lat"]) == (27.1, 27.8)
    assert gap["distance_m"] == pytest.approx(0.7 * 111_195, rel=1e-3)
    assert gap["implied_speed_kn"] == pytest.approx(0.7 * 60 / 7, rel=1e-3)  # 6 kn
    assert gap["start_distance_to_coast_m"] > 100_000  # central Gulf of Mexico


def test_five_hour_silence_is_not_a_gap() -> None:
    track = fixes(VESSEL_A, [(0.0, 27.0, -90.0), (5.0, 27.1, -90.0)])
    assert detect_gaps(track, CFG).empty


def test_silence_at_window_edges_is_not_a_gap() -> None:
    """One fix at 10:00 in a day-long window: nothing known before or after it."""
    one = fixes(VESSEL_A, [(10.0, 27.0, -90.0)])
    other = fixes(VESSEL_B, [(0.0, 27.0, -90.0), (23.0, 27.0, -90.0)])
    gaps = detect_gaps(pd.concat([one, other]), CFG)
    assert gaps["mmsi"].tolist() == [VESSEL_B]  # the silence is between two vessels' fixes only


def test_gap_ids_are_stable_and_independent_of_row_order() -> None:
    track = pd.concat(
        [
            fixes(VESSEL_A, [(0.0, 27.0, -90.0), (8.0, 27.1, -90.0)]),
            fixes(VESSEL_B, [(1.0, 28.0, -91.0), (20.0, 28.0, -91.0)]),
        ]
    )
    first = detect_gaps(track, CFG)
    shuffled = detect_gaps(track.sample(frac=1.0, random_state=3), CFG)
    pd.testing.assert_frame_equal(first, shuffled)
    assert first["gap_id"].nunique() == 2


def test_gap_across_the_antimeridian_has_short_distance() -> None:
    track = fixes(VESSEL_A, [(0.0, 0.0, 179.95), (10.0, 0.0, -179.95)])
    gap = detect_gaps(track, CFG).iloc[0]
    assert gap["distance_m"] == pytest.approx(0.1 * 111_195, rel=1e-3)


def rendezvous(start_h: float, end_h: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": ["e1"],
            "mmsi_a": np.int32([VESSEL_A]),
            "mmsi_b": np.int32([VESSEL_B]),
            "start_time": [T0 + pd.Timedelta(hours=start_h)],
            "end_time": [T0 + pd.Timedelta(hours=end_h)],
        }
    )


def test_link_gaps_attributes_gap_to_right_vessel_and_side() -> None:
    # A dark 9 h before the meeting (ends at 20 h); B dark 7 h after it (starts 26 h).
    positions = pd.concat(
        [
            fixes(VESSEL_A, [(10.0, 27.0, -90.0), (11.0, 27.0, -90.0), (20.0, 27.2, -90.0)]),
            fixes(VESSEL_B, [(21.0, 27.2, -90.0), (26.0, 27.2, -90.0), (33.0, 27.9, -90.0)]),
        ]
    )
    gaps = detect_gaps(positions, CFG)
    linked = link_gaps(rendezvous(22.0, 25.0), gaps, CFG).iloc[0]
    assert linked["gap_before_h_a"] == pytest.approx(9.0)
    assert linked["gap_after_h_a"] == 0.0
    assert linked["gap_before_h_b"] == 0.0
    assert linked["gap_after_h_b"] == pytest.approx(7.0)
    assert sorted(linked["gap_ids"]) == sorted(gaps["gap_id"])


def test_link_gaps_ignores_gaps_outside_the_window_and_takes_the_longest() -> None:
    positions = fixes(
        VESSEL_A,
        [
            (0.0, 27.0, -90.0),
            (10.0, 27.0, -90.0),  # 10 h gap ending 40 h before the event: too early
            (24.0, 27.0, -90.0),  # 14 h gap ending 26 h before... still too early
            (31.0, 27.0, -90.0),  # 7 h gap ending 19 h before: linked
            (43.0, 27.0, -90.0),  # 12 h gap ending 7 h before: linked, longest
        ],
    )
    gaps = detect_gaps(positions, CFG)
    linked = link_gaps(rendezvous(50.0, 53.0), gaps, CFG).iloc[0]
    assert linked["gap_before_h_a"] == pytest.approx(12.0)
    assert len(linked["gap_ids"]) == 2


def test_link_gaps_without_gaps_gives_zeros_and_keeps_rows() -> None:
    events = pd.concat([rendezvous(1.0, 3.0), rendezvous(5.0, 9.0)], ignore_index=True)
    linked = link_gaps(events, detect_gaps(fixes(VESSEL_A, [(0.0, 1.0, 1.0)]), CFG), CFG)
    assert len(linked) == 2
    assert (linked[["gap_before_h_a", "gap_after_h_b"]] == 0.0).all().all()
    assert linked["gap_ids"].map(len).tolist() == [0, 0]
    assert linked["event_id"].tolist() == events["event_id"].tolist()


@settings(max_examples=40, deadline=None)
@given(
    silences_a=st.lists(st.floats(0.5, 30.0), min_size=1, max_size=5),
    silences_b=st.lists(st.floats(0.5, 30.0), min_size=1, max_size=5),
    start_h=st.floats(0.0, 120.0),
    length_h=st.floats(2.0, 10.0),
)
def test_property_swapping_the_pair_swaps_the_gap_columns(
    silences_a: list[float], silences_b: list[float], start_h: float, length_h: float
) -> None:
    """Pair order is a convention: linking must not depend on which vessel is 'a'."""

    def track(mmsi: int, silences: list[float]) -> pd.DataFrame:
        hours = np.concatenate([[0.0], np.cumsum(silences)])
        return fixes(mmsi, [(h, 27.0, -90.0) for h in hours])

    gaps = detect_gaps(pd.concat([track(VESSEL_A, silences_a), track(VESSEL_B, silences_b)]), CFG)
    event = rendezvous(start_h, start_h + length_h)
    swapped = event.rename(columns={"mmsi_a": "mmsi_b", "mmsi_b": "mmsi_a"})
    one = link_gaps(event, gaps, CFG).iloc[0]
    two = link_gaps(swapped, gaps, CFG).iloc[0]
    for side, other in (("a", "b"), ("b", "a")):
        assert one[f"gap_before_h_{side}"] == two[f"gap_before_h_{other}"]
        assert one[f"gap_after_h_{side}"] == two[f"gap_after_h_{other}"]
    assert sorted(one["gap_ids"]) == sorted(two["gap_ids"])
    # Every reported duration is the one-sided part of a real gap of that vessel
    # (both ships sit at the same spot here, so silences they share do not count).
    longest_a = gaps.loc[gaps["mmsi"] == VESSEL_A, "duration_h"].max()
    for which in ("before", "after"):
        assert 0.0 <= one[f"gap_{which}_h_a"] <= (longest_a if longest_a > 0 else 0.0) + 1e-9
