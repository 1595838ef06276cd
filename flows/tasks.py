"""Prefect tasks: each wraps one spine function and passes only paths and summaries.

No result caching (``NO_CACHE``): whether a day needs work is decided from
its outputs on disk (:func:`stswatch.flows.params.day_is_done`, keyed on the store
path and output folder), so a cache can never hand back a result whose files
were deleted, and ``overwrite`` forces the work.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from stswatch.flows.outcomes import IngestSummary, PublishSummary
from stswatch.flows.params import ParameterError, find_local_file, geojson_path
from stswatch.pipeline.config import DEFAULT_CONFIG, Config

_ORCH = DEFAULT_CONFIG.orchestration


def with_lock_timeout(cfg: Config = DEFAULT_CONFIG) -> Config:
    """``cfg`` with the store lock timeout of ``$STSWATCH_LOCK_TIMEOUT_S`` (if set)."""
    from stswatch.pipeline.store_lock import lock_timeout_from_env

    timeout_s = lock_timeout_from_env(cfg.store.lock_timeout_s)
    return cfg.with_overrides(store={"lock_timeout_s": timeout_s})


def _retry_download(task: Any, task_run: Any, state: Any) -> bool:
    """Retry downloads only: a missing local file will not appear by waiting."""
    try:
        state.result()
    except (FileNotFoundError, ParameterError):
        return False
    except Exception:
        return True
    return False


@task(
    name="acquire-day",
    retries=_ORCH.download_retries,
    retry_delay_seconds=exponential_backoff(backoff_factor=_ORCH.download_retry_delay_s),
    retry_condition_fn=_retry_download,
    cache_policy=NO_CACHE,
)
def acquire_day(
    day: date, source: str, input_dir: str | None, cache_dir: str, base_url: str | None
) -> str:
    """The path of the day's input file: downloaded, or picked from ``input_dir``."""
    logger = get_run_logger()
    if source == "local":
        if not input_dir:
            raise ParameterError("source 'local' needs input_dir")
        path = find_local_file(input_dir, day)
        logger.info("%s: using local file %s", day, path)
        return str(path)
    from stswatch.pipeline.download import download_day

    path = download_day(source, day, Path(cache_dir), base_url=base_url)
    logger.info("%s: downloaded %s file %s", day, source, path)
    return str(path)


@task(name="ingest-day", cache_policy=NO_CACHE)
def ingest_day(day: date, input_path: str, store: str) -> IngestSummary:
    """Ingest one day's file into the store (idempotent: merges and de-duplicates).

    ``ingest_files`` holds the store's write lock (``STORE/_stswatch/write.lock``,
    :mod:`stswatch.pipeline.store_lock`) around its read-merge-write: a day's
    file can carry rows of a neighbouring UTC day, so ingests of two days at
    once take turns, in threads, processes and Dask workers alike; detection,
    the slower step, still runs in parallel.
    """
    from stswatch.pipeline.ingest import ingest_files

    report = ingest_files([Path(input_path)], Path(store), cfg=with_lock_timeout())
    get_run_logger().info("%s: %s", day, report.summary())
    return IngestSummary(
        day=day,
        input_path=input_path,
        rows_in=int(report.rows_in),
        accepted=int(report.accepted),
        quarantined_by_reason={str(k): int(v) for k, v in report.quarantined_by_reason.items()},
        days_written=sorted(str(d) for d in report.days_written),
    )


@task(name="prepare-day", cache_policy=NO_CACHE)
def prepare_day(
    day: date,
    source: str,
    store: str,
    input_dir: str | None,
    cache_dir: str,
    base_url: str | None,
) -> IngestSummary:
    """Acquire then ingest one day: the unit a backfill spreads over workers."""
    path = acquire_day(day, source, input_dir, cache_dir, base_url)
    return ingest_day(day, path, store)


def _plain(value: Any) -> Any:
    """JSON-friendly scalars for artifacts (timestamps as ISO text, numpy as Python)."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _plain(value.tolist())
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


_WARM_LOCK = threading.Lock()
_warm_done = False


def warm_reference_data() -> None:
    """Load the coast raster and port index once per process, under a lock.

    Days are published in parallel threads (locally and on each Dask worker).
    The first call of ``stswatch.geo.coast`` reads a netCDF/HDF5 file, and HDF5 is not
    thread-safe: two first calls at once crashed a worker (segfault, "NetCDF:
    HDF error"). Loading once, serialised, before the threads need it avoids it.
    """
    global _warm_done
    with _WARM_LOCK:
        if _warm_done:
            return
        from stswatch.geo import coast, ports

        coast.warm_up()
        ports.distance_to_port_m([0.0], [0.0])
        _warm_done = True


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


@task(name="publish-day", cache_policy=NO_CACHE)
def publish_day(
    day: date, store: str, out_dir: str, top_n: int, watchlist: list[str] | None = None
) -> PublishSummary:
    """Detect, score and write ``OUT/rendezvous-DAY.geojson`` for events starting that day."""
    from stswatch.flows.settings import detection_config
    from stswatch.pipeline.spine import TOP_EVENT_COLUMNS, detect_and_publish

    warm_reference_data()
    out_path = geojson_path(out_dir, day)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    result = detect_and_publish(
        Path(store),
        day,
        day,
        out_path,
        cfg=with_lock_timeout(detection_config()),
        top_n=top_n,
        watchlist=cached_watchlist(tuple(watchlist or ())),
    )
    scored = result.scored
    event_ids = sorted(str(e) for e in scored["event_id"]) if "event_id" in scored.columns else []
    top_rows = _rows(result.top_events.head(top_n))
    queue = result.review_queue
    queue_rows = _rows(queue[[c for c in TOP_EVENT_COLUMNS if c in queue.columns]])
    get_run_logger().info(
        "%s: %d rendezvous, %d dark transfers, %d loitering, %d gaps -> %s",
        day,
        result.n_rendezvous,
        result.n_dark_rendezvous,
        result.n_loitering,
        result.n_gaps,
        result.geojson_path,
    )
    return PublishSummary(
        day=day,
        geojson_path=str(result.geojson_path),
        n_rendezvous=int(result.n_rendezvous),
        n_dark_rendezvous=int(result.n_dark_rendezvous),
        n_loitering=int(result.n_loitering),
        n_gaps=int(result.n_gaps),
        event_ids=event_ids,
        top_events=top_rows,
        reviewed=dict(result.reviewed),
        review_queue=queue_rows,
    )


def _watchlist_key(paths: tuple[str, ...]) -> tuple[tuple[str, float, int], ...]:
    keys = []
    for p in paths:
        st = Path(p).stat()
        keys.append((str(Path(p).absolute()), st.st_mtime, st.st_size))
    return tuple(keys)


_WATCHLISTS: dict[tuple, Any] = {}
_WATCHLIST_LOCK = threading.Lock()


def cached_watchlist(paths: tuple[str, ...]):  # -> Watchlist | None
    """The watchlist of ``paths``, parsed once per process while the files are unchanged.

    A backfill publishes many days with the same list; a 100,000-vessel list
    takes ~1 s to parse. Keyed on path, modification time and size, so an
    edited list is re-read by the next task.
    """
    from stswatch.pipeline.watchlist import load_watchlists

    if not paths:
        return None
    key = _watchlist_key(paths)
    with _WATCHLIST_LOCK:
        if key not in _WATCHLISTS:
            _WATCHLISTS.clear()
            _WATCHLISTS[key] = load_watchlists(list(paths))
        return _WATCHLISTS[key]
