"""Ingest AIS files into the Parquet store: read, clean, merge per day, write atomically.

Flow (memory stays proportional to the rows of the days being built, never
to Python objects per row):

1. every path is checked and its format sniffed *before* anything is
   written, so a typo in the last of ten paths does not leave a half-done run;
2. each file streams through its reader in batches; row checks
   (:func:`pipeline.cleaning.split_batch`) run per batch, survivors go to a
   compact per-day :class:`~pipeline.cleaning.PositionBuffer`;
3. per UTC day, the rows already in the store are read back and put first,
   the day is resolved (:func:`pipeline.cleaning.resolve_day`) and the
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

import ctypes
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.cleaning import (
    MS_PER_DAY,
    STATUS_REASON,
    BatchSplit,
    PositionBuffer,
    Status,
    resolve_day,
    split_batch,
    vessel_series,
)
from pipeline.config import DEFAULT_CONFIG, Config
from pipeline.readers import ReaderBatch, ReaderError, read_any, sniff_format
from pipeline.schemas import (
    POSITIONS,
    QUARANTINE,
    QUARANTINE_SCHEMA,
    VESSEL_SCHEMA,
    VESSELS,
)
from pipeline.storage import ROW_GROUP_ROWS, Store, sort_table

EPOCH_DAY = date(1970, 1, 1)
_T = TypeVar("_T")
#: Worker threads for per-batch checks, and batches allowed in flight.
_WORKERS = 2
_IN_FLIGHT = 3
#: Static candidates held per day before compacting them (~100 bytes a row).
STATIC_COMPACT_ROWS = 400_000


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


def _distinct_sorted(table: pa.Table) -> pa.Table:
    """Drop exact duplicate rows; canonical order on every column (deterministic)."""
    if table.num_rows < 2:
        return table
    keys = [(name, "ascending") for name in ("mmsi", "timestamp", "source_file", "row_number")]
    keys += [(n, "ascending") for n in table.column_names if n not in dict(keys)]
    table = table.take(pc.sort_indices(table, sort_keys=keys))
    same = np.ones(table.num_rows - 1, dtype=bool)
    for name in table.column_names:
        col = table[name].combine_chunks()
        a, b = col.slice(1), col.slice(0, table.num_rows - 1)
        eq = pc.or_(pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b)))
        same &= np.asarray(eq.to_numpy(zero_copy_only=False), dtype=bool)
    keep = np.concatenate([[True], ~same])
    return table.filter(pa.array(keep))


def _progress(enabled: bool, desc: str, unit: str = " rows"):
    if not enabled:
        return None
    import sys

    from tqdm import tqdm

    return tqdm(desc=desc, unit=unit, unit_scale=True, file=sys.stderr, leave=False)


@dataclass
class _DayParts:
    positions: list[PositionBuffer] = field(default_factory=list)
    statics: list[pa.Table] = field(default_factory=list)
    n_statics: int = 0
    n_compacted: int = 0

    def add_statics(self, table: pa.Table) -> None:
        """Collect static candidates, compacting to a change series when many.

        Memory stays proportional to vessels (and their changes), not pings.
        Compaction keeps the first report of each run of identical values, so
        for inputs in time order (MarineCadastre, DMA, logs) the result is
        the same as reducing everything at the end.
        """
        self.statics.append(table)
        self.n_statics += table.num_rows
        # Compact when the rows added since the last compaction reach half the
        # compacted series: geometric, so total work stays O(n log n) even
        # when a day has a million vessels, and pending rows stay bounded.
        pending = self.n_statics - self.n_compacted
        if pending > max(STATIC_COMPACT_ROWS, self.n_compacted // 2):
            merged = vessel_series(pa.concat_tables(self.statics))
            self.statics = [merged]
            self.n_statics = self.n_compacted = merged.num_rows

    quarantine: list[pa.Table] = field(default_factory=list)


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


def _glibc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl...): nothing to tune
        return None


_LIBC = _glibc()
#: glibc's mmap threshold normally grows up to 32 MB after large frees, after
#: which the day's 10-80 MB numpy temporaries come from the heap and stay
#: resident once freed. Pinning it at 2 MB keeps the small per-batch arrays on
#: the heap (no extra CPU) while big arrays are returned to the OS on free:
#: peak RSS at 1e7 rows went from ~1460 to ~1230 MiB at equal CPU time.
_MMAP_THRESHOLD_BYTES = 2 << 20
_M_MMAP_THRESHOLD = -3


def _tune_malloc() -> None:
    if _LIBC is not None:
        _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def _release_memory() -> None:
    """Return freed heap and Arrow pool memory to the OS at phase boundaries."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
    pa.default_memory_pool().release_unused()


@contextmanager
def _jemalloc_pool() -> Iterator[None]:
    """Allocate Arrow memory from jemalloc for the duration of an ingest.

    Measured on the 1e6..1e7-row benchmark: pyarrow's default mimalloc pool
    keeps ~25-30% more resident memory than jemalloc for this allocation
    pattern (many short-lived ~10 MB batch buffers next to a large long-lived
    day buffer), which decides whether a 10-million-row day fits in 1.5 GB.
    Falls back silently where pyarrow was built without jemalloc.
    """
    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


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
    _tune_malloc()
    with _jemalloc_pool():
        return _ingest_files(
            paths, store_root, cfg=cfg, progress=progress, default_time=default_time
        )


def _ingest_files(
    paths: Sequence[Path | str],
    store_root: Path | str,
    *,
    cfg: Config,
    progress: bool,
    default_time: datetime | None,
) -> IngestReport:
    inputs = check_inputs(paths)
    store = Store(store_root)
    report = IngestReport(store_root=Path(store_root))
    days: dict[int, _DayParts] = defaultdict(_DayParts)
    file_names = [str(p) for p, _ in inputs]
    bar = _progress(progress, "reading")

    for origin, (path, fmt) in enumerate(inputs):
        tally = FileTally(path=str(path), format=fmt)
        report.files.append(tally)
        undated: list[pa.Table] = []
        first_day: int | None = None
        try:
            batches = read_any(path, default_time=default_time)
            for batch, split, buf in _parallel_map(_check_batch, batches, origin):
                tally.rows_in += batch.n_records
                if bar is not None:
                    bar.update(batch.n_records)
                rejects = batch.rejects
                if rejects.num_rows:
                    tally.quarantined_by_reason.update(
                        rejects["reason"].to_numpy(zero_copy_only=False).tolist()
                    )
                    undated.append(rejects)
                if split is None:
                    continue
                tally.quarantined_by_reason.update(split.quarantined_by_reason)
                tally.accepted += split.n_static_only
                if split.quarantine.num_rows:
                    undated.append(split.quarantine)
                if split.statics.num_rows:
                    sday = _days_of(split.statics["timestamp"])
                    for d in np.unique(sday):
                        days[int(d)].add_statics(split.statics.filter(pa.array(sday == d)))
                if buf is not None:
                    pday = buf.cols["ts"] // MS_PER_DAY
                    lo, hi = int(pday.min()), int(pday.max())
                    first_day = lo if first_day is None else min(first_day, lo)
                    if lo == hi:
                        days[lo].positions.append(buf)
                    else:
                        for d in np.unique(pday):
                            days[int(d)].positions.append(buf.take(np.flatnonzero(pday == d)))
        except ReaderError as exc:
            raise IngestError(str(exc)) from None
        except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError) as exc:
            raise IngestError(f"{path}: cannot read as {fmt} ({exc})") from None
        # File quarantine rows under their own day (or the file's first day).
        fallback = first_day
        if fallback is None and default_time is not None:
            aware = default_time if default_time.tzinfo else default_time.replace(tzinfo=UTC)
            fallback = (aware.astimezone(UTC).date() - EPOCH_DAY).days
        for q in undated:
            qday = _days_of(q["timestamp"])
            qday[qday < 0] = fallback if fallback is not None else 0
            qdays = np.unique(qday)
            for d in qdays:
                days[int(d)].quarantine.append(
                    q if len(qdays) == 1 else q.filter(pa.array(qday == d))
                )
    if bar is not None:
        bar.close()

    day_bar = _progress(progress, "writing", unit=" days")
    for d in sorted(days):
        parts = days.pop(d)
        if parts.positions:
            report.days_covered.append(_day(d))
        _write_day(store, _day(d), d, parts, report, cfg, file_names)
        if day_bar is not None:
            day_bar.update(1)
    if day_bar is not None:
        day_bar.close()
    report.days_written = sorted(set(report.days_written))
    return report


def _check_batch(
    batch: ReaderBatch, origin: int
) -> tuple[ReaderBatch, BatchSplit | None, PositionBuffer | None]:
    """Row checks and compact buffer of one batch (runs in a worker thread)."""
    obs = batch.observations
    if obs.num_rows == 0:
        return batch, None, None
    split = split_batch(obs)
    buf = None
    if split.position_mask.any():
        buf = PositionBuffer.from_observations(obs, origin, split.position_mask, split.order)
    # The observations are no longer needed: drop them before queueing.
    split.observations = obs.slice(0, 0)
    split.position_mask = split.position_mask[:0]
    split.order = split.order[:0]
    return batch, split, buf


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


def _write_day(
    store: Store,
    day: date,
    day_number: int,
    parts: _DayParts,
    report: IngestReport,
    cfg: Config,
    file_names: list[str],
) -> None:
    written = False
    _release_memory()
    quarantine_new = list(parts.quarantine)
    # -- vessels first: their candidates are freed before the big position sort
    if parts.statics:
        stored_v = store.read_day(VESSELS, day)
        cand = pa.concat_tables([stored_v, *(t.cast(VESSEL_SCHEMA) for t in parts.statics)])
        parts.statics.clear()
        series = sort_table(VESSELS, vessel_series(cand))
        del cand
        if not series.equals(stored_v) or not store.has_day(VESSELS, day):
            store.write_day(VESSELS, day, series, presorted=True)
            report.partitions_written.append(f"{VESSELS}/date={day.isoformat()}")
            written = True
        del series, stored_v
    # -- positions
    if parts.positions:
        # new rows per input file, counted before the parts are merged
        new_per_file = np.zeros(len(file_names), dtype=np.int64)
        for part in parts.positions:
            new_per_file[int(part.cols["origin"][0])] += len(part)
        stored = PositionBuffer.from_positions(store.read_day(POSITIONS, day))
        n_stored = len(stored)
        buf = PositionBuffer.concat([stored, *parts.positions])
        parts.positions.clear()
        _release_memory()  # the day's big sort comes next
        res = resolve_day(buf, n_stored, day_number * MS_PER_DAY, cfg.cleaning)
        q_idx = np.flatnonzero(np.isin(res.status, list(STATUS_REASON)))
        # accepted = new rows - quarantined here (already-stored rows count as accepted)
        q_origin = buf.cols["origin"][q_idx].astype(np.int64)
        q_status = res.status[q_idx]
        for i, total in enumerate(new_per_file):
            mine = q_origin == i
            report.files[i].accepted += int(total - mine.sum())
            for status, reason in STATUS_REASON.items():
                n = int((q_status[mine] == status).sum())
                if n:
                    report.files[i].quarantined_by_reason[reason.value] += n
        if len(q_idx):
            quarantine_new.append(
                buf.to_quarantine(
                    q_idx,
                    [STATUS_REASON[int(s)].value for s in q_status],
                    [res.details.get(int(s)) for s in q_status],
                    file_names,
                )
            )
        if (res.status == Status.ACCEPTED).any() or not store.has_day(POSITIONS, day):
            store.write_day(POSITIONS, day, _position_batches(buf, res.out_index), presorted=True)
            report.partitions_written.append(f"{POSITIONS}/date={day.isoformat()}")
            written = True
        del buf, res
    # -- quarantine
    if quarantine_new:
        stored_q = store.read_day(QUARANTINE, day)
        merged = _distinct_sorted(
            pa.concat_tables([stored_q, *(q.cast(QUARANTINE_SCHEMA) for q in quarantine_new)])
        )
        if merged.num_rows != stored_q.num_rows or not store.has_day(QUARANTINE, day):
            store.write_day(QUARANTINE, day, merged, presorted=True)
            report.partitions_written.append(f"{QUARANTINE}/date={day.isoformat()}")
            written = True
    if written:
        report.days_written.append(day)


def _position_batches(buf: PositionBuffer, out_index: np.ndarray) -> Iterator[pa.RecordBatch]:
    """Stored rows in canonical order, materialised one row group at a time.

    The next row group is gathered in a helper thread while the caller
    encodes and compresses the current one (numpy's gather and the Parquet
    writer both release the GIL): the two steps of writing a day overlap on
    two cores. At most two row groups exist at once, so memory stays flat.
    """
    starts = range(0, len(out_index), ROW_GROUP_ROWS)
    if len(starts) < 2:
        for start in starts:
            yield from buf.to_positions(out_index[start : start + ROW_GROUP_ROWS]).to_batches()
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gather") as pool:
        nxt = pool.submit(buf.to_positions, out_index[:ROW_GROUP_ROWS])
        for start in starts:
            current = nxt.result()
            following = start + ROW_GROUP_ROWS
            if following < len(out_index):
                nxt = pool.submit(
                    buf.to_positions, out_index[following : following + ROW_GROUP_ROWS]
                )
            yield from current.to_batches()
            del current
