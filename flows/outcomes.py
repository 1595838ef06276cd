"""Small, picklable records of what happened to each day of a run.

Tasks return these (a few numbers, paths and the top events as plain dicts),
never DataFrames: they travel between Dask workers and the flow, and Prefect
shows them in the UI. Pure module: no Prefect import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

DayStatus = Literal["done", "skipped", "failed"]


@dataclass
class IngestSummary:
    """What ingesting a day's file did (from ``IngestReport``)."""

    day: date
    input_path: str
    rows_in: int
    accepted: int
    quarantined_by_reason: dict[str, int]
    days_written: list[str]

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())


@dataclass
class PublishSummary:
    """What detect+score+publish wrote for one day (from ``PublishResult``)."""

    day: date
    geojson_path: str
    n_rendezvous: int
    n_loitering: int
    n_gaps: int
    event_ids: list[str]
    top_events: list[dict[str, Any]]
    #: transfers whose partner kept AIS off (``kind == "dark_rendezvous"``)
    n_dark_rendezvous: int = 0
    #: events per verdict plus "unreviewed"
    reviewed: dict[str, int] = field(default_factory=dict)
    #: unreviewed events above the review threshold, most suspicious first
    review_queue: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DayOutcome:
    """One day's fate in a run; ``error`` is set when ``status == 'failed'``."""

    day: date
    status: DayStatus
    ingest: IngestSummary | None = None
    publish: PublishSummary | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class RunReport:
    """Every day of a run, in date order, plus the re-published neighbours."""

    outcomes: list[DayOutcome] = field(default_factory=list)
    refreshed: list[PublishSummary] = field(default_factory=list)
    runner: str = ""

    @property
    def failed_days(self) -> list[DayOutcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def done_days(self) -> list[DayOutcome]:
        return [o for o in self.outcomes if o.status == "done"]

    @property
    def skipped_days(self) -> list[DayOutcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    def publishes(self) -> list[PublishSummary]:
        """Every GeoJSON written by the run (processed and refreshed days)."""
        done = [o.publish for o in self.outcomes if o.publish is not None]
        return sorted(done + self.refreshed, key=lambda p: p.day)

    def failure_message(self) -> str:
        """One line per failed day, for the final state of the flow run."""
        failed = self.failed_days
        head = f"{len(failed)} of {len(self.outcomes)} day(s) failed"
        return head + ": " + "; ".join(f"{o.day}: {o.error}" for o in failed)
