"""Typed flow parameters and the pure date logic behind them (no Prefect import).

Why a separate module: the rules deciding *which days* a run processes (the
backfill range, the daily run's target day and its self-healing look-back)
are where orchestration bugs hide, and they are plain date arithmetic. Kept
here as pure functions of explicit dates, they are tested in milliseconds
without a Prefect server, and no hidden wall clock sneaks in: "today" is
always a parameter (the flows pass the run's scheduled time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field

#: Where a day's input comes from. ``local`` picks the day's file from an
#: input folder (files written by ``stswatch simulate``, or downloaded by
#: hand); the others download the publisher's daily file.
FlowSource = Literal["marinecadastre", "dma", "local"]
FLOW_SOURCES: tuple[str, ...] = get_args(FlowSource)


#: The flows' ``watchlist`` parameter, as the UI's run form shows it.
WatchlistParameter = Annotated[
    list[str] | None,
    Field(
        description="Watchlist files to screen events against: CSV (imo,mmsi,name,list,note) "
        "or OpenSanctions FollowTheMoney JSON lines"
    ),
]


class ParameterError(ValueError):
    """A flow parameter is invalid; the message says what to change."""


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive (empty when end < start)."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def validate_backfill_range(
    start_date: date, end_date: date, *, today: date, max_days: int
) -> list[date]:
    """The days of a backfill, or a :class:`ParameterError` a person can act on.

    ``today`` is the UTC date of the run's scheduled start (not the wall
    clock), so a run scheduled yesterday and started late judges the range
    as of yesterday, and tests pin it.
    """
    if end_date < start_date:
        raise ParameterError(
            f"end_date {end_date} is before start_date {start_date}: swap them "
            "(both days are included)"
        )
    if end_date > today:
        raise ParameterError(
            f"end_date {end_date} is in the future (today is {today} UTC): "
            "no AIS file exists for it yet"
        )
    n_days = (end_date - start_date).days + 1
    if n_days > max_days:
        raise ParameterError(
            f"{start_date} to {end_date} is {n_days} days, more than the maximum of "
            f"{max_days} per backfill: split it into several runs or raise "
            "STSWATCH_MAX_BACKFILL_DAYS"
        )
    return days_between(start_date, end_date)


def validate_source(source: str, input_dir: str | None) -> None:
    """``local`` needs a folder to pick files from; others are downloaded."""
    if source not in FLOW_SOURCES:
        raise ParameterError(f"source must be one of {', '.join(FLOW_SOURCES)}, got {source!r}")
    if source == "local" and not input_dir:
        raise ParameterError("source 'local' needs input_dir (the folder holding the day files)")


def target_day(as_of: date, publication_delay_days: int) -> date:
    """The most recent day the publishers have released as of ``as_of``."""
    if publication_delay_days < 0:
        raise ParameterError("publication_delay_days must be >= 0")
    return as_of - timedelta(days=publication_delay_days)


def days_to_process(
    as_of: date,
    *,
    publication_delay_days: int,
    lookback_days: int,
    is_done: Callable[[date], bool],
) -> list[date]:
    """Days a scheduled daily run should process, oldest first.

    The target day (``as_of`` minus the publication delay) plus every day of
    the ``lookback_days`` before it that is not done yet. Prefect never
    creates runs for schedule slots in the past, so after ``serve`` was down
    for three days, the next run heals the three missing days by itself.
    Oldest first because publishing a day refreshes the day before it (events
    crossing midnight), which then sees complete data.
    """
    if lookback_days < 0:
        raise ParameterError("lookback_days must be >= 0")
    last = target_day(as_of, publication_delay_days)
    window = days_between(last - timedelta(days=lookback_days), last)
    return [d for d in window if not is_done(d)]


def missing_days(days: Iterable[date], is_done: Callable[[date], bool]) -> list[date]:
    """The days among ``days`` whose outputs are not all present, in order."""
    return sorted(d for d in set(days) if not is_done(d))


# --- where a day's outputs live ------------------------------------------------


def geojson_path(out_dir: str | Path, day: date) -> Path:
    """The published GeoJSON of one day: ``OUT/rendezvous-YYYY-MM-DD.geojson``."""
    return Path(out_dir) / f"rendezvous-{day.isoformat()}.geojson"


def positions_partition(store: str | Path, day: date) -> Path:
    """The store partition holding one day's clean positions."""
    return Path(store) / "positions" / f"date={day.isoformat()}"


def day_is_done(store: str | Path, out_dir: str | Path, day: date) -> bool:
    """A day is done when both its store partition and its GeoJSON exist.

    Deciding from the outputs themselves (not a result cache) means deleting
    a day's GeoJSON or partition always makes the next run redo it, and a
    different store path never reuses another store's work.
    """
    return geojson_path(out_dir, day).is_file() and positions_partition(store, day).is_dir()


def published_neighbours(days: set[date], store: str | Path, out_dir: str | Path) -> set[date]:
    """Already-published days next to ``days`` (their events may cross into them).

    An event starting at 23:00 on an already published day and running into a
    day that has only now landed was cut at midnight (or dropped as too short)
    when that neighbour was published: publishing it again with the new day
    gives the event whole, with the same id a single backfill would give.
    """
    around = {n for d in days for n in (d - timedelta(days=1), d + timedelta(days=1))}
    return {
        n
        for n in around - days
        if geojson_path(out_dir, n).is_file() and positions_partition(store, n).is_dir()
    }


def find_local_file(input_dir: str | Path, day: date) -> Path:
    """The input file for ``day`` in a folder, by the publishers' naming.

    Accepts ``AIS_YYYY_MM_DD.csv`` (MarineCadastre), ``aisdk-YYYY-MM-DD.csv``
    (DMA) and any file whose name carries the date as ``YYYY_MM_DD``,
    ``YYYY-MM-DD`` or ``YYYYMMDD``, optionally ``.zip``/``.gz``. Exactly one
    file must match, so a stray copy never gets ingested twice silently.
    """
    folder = Path(input_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"input_dir {folder} does not exist")
    stamps = (
        day.strftime("%Y_%m_%d"),
        day.isoformat(),
        day.strftime("%Y%m%d"),
    )
    matches = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and any(s in p.name for s in stamps)
    )
    # The publishers' own names win over anything else carrying the date (a
    # simulator's truth file, notes...).
    publisher = [
        p for p in matches if p.name.startswith((f"AIS_{stamps[0]}", f"aisdk-{stamps[1]}"))
    ]
    data_files = publisher or [p for p in matches if p.suffix not in {".json", ".md", ".parquet"}]
    if not data_files:
        raise FileNotFoundError(
            f"no input file for {day} in {folder} (expected AIS_{stamps[0]}.csv)"
        )
    if len(data_files) > 1:
        names = ", ".join(p.name for p in data_files)
        raise ParameterError(f"several input files for {day} in {folder}: {names}")
    return data_files[0]


def validate_watchlist(paths: list[str] | None) -> list[str]:
    """Absolute paths of the watchlist files, each read once to fail fast.

    A malformed list ends the run at once with the file and line to fix,
    before any day is downloaded or ingested.
    """
    from stswatch.pipeline.watchlist import WatchlistError, load_watchlists

    if not paths:
        return []
    absolute = [str(Path(p).absolute()) for p in paths]
    try:
        load_watchlists(absolute)
    except WatchlistError as exc:
        raise ParameterError(f"watchlist: {exc}") from None
    return absolute
