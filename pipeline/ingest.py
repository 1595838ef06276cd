"""Ingest AIS files into the Parquet store: read, clean, merge per day, write atomically.

Flow (memory stays proportional to the rows of the days being built, never
to Python objects per row):

1. every path is checked and its format sniffed *before* anything is
   written, so a typo in the last of ten paths does not leave a half-done run;
2. each file streams through its reader in batches; row checks
   (:func:`stswatch.pipeline.cleaning.split_batch`) run per batch, survivors go to a
   compact per-day :class:`~stswatch.pipeline.cleaning.PositionBuffer`;
3. per UTC day, the rows already in the store are read back and put first,
   the day is resolved (:func:`stswatch.pipeline.cleaning.resolve_day`) and the
   positions, vessels and quarantine partitions are rewritten atomically.

Tally semantics (``accepted + quarantined == rows_in`` for every file):

* ``rows_in`` counts input records as the reader sees them (CSV data lines,
  NMEA messages), including lines it could not parse;
* ``accepted`` counts records that are in the store after the run: new
  positions, positions identical to a stored row (re-ingest: they *are* in
  the store) and valid static-only reports (merged into the vessel series);
* ``quarantined`` counts records written to the quarantine table, by reason.
  Re-ingesting an input therefore reports the same tally as the first time,
  and leaves a byte-identical store.

Rows go to their own UTC day. Quarantined records without a usable timestamp
are filed under the first day their file covers (or ``default_time``'s day,
or 1970-01-01 when the file has no valid time at all).
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.cleaning import MS_PER_DAY, PositionBuffer, day_bounds, split_batch
from stswatch.pipeline.config import DEFAULT_CONFIG, Config
from stswatch.pipeline.ingest_day import DayParts, write_day
from stswatch.pipeline.ingest_memory import jemalloc_pool, tune_malloc
from stswatch.pipeline.readers import ReaderBatch, ReaderError, read_any, sniff_format
from stswatch.pipeline.storage import Store

EPOCH_DAY = date(1970, 1, 1)
_T = TypeVar("_T")
#: Worker threads for per-batch checks, and batches allowed in flight.
_WORKERS = 2
_IN_FLIGHT = 3


class IngestError(ValueError):
    """Bad input for an ingest run (message names the file and the problem)."""


@dataclass
class FileTally:
    """Counts for one input file."""

    path: str
    format: str
    rows_in: int = 0
    accepted: int = 0
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def balanced(self) -> bool:
        return self.accepted + self.quarantined == self.rows_in


@dataclass
class IngestReport:
    """What an ingest run did; ``summary()`` is what the CLI prints."""

    store_root: Path
    files: list[FileTally] = field(default_factory=list)
    #: UTC days whose partitions were touched (any table), ascending
    days_written: list[date] = field(default_factory=list)
    #: partition files actually (re)written, relative to the store root
    partitions_written: list[str] = field(default_factory=list)
    #: UTC days on which the inputs carry positions, ascending, whether or not
    #: their partitions changed (a re-ingest rewrites nothing yet covers them)
    days_covered: list[date] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def quarantined_by_reason(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.quarantined_by_reason)
        return dict(sorted(total.items()))

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files)

    def summary(self) -> str:
        check = "ok" if self.balanced else "MISMATCH"
        lines = [
            f"ingested {len(self.files)} file(s) into {self.store_root}",
            f"  rows in      {self.rows_in:>12,}",
            f"  accepted     {self.accepted:>12,}",
            f"  quarantined  {self.quarantined:>12,}",
            f"  tally        accepted + quarantined = rows in: {check}",
        ]
        if self.quarantined_by_reason:
            lines.append("  quarantined by reason:")
            lines += [f"    {r:<22} {n:>10,}" for r, n in self.quarantined_by_reason.items()]
        if len(self.files) > 1:
            lines.append("  per file (rows in / accepted / quarantined):")
            for f in self.files:
                lines.append(
                    f"    {Path(f.path).name} [{f.format}]: "
                    f"{f.rows_in:,} / {f.accepted:,} / {f.quarantined:,}"
                    + ("" if f.balanced else "  MISMATCH")
                )
        days = self.days_written
        span = (
            "none"
            if not days
            else days[0].isoformat()
            if len(days) == 1
            else f"{days[0].isoformat()} .. {days[-1].isoformat()} ({len(days)} days)"
        )
        lines.append(f"  partitions written: {len(self.partitions_written)}; days: {span}")
        return "\n".join(lines)


# ------------------------------------------------------------------ helpers
def _days_of(ts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """UTC day number per row (-1 where the timestamp is null)."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    ms = pc.fill_null(ts.cast(pa.int64()), pa.scalar(np.iinfo(np.int64).min, pa.int64()))
    ms = ms.to_numpy(zero_copy_only=False)
    return np.where(ms == np.iinfo(np.int64).min, -1, ms // MS_PER_DAY)


def _day(n: int) -> date:
    return EPOCH_DAY + timedelta(days=int(n))


def _progress(enabled: bool, desc: str, unit: str = " rows"):
    if not enabled:
        return None
    import sys

    from tqdm import tqdm

    return tqdm(desc=desc, unit=unit, unit_scale=True, file=sys.stderr, leave=False)


# --------------------------------------------------------------------- main
def check_inputs(paths: Iterable[Path | str]) -> list[tuple[Path, str]]:
    """Existence and format of every path, or IngestError naming the bad one."""
    out = []
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise IngestError(f"{path}: no such file")
        try:
            out.append((path, sniff_format(path)))
        except ReaderError as exc:
            raise IngestError(str(exc)) from None
    if not out:
        raise IngestError("no input files given")
    return out


def ingest_files(
    paths: Sequence[Path | str],
    store_root: Path | str,
    *,
    cfg: Config = DEFAULT_CONFIG,
    progress: bool = False,
    default_time: datetime | None = None,
) -> IngestReport:
    """Read, clean and merge ``paths`` into the store at ``store_root``.

    Raises :class:`IngestError` (before writing anything) when a path is
    missing or of an unknown format, and when a file turns out unreadable
    while streaming (days of earlier files are not written either: the store
    only changes at the end, one atomic day file at a time).
    """
    tune_malloc()
    with (
        jemalloc_pool(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="statics") as compactor,
    ):
        return _ingest_files(
            paths,
            store_root,
            cfg=cfg,
            progress=progress,
            default_time=default_time,
            compactor=compactor,
        )


def _ingest_files(
    paths: Sequence[Path | str],
    store_root: Path | str,
    *,
    cfg: Config,
    progress: bool,
    default_time: datetime | None,
    compactor: Executor,
) -> IngestReport:
    inputs = check_inputs(paths)
    store = Store(store_root)
    report = IngestReport(store_root=Path(store_root))
    days: dict[int, DayParts] = defaultdict(DayParts)
    file_names = [str(p) for p, _ in inputs]
    bar = _progress(progress, "reading")
    for origin, (path, fmt) in enumerate(inputs):
        tally = FileTally(path=str(path), format=fmt)
        report.files.append(tally)
        _read_file(path, fmt, origin, tally, days, default_time, compactor, bar)
    if bar is not None:
        bar.close()
    _write_days(store, days, file_names, cfg, report, progress)
    report.days_written = sorted(set(report.days_written))
    return report


def _read_file(
    path: Path,
    fmt: str,
    origin: int,
    tally: FileTally,
    days: dict[int, DayParts],
    default_time: datetime | None,
    compactor: Executor,
    bar: Any,
) -> None:
    """Stream one file through the row checks into ``days`` (the reading phase)."""
    undated: list[pa.Table] = []
    first_day: int | None = None
    try:
        batches = read_any(path, default_time=default_time)
        for checked in _parallel_map(_check_batch, batches, origin):
            tally.rows_in += checked.n_records
            if bar is not None:
                bar.update(checked.n_records)
            tally.quarantined_by_reason.update(checked.quarantined_by_reason)
            tally.accepted += checked.n_static_only
            undated.extend(checked.quarantine)
            for d, statics in checked.statics.items():
                days[d].add_statics(statics, compactor)
            for d, buf in checked.positions.items():
                days[d].positions.append(buf)
                first_day = d if first_day is None else min(first_day, d)
    except ReaderError as exc:
        raise IngestError(str(exc)) from None
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError) as exc:
        raise IngestError(f"{path}: cannot read as {fmt} ({exc})") from None
    _file_quarantine(undated, first_day, default_time, days)


def _file_quarantine(
    undated: list[pa.Table],
    first_day: int | None,
    default_time: datetime | None,
    days: dict[int, DayParts],
) -> None:
    """File a file's quarantine rows under their own day (or the file's first day)."""
    fallback = first_day
    if fallback is None and default_time is not None:
        aware = default_time if default_time.tzinfo else default_time.replace(tzinfo=UTC)
        fallback = (aware.astimezone(UTC).date() - EPOCH_DAY).days
    for q in undated:
        qday = _days_of(q["timestamp"])
        qday[qday < 0] = fallback if fallback is not None else 0
        qdays = np.unique(qday)
        for d in qdays:
            days[int(d)].quarantine.append(q if len(qdays) == 1 else q.filter(pa.array(qday == d)))


def _write_days(
    store: Store,
    days: dict[int, DayParts],
    file_names: list[str],
    cfg: Config,
    report: IngestReport,
    progress: bool,
) -> None:
    """Resolve and write each UTC day in turn (the writing phase), tallying per file."""
    day_bar = _progress(progress, "writing", unit=" days")
    for d in sorted(days):
        parts = days.pop(d)
        if parts.positions:
            report.days_covered.append(_day(d))
        outcome = write_day(store, _day(d), parts, file_names, cfg.cleaning)
        for tally, accepted, quarantined in zip(
            report.files, outcome.accepted_per_file, outcome.quarantined_per_file, strict=True
        ):
            tally.accepted += int(accepted)
            tally.quarantined_by_reason.update(quarantined)
        if outcome.partitions:
            report.partitions_written.extend(outcome.partitions)
            report.days_written.append(_day(d))
        if day_bar is not None:
            day_bar.update(1)
    if day_bar is not None:
        day_bar.close()


@dataclass
class _Checked:
    """One reader batch after the row checks, routed to its UTC days."""

    n_records: int
    quarantined_by_reason: Counter[str]
    n_static_only: int = 0
    #: reader rejects and row-check quarantine (filed by day later)
    quarantine: list[pa.Table] = field(default_factory=list)
    statics: dict[int, pa.Table] = field(default_factory=dict)
    positions: dict[int, PositionBuffer] = field(default_factory=dict)


def _check_batch(batch: ReaderBatch, origin: int) -> _Checked:
    """Row checks, compact buffer and day routing of one batch (in a worker thread)."""
    rejects = batch.rejects
    checked = _Checked(
        n_records=batch.n_records,
        quarantined_by_reason=Counter(rejects["reason"].to_numpy(zero_copy_only=False).tolist()),
    )
    if rejects.num_rows:
        checked.quarantine.append(rejects)
    obs = batch.observations
    if obs.num_rows == 0:
        return checked
    split = split_batch(obs)
    checked.quarantined_by_reason.update(split.quarantined_by_reason)
    checked.n_static_only = split.n_static_only
    if split.quarantine.num_rows:
        checked.quarantine.append(split.quarantine)
    if split.statics.num_rows:
        statics = split.statics
        checked.statics = _per_day(
            statics["timestamp"].cast(pa.int64()).to_numpy(),
            lambda a, b, copy: statics.take(np.arange(a, b)) if copy else statics.slice(a, b - a),
        )
    if split.position_mask.any():
        buf = PositionBuffer.from_observations(
            obs, origin, split.position_mask, split.order, split.numbers
        )
        checked.positions = _per_day(buf.cols["ts"], lambda a, b, copy: buf.slice(a, b, copy=copy))
    return checked


def _per_day(ts: np.ndarray, cut: Callable[[int, int, bool], _T]) -> dict[int, _T]:
    """Rows in batch order (ms timestamps ``ts``) per UTC day: one slice each.

    ``cut(start, stop, copy)`` takes the slice. The largest day's is a view;
    the others are copied, or they would keep the whole batch alive while
    their (later) day waits to be written.
    """
    bounds = day_bounds(ts)
    largest = max(stop - start for _, start, stop in bounds)
    return {d: cut(start, stop, stop - start < largest) for d, start, stop in bounds}


def _parallel_map(
    func: Callable[[ReaderBatch, int], _T], batches: Iterable[ReaderBatch], origin: int
) -> Iterator[_T]:
    """``func`` over batches in a small thread pool, results in input order.

    pyarrow and numpy release the GIL in their kernels, so two workers keep
    both cores busy while the reader thread parses ahead. At most
    ``_IN_FLIGHT`` batches are pending, which bounds memory.
    """
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ingest") as pool:
        pending: deque[Future[_T]] = deque()
        for batch in batches:
            pending.append(pool.submit(func, batch, origin))
            if len(pending) >= _IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
