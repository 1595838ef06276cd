"""Property tests of the simulator's building blocks (formatting, clocks, kinematics)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.pipeline.simulator.geometry import destination, haversine_m, unwrap_near, wrap_lon
from stswatch.pipeline.simulator.motion import Track, interpolate_tracks, report_times
from stswatch.pipeline.simulator.writer import _fixed, _lines

finite = st.floats(min_value=-999.0, max_value=999.0, allow_nan=False)


def formatted(values: list[float], decimals: int) -> list[str]:
    return _lines([_fixed(np.array(values), decimals)], len(values)).decode().splitlines()


@given(st.lists(finite, min_size=1, max_size=50), st.sampled_from([0, 1, 5]))
def test_fixed_decimals_parse_back_to_the_rounded_value(values, decimals):
    for x, text in zip(values, formatted(values, decimals), strict=True):
        assert abs(float(text) - x) <= 0.5 * 10**-decimals + 1e-9
        if decimals:
            assert len(text.split(".")[1]) == decimals
        assert not (text.startswith("-") and float(text) == 0)  # never "-0.0"


def test_fixed_writes_blank_for_missing():
    assert formatted([float("nan"), -0.5, 2.0], 1) == ["", "-0.5", "2.0"]


@settings(max_examples=50)
@given(
    st.lists(st.floats(min_value=5.0, max_value=3_000.0), min_size=1, max_size=8),
    st.floats(min_value=0.0, max_value=0.5),
    st.integers(min_value=0, max_value=2**32),
)
def test_report_clock_stays_in_window_sorted_and_unique(intervals, jitter, seed):
    n = len(intervals)
    start = np.linspace(0.0, 5_000.0, n)
    end = start + 20_000.0
    vessel, t = report_times(
        np.random.default_rng(seed), start, end, np.array(intervals), np.full(n, jitter)
    )
    assert (np.diff(vessel) >= 0).all()
    same = np.diff(vessel) == 0
    assert (np.diff(t)[same] > 0).all()
    assert (t >= np.floor(start[vessel])).all() and (t < end[vessel]).all()
    counts = np.bincount(vessel, minlength=n)
    expected = 20_000.0 / np.array(intervals)
    assert (np.abs(counts - expected) <= expected * jitter + 2).all()


@given(
    st.floats(min_value=-60, max_value=60),
    st.floats(min_value=-180, max_value=180),
    st.floats(min_value=0, max_value=360),
    st.floats(min_value=1.0, max_value=200_000.0),
)
def test_destination_is_at_the_requested_distance_even_across_180(lat, lon, bearing, dist):
    lat2, lon2 = destination(lat, lon, bearing, dist)
    assert abs(float(haversine_m(lat, lon, lat2, lon2)) - dist) < 1e-6 * dist + 1e-3
    assert -180 <= float(wrap_lon(lon2)) < 180
    assert abs(float(unwrap_near(wrap_lon(lon2), lon)) - float(lon2)) < 1e-9


def test_interpolation_hits_keyframes_and_holds_the_ends():
    a, b = Track(), Track()
    a.add(0, 10.0, 179.9)
    a.add(3_600, 10.0, 180.1)  # unwrapped longitude: crosses the antimeridian
    b.add(100, -5.0, 0.0, 1)
    b.add(200, -5.0, 0.0, 1)
    out = interpolate_tracks(
        [a, b], np.array([0, 0, 0, 1, 1]), np.array([0.0, 1_800.0, 3_600.0, 50.0, 150.0])
    )
    np.testing.assert_allclose(out.lon[:3], [179.9, 180.0, 180.1])
    assert out.speed_kn[1] > 5 and out.speed_kn[3] == 0.0 and out.speed_kn[4] == 0.0
    assert list(out.status[3:]) == [1, 1]
