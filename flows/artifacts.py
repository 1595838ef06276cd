"""What a person sees in the Prefect UI for each run.

Pure formatting (:func:`top_events_rows`, :func:`summary_markdown`) is split
from the calls that create artifacts, so the text is tested without a server.
Per run: a table of the top rendezvous, a Markdown summary (rows in /
accepted / quarantined by reason, events found, where the GeoJSON is), a link
to each GeoJSON, and during a backfill a progress artifact that advances as
days finish.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from stswatch.flows.outcomes import PublishSummary, RunReport

#: Artifact keys (lowercase letters, digits and dashes: Prefect's rule).
#: A fixed key makes the UI keep a history of the artifact across runs.
KEY_TOP = "stswatch-top-rendezvous"
KEY_SUMMARY = "stswatch-run-summary"
KEY_PROGRESS = "stswatch-backfill-progress"
#: Beyond this many days, link artifacts would flood the UI; the summary still lists files.
MAX_LINK_ARTIFACTS = 31


def _iso(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, TypeError):
        return str(value)


def _vessel(row: dict[str, Any], side: str) -> str:
    mmsi = row.get(f"mmsi_{side}")
    name = row.get(f"vessel_name_{side}")
    if name is None or (isinstance(name, float) and pd.isna(name)):
        name = ""
    return f"{mmsi} {name}".strip()


def top_events_rows(publishes: list[PublishSummary], n: int) -> list[dict[str, Any]]:
    """The ``n`` highest-scored rendezvous across days, as table artifact rows."""
    events = [e for p in publishes for e in p.top_events]
    events.sort(key=lambda e: (-float(e.get("score") or 0.0), str(e.get("event_id"))))
    rows = []
    for e in events[:n]:
        reasons = e.get("reasons")
        if reasons is None or isinstance(reasons, float):
            reasons = []
        rows.append(
            {
                "score": round(float(e.get("score") or 0.0), 3),
                "event_id": str(e.get("event_id")),
                "vessel_a": _vessel(e, "a"),
                "vessel_b": _vessel(e, "b"),
                "start_utc": _iso(e.get("start_time")),
                "end_utc": _iso(e.get("end_time")),
                "duration_h": round(float(e.get("duration_h") or 0.0), 1),
                "lat": round(float(e.get("mean_lat")), 4)
                if e.get("mean_lat") is not None
                else None,
                "lon": round(float(e.get("mean_lon")), 4)
                if e.get("mean_lon") is not None
                else None,
                "reasons": "; ".join(str(r) for r in reasons),
            }
        )
    return rows


def summary_markdown(report: RunReport, *, title: str) -> str:
    """The run's Markdown summary: tallies, events, files, failures."""
    ingests = [o.ingest for o in report.outcomes if o.ingest is not None]
    rows_in = sum(i.rows_in for i in ingests)
    accepted = sum(i.accepted for i in ingests)
    reasons: Counter[str] = Counter()
    for i in ingests:
        reasons.update(i.quarantined_by_reason)
    publishes = report.publishes()
    lines = [
        f"## {title}",
        "",
        f"- days processed: **{len(report.done_days)}**, skipped (already done): "
        f"{len(report.skipped_days)}, failed: **{len(report.failed_days)}**",
    ]
    if report.runner:
        lines.append(f"- ran on: {report.runner}")
    lines += [
        f"- rows in: **{rows_in:,}**, accepted: **{accepted:,}**, "
        f"quarantined: **{sum(reasons.values()):,}**",
    ]
    if reasons:
        lines += ["", "| quarantine reason | rows |", "|---|---:|"]
        lines += [f"| {r} | {n:,} |" for r, n in sorted(reasons.items(), key=lambda x: -x[1])]
    done = [p for o in report.outcomes if (p := o.publish) is not None]
    lines += [
        "",
        f"- rendezvous found: **{sum(p.n_rendezvous for p in done)}**, "
        f"loitering: {sum(p.n_loitering for p in done)}, AIS gaps: {sum(p.n_gaps for p in done)}",
    ]
    if publishes:
        lines += ["", "| day | rendezvous | GeoJSON |", "|---|---:|---|"]
        for p in publishes:
            note = " (refreshed: a neighbouring day landed)" if p in report.refreshed else ""
            lines.append(f"| {p.day} | {p.n_rendezvous} | `{p.geojson_path}`{note} |")
    if report.failed_days:
        lines += ["", "### Failed days", ""]
        lines += [f"- **{o.day}**: {o.error}" for o in report.failed_days]
        lines += ["", "Re-run them with a backfill over those days."]
    return "\n".join(lines)


def publish_run_artifacts(report: RunReport, *, title: str, top_n: int) -> None:
    """Create the table, summary and link artifacts of a finished run."""
    from prefect.artifacts import (
        create_link_artifact,
        create_markdown_artifact,
        create_table_artifact,
    )

    rows = top_events_rows(report.publishes(), top_n)
    create_table_artifact(
        key=KEY_TOP,
        table=rows
        or [{"score": None, "event_id": "no rendezvous found", "vessel_a": "", "vessel_b": ""}],
        description=f"Top {top_n} rendezvous by suspicion score — {title}",
    )
    create_markdown_artifact(
        key=KEY_SUMMARY, markdown=summary_markdown(report, title=title), description=title
    )
    publishes = report.publishes()
    if len(publishes) <= MAX_LINK_ARTIFACTS:
        from pathlib import Path

        for p in publishes:
            create_link_artifact(
                key=f"stswatch-geojson-{p.day.isoformat()}",
                link=Path(p.geojson_path).resolve().as_uri(),
                link_text=Path(p.geojson_path).name,
                description=f"GeoJSON of {p.day} ({p.n_rendezvous} rendezvous)",
            )


class Progress:
    """A progress artifact that advances as steps finish (created on first use)."""

    def __init__(self, total_steps: int, description: str) -> None:
        from prefect.artifacts import create_progress_artifact

        self.total = max(total_steps, 1)
        self.done = 0
        self.description = description
        self.artifact_id = create_progress_artifact(
            progress=0.0, key=KEY_PROGRESS, description=description
        )

    def advance(self, steps: int = 1, note: str | None = None) -> None:
        from prefect.artifacts import update_progress_artifact

        self.done = min(self.done + steps, self.total)
        update_progress_artifact(
            artifact_id=self.artifact_id,
            progress=100.0 * self.done / self.total,
            description=f"{self.description} — {note}" if note else None,
        )

    def set_total(self, total_steps: int) -> None:
        """Fix the number of steps once the days to do are known (0: already complete)."""
        from prefect.artifacts import update_progress_artifact

        self.total = max(total_steps, 1)
        if total_steps == 0:
            self.done = self.total
            update_progress_artifact(
                artifact_id=self.artifact_id, progress=100.0, description="nothing to do"
            )
