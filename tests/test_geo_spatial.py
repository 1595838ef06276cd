"""Spatial-hash pair search equals brute force, including the antimeridian and the poles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.geo.distance import haversine_m
from stswatch.geo.spatial_index import close_pairs


def brute_force(tick, lat, lon, max_distance_m):
    i, j = np.triu_indices(len(lat), 1)
    d = haversine_m(lat[i], lon[i], lat[j], lon[j])
    m = (d <= max_distance_m) & (tick[i] == tick[j])
    return set(zip(i[m].tolist(), j[m].tolist(), strict=True))


def found(tick, lat, lon, max_distance_m, cell_size_m):
    i, j, d = close_pairs(tick, lat, lon, max_distance_m=max_distance_m, cell_size_m=cell_size_m)
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "a pair was reported twice"
    assert np.all(i < j)
    assert np.all(d <= max_distance_m)
    return set(pairs)


def test_pair_across_antimeridian_is_found() -> None:
    tick = np.array([0, 0])
    lat = np.array([2.0, 2.0])
    lon = np.array([179.999, -179.999])
    assert found(tick, lat, lon, 500.0, 2000.0) == {(0, 1)}


def test_same_place_different_tick_is_not_a_pair() -> None:
    tick = np.array([0, 1])
    lat = np.array([2.0, 2.0])
    lon = np.array([10.0, 10.0])
    assert found(tick, lat, lon, 500.0, 2000.0) == set()


def test_pair_just_beyond_distance_is_not_found() -> None:
    lat = np.array([0.0, 0.0, 0.0])
    lon = np.array([0.0, 0.0044, 0.0046])  # ~489 m and ~512 m east
    assert found(np.zeros(3, int), lat, lon, 500.0, 2000.0) == {(0, 1), (1, 2)}


@pytest.mark.parametrize(
    ("lat_lo", "lat_hi", "lon_lo", "lon_hi"),
    [
        (-0.02, 0.02, -180.0, -179.98),  # equator, west of the seam
        (59.99, 60.01, 179.985, 180.0),  # 60 N, east of the seam
        (89.97, 90.0, -180.0, 180.0),  # the pole: a handful of columns per row
        (-89.99, -89.97, -180.0, 180.0),
        (45.0, 45.02, 3.0, 3.03),
    ],
)
def test_equals_brute_force_in_dense_patches(lat_lo, lat_hi, lon_lo, lon_hi) -> None:
    rng = np.random.default_rng(7)
    n = 300
    lat = rng.uniform(lat_lo, lat_hi, n)
    lon = rng.uniform(lon_lo, lon_hi, n)
    lon = np.where(rng.random(n) < 0.3, -lon, lon) if lon_hi >= 180 else lon
    tick = rng.integers(0, 3, n)
    for cell in (500.0, 2000.0):
        assert found(tick, lat, lon, 500.0, cell) == brute_force(tick, lat, lon, 500.0)


points = st.lists(
    st.tuples(st.integers(0, 2), st.floats(-0.01, 0.01), st.floats(-0.01, 0.01)),
    min_size=2,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(points, st.floats(-89.9, 89.9), st.floats(-180.0, 180.0, exclude_max=True))
def test_property_equals_brute_force_anywhere(pts, lat0, lon0) -> None:
    tick = np.array([p[0] for p in pts])
    lat = np.clip(lat0 + np.array([p[1] for p in pts]), -90, 90)
    lon = (lon0 + np.array([p[2] for p in pts]) + 180.0) % 360.0 - 180.0
    assert found(tick, lat, lon, 500.0, 600.0) == brute_force(tick, lat, lon, 500.0)


def test_cell_smaller_than_distance_is_refused() -> None:
    with pytest.raises(ValueError, match="cell_size_m"):
        close_pairs([0, 0], [0, 0], [0, 0], max_distance_m=500.0, cell_size_m=100.0)
