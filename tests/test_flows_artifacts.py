"""What the UI shows: table rows and the run summary, built from small run records."""

from __future__ import annotations

from datetime import date

from stswatch.flows.artifacts import summary_markdown, top_events_rows
from stswatch.flows.outcomes import DayOutcome, IngestSummary, PublishSummary, RunReport

D1, D2, D3 = date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)


def event(event_id: str, score: float, **extra) -> dict:
    base = {
        "event_id": event_id, "score": score, "mmsi_a": 211000001, "mmsi_b": 636000002,
        "vessel_name_a": "NORDIC STAR", "vessel_name_b": None,
        "start_time": "2024-03-04T03:10:00+00:00", "end_time": "2024-03-04T09:40:00+00:00",
        "duration_h": 6.5, "mean_lat": 26.123456, "mean_lon": -91.5,
        "reasons": ["receiver dark 9 h before meeting", "no IMO"],
    }  # fmt: skip
    return base | extra


def publish(day: date, events: list[dict]) -> PublishSummary:
    return PublishSummary(day, f"/out/rendezvous-{day}.geojson", len(events), 1, 2,
                          [e["event_id"] for e in events], events)  # fmt: skip


def ingest(day: date) -> IngestSummary:
    return IngestSummary(day, f"/in/AIS_{day:%Y_%m_%d}.csv", 1000, 990,
                         {"invalid_mmsi": 7, "duplicate_exact": 3}, [str(day)])  # fmt: skip


def test_top_rows_rank_by_score_across_days_and_read_plainly() -> None:
    report = RunReport(outcomes=[
        DayOutcome(D1, "done", ingest(D1), publish(D1, [event("a", 0.4)])),
        DayOutcome(D2, "done", ingest(D2), publish(D2, [event("b", 0.9), event("c", 0.1)])),
    ])  # fmt: skip
    rows = top_events_rows(report.publishes(), 2)
    assert [r["event_id"] for r in rows] == ["b", "a"]
    top = rows[0]
    assert top["vessel_a"] == "211000001 NORDIC STAR" and top["vessel_b"] == "636000002"
    assert top["start_utc"] == "2024-03-04 03:10 UTC"
    assert (top["lat"], top["lon"]) == (26.1235, -91.5)
    assert top["reasons"] == "receiver dark 9 h before meeting; no IMO"


def test_summary_tallies_rows_reasons_events_files_and_failures() -> None:
    report = RunReport(
        outcomes=[
            DayOutcome(D1, "skipped"),
            DayOutcome(D2, "done", ingest(D2), publish(D2, [event("b", 0.9)])),
            DayOutcome(D3, "failed", error="FileNotFoundError: no input file for 2024-03-06"),
        ],
        refreshed=[publish(D1, [])],
        runner="local threads (2 days at once)",
    )
    text = summary_markdown(report, title="backfill")
    assert "days processed: **1**, skipped (already done): 1, failed: **1**" in text
    assert "rows in: **1,000**, accepted: **990**, quarantined: **10**" in text
    assert "| invalid_mmsi | 7 |" in text
    assert "rendezvous found: **1**" in text
    assert "`/out/rendezvous-2024-03-05.geojson`" in text
    assert "`/out/rendezvous-2024-03-04.geojson` (refreshed: a neighbouring day landed)" in text
    assert "**2024-03-06**: FileNotFoundError" in text
    assert report.failure_message().startswith("1 of 3 day(s) failed: 2024-03-06:")
