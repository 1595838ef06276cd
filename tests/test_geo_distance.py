"""Spherical distances and angles: known values and the antimeridian."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stswatch.geo.distance import (
    METRES_PER_DEGREE,
    circular_mean_lon,
    delta_lon,
    equirectangular_m,
    haversine_m,
    implied_speed_kn,
    wrap_lon,
)

lats = st.floats(-89.0, 89.0)
lons = st.floats(-180.0, 180.0, exclude_max=True)


def test_one_degree_of_latitude_is_111_km() -> None:
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195.0, abs=1.0)


def test_longitude_degree_shrinks_with_latitude() -> None:
    assert haversine_m(60.0, 10.0, 60.0, 11.0) == pytest.approx(0.5 * METRES_PER_DEGREE, rel=1e-3)


def test_distance_across_antimeridian_is_short() -> None:
    # 179.999 E and 179.999 W at the equator: 0.002° apart, about 222 m.
    assert haversine_m(0.0, 179.999, 0.0, -179.999) == pytest.approx(222.4, abs=0.5)
    assert equirectangular_m(0.0, 179.999, 0.0, -179.999) == pytest.approx(222.4, abs=0.5)


def test_haversine_resolves_metres() -> None:
    lat2 = 1.0 / METRES_PER_DEGREE  # one metre north
    assert haversine_m(50.0, -1.0, 50.0 + lat2, -1.0) == pytest.approx(1.0, abs=1e-6)


@given(lats, lons, lats, lons)
def test_haversine_is_symmetric_and_bounded(lat1, lon1, lat2, lon2) -> None:
    d12 = haversine_m(lat1, lon1, lat2, lon2)
    d21 = haversine_m(lat2, lon2, lat1, lon1)
    assert d12 == pytest.approx(d21, abs=1e-6)
    assert 0.0 <= d12 <= np.pi * 6_371_008.8 + 1e-6


@given(lats, lons, st.floats(-0.05, 0.05), st.floats(-0.05, 0.05))
def test_equirectangular_matches_haversine_at_short_range(lat, lon, dlat, dlon) -> None:
    lon2 = float(wrap_lon(lon + dlon))
    exact = haversine_m(lat, lon, lat + dlat, lon2)
    approx = equirectangular_m(lat, lon, lat + dlat, lon2)
    assert approx == pytest.approx(exact, rel=2e-3, abs=0.01)


def test_wrap_and_delta_lon() -> None:
    assert wrap_lon(180.0) == -180.0
    assert wrap_lon(-190.0) == pytest.approx(170.0)
    assert delta_lon(179.9, -179.9) == pytest.approx(0.2)
    assert delta_lon(-179.9, 179.9) == pytest.approx(-0.2)


def test_circular_mean_straddling_antimeridian_stays_there() -> None:
    mean = circular_mean_lon([179.9, -179.9, 179.95, -179.95])
    assert abs(abs(mean) - 180.0) < 1e-6
    assert circular_mean_lon([10.0, 20.0]) == pytest.approx(15.0)


def test_implied_speed() -> None:
    assert implied_speed_kn(1852.0, 3600.0) == pytest.approx(1.0)
    assert implied_speed_kn(100.0, 0.0) == np.inf
    assert implied_speed_kn(0.0, 0.0) == 0.0
