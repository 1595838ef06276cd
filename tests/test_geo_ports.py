"""Ports from installed packages and nearest-port queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.geo.ports import distance_to_port_m, load_ports, nearest_port

HVIDE_SANDE = (56.00, 8.13)


def test_load_ports_has_curated_and_small_harbours() -> None:
    ports = load_ports()
    assert list(ports.columns) == ["name", "locode", "country", "lat", "lon", "source"]
    assert set(ports["source"].unique()) == {"wpi", "searoute", "geonames"}
    assert len(ports) > 10_000
    assert ports["lat"].between(-90, 90).all() and ports["lon"].between(-180, 180).all()
    assert load_ports() is ports  # cached


def test_galveston_port_is_found_with_locode_nearby() -> None:
    near = nearest_port(np.array([29.31]), np.array([-94.79]))
    assert near["distance_m"].iloc[0] < 3_000
    assert "Galveston" in near["name"].iloc[0]


def test_gulf_of_mexico_50km_offshore_is_far_from_port() -> None:
    d = distance_to_port_m(np.array([28.9]), np.array([-94.5]))
    assert d[0] > 10_000


def test_portsmouth_harbour_is_near_port() -> None:
    near = nearest_port(np.array([50.80]), np.array([-1.11]))
    assert near["distance_m"].iloc[0] < 2_000
    assert near["country"].iloc[0] == "GB"


def test_hvide_sande_is_missing_from_the_world_port_index() -> None:
    """Why one port list is not enough: the WPI skips Hvide Sande; only other lists have it."""
    ports = load_ports()
    lat, lon = HVIDE_SANDE

    def nearest_km(frame: pd.DataFrame) -> float:
        dx = (frame["lon"] - lon) * np.cos(np.radians(lat))
        return float((np.hypot(frame["lat"] - lat, dx) * 111).min())

    wpi = ports[ports["source"] == "wpi"]
    assert nearest_km(wpi) > 10  # nearest WPI port is Ringkøbing, ~12 km away
    assert not wpi["name"].str.contains("Hvide", case=False).any()
    # The merged list does know it (searoute DKHVS, GeoNames marina).
    assert distance_to_port_m(np.array([lat]), np.array([lon]))[0] < 2_000


@pytest.mark.shared_data
def test_hvide_sande_is_missing_from_shared_port_lists(shared_data) -> None:
    for name in ("gfw_WPI_ports.csv", "nga_wpi_ports_2026-07-24_via_harborly.csv"):
        path = shared_data / "ports" / name
        if not path.exists():
            pytest.skip(f"{path} not found")
        text = path.read_text(encoding="utf-8")
        assert "hvide" not in text.lower()


def test_antimeridian_port_found_from_the_other_side() -> None:
    # Yasawa Harbour (Fiji) is listed at lon 180.0; query just west of the seam.
    d = distance_to_port_m(np.array([-16.1667, -16.1667]), np.array([-179.999, 179.999]))
    assert np.all(d < 1_000)


def test_nearest_port_rows_follow_input_and_nan_gives_missing() -> None:
    near = nearest_port(np.array([50.80, np.nan, 29.31]), np.array([-1.11, 0.0, -94.79]))
    assert list(near.columns) == ["name", "locode", "country", "distance_m"]
    assert len(near) == 3
    assert near["country"].tolist()[0] == "GB" and near["country"].tolist()[2] == "US"
    assert pd.isna(near["name"].iloc[1]) and np.isnan(near["distance_m"].iloc[1])


@pytest.mark.shared_data
def test_shared_wpi_ports_are_covered(shared_data) -> None:
    """Every GFW WPI port is within 10 km of one of our ports or of the coast rule's reach."""
    from stswatch.geo.coast import distance_to_coast_m

    path = shared_data / "ports" / "gfw_WPI_ports.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    wpi = pd.read_csv(path)
    lat, lon = wpi["latitude"].to_numpy(), wpi["longitude"].to_numpy()
    port = distance_to_port_m(lat, lon)
    coast = distance_to_coast_m(lat, lon)
    assert (port < 10_000).mean() > 0.9
    assert ((port < 10_000) | (coast < 5_000)).mean() > 0.99


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-89.0, 89.0),
    lon=st.floats(-180.0, 180.0),
    turns=st.integers(-2, 2),
)
def test_property_port_distance_ignores_longitude_convention(
    lat: float, lon: float, turns: int
) -> None:
    d = distance_to_port_m(np.array([lat, lat]), np.array([lon, lon + 360.0 * turns]))
    assert d[1] == pytest.approx(d[0], abs=1.0)
    assert 0.0 <= d[0] <= np.pi * 6_371_008.8


def test_large_batches_agree_with_small_ones() -> None:
    """Batches >= 10k take the sorted, two-pass search: results must not change."""
    rng = np.random.default_rng(7)
    lat = rng.uniform(-70, 75, 12_000)
    lon = rng.uniform(-180, 180, 12_000)
    big = distance_to_port_m(lat, lon)
    small = np.concatenate(
        [
            distance_to_port_m(lat[i : i + 1_000], lon[i : i + 1_000])
            for i in range(0, 12_000, 1_000)
        ]
    )
    np.testing.assert_allclose(big, small)
    assert (big > 100_000).any() and (big < 100_000).any()  # both passes exercised


def test_clustered_tracks_take_the_per_cell_shortcut_and_match_the_tree() -> None:
    """Drifting ships (many points per cell) use per-cell candidate ports: same distances.

    Clusters sit in open ocean (one candidate port per cell), off busy port
    areas (many candidates, some cells fall back to the tree) and across the
    antimeridian, so each branch of the shortcut is compared with the tree.
    """
    rng = np.random.default_rng(11)
    ports = load_ports()
    at_ports = rng.integers(0, len(ports), 150)
    centres_lat = np.concatenate([ports["lat"].to_numpy()[at_ports], [30.0, -16.17, 0.0]])
    centres_lon = np.concatenate([ports["lon"].to_numpy()[at_ports], [-45.0, 179.99, -179.99]])
    lat = np.repeat(centres_lat, 60) + rng.normal(0, 0.01, centres_lat.size * 60)
    lon = np.repeat(centres_lon, 60) + rng.normal(0, 0.01, centres_lon.size * 60)
    lat = np.clip(lat, -90.0, 90.0)
    batched = distance_to_port_m(lat, lon)
    one_by_one = np.concatenate(
        [distance_to_port_m(lat[i : i + 500], lon[i : i + 500]) for i in range(0, lat.size, 500)]
    )
    np.testing.assert_allclose(batched, one_by_one, rtol=0, atol=1e-6)
    assert (batched > 1_000_000).any() and (batched < 5_000).any()
