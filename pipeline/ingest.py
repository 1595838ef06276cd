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

import zipfile
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from stswatch.pipeline.cleaning import (
    DEFAULT_WINDOW,
    MS_PER_DAY,
    PositionBuffer,
    TimeWindow,
    day_bounds,
    split_batch,
)
from stswatch.pipeline.config import DEFAULT_CONFIG, Config
from stswatch.pipeline.ingest_day import DayParts, write_day
from stswatch.pipeline.ingest_inputs import (
    DayCounts,
    InputHasher,
    InputIdentity,
    RunInfo,
    day_tally,
    first_with_content,
    identify,
    register,
)
from stswatch.pipeline.ingest_memory import jemalloc_pool, tune_malloc
from stswatch.pipeline.ingest_quarantine import QuarantineSpill, renamed, stored_source_files
from stswatch.pipeline.ingest_report import FileTally, IngestReport
from stswatch.pipeline.readers import (
    InputLimits,
    ReaderBatch,
    ReaderError,
    read_any,
    sniff_format,
)
from stswatch.pipeline.storage import Store, StoreTransaction
from stswatch.pipeline.store_manifest import InputTally

EPOCH_DAY = date(1970, 1, 1)
_T = TypeVar("_T")
#: Worker threads for per-batch checks, and batches allowed in flight.
_WORKERS = 2
_IN_FLIGHT = 3


#: What reading a damaged input may raise beyond ReaderError (each: one line, exit 2).
READ_ERRORS = (
    pa.ArrowInvalid,
    UnicodeDecodeError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
)

__all__ = ["FileTally", "IngestError", "IngestReport", "check_inputs", "ingest_files"]


class IngestError(ValueError):
    """Bad input for an ingest run (message names the file and the problem)."""


# ------------------------------------------------------------------ helpers
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
    now: datetime | None = None,
) -> IngestReport:
    """Read, clean and merge ``paths`` into the store at ``store_root``.

    One transaction under the store's write lock: every day the inputs
    touch (all its tables and its manifest) becomes visible at once at the
    end, or nothing does. Raises :class:`IngestError` (nothing written) when
    a path is missing, of an unknown format, unreadable while streaming, or
    beyond ``cfg.input_limits``; a damaged stored file the merge needs raises
    :class:`~stswatch.pipeline.storage.DamagedPartitionError`, also before
    anything is written. ``now`` is the time of ingest for the
    plausible-time rule (default: the wall clock, read here, at the edge).
    """
    now = now if now is not None else datetime.now(UTC)
    inputs = check_inputs(paths)  # before the store is even created
    tune_malloc()
    store = Store(store_root, lock_timeout_s=cfg.store.lock_timeout_s)
    with (
        jemalloc_pool(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="statics") as compactor,
        store.transaction("stswatch ingest") as txn,
    ):
        run = _Run(
            txn=txn,
            cfg=cfg,
            window=TimeWindow.of(cfg.cleaning, now),
            limits=InputLimits.of(cfg.input_limits),
            info=RunInfo(ingested_at=now, default_time=default_time),
            spill=QuarantineSpill(txn.staging),
            compactor=compactor,
        )
        try:
            return run.ingest(inputs, progress)
        finally:
            run.spill.discard_all()


@dataclass
class _Run:
    """One ingest run: reading phase, then the day phase, in one transaction."""

    txn: StoreTransaction
    cfg: Config
    window: TimeWindow
    limits: InputLimits
    info: RunInfo
    spill: QuarantineSpill
    compactor: Executor
    days: dict[int, DayParts] = field(default_factory=lambda: defaultdict(DayParts))
    #: (input, day) -> reading-phase counts
    counts: dict[tuple[int, int], DayCounts] = field(default_factory=lambda: defaultdict(DayCounts))
    identities: list[InputIdentity] = field(default_factory=list)

    def ingest(self, inputs: list[tuple[Path, str]], progress: bool) -> IngestReport:
        report = IngestReport(store_root=self.txn.store.root)
        registry = self.txn.registry()
        bar = _progress(progress, "reading")
        with InputHasher([p for p, _ in inputs]) as hasher:

            def identify_upto(last: int) -> None:
                """Identities of inputs 0..last (waits for their hashes)."""
                for i in range(len(self.identities), last + 1):
                    path, fmt = inputs[i]
                    ident = identify(i, path, fmt, hasher.result(i), registry)
                    ident.duplicate_of = first_with_content(self.identities, ident.blake3)
                    self.identities.append(ident)

            for origin, (path, fmt) in enumerate(inputs):
                tally = FileTally(path=str(path), format=fmt)
                report.files.append(tally)
                if origin > 0:
                    # hashed while the previous file was read: same content is read once
                    identify_upto(origin)
                    first = self.identities[origin].duplicate_of
                    if first is not None:
                        tally.duplicate_of = str(inputs[first][0])
                        continue
                self._read_file(path, fmt, origin, tally, bar)
            identify_upto(len(inputs) - 1)  # the first file's hash ran beside its reading
        for ident, tally in zip(self.identities, report.files, strict=True):
            tally.blake3 = ident.blake3
        if bar is not None:
            bar.close()
        positions = register(registry, self.identities)
        self._write_days(report, positions, progress)
        report.days_written = sorted(set(report.days_written))
        return report

    def _read_file(self, path: Path, fmt: str, origin: int, tally: FileTally, bar: Any) -> None:
        """Stream one file through the row checks into the days (the reading phase)."""
        first_day: int | None = None
        max_rows = self.cfg.input_limits.max_rows_per_input
        check = partial(_check_batch, origin=origin, window=self.window)
        try:
            batches = read_any(path, default_time=self.info.default_time, limits=self.limits)
            for checked in _parallel_map(check, batches):
                tally.rows_in += checked.n_records
                if tally.rows_in > max_rows:
                    raise IngestError(
                        f"{path}: more than {max_rows:,} records; refused (raise "
                        "InputLimitsConfig.max_rows_per_input if the file is genuine)"
                    )
                if bar is not None:
                    bar.update(checked.n_records)
                tally.quarantined_by_reason.update(checked.quarantined_by_reason)
                tally.accepted += checked.n_static_only
                for q in checked.quarantine:
                    self.spill.add(origin, q)
                for d, n in checked.static_only_per_day.items():
                    self.counts[(origin, d)].static_accepted += n
                for d, statics in checked.statics.items():
                    self.days[d].add_statics(statics, self.compactor)
                for d, buf in checked.positions.items():
                    self.days[d].positions.append(buf)
                    first_day = d if first_day is None else min(first_day, d)
        except ReaderError as exc:
            raise IngestError(str(exc)) from None
        except READ_ERRORS as exc:
            raise IngestError(f"{path}: cannot read as {fmt} ({exc})") from None
        # rows without a usable time go under the file's first day
        fallback = first_day
        if fallback is None and self.info.default_time is not None:
            aware = self.info.default_time
            aware = aware if aware.tzinfo else aware.replace(tzinfo=UTC)
            fallback = (aware.astimezone(UTC).date() - EPOCH_DAY).days
        self.spill.file_undated(origin, fallback if fallback is not None else 0)

    def _write_days(
        self, report: IngestReport, positions: dict[str, tuple[int, int]], progress: bool
    ) -> None:
        """Resolve and stage each UTC day in turn (the day phase), tallying per file and day."""
        for (origin, d), reasons in self.spill.reasons().items():
            self.counts[(origin, d)].quarantined.update(reasons)
        store = self.txn.store
        names = [i.name for i in self.identities]
        day_bar = _progress(progress, "writing", unit=" days")
        for d in sorted(set(self.days) | self.spill.days()):
            day = _day(d)
            parts = self.days.pop(d, DayParts())
            if parts.positions:
                report.days_covered.append(day)
            recorded, skip = _recorded_inputs(store, day, self.identities)
            outcome = write_day(
                self.txn,
                day,
                parts,
                names,
                self.cfg.cleaning,
                reading_quarantine=self._reading_quarantine(d, skip),
                skip=skip,
                skip_positions=set(recorded),
            )
            tallies = []
            for ident, tally in zip(self.identities, report.files, strict=True):
                if ident.duplicate_of is not None:
                    continue
                o = ident.origin
                counts = self.counts.get((o, d)) or DayCounts()
                if o in recorded:  # the day holds this content already: its record stands
                    _replace_day_counts(tally, counts, recorded[o])
                    tallies.append(recorded[o])
                    continue
                accepted = int(outcome.accepted_per_file[o])
                day_quarantine = outcome.quarantined_per_file[o]
                tally.accepted += accepted
                tally.quarantined_by_reason.update(day_quarantine)
                if (o, d) not in self.counts and not accepted and not day_quarantine:
                    continue  # nothing of this input on this day
                quarantined = counts.quarantined + Counter(day_quarantine)
                tallies.append(
                    day_tally(
                        ident,
                        positions[ident.blake3],
                        self.info,
                        accepted + counts.static_accepted,
                        quarantined,
                    )
                )
            self.txn.record_inputs(day, tallies)
            if outcome.partitions:
                report.partitions_written.extend(outcome.partitions)
                report.days_written.append(day)
            if day_bar is not None:
                day_bar.update(1)
        if day_bar is not None:
            day_bar.close()

    def _reading_quarantine(self, d: int, skip: set[int]) -> list[Iterator[pa.Table]]:
        """Per input, its reading-phase quarantine rows of day ``d`` (store names)."""
        out = []
        for ident in self.identities:
            tables = self.spill.take(ident.origin, d)
            if ident.origin in skip:
                for _ in tables:  # already in the store: drop (and free the spill)
                    pass
                out.append(iter(()))
            else:
                out.append(renamed(t, ident.spelled, ident.name) for t in tables)
        return out


def _recorded_inputs(
    store: Store, day: date, identities: list[InputIdentity]
) -> tuple[dict[int, InputTally], set[int]]:
    """Inputs of this run the day already holds: (their recorded tallies, all to skip).

    An input the day's manifest records (same content) adds nothing to the
    day: neither its positions (re-judged beside other files, a row could
    change its verdict) nor its quarantine, and its recorded tally stands. A
    day written before manifests is matched by the name its quarantine rows
    carry, for the quarantine only (there is no tally to stand for the rest).
    """
    skip = {i.origin for i in identities if i.duplicate_of is not None}
    manifest = store.manifest(day)
    if manifest is not None:
        by_hash = {t.blake3: t for t in manifest.inputs}
        recorded = {
            i.origin: by_hash[i.blake3]
            for i in identities
            if i.duplicate_of is None and i.blake3 in by_hash
        }
        return recorded, skip | set(recorded)
    names = stored_source_files(store, day)
    return {}, skip | {i.origin for i in identities if i.name in names}


def _replace_day_counts(tally: FileTally, read: DayCounts, recorded: InputTally) -> None:
    """In a file's tally, the day's counts from this reading -> the day's recorded counts."""
    tally.accepted += recorded.accepted - read.static_accepted
    reasons = tally.quarantined_by_reason
    reasons.update(recorded.quarantined)
    reasons.subtract(read.quarantined)
    for reason in [r for r, n in reasons.items() if n == 0]:
        del reasons[reason]


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
    #: accepted static-only reports per UTC day (for the day tallies)
    static_only_per_day: dict[int, int] = field(default_factory=dict)


def _check_batch(batch: ReaderBatch, origin: int, window: TimeWindow = DEFAULT_WINDOW) -> _Checked:
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
    split = split_batch(obs, window)
    checked.quarantined_by_reason.update(split.quarantined_by_reason)
    checked.n_static_only = split.n_static_only
    if split.n_static_only and split.numbers is not None:
        day = split.numbers.ts[split.static_only_mask] // MS_PER_DAY
        values, n = np.unique(day, return_counts=True)
        checked.static_only_per_day = dict(zip(values.tolist(), n.tolist(), strict=True))
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
    func: Callable[[ReaderBatch], _T], batches: Iterable[ReaderBatch]
) -> Iterator[_T]:
    """``func`` over batches in a small thread pool, results in input order.

    pyarrow and numpy release the GIL in their kernels, so two workers keep
    both cores busy while the reader thread parses ahead. At most
    ``_IN_FLIGHT`` batches are pending, which bounds memory.
    """
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ingest") as pool:
        pending: deque[Future[_T]] = deque()
        for batch in batches:
            pending.append(pool.submit(func, batch))
            if len(pending) >= _IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
