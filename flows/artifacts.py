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
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from stswatch.flows.outcomes import PublishSummary, RunReport

#: Artifact keys (lowercase letters, digits and dashes: Prefect's rule).
#: A fixed key makes the UI keep a history of the artifact across runs.
KEY_TOP = "stswatch-top-rendezvous"
KEY_SUMMARY = "stswatch-run-summary"
KEY_PROGRESS = "stswatch-backfill-progress"
KEY_REVIEW = "stswatch-review-queue"
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


def _href(path: str | Path | None, base_url: str | None) -> str | None:
    """The HTTP address of an output file (``base_url`` serves the output folder), or None.

    Browsers refuse ``file://`` links from a web page such as the Prefect UI,
    so without a served folder the artifacts show paths instead of links.
    """
    if not path or not base_url:
        return None
    return f"{base_url.rstrip('/')}/{quote(Path(path).as_posix().lstrip('/'))}"


def _card_path(event: dict[str, Any], geojson: str) -> str | None:
    """The card PNG relative to the output folder (the GeoJSON's folder)."""
    card = event.get("card")
    return str(card) if isinstance(card, str) and card else None


def top_events_rows(
    publishes: list[PublishSummary], n: int, base_url: str | None = None
) -> list[dict[str, Any]]:
    """The ``n`` highest-scored events across days, as table artifact rows.

    Reasons come right after the score: the UI's table scrolls sideways, and
    reasons are what an analyst reads first; ids and times come last.
    """
    events = [(e, p.geojson_path) for p in publishes for e in p.top_events]
    events.sort(key=lambda x: (-float(x[0].get("score") or 0.0), str(x[0].get("event_id"))))
    rows = []
    for e, geojson in events[:n]:
        reasons = e.get("reasons")
        if reasons is None or isinstance(reasons, float):
            reasons = []
        card = _card_path(e, geojson)
        rows.append(
            {
                "score": round(float(e.get("score") or 0.0), 3),
                "reasons": "; ".join(str(r) for r in reasons),
                "verdict": e.get("verdict") or "",
                "reviewed_by": e.get("reviewed_by") or "",
                "reviewed_at": _iso(e.get("reviewed_at")),
                "vessel_a": _vessel(e, "a"),
                "vessel_b": _vessel(e, "b"),
                "start_utc": _iso(e.get("start_time")),
                "duration_h": round(float(e.get("duration_h") or 0.0), 1),
                "kind": e.get("kind") or "rendezvous",
                "lat": round(float(e.get("mean_lat")), 4)
                if e.get("mean_lat") is not None
                else None,
                "lon": round(float(e.get("mean_lon")), 4)
                if e.get("mean_lon") is not None
                else None,
                "end_utc": _iso(e.get("end_time")),
                "event_id": str(e.get("event_id")),
                "card": _href(card, base_url) or card or "",
            }
        )
    return rows


def review_queue_markdown(
    publishes: list[PublishSummary], base_url: str | None, *, title: str
) -> str:
    """Unreviewed events above the threshold, most suspicious first, with links.

    One Markdown table (the UI renders its links), the card and the day's
    GeoJSON linked through the served output folder, and the command that
    records a verdict.
    """
    queue = [(e, p) for p in publishes for e in p.review_queue]
    queue.sort(key=lambda x: (-float(x[0].get("score") or 0.0), str(x[0].get("event_id"))))
    counts: Counter[str] = Counter()
    for p in publishes:
        counts.update(p.reviewed)
    reviewed = sum(v for k, v in counts.items() if k != "unreviewed")
    by_verdict = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "unreviewed")
    lines = [
        f"## Review queue: {title}",
        "",
        f"- events reviewed: **{reviewed}** ({by_verdict or 'none'}), "
        f"unreviewed: **{counts.get('unreviewed', 0)}**, in this queue: **{len(queue)}**",
    ]
    if not queue:
        return "\n".join([*lines, "", "Nothing above the review threshold is waiting."])
    lines += [
        "",
        "| score | reasons | vessels | start (UTC) | card | GeoJSON |",
        "|---:|---|---|---|---|---|",
    ]
    for e, p in queue:
        reasons = "; ".join(str(r) for r in (e.get("reasons") or []))
        card = _card_path(e, p.geojson_path)
        card_cell = f"[card]({_href(card, base_url)})" if base_url and card else (card or "")
        geo_name = Path(p.geojson_path).name
        geo_cell = f"[{geo_name}]({_href(geo_name, base_url)})" if base_url else f"`{geo_name}`"
        lines.append(
            f"| {float(e.get('score') or 0):.2f} | {reasons.replace('|', '/')} | "
            f"{_vessel(e, 'a')} / {_vessel(e, 'b')} | {_iso(e.get('start_time'))} | "
            f"{card_cell} | {geo_cell} |"
        )
    lines += [
        "",
        "Record a verdict: edit `verdict` / `note` in the GeoJSON (QGIS) and run "
        "`stswatch review import FILE.geojson --store STORE --reviewer NAME`, or "
        "`stswatch review set EVENT_ID --verdict illicit|legitimate|unsure --store STORE`.",
    ]
    if not base_url:
        lines.append(
            "Links need the output folder served over HTTP: `stswatch serve` does it "
            "(STSWATCH_BASE_URL)."
        )
    return "\n".join(lines)


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
        f"dark transfers (partner's AIS off): **{sum(p.n_dark_rendezvous for p in done)}**, "
        f"loitering: {sum(p.n_loitering for p in done)}, AIS gaps: {sum(p.n_gaps for p in done)}",
    ]
    counts: Counter[str] = Counter()
    for p in publishes:
        counts.update(p.reviewed)
    if counts:
        lines.append(
            f"- reviewed: **{sum(v for k, v in counts.items() if k != 'unreviewed')}**, "
            f"unreviewed: **{counts.get('unreviewed', 0)}**"
        )
    if publishes:
        lines += ["", "| day | rendezvous | dark transfers | GeoJSON |", "|---|---:|---:|---|"]
        for p in publishes:
            note = " (refreshed: a neighbouring day landed)" if p in report.refreshed else ""
            lines.append(
                f"| {p.day} | {p.n_rendezvous} | {p.n_dark_rendezvous} | `{p.geojson_path}`{note} |"
            )
    if report.failed_days:
        lines += ["", "### Failed days", ""]
        lines += [f"- **{o.day}**: {o.error}" for o in report.failed_days]
        lines += ["", "Re-run them with a backfill over those days."]
    return "\n".join(lines)


def publish_run_artifacts(
    report: RunReport, *, title: str, top_n: int, base_url: str | None = None
) -> None:
    """Create the table, review queue, summary and link artifacts of a finished run."""
    from prefect.artifacts import (
        create_link_artifact,
        create_markdown_artifact,
        create_table_artifact,
    )

    rows = top_events_rows(report.publishes(), top_n, base_url)
    create_table_artifact(
        key=KEY_TOP,
        table=rows
        or [{"score": None, "reasons": "", "event_id": "no rendezvous found", "vessel_a": ""}],
        description=f"Top {top_n} events by suspicion score — {title}",
    )
    create_markdown_artifact(
        key=KEY_REVIEW,
        markdown=review_queue_markdown(report.publishes(), base_url, title=title),
        description=f"Unreviewed events to look at — {title}",
    )
    create_markdown_artifact(
        key=KEY_SUMMARY, markdown=summary_markdown(report, title=title), description=title
    )
    publishes = report.publishes()
    if base_url and len(publishes) <= MAX_LINK_ARTIFACTS:
        for p in publishes:
            name = Path(p.geojson_path).name
            create_link_artifact(
                key=f"stswatch-geojson-{p.day.isoformat()}",
                link=_href(name, base_url) or "",
                link_text=name,
                description=f"GeoJSON of {p.day} ({p.n_rendezvous} rendezvous)",
            )


class Progress:
    """Prefect's progress artifact for a run, advancing one step per finished day.

    ``advance(0, note)`` only updates the description (a day ingested, a
    neighbour refreshed), so the bar moves exactly once per day.
    """

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
            description=f"{self.description}: {self.done}/{self.total} days"
            + (f" ({note})" if note else ""),
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
