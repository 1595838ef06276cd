"""Analysts' verdicts: ``stswatch review set|import|list`` and the store's append-only log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers_tracks import OFFSHORE, at, meeting, positions, write_store

from stswatch.pipeline.cli import main
from stswatch.pipeline.spine import detect_and_publish
from stswatch.pipeline.verdicts import (
    VerdictError,
    VerdictInput,
    labels_dir,
    latest_verdicts,
    read_labels,
    record_verdicts,
)

A, B, C, E = 636000101, 636000102, 636000103, 636000104


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A store with two published meetings on one day, and their GeoJSON."""
    store = tmp_path / "store"
    far = (OFFSHORE[0] + 2.0, OFFSHORE[1])
    write_store(
        store, positions(meeting(A, B, at(3), 4.0, *OFFSHORE), meeting(C, E, at(9), 5.0, *far))
    )
    out = tmp_path / "out.geojson"
    result = detect_and_publish(store, at(0).date(), at(0).date(), out)
    ids = sorted(result.scored["event_id"])
    assert len(ids) == 2
    return store, out, ids


def _edit(geojson: Path, target: Path, edits: dict[str, dict[str, object]]) -> Path:
    """What an analyst does in QGIS: fill in verdict/note attributes and save a copy."""
    doc = json.loads(geojson.read_text())
    for feature in doc["features"]:
        props = feature["properties"]
        if props["kind"] == "rendezvous" and props["event_id"] in edits:
            props.update(edits[props["event_id"]])
    target.write_text(json.dumps(doc))
    return target


def test_set_records_a_verdict_with_reviewer_and_the_latest_wins(published, capsys) -> None:
    store, _, (ev1, _) = published
    args = ["review", "set", ev1, "--store", str(store), "--reviewer", "ana"]
    assert main([*args, "--verdict", "unsure"]) == 0
    assert main([*args, "--verdict", "Illicit", "--note", "draught +3 m, AIS off 9 h"]) == 0
    log = read_labels(store)
    assert log["verdict"].tolist() == ["unsure", "illicit"]  # nothing rewritten
    latest = latest_verdicts(store)
    assert latest[["event_id", "verdict", "reviewer"]].values.tolist() == [[ev1, "illicit", "ana"]]
    assert latest["note"].iloc[0] == "draught +3 m, AIS off 9 h"
    assert main(["review", "list", "--store", str(store)]) == 0
    assert "illicit: 1" in capsys.readouterr().out


def test_unknown_event_or_value_writes_nothing(published, capsys) -> None:
    store, out, (ev1, ev2) = published
    code = main(["review", "set", "nope", "--verdict", "illicit", "--store", str(store)])
    assert code == 2
    assert "unknown event id(s) nope" in capsys.readouterr().err
    edited = _edit(
        out, out.with_name("bad.geojson"), {ev1: {"verdict": "illicit"}, ev2: {"verdict": "maybe"}}
    )
    code = main(["review", "import", str(edited), "--store", str(store), "--reviewer", "ana"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"event {ev2}: verdict 'maybe' is not one of illicit, legitimate, unsure" in err
    assert "nothing was recorded" in err
    assert not labels_dir(store).exists() or not list(labels_dir(store).iterdir())


def test_importing_the_same_edited_file_twice_changes_nothing(published) -> None:
    store, out, (ev1, ev2) = published
    edited = _edit(
        out,
        out.with_name("edited.geojson"),
        {ev1: {"verdict": "illicit", "note": "dark 9 h"}, ev2: {"verdict": "legitimate"}},
    )
    args = ["review", "import", str(edited), "--store", str(store), "--reviewer", "ana"]
    assert main(args) == 0
    files = sorted(labels_dir(store).iterdir())
    assert main(args) == 0
    assert sorted(labels_dir(store).iterdir()) == files  # no second file
    latest = latest_verdicts(store).set_index("event_id")
    assert latest.loc[ev1, "verdict"] == "illicit" and latest.loc[ev1, "note"] == "dark 9 h"
    assert latest.loc[ev2, "verdict"] == "legitimate"


def test_an_old_file_does_not_undo_a_colleagues_later_verdict(published) -> None:
    store, out, (ev1, _) = published
    edited = _edit(out, out.with_name("edited.geojson"), {ev1: {"verdict": "illicit"}})
    t0 = datetime(2024, 4, 1, 9, tzinfo=UTC)
    verdicts = [VerdictInput(ev1, "illicit")]
    record_verdicts(store, verdicts, reviewer="ana", origin="review import x", now=t0)
    later = datetime(2024, 4, 2, 9, tzinfo=UTC)
    record_verdicts(
        store, [VerdictInput(ev1, "legitimate")], reviewer="bo", origin="review set", now=later
    )
    args = ["review", "import", str(edited), "--store", str(store), "--reviewer", "ana"]
    assert main(args) == 0
    assert latest_verdicts(store)["verdict"].tolist() == ["legitimate"]
    # the same analyst editing and re-importing her own file is not stale
    again = _edit(out, out.with_name("again.geojson"), {ev1: {"verdict": "unsure"}})
    result = record_verdicts(
        store, [VerdictInput(ev1, "unsure")], reviewer="bo", origin=f"review import {again.name}"
    )
    assert result.written == [ev1]


def test_a_reviewer_is_required(published) -> None:
    store, _, (ev1, _) = published
    with pytest.raises(VerdictError, match="reviewer"):
        record_verdicts(store, [VerdictInput(ev1, "illicit")], reviewer=" ", origin="review set")


def test_verdicts_wait_for_the_store_lock_and_damage_is_named(published, capsys) -> None:
    """Issue 12: verdicts are written under the store's write lock, with page checksums."""
    import threading

    from stswatch.pipeline.storage import Store
    from stswatch.pipeline.store_format import DamagedPartitionError
    from stswatch.pipeline.store_lock import StoreBusyError, store_lock

    store, _, (ev1, ev2) = published
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store_lock(store, purpose="stswatch ingest"):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        with pytest.raises(StoreBusyError, match="stswatch ingest"):
            record_verdicts(
                Store(store, lock_timeout_s=0.2),
                [VerdictInput(ev1, "illicit")],
                reviewer="ana",
                origin="review set",
            )
    finally:
        release.set()
        holder.join()
    assert read_labels(store).empty
    record_verdicts(store, [VerdictInput(ev2, "legitimate")], reviewer="ana", origin="review set")
    (part,) = sorted(labels_dir(store).glob("part-*.parquet"))
    part.write_bytes(part.read_bytes()[:-50])  # a torn copy
    with pytest.raises(DamagedPartitionError, match="labels/part-"):
        read_labels(store)
    assert main(["verify", "--store", str(store)]) == 1
    assert "labels/part-" in capsys.readouterr().out
