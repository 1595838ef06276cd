"""``--sts-areas FILE`` on ``stswatch run`` / ``detect``, and the store's record of new columns."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_tracks import DAY, OFFSHORE, at, meeting, write_store

from stswatch.flows.settings import detection_config
from stswatch.pipeline.cli import main
from stswatch.pipeline.event_history import read_history
from stswatch.pipeline.schemas import RENDEZVOUS
from stswatch.pipeline.storage import Store

A, B = 366000001, 538000002
BOX = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Watch box Atlantic"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-41, 34], [-39, 34], [-39, 36], [-41, 36], [-41, 34]]],
            },
        }
    ],
}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    write_store(root, meeting(A, B, at(2), 4.0, *OFFSHORE))
    return root


def test_detect_names_the_users_area_in_the_geojson(store: Path, tmp_path: Path) -> None:
    areas = tmp_path / "areas.geojson"
    areas.write_text(json.dumps(BOX))
    out = tmp_path / "out.geojson"
    day = str(DAY.date())
    args = ["detect", "--store", str(store), "--start", day, "--out", str(out)]
    assert main([*args, "--sts-areas", str(areas)]) == 0
    props = json.loads(out.read_text())["features"][0]["properties"]
    assert props["kind"] == "rendezvous"
    assert (props["sts_area_name"], props["sts_area_source"]) == ("Watch box Atlantic", "listed")
    # without the file the same event has no area context
    assert main(args) == 0
    props = json.loads(out.read_text())["features"][0]["properties"]
    assert props["sts_area_name"] is None


@pytest.mark.parametrize("command", ["detect", "run"])
def test_bad_area_file_is_one_line_and_exit_code_2_before_any_work(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture, command: str
) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    out = tmp_path / "out.geojson"
    if command == "detect":
        args = ["detect", "--store", str(store), "--start", str(DAY.date())]
    else:
        csv = tmp_path / "AIS_2024_03_05.csv"
        csv.write_text("MMSI,BaseDateTime,LAT,LON,SOG\n366000001,2024-03-05T01:00:00,35,-40,0.1\n")
        args = ["run", str(csv), "--store", str(tmp_path / "new_store"), "--no-progress"]
    assert main([*args, "--out", str(out), "--sts-areas", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stswatch: error:") and "\n" not in err
    assert str(bad) in err and "name" in err
    assert not out.exists()
    assert not (tmp_path / "new_store").exists()  # nothing ingested


def test_service_reads_area_files_from_the_environment(tmp_path: Path) -> None:
    areas = tmp_path / "areas.geojson"
    areas.write_text(json.dumps(BOX))
    cfg = detection_config({"STSWATCH_STS_AREAS": str(areas)})
    assert cfg.sts_areas.extra_files == (str(areas),)
    assert detection_config({}).sts_areas.extra_files == ()


def test_history_reads_partitions_written_before_the_new_columns(tmp_path: Path) -> None:
    """A store keeps months of recorded meetings: old partitions lack kind, dark_mmsi,
    shared_silence_h and the STS-area fields, and must still be read (as nulls)."""
    store = Store(tmp_path)
    day = DAY.date()
    old = pa.table(
        {
            "event_id": ["abc"],
            "mmsi_a": pa.array([A], pa.int32()),
            "mmsi_b": pa.array([B], pa.int32()),
            "start_time": pa.array([at(1)], pa.timestamp("ms", tz="UTC")),
            "end_time": pa.array([at(5)], pa.timestamp("ms", tz="UTC")),
            "duration_h": [4.0],
            "min_distance_m": [120.0],
            "mean_lat": [OFFSHORE[0]],
            "mean_lon": [OFFSHORE[1]],
        }
    )
    path = store.path(RENDEZVOUS, day)
    path.parent.mkdir(parents=True)
    pq.write_table(old, path)
    history = read_history(store, day + pd.Timedelta(days=1), lookback_days=5)
    assert history["event_id"].tolist() == ["abc"]
    assert history["kind"].isna().all() and history["sts_area_name"].isna().all()
