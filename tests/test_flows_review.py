"""What the Prefect UI shows an analyst: the full top N, the review queue, links that open.

``publish_day`` is called through ``.fn`` (Prefect's testing guide: task
logic without orchestration) on a hand-built store of twelve meetings, so the
table's top-N bug (it showed 10 of "Top 20") and the queue are checked fast.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from helpers_tracks import OFFSHORE, at, meeting, positions, write_store

from stswatch.flows.artifacts import review_queue_markdown, top_events_rows
from stswatch.flows.file_server import FileServer
from stswatch.flows.tasks import publish_day
from stswatch.pipeline.verdicts import VerdictInput, record_verdicts

N_MEETINGS = 12


def publish(store: Path, out: Path):
    """``publish_day``'s body without a flow run (Prefect's testing guide)."""
    from prefect.logging import disable_run_logger

    with disable_run_logger():
        return publish_day.fn(at(0).date(), str(store), str(out), top_n=20)


@pytest.fixture(scope="module")
def twelve_meetings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    frames = [
        meeting(636000300 + 2 * i, 636000301 + 2 * i, at(1 + i), 3.0, OFFSHORE[0] + i, OFFSHORE[1])
        for i in range(N_MEETINGS)
    ]
    write_store(store, positions(*frames))
    return store


def test_publish_day_returns_the_requested_top_n_not_ten(twelve_meetings, tmp_path) -> None:
    summary = publish(twelve_meetings, tmp_path)
    assert summary.n_rendezvous == N_MEETINGS
    assert len(summary.top_events) == N_MEETINGS  # was capped at 10
    rows = top_events_rows([summary], 20)
    assert len(rows) == N_MEETINGS
    assert list(rows[0])[:3] == ["score", "reasons", "verdict"]  # reasons before wide columns
    assert all(r["card"].endswith(".png") for r in rows[:N_MEETINGS])  # all within the 50 cards


def test_review_queue_lists_unreviewed_events_with_links(twelve_meetings, tmp_path) -> None:
    first = publish(twelve_meetings, tmp_path)
    top_id = first.top_events[0]["event_id"]
    record_verdicts(
        twelve_meetings, [VerdictInput(top_id, "illicit", "seen")], reviewer="ana",
        origin="review set",
    )  # fmt: skip
    summary = publish(twelve_meetings, tmp_path)
    assert summary.reviewed == {"illicit": 1, "unreviewed": N_MEETINGS - 1}
    assert summary.top_events[0]["verdict"] == "illicit"
    row = top_events_rows([summary], 20)[0]
    assert (row["verdict"], row["reviewed_by"]) == ("illicit", "ana")
    assert row["reviewed_at"].endswith("UTC")
    assert top_id not in {e["event_id"] for e in summary.review_queue}
    assert all(e.get("verdict") is None for e in summary.review_queue)

    text = review_queue_markdown([summary], "http://127.0.0.1:8765", title="day")
    assert "events reviewed: **1** (illicit 1)" in text
    assert f"unreviewed: **{N_MEETINGS - 1}**" in text
    if summary.review_queue:
        card = summary.review_queue[0]["card"]
        assert f"[card](http://127.0.0.1:8765/{card})" in text
        assert "(http://127.0.0.1:8765/rendezvous-2024-03-05.geojson)" in text
    plain = review_queue_markdown([summary], None, title="day")
    assert "http" not in plain.split("Links need")[0]  # no file:// or dead links


def test_file_server_serves_the_output_folder_on_loopback(tmp_path) -> None:
    (tmp_path / "cards").mkdir()
    (tmp_path / "rendezvous-2024-03-05.geojson").write_text('{"type": "FeatureCollection"}')
    (tmp_path / "cards" / "x.md").write_text("# card")
    server = FileServer(tmp_path, port=0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.url}/rendezvous-2024-03-05.geojson") as resp:
            assert resp.headers["Content-Type"] == "application/geo+json"
            assert b"FeatureCollection" in resp.read()
        with urllib.request.urlopen(f"{server.url}/cards/x.md") as resp:
            assert resp.read() == b"# card"
    finally:
        server.stop()
