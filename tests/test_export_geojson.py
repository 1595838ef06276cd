"""GeoJSON export: RFC 7946 shape, and that GDAL (QGIS's reader) opens it as is."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from stswatch.pipeline.export import feature_collection, line_geometry, write_geojson

T0 = pd.Timestamp("2024-03-01T22:00:00Z")


def scored_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": ["aaa", "bbb"],
            "mmsi_a": [211000001, 412000001],
            "mmsi_b": [511000002, 667000002],
            "start_time": [T0, T0 + pd.Timedelta(hours=1)],
            "end_time": [T0 + pd.Timedelta(hours=5), T0 + pd.Timedelta(hours=4)],
            "duration_h": [5.0, 3.0],
            "min_distance_m": [80.5, 120.0],
            "median_distance_m": [110.0, float("nan")],
            "mean_lat": [25.0, -17.5],
            "mean_lon": [-90.0, 179.9],
            "score": [0.2, 0.9],
            "reasons": [["recurring lightering zone"], ["AIS dark 9 h before meeting"]],
            "model_version": ["test", "test"],
            "imo_a": pd.array([9123456, None], dtype="Int32"),
            "imo_b": [9500546.0, float("nan")],  # float after a missing value
            "ship_type_b": [84.0, 80.0],
        }
    )


def tracks() -> pd.DataFrame:
    # vessel 412000001 drifts across the antimeridian during event bbb
    times = [T0 + pd.Timedelta(minutes=10 * i) for i in range(4)]
    return pd.DataFrame(
        {
            "event_id": ["bbb"] * 4 + ["aaa"] * 2,
            "mmsi": [412000001] * 4 + [211000001] * 2,
            "timestamp": times + times[:2],
            "lat": [-17.50, -17.51, -17.52, -17.53, 25.0, 25.001],
            "lon": [179.998, 179.999, -179.999, -179.998, -90.0, -90.001],
        }
    )


def gaps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gap_id": ["g1"],
            "mmsi": [412000001],
            "start_time": [T0 - pd.Timedelta(hours=9)],
            "end_time": [T0],
            "duration_h": [9.0],
            "start_lat": [-17.0],
            "start_lon": [179.5],
            "end_lat": [-17.5],
            "end_lon": [179.998],
        }
    )


def loitering() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": ["l1"],
            "mmsi": [636000003],
            "start_time": [T0],
            "end_time": [T0 + pd.Timedelta(hours=6)],
            "duration_h": [6.0],
            "mean_lat": [10.0],
            "mean_lon": [60.0],
        }
    )


@pytest.fixture
def geojson_file(tmp_path: Path) -> Path:
    return write_geojson(tmp_path / "out.geojson", scored_events(), tracks(), loitering(), gaps())


def test_rendezvous_points_ranked_by_score_with_contract_properties(geojson_file: Path) -> None:
    doc = json.loads(geojson_file.read_text())
    assert doc["type"] == "FeatureCollection"
    rdv = [f for f in doc["features"] if f["properties"]["kind"] == "rendezvous"]
    assert [f["properties"]["event_id"] for f in rdv] == ["bbb", "aaa"]  # most suspicious first
    top = rdv[0]
    assert top["geometry"] == {"type": "Point", "coordinates": [179.9, -17.5]}  # lon, lat
    props = top["properties"]
    assert props["mmsi_a"] < props["mmsi_b"]
    assert props["start_time"] == "2024-03-01T23:00:00Z"
    assert props["end_time"] == "2024-03-02T02:00:00Z"
    assert props["score"] == 0.9
    assert props["reasons"] == ["AIS dark 9 h before meeting"]
    assert props["median_distance_m"] is None  # NaN is not JSON
    assert props["imo_a"] is None and rdv[1]["properties"]["imo_a"] == 9123456
    imo_b = rdv[1]["properties"]["imo_b"]
    assert imo_b == 9500546 and isinstance(imo_b, int)  # a code, not 9500546.0
    assert isinstance(props["ship_type_b"], int) and props["imo_b"] is None


def test_antimeridian_track_is_split_into_multilinestring(geojson_file: Path) -> None:
    doc = json.loads(geojson_file.read_text())
    track = next(
        f
        for f in doc["features"]
        if f["properties"]["kind"] == "track" and f["properties"]["mmsi"] == 412000001
    )
    geom = track["geometry"]
    assert geom["type"] == "MultiLineString"
    west, east = geom["coordinates"]
    assert west[-1][0] == 180.0 and east[0][0] == -180.0
    assert west[-1][1] == east[0][1]  # both halves meet at the same latitude
    assert all(abs(lon) <= 180 for part in geom["coordinates"] for lon, _ in part)


def test_every_kind_present_and_no_nan_in_file(geojson_file: Path) -> None:
    text = geojson_file.read_text()
    assert "NaN" not in text and "Infinity" not in text
    kinds = {f["properties"]["kind"] for f in json.loads(text)["features"]}
    assert kinds == {"rendezvous", "track", "loitering", "gap"}


def test_gdal_reads_the_file_like_qgis_does(geojson_file: Path) -> None:
    frame = gpd.read_file(geojson_file)  # pyogrio -> GDAL's GeoJSON driver, as in QGIS
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert len(frame) == 2 + 2 + 1 + 1
    assert set(frame.geom_type) == {"Point", "LineString", "MultiLineString"}
    assert frame.is_valid.all()


def test_empty_collection_is_valid(tmp_path: Path) -> None:
    empty = pd.DataFrame()
    doc = feature_collection(empty, empty, empty, empty)
    assert doc == {"type": "FeatureCollection", "features": []}


def test_single_position_gives_no_line() -> None:
    assert line_geometry(np.array([1.0]), np.array([2.0])) is None


@pytest.mark.parametrize("lon0,lon1", [(179.9, -179.9), (-179.9, 179.9)])
def test_split_latitude_is_interpolated_halfway(lon0: float, lon1: float) -> None:
    geom = line_geometry(np.array([lon0, lon1]), np.array([10.0, 11.0]))
    assert geom is not None and geom["type"] == "MultiLineString"
    assert math.isclose(geom["coordinates"][0][-1][1], 10.5)
