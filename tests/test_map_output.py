"""Map-ready output: styles, flat reasons, track legs, links, decoded codes, the GeoPackage."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers_analyst import A, B, approach_meet_leave, statics
from helpers_tracks import OFFSHORE, at, to_table, write_store

from stswatch.pipeline.cli import main
from stswatch.pipeline.map_output import RAMPS, event_styles
from stswatch.pipeline.schemas import VESSEL_SCHEMA
from stswatch.pipeline.spine import detect_and_publish
from stswatch.pipeline.storage import Store
from stswatch.pipeline.verdicts import latest_verdicts


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """One meeting with 6 h legs either side; vessel 2 silent 7 h after leaving."""
    root = tmp_path_factory.mktemp("map")
    store = root / "store"
    write_store(store, approach_meet_leave(*OFFSHORE, dark_after_h=7.0))
    ves = statics()
    Store(store).write_day("vessels", at(0).date(), to_table(ves, VESSEL_SCHEMA))
    out = root / "out" / "day.geojson"
    detect_and_publish(store, at(0).date(), at(0).date(), out)
    return store, out, json.loads(out.read_text())


def by_kind(doc: dict, kind: str) -> list[dict]:
    return [f for f in doc["features"] if f["properties"]["kind"] == kind]


def test_ranked_events_carry_simplestyle_flat_reasons_port_type_and_flag(published) -> None:
    _, _, doc = published
    (event,) = by_kind(doc, "rendezvous")
    p = event["properties"]
    assert p["marker-color"] in RAMPS["rendezvous"]
    assert p["marker-size"] in ("small", "medium", "large")
    assert p["reasons_text"] == "; ".join(p["reasons"]) and p["reasons_text"]
    assert isinstance(p["nearest_port_name"], str) and p["nearest_port_distance_m"] > 100_000
    assert p["ship_type_name_a"] == "tanker, hazardous D"  # A reported type 84
    assert (p["flag_a"], p["flag_code_a"]) == ("Marshall Islands", "MH")
    assert (p["flag_b"], p["flag_code_b"]) == ("Liberia", "LR")
    assert p["verdict"] is None and "note" in p and "reviewed_at" in p  # ready to edit
    assert p["card"] == f"day_cards/{p['event_id']}.png"


def test_colour_and_size_follow_kind_and_score() -> None:
    events = pd.DataFrame(
        {"kind": ["rendezvous", "rendezvous", "dark_rendezvous"], "score": [0.1, 0.9, 0.9]}
    )
    styles = event_styles(events)
    low, high, dark = styles.to_dict("records")
    assert low["marker-size"] == "small" and high["marker-size"] == "large"
    assert low["marker-color"] != high["marker-color"]
    assert dark["marker-color"] in RAMPS["dark_rendezvous"] and dark["marker-symbol"] == "danger"


def test_tracks_include_six_hour_legs_with_times_speeds_and_break_at_silences(published) -> None:
    _, _, doc = published
    (event,) = by_kind(doc, "rendezvous")
    start = pd.Timestamp(event["properties"]["start_time"])
    end = pd.Timestamp(event["properties"]["end_time"])
    tracks = {f["properties"]["mmsi"]: f for f in by_kind(doc, "track")}
    assert set(tracks) == {A, B}
    for track in tracks.values():
        p = track["properties"]
        times = pd.to_datetime(p["times"])
        assert len(times) == len(p["speeds"]) == p["n_positions"]
        assert (np.diff(times.asi8) > 0).all()
        assert times[0] <= start - pd.Timedelta(hours=5.5)  # the approach leg
        assert times[-1] >= end + pd.Timedelta(hours=0.9)  # the departure leg
        assert times[-1] <= end + pd.Timedelta(hours=6, minutes=1)
        assert max(s for s in p["speeds"] if s is not None) > 10  # steaming in at 12 kn
        assert p["stroke"] and p["stroke-width"] > 0
    # B fell silent 1 h after leaving and stayed so past the leg: its track stops there
    last_b = pd.Timestamp(tracks[B]["properties"]["times"][-1])
    assert at(10.9) <= last_b <= at(11.05)


def test_a_silence_inside_the_legs_breaks_the_line() -> None:
    from stswatch.pipeline.export import track_features
    from stswatch.pipeline.map_output import approach_tracks

    pos = approach_meet_leave(*OFFSHORE, dark_after_h=2.0)  # B silent 11:00-13:00
    ranked = pd.DataFrame(
        {"event_id": ["e"], "mmsi_a": [A], "mmsi_b": [B], "score": [0.9],
         "start_time": [at(6)], "end_time": [at(10)]}
    )  # fmt: skip
    tracks = approach_tracks(ranked, pos, 6.0, split_gap_h=1.0)
    features = {f["properties"]["mmsi"]: f for f in track_features(tracks)}
    assert features[B]["geometry"]["type"] == "MultiLineString"
    assert len(features[B]["geometry"]["coordinates"]) == 2
    assert features[A]["geometry"]["type"] == "LineString"
    # thinned to one fix per 2 minutes at most (A reports every 3 min: all kept)
    a_times = pos.loc[pos["mmsi"] == A, "timestamp"]
    assert features[A]["properties"]["n_positions"] == a_times[a_times <= at(16)].nunique()


def test_gaps_and_events_link_each_other(published) -> None:
    _, _, doc = published
    (event,) = by_kind(doc, "rendezvous")
    gaps = by_kind(doc, "gap")
    linked = [g for g in gaps if g["properties"]["event_id"] == event["properties"]["event_id"]]
    assert linked, "the 7 h silence after the meeting is published and linked"
    assert {g["properties"]["gap_id"] for g in linked} <= set(event["properties"]["gap_ids"])
    assert event["properties"]["loitering_ids"] == []
    assert all(g["properties"]["stroke"] for g in gaps)


def test_geopackage_has_one_styled_layer_per_kind(published) -> None:
    _, out, doc = published
    gpkg = out.with_suffix(".gpkg")
    with sqlite3.connect(gpkg) as db:
        layers = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles"))
        n_events = db.execute("SELECT count(*) FROM rendezvous").fetchone()[0]
        verdict_col = [r[1] for r in db.execute("PRAGMA table_info(rendezvous)")]
    kinds = {f["properties"]["kind"] for f in doc["features"]}
    assert layers == kinds
    assert n_events == len(by_kind(doc, "rendezvous"))
    assert "verdict" in verdict_col and "marker-color" in verdict_col
    for kind, qml in styles.items():
        root = ET.fromstring(qml.split(">", 1)[1])  # after the DOCTYPE
        expressions = [o.get("value") for o in root.iter("Option") if o.get("name") == "expression"]
        wanted = '"marker-color"' if kind in ("rendezvous", "loitering") else '"stroke"'
        assert any(wanted in e for e in expressions), (kind, expressions)
    assert 'v="dash"' in styles["gap"]


def test_review_import_reads_a_geopackage_edited_in_qgis(published, tmp_path) -> None:
    store, out, doc = published
    (event,) = by_kind(doc, "rendezvous")
    import geopandas as gpd

    edited = tmp_path / "edited.gpkg"
    edited.write_bytes(out.with_suffix(".gpkg").read_bytes())
    # what QGIS's attribute table does, through GDAL as QGIS does
    layer = gpd.read_file(edited, layer="rendezvous")
    layer["verdict"], layer["note"] = "legitimate", "bunkering, known"
    layer.to_file(edited, layer="rendezvous", driver="GPKG")
    args = ["review", "import", str(edited), "--store", str(store), "--reviewer", "ana"]
    assert main(args) == 0
    latest = latest_verdicts(store)
    assert latest[["event_id", "verdict", "note"]].values.tolist() == [
        [event["properties"]["event_id"], "legitimate", "bunkering, known"]
    ]
