"""Watchlist screening on a simulated day through ``stswatch run``, with both list formats."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from stswatch.pipeline.cli import main

FIXTURES = Path(__file__).parent / "data" / "watchlists"
DAY = date(2024, 6, 3)
#: Vessels of the lean seed-7 day the fixtures name (see tests/data/watchlists/README.md).
OCEAN_PHOENIX, SUMMIT_PIONEER, DELTA_UNITY = 241925700, 366356949, 248261390


@pytest.fixture(scope="module")
def day_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stswatch.flows.demo_data import simulate_small_days

    (path,) = simulate_small_days(tmp_path_factory.mktemp("sim"), DAY, 1, seed=7, lean=True)
    text = path.read_text()
    missing = [m for m in (OCEAN_PHOENIX, SUMMIT_PIONEER, DELTA_UNITY) if f"\n{m}," not in text]
    assert not missing, f"the simulator no longer writes {missing}: update the fixtures"
    return path


def run_with(day_file: Path, tmp_path: Path, *lists: str) -> dict[int, dict]:
    """``stswatch run`` with the lists; the ranked events by vessel MMSI (either side)."""
    out = tmp_path / "out.geojson"
    args = ["run", str(day_file), "--store", str(tmp_path / "store"), "--out", str(out)]
    args += ["--no-progress", "--cards", "0"]
    for name in lists:
        args += ["--watchlist", str(FIXTURES / name)]
    assert main(args) == 0
    doc = json.loads(out.read_text())
    events = {}
    for f in doc["features"]:
        p = f["properties"]
        if p["kind"] in ("rendezvous", "dark_rendezvous"):
            events[p["mmsi_a"]] = events[p["mmsi_b"]] = p
    return events


def test_csv_list_flags_imo_mmsi_and_name_hits_with_their_reasons(day_file, tmp_path) -> None:
    events = run_with(day_file, tmp_path, "sim_day_list.csv")
    meeting = events[OCEAN_PHOENIX]
    (hit,) = meeting["watchlist_hits"]
    assert (hit["match"], hit["strength"], hit["list"]) == (
        "imo+name",
        "exact",
        "OFAC SDN (fixture)",
    )
    wanted = (
        "IMO 9029607 on watchlist OFAC SDN (fixture) (OCEAN PHOENIX): exact IMO match, "
        "name agrees (odds x8)"
    )
    assert any(wanted in r for r in meeting["reasons"])
    assert meeting["reasons"][0].startswith("vessel ")  # the strongest evidence leads
    assert meeting["score"] > meeting["model_score"]
    assert "OFAC SDN (fixture)" in meeting["reasons_text"]

    dark = events[DELTA_UNITY]
    assert dark["kind"] == "dark_rendezvous"
    kinds = {(h["match"], h["strength"]) for h in dark["watchlist_hits"]}
    assert kinds == {("mmsi", "exact"), ("name", "name only")}  # NOBLE WAVE 23 by name
    assert any("name only, weaker (ship names are reused)" in r for r in dark["reasons"])
    assert not any(h["listed_name"] == "NOT IN THE DAY" for e in events.values()
                   for h in e["watchlist_hits"])  # fmt: skip
    unlisted = [e for e in events.values() if not e["watchlist_hits"]]
    assert unlisted and all(e["score"] == e["model_score"] for e in unlisted)


def test_opensanctions_lines_flag_the_same_day(day_file, tmp_path) -> None:
    events = run_with(day_file, tmp_path, "sim_day_vessels.ftm.json")
    meeting = events[SUMMIT_PIONEER]
    (hit,) = meeting["watchlist_hits"]
    assert (hit["match"], hit["list"], hit["mmsi"]) == ("imo+name", "us_ofac_sdn", SUMMIT_PIONEER)
    assert hit["note"].startswith("sanction")
    dark = events[DELTA_UNITY]
    assert {h["list"] for h in dark["watchlist_hits"]} == {"eu_fsf", "gb_hmt_sanctions"}
    assert any("on watchlist eu_fsf (DELTA UNITY): exact MMSI match, name agrees" in r
               for r in dark["reasons"])  # fmt: skip


def test_a_malformed_list_stops_the_run_with_its_line(day_file, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("imo,mmsi,name,list,note\n9029607,,A,L,\nIMO 123,,B,L,\n")
    args = ["run", str(day_file), "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o.json")]
    assert main([*args, "--watchlist", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: IMO 'IMO 123' is not 7 digits" in err
    assert not (tmp_path / "s").exists()  # nothing ingested before the list was checked
