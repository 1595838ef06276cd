"""The store remembers detected meetings; later runs score against that history.

Recurring meeting spots are mostly legitimate lightering areas, so "how often
do transfers happen here" must see the whole store, not just one run's window.
"""

from __future__ import annotations

from datetime import timedelta

from helpers_tracks import DAY, OFFSHORE, at, meeting, positions, write_store

from stswatch.pipeline.detection import detect_range
from stswatch.pipeline.event_history import read_history
from stswatch.pipeline.schemas import RENDEZVOUS
from stswatch.pipeline.scoring.features import features_from_result
from stswatch.pipeline.spine import detect_and_publish
from stswatch.pipeline.storage import Store

D1 = DAY.date()
D2, D3 = D1 + timedelta(days=1), D1 + timedelta(days=2)
A, B, C, E = 636000101, 636000102, 636000103, 636000104


def same_spot_on_two_days(root) -> None:
    """A/B meet on day 1 and C/E on day 3, at the same spot; day 2 is quiet."""
    write_store(
        root,
        positions(
            meeting(A, B, at(6), 4.0, *OFFSHORE),
            meeting(C, E, at(54), 4.0, *OFFSHORE),
        ),
    )


def test_published_days_are_recorded_and_rerun_replaces_them(tmp_path) -> None:
    same_spot_on_two_days(tmp_path)
    store = Store(tmp_path)
    for day in (D1, D2, D3):
        detect_and_publish(tmp_path, day, day, tmp_path / f"{day}.geojson")
    detect_and_publish(tmp_path, D1, D3, tmp_path / "range.geojson")  # a backfill re-run
    assert store.days(RENDEZVOUS) == [D1, D2, D3]  # the quiet day is recorded as empty
    recorded = store.read(RENDEZVOUS, D1, D3).to_pandas()
    assert sorted(zip(recorded["mmsi_a"], recorded["mmsi_b"], strict=True)) == [(A, B), (C, E)]


def test_history_is_causal_and_feeds_recurrence(tmp_path) -> None:
    same_spot_on_two_days(tmp_path)
    store = Store(tmp_path)
    detect_and_publish(tmp_path, D1, D1, tmp_path / "d1.geojson")

    history = read_history(store, D3, lookback_days=90)
    assert history["event_id"].tolist() == store.read(RENDEZVOUS, D1).column("event_id").to_pylist()
    assert read_history(store, D1, lookback_days=90).empty  # never its own day or later
    assert read_history(store, D3, lookback_days=1).empty  # D1 is outside a 1-day look-back

    day3 = detect_range(tmp_path, D3, D3)
    alone = features_from_result(day3, None, history=None)
    seen_before = features_from_result(day3, None, history=history)
    assert alone["recurrence_count"].tolist() == [0.0]
    assert seen_before["recurrence_count"].tolist() == [1.0]


def test_history_written_before_issue_14_still_reads_and_verifies(tmp_path) -> None:
    """A recorded day without the columns added since (kind, dark_mmsi, ...) is not damage."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from stswatch.pipeline.schemas import RENDEZVOUS_SCHEMA
    from stswatch.pipeline.verify import check_store

    old = pa.schema([f for f in RENDEZVOUS_SCHEMA if f.name not in ("kind", "dark_mmsi",
                     "shared_silence_h", "sts_area_name", "sts_area_source")])  # fmt: skip
    row = {"event_id": "e1", "mmsi_a": A, "mmsi_b": B, "start_time": at(6), "end_time": at(10),
           "duration_h": 4.0, "min_distance_m": 50.0, "mean_lat": 1.0, "mean_lon": 2.0}  # fmt: skip
    store = Store(tmp_path)
    path = store.path(RENDEZVOUS, D1)
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([row], schema=old), path)
    history = read_history(store, D2, 30)
    assert history["event_id"].tolist() == ["e1"] and history["kind"].isna().all()
    assert check_store(store).clean
