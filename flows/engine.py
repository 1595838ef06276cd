"""Run the per-day pipeline over a list of days, inside the current flow run.

Two phases, each over the days with bounded concurrency on the chosen task
runner (local threads or a Dask cluster):

1. acquire + ingest every day (days are independent: each file lands in its
   own UTC day partitions);
2. detect + score + publish every day, once all partitions are in the store,
   so an event crossing midnight is seen whole; plus the already published
   neighbours (day before / after) of every processed day, since their events
   may cross midnight into it (this is what makes day-by-day incremental runs,
   or a backfill filling a hole, give the same events as one backfill).

A failed day is recorded and the others go on; the caller decides the
flow's final state from the :class:`~stswatch.flows.outcomes.RunReport`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.futures import PrefectFuture, as_completed

from stswatch.flows.artifacts import Progress
from stswatch.flows.outcomes import DayOutcome, IngestSummary, PublishSummary, RunReport
from stswatch.flows.params import day_is_done, published_neighbours
from stswatch.flows.runners import RunnerChoice, build_task_runner
from stswatch.flows.tasks import prepare_day, publish_day


def _error_text(future: PrefectFuture[Any]) -> str:
    state = future.state
    try:
        future.result()
    except BaseException as exc:  # reported in the run summary, not swallowed
        return f"{type(exc).__name__}: {exc}"
    return state.message or state.name or "unknown failure"


def _bounded(
    runner: Any, jobs: list[tuple[date, Any, dict[str, Any]]], limit: int
) -> Iterator[tuple[date, PrefectFuture[Any]]]:
    """Submit ``(key, task, parameters)`` jobs keeping at most ``limit`` in flight.

    Yields each finished future with its key, in completion order. A sliding
    window (not a deployment concurrency limit, which retries slowly) keeps a
    long backfill from queueing every day on the cluster at once.
    """
    queue = list(jobs)
    in_flight: dict[PrefectFuture[Any], date] = {}
    while queue or in_flight:
        while queue and len(in_flight) < limit:
            key, task, params = queue.pop(0)
            in_flight[runner.submit(task, parameters=params)] = key
        finished = next(as_completed(list(in_flight)))
        finished.wait()  # settles the future's final state (the callback fires earlier)
        yield in_flight.pop(finished), finished


def run_days(
    days: list[date],
    *,
    source: str,
    store: str,
    out_dir: str,
    input_dir: str | None,
    base_url: str | None,
    overwrite: bool,
    runner: RunnerChoice,
    top_n: int,
    progress: Progress | None = None,
    watchlist: list[str] | None = None,
) -> RunReport:
    """Process ``days`` (any order, de-duplicated) and report each day's fate."""
    logger = get_run_logger()
    days = sorted(set(days))
    store_abs, out_abs = str(Path(store).absolute()), str(Path(out_dir).absolute())
    cache_dir = str(Path(store_abs) / "_downloads")
    report = RunReport(runner=runner.describe())
    outcomes: dict[date, DayOutcome] = {}
    todo = []
    for d in days:
        if not overwrite and day_is_done(store_abs, out_abs, d):
            outcomes[d] = DayOutcome(d, "skipped")
        else:
            todo.append(d)
    if outcomes:
        logger.info("skipping %d day(s) already done (overwrite=False)", len(outcomes))

    if todo:
        # a day that cannot be published must not be ingested first (nothing half-done)
        from stswatch.pipeline.preflight import preflight

        preflight(store_root=Path(store_abs), out_dir=Path(out_abs))

    if progress is not None:  # one step per day: a day counts once it is published
        progress.set_total(len(todo))

    logger.info("processing %d day(s) on %s", len(todo), runner.describe())
    ingested: dict[date, IngestSummary] = {}
    with build_task_runner(runner) as task_runner:
        prepare_jobs = [
            (
                d,
                prepare_day,
                dict(
                    day=d,
                    source=source,
                    store=store_abs,
                    input_dir=input_dir,
                    cache_dir=cache_dir,
                    base_url=base_url,
                ),
            )
            for d in todo
        ]
        for d, fut in _bounded(task_runner, prepare_jobs, runner.max_workers):
            if fut.state.is_completed():
                ingested[d] = fut.result()
                note = f"{d} ingested"
            else:
                outcomes[d] = DayOutcome(d, "failed", error=_error_text(fut))
                logger.error("%s failed: %s", d, outcomes[d].error)
                note = f"{d} failed"
            if progress is not None:
                # a failed day will not be published: it is finished now
                progress.advance(0 if d in ingested else 1, note)

        refresh = published_neighbours(set(ingested), store_abs, out_abs)
        publish_jobs = [
            (
                d,
                publish_day,
                dict(day=d, store=store_abs, out_dir=out_abs, top_n=top_n, watchlist=watchlist),
            )
            for d in sorted(set(ingested) | refresh)
        ]
        for d, fut in _bounded(task_runner, publish_jobs, runner.max_workers):
            if fut.state.is_completed():
                published: PublishSummary = fut.result()
                if d in refresh:
                    report.refreshed.append(published)
                else:
                    outcomes[d] = DayOutcome(d, "done", ingest=ingested[d], publish=published)
            elif d in refresh:
                logger.warning("refreshing %s failed: %s", d, _error_text(fut))
            else:
                outcomes[d] = DayOutcome(d, "failed", ingest=ingested[d], error=_error_text(fut))
                logger.error("%s failed: %s", d, outcomes[d].error)
            if progress is not None:
                failed = d in outcomes and outcomes[d].failed
                what = "refreshed" if d in refresh else "failed" if failed else "published"
                progress.advance(0 if d in refresh else 1, f"{d} {what}")

    report.outcomes = [outcomes[d] for d in sorted(outcomes)]
    return report
