"""Watchlist files (CSV and FollowTheMoney JSON lines) and screening events against them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from stswatch.pipeline.screening import hit_text, screen_events
from stswatch.pipeline.watchlist import (
    WatchlistError,
    load_watchlists,
    normalise_name,
    parse_imo,
    read_watchlist,
)

FIXTURES = Path(__file__).parent / "data" / "watchlists"


def _events(**overrides: object) -> pd.DataFrame:
    row = {
        "event_id": "ev1",
        "mmsi_a": 457356949,
        "mmsi_b": 538000001,
        "imo_a": 9187654,
        "imo_b": None,
        "vessel_name_a": "OTHER NAME",
        "vessel_name_b": "MV OCEAN-PHOENIX",
    }
    row.update(overrides)
    return pd.DataFrame([row])


def test_names_compare_without_case_accents_punctuation_or_hull_prefix() -> None:
    assert normalise_name("M/T Océan  Phoenix") == normalise_name("OCEAN PHOENIX")
    assert normalise_name("mv ocean-phoenix") == "OCEAN PHOENIX"
    assert normalise_name("MT") == ""  # too short to match anything


def test_imo_accepts_prefix_and_rejects_other_lengths() -> None:
    assert parse_imo("IMO9187654") == 9187654
    assert parse_imo(" IMO 9187654 ") == 9187654
    assert parse_imo("") is None
    with pytest.raises(ValueError, match="7 digits"):
        parse_imo("91876")


def test_csv_list_reads_every_column() -> None:
    wl = read_watchlist(FIXTURES / "unit_list.csv")
    assert len(wl) == 3
    first = wl.entries.iloc[0]
    assert (first["imo"], first["name"], first["list"]) == (9187654, "SEA PRINCESS", "OFAC SDN")
    assert wl.entries["mmsi"].iloc[1] == 636925700


def test_ftm_lines_keep_vessels_only_with_aliases_and_skip_bad_identifiers() -> None:
    wl = read_watchlist(FIXTURES / "unit_vessels.ftm.json")
    names = set(wl.entries["name"])
    assert {"SEA PRINCESS", "PRINCESS OF THE SEA", "KALYPSO", "BROKEN ID"} <= names
    assert "Not a ship" not in names  # Person entities are skipped
    assert wl.skipped_identifiers == 1  # "IMO 12"
    kalypso = wl.entries[wl.entries["name"] == "KALYPSO"].iloc[0]
    assert kalypso["list"] == "eu_fsf" and "mare.shadow" in kalypso["note"]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("imo,mmsi,name,list,note\n9187654,,A SHIP,L,\n12345,,B SHIP,L,\n", 3, "7 digits"),
        ("imo,mmsi,name,list,note\n,1234,,L,\n", 2, "9 digits"),
        ("imo,mmsi,name,list,note\n9187654,,A,L\n", 2, "4 fields"),
        ("imo,mmsi,name,list,note\n,,,L,why\n", 2, "no imo, mmsi or name"),
        ("vessel,flag\nA,B\n", 1, "header needs"),
    ],
)
def test_malformed_csv_names_the_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(text)
    with pytest.raises(WatchlistError, match=problem) as err:
        read_watchlist(path)
    assert f"list.csv:{line}:" in str(err.value)


def test_malformed_ftm_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    good = '{"schema": "Vessel", "properties": {"name": ["A SHIP"]}}'
    path.write_text(good + "\n" + '{"schema": "Vessel", "properties": {"name": "A SHIP"}}\n')
    with pytest.raises(WatchlistError, match=r"list\.json:2: property 'name' must be a list"):
        read_watchlist(path)
    path.write_text(good + "\n\n" + "{not json\n")
    with pytest.raises(WatchlistError, match=r"list\.json:3: not valid JSON"):
        read_watchlist(path)


def test_imo_match_is_exact_and_name_match_is_labelled_weaker() -> None:
    wl = read_watchlist(FIXTURES / "unit_list.csv")
    hits = screen_events(_events(), None, wl).iloc[0]
    by_vessel = {h["vessel"]: h for h in hits}
    assert by_vessel["vessel 1"]["match"] == "imo"
    assert by_vessel["vessel 1"]["strength"] == "exact"
    assert by_vessel["vessel 2"]["match"] == "name"
    assert by_vessel["vessel 2"]["strength"] == "name only"
    assert "weaker" in hit_text(by_vessel["vessel 2"])
    assert "IMO 9187654 on watchlist OFAC SDN (SEA PRINCESS): exact IMO match" in hit_text(
        by_vessel["vessel 1"]
    )
    assert hits[0]["vessel"] == "vessel 1"  # exact hits first


def test_a_name_reported_earlier_in_the_window_still_matches() -> None:
    """A vessel that renamed itself before the meeting is screened under its old name too."""
    wl = read_watchlist(FIXTURES / "unit_list.csv")
    events = _events(imo_a=None, vessel_name_b="NEW NAME")
    vessels = pd.DataFrame(
        {
            "mmsi": [538000001, 538000001],
            "imo": [None, None],
            "vessel_name": ["OCEAN PHOENIX", "NEW NAME"],
        }
    )
    hits = screen_events(events, vessels, wl).iloc[0]
    assert [(h["vessel"], h["matched"]) for h in hits] == [("vessel 2", "OCEAN PHOENIX")]


def test_mmsi_and_imo_of_one_entry_give_one_hit_naming_both() -> None:
    wl = load_watchlists([FIXTURES / "unit_list.csv", FIXTURES / "unit_vessels.ftm.json"])
    hits = screen_events(_events(mmsi_a=636925700, imo_a=None), None, wl).iloc[0]
    kalypso = [h for h in hits if h["list"] == "eu_fsf"]
    assert len(kalypso) == 1 and kalypso[0]["match"] == "mmsi"
    assert {h["list"] for h in hits if h["vessel"] == "vessel 1"} == {"EU shadow fleet", "eu_fsf"}


def test_no_watchlist_or_no_match_gives_empty_lists() -> None:
    wl = read_watchlist(FIXTURES / "unit_list.csv")
    clean = _events(imo_a=None, vessel_name_b="UNLISTED", mmsi_a=111111111)
    assert screen_events(clean, None, wl).iloc[0] == []
    assert screen_events(_events(), None, None).iloc[0] == []
