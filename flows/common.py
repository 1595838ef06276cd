"""Helpers shared by the flows: the run's reference date and its final state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from prefect import get_run_logger
from prefect.states import Completed, Failed, State

from stswatch.flows.artifacts import publish_run_artifacts, summary_markdown, top_events_rows
from stswatch.flows.outcomes import RunReport


def run_reference_date() -> date:
    """The UTC date of this flow run's *scheduled* start (never the wall clock).

    A daily run scheduled for 06:00 that starts late, or is retried the next
    day, still processes the days it was scheduled for.
    """
    from prefect.runtime import flow_run

    scheduled = flow_run.scheduled_start_time
    if isinstance(scheduled, datetime):
        when = scheduled if scheduled.tzinfo else scheduled.replace(tzinfo=UTC)
    else:  # pragma: no cover - Prefect returns a datetime subclass
        when = datetime.fromisoformat(str(scheduled))
    return when.astimezone(UTC).date()


def finish(report: RunReport, *, title: str, top_n: int) -> State[Any]:
    """Publish the run's artifacts and turn the report into the final state.

    Completed when no day failed; otherwise Failed, with a message listing
    each failed day and why (what the UI shows on the run page).
    """
    from stswatch.flows.settings import base_url

    logger = get_run_logger()
    link_base = base_url()
    publish_run_artifacts(report, title=title, top_n=top_n, base_url=link_base)
    data = {
        "summary_markdown": summary_markdown(report, title=title),
        "done": [str(o.day) for o in report.done_days],
        "skipped": [str(o.day) for o in report.skipped_days],
        "failed": {str(o.day): o.error for o in report.failed_days},
        "geojson": [p.geojson_path for p in report.publishes()],
        "event_ids": sorted({e for p in report.publishes() for e in p.event_ids}),
        "top_events": top_events_rows(report.publishes(), top_n, link_base),
    }
    if report.failed_days:
        message = report.failure_message()
        logger.error(message)
        return Failed(message=message, data=data)
    message = (
        f"{len(report.done_days)} day(s) processed, {len(report.skipped_days)} skipped, "
        f"{sum(p.n_rendezvous for p in report.publishes())} rendezvous and "
        f"{sum(p.n_dark_rendezvous for p in report.publishes())} dark transfers published"
    )
    logger.info(message)
    return Completed(message=message, data=data)
