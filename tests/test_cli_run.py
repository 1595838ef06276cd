"""`stswatch run FILE... --store DIR --out OUT.geojson` and `stswatch detect`: the CLI contract.

Drives the real CLI entry point on simulated MarineCadastre days (two days, so
meetings across midnight occur) and checks what an analyst or an external
check relies on: the GeoJSON shape and property names, that every true
rendezvous is reported and no decoy is, that scores rank, and that re-running
changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from stswatch.pipeline.cli import main
from stswatch.pipeline.config import Config
from stswatch.pipeline.simulator import SimulationConfig, simulate, write_marinecadastre

DAY0 = date(2024, 2, 10)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], pd.DataFrame]:
    out = tmp_path_factory.mktemp("sim")
    cfg = SimulationConfig(
        seed=11,
        start_date=DAY0,
        n_days=2,
        region="gulf_of_mexico",
        n_background_vessels=80,
        n_illicit_rendezvous=3,
        n_legit_transfers=3,
        n_anchorage_crowds=1,
        n_passing=2,
        n_convoys=1,
        n_pair_trawls=1,
        n_short_meetings=2,
        n_loitering_dark_partner=2,
    )
    data = simulate(cfg)
    files = sorted(p for p in map(Path, write_marinecadastre(data, out)) if p.suffix == ".csv")
    files = [f for f in files if f.name.startswith("AIS_")]
    return files, data.truth


@pytest.fixture(scope="module")
def run_output(
    simulated: tuple[list[Path], pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict]:
    files, _ = simulated
    work = tmp_path_factory.mktemp("run")
    store, out = work / "store", work / "out.geojson"
    args = ["run", *map(str, files), "--store", str(store), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    return store, out, json.loads(out.read_text())


RANKED_KINDS = ("rendezvous", "dark_rendezvous")


def rendezvous(doc: dict) -> list[dict]:
    return [f for f in doc["features"] if f["properties"]["kind"] == "rendezvous"]


def test_geojson_contract_properties(run_output: tuple[Path, Path, dict]) -> None:
    _, _, doc = run_output
    assert doc["type"] == "FeatureCollection"
    events = rendezvous(doc)
    assert events, "expected rendezvous in a simulated day with true transfers"
    for f in events:
        p = f["properties"]
        assert f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert p["mmsi_a"] < p["mmsi_b"]
        start = pd.Timestamp(p["start_time"])
        end = pd.Timestamp(p["end_time"])
        assert p["start_time"].endswith("Z") and start.tzinfo is not None
        assert end > start
        assert p["duration_h"] >= 2.0
        assert abs(p["duration_h"] - (end - start).total_seconds() / 3600) < 0.2
        assert 0 <= p["min_distance_m"] <= 500
        assert 0.0 <= p["score"] <= 1.0
        assert isinstance(p["reasons"], list) and all(isinstance(r, str) for r in p["reasons"])
        assert p["model_version"]
        assert len(p["event_id"]) >= 8
    tracks = [f for f in doc["features"] if f["properties"]["kind"] == "track"]
    ranked = [f for f in doc["features"] if f["properties"]["kind"] in RANKED_KINDS]
    assert {t["properties"]["event_id"] for t in tracks} == {e["id"] for e in ranked}


def test_dark_partner_is_published_as_a_dark_rendezvous_in_the_ranked_list(
    run_output: tuple[Path, Path, dict], simulated: tuple[list[Path], pd.DataFrame]
) -> None:
    _, _, doc = run_output
    _, truth = simulated
    kinds = ("loitering_dark_partner", "dark_transfer")  # both put a partner dark alongside
    scenario = truth[truth["kind"].isin(kinds) & truth["mmsi_b"].notna()]
    assert not scenario.empty, "the simulated days must hold a partner silent alongside"
    expected = {
        (min(int(a), int(b)), max(int(a), int(b)))
        for a, b in zip(scenario["mmsi_a"], scenario["mmsi_b"], strict=True)
    }
    dark = [f for f in doc["features"] if f["properties"]["kind"] == "dark_rendezvous"]
    assert {(f["properties"]["mmsi_a"], f["properties"]["mmsi_b"]) for f in dark} == expected
    gaps = {
        f["properties"]["gap_id"]: f for f in doc["features"] if f["properties"]["kind"] == "gap"
    }
    for f in dark:
        p = f["properties"]
        assert f["geometry"]["type"] == "Point"
        assert p["mmsi_a"] < p["mmsi_b"] and p["dark_mmsi"] in (p["mmsi_a"], p["mmsi_b"])
        assert pd.Timestamp(p["end_time"]) - pd.Timestamp(p["start_time"]) >= pd.Timedelta("100min")
        assert 0.0 <= p["score"] <= 1.0 and isinstance(p["reasons"], list)
        radius = Config().dark_transfers.max_partner_fix_distance_m
        assert 0 <= p["partner_last_fix_distance_m"] <= radius
        assert 0 <= p["partner_first_fix_distance_m"] <= radius
        for key in ("draught_before_m_a", "draught_after_m_b", "shared_silence_h", "sts_area_name"):
            assert key in p
        assert p["min_distance_m"] is None  # never seen together
        # the partner's silence is on the map as its gap line, from last to first fix
        gap = gaps[p["partner_gap_id"]]["properties"]
        assert gap["mmsi"] == p["dark_mmsi"]
    # one ranked list: every rendezvous and dark rendezvous, by score, before other kinds
    ranked = [f for f in doc["features"] if f["properties"]["kind"] in RANKED_KINDS]
    assert doc["features"][: len(ranked)] == ranked
    scores = [f["properties"]["score"] for f in ranked]
    assert scores == sorted(scores, reverse=True)


def test_every_true_rendezvous_found_and_no_decoy(
    run_output: tuple[Path, Path, dict], simulated: tuple[list[Path], pd.DataFrame]
) -> None:
    _, _, doc = run_output
    _, truth = simulated
    found = {(f["properties"]["mmsi_a"], f["properties"]["mmsi_b"]) for f in rendezvous(doc)}
    true_pairs = truth[truth["is_rendezvous"].fillna(False).astype(bool)]
    expected = {
        (min(int(a), int(b)), max(int(a), int(b)))
        for a, b in zip(true_pairs["mmsi_a"], true_pairs["mmsi_b"], strict=True)
    }
    assert expected, "the simulated days must contain true rendezvous"
    assert expected <= found, f"missed: {expected - found}"
    assert found <= expected, f"decoys reported: {found - expected}"


def test_illicit_meetings_rank_above_legitimate_ones(
    run_output: tuple[Path, Path, dict], simulated: tuple[list[Path], pd.DataFrame]
) -> None:
    _, _, doc = run_output
    _, truth = simulated
    label = {}
    for row in truth[truth["is_rendezvous"].fillna(False).astype(bool)].itertuples():
        a, b = int(row.mmsi_a), int(row.mmsi_b)
        label[(min(a, b), max(a, b))] = bool(row.is_illicit)
    scores = {True: [], False: []}
    for f in rendezvous(doc):
        p = f["properties"]
        scores[label[(p["mmsi_a"], p["mmsi_b"])]].append(p["score"])
    assert scores[True] and scores[False]
    assert sum(scores[True]) / len(scores[True]) > sum(scores[False]) / len(scores[False])


def _store_digest(store: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(store.rglob("*.parquet")):
        h.update(str(f.relative_to(store)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_rerun_is_idempotent_and_detect_agrees(
    run_output: tuple[Path, Path, dict],
    simulated: tuple[list[Path], pd.DataFrame],
    tmp_path: Path,
) -> None:
    store, _, doc = run_output
    files, _ = simulated
    before = _store_digest(store)
    again = tmp_path / "again.geojson"
    args = ["run", *map(str, files), "--store", str(store), "--out", str(again), "--no-progress"]
    assert main(args) == 0
    assert _store_digest(store) == before, "re-running the same files changed the store"
    ids = sorted(f["id"] for f in rendezvous(doc))
    assert sorted(f["id"] for f in rendezvous(json.loads(again.read_text()))) == ids

    detected = tmp_path / "detect.geojson"
    end = DAY0.replace(day=DAY0.day + 1)
    args = ["detect", "--store", str(store), "--start", str(DAY0), "--end", str(end)]
    assert main([*args, "--out", str(detected)]) == 0
    assert sorted(f["id"] for f in rendezvous(json.loads(detected.read_text()))) == ids


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["run", str(tmp_path / "nope.csv"), "--store", str(tmp_path / "s"),
                 "--out", str(tmp_path / "o.geojson")])  # fmt: skip
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_detect_rejects_end_before_start(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "positions").mkdir()
    args = ["detect", "--store", str(tmp_path), "--start", "2024-02-10", "--end", "2024-02-09"]
    assert main([*args, "--out", str(tmp_path / "o.geojson")]) == 2
    assert "before" in capsys.readouterr().err


def test_top_limits_the_summary_table(
    run_output: tuple[Path, Path, dict],
    simulated: tuple[list[Path], pd.DataFrame],
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    store, _, doc = run_output
    files, _ = simulated
    assert len(rendezvous(doc)) > 1
    args = ["run", *map(str, files), "--store", str(store), "--out", str(tmp_path / "o.geojson")]
    assert main([*args, "--no-progress", "--top", "1"]) == 0
    table_rows = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| 0.") or line.startswith("| 1.")
    ]
    assert len(table_rows) == 1
