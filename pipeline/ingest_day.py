"""One UTC day of an ingest: merge with the store, resolve, write atomically.

:mod:`stswatch.pipeline.ingest` streams the inputs and collects, per day, the checked
position rows (sorted runs, one per reader batch), the static candidates and
the quarantine rows in a :class:`DayParts`; :func:`write_day` then turns them
into the day's three partitions.

Why the positions are resolved in mmsi ranges: every rule of day resolution
(duplicates per (mmsi, timestamp), position jumps between a vessel's
neighbouring pings) looks at one vessel at a time, and the stored file is
ordered by mmsi. So a day split at a few mmsi values resolves as independent
parts whose outputs, written one after the other, are exactly the
whole-day result. A part is gathered from its slices of the runs only when
it is resolved (:class:`DayRuns`), so the day is never copied as a whole.
The parts run in a small thread pool (numpy's sorts and
gathers release the GIL) while the main thread encodes the Parquet row
groups of the parts already done, and the vessel series is built in its
own thread meanwhile: the day's tail uses both cores instead of one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.cleaning import (
    BUFFER_DTYPES,
    MS_PER_DAY,
    STATUS_REASON,
    DayResolution,
    PositionBuffer,
    Status,
    resolve_day,
    vessel_series,
)
from stswatch.pipeline.config import CleaningConfig
from stswatch.pipeline.ingest_memory import release_memory
from stswatch.pipeline.schemas import (
    POSITIONS,
    QUARANTINE,
    QUARANTINE_SCHEMA,
    VESSEL_SCHEMA,
    VESSELS,
)
from stswatch.pipeline.storage import ROW_GROUP_ROWS, Store

#: Static candidates held per day before compacting them (~100 bytes a row).
STATIC_COMPACT_ROWS = 400_000
#: A day's positions are resolved in this many mmsi ranges: more parts than
#: cores, so that encoding part k overlaps resolving the next ones, and
#: each part's gathered rows and temporaries stay a fraction of the day
#: (memory: two parts resolve at once beside the vessel series; at 1e7 rows
#: 8 parts peaked ~90 MiB lower than 4). The Parquet encoder (one thread)
#: is the day's critical path and waits for the first part: with 16 parts
#: it starts sooner, and the 1e7-row day phase took 2.98-3.43 s against
#: 3.33-3.84 s with 8 (32: 3.08-4.09 s, more per-part overhead).
DAY_PARTS = 16
#: Below this many rows a day is one part (no thread hand-offs for small inputs).
MIN_PARTS_ROWS = 200_000
#: Parts resolved ahead of the one being written (bounds gathered memory).
_PARTS_AHEAD = 2


@dataclass
class DayParts:
    """What the reading phase collected for one UTC day."""

    #: position rows, one run per reader batch, each sorted by (mmsi, time)
    positions: list[PositionBuffer] = field(default_factory=list)
    #: static candidates not yet compacted
    statics: list[pa.Table] = field(default_factory=list)
    #: change series of earlier chunks of candidates (being) compacted
    compacted: list[Future[pa.Table]] = field(default_factory=list)
    quarantine: list[pa.Table] = field(default_factory=list)
    n_pending: int = 0

    def add_statics(self, table: pa.Table, compactor: Executor) -> None:
        """Collect static candidates, compacting each chunk on ``compactor``.

        Memory stays proportional to vessels (and their changes), not pings:
        every ~STATIC_COMPACT_ROWS candidates are reduced to their change
        series in the background (the reading thread never waits for it),
        and the day's series is the series of those series (see
        :func:`day_statics`). Compaction keeps the first report of each run
        of identical values, so for inputs in time order (MarineCadastre,
        DMA, logs) the result is the same as reducing everything at once.
        """
        self.statics.append(table)
        self.n_pending += table.num_rows
        if self.n_pending > STATIC_COMPACT_ROWS:
            chunk, self.statics, self.n_pending = self.statics, [], 0
            self.compacted.append(compactor.submit(_compact, chunk))

    def day_statics(self) -> list[pa.Table]:
        """Every candidate chunk and compacted series, in input order (waits)."""
        out = [f.result() for f in self.compacted] + self.statics
        self.compacted, self.statics = [], []
        return out


def _compact(chunk: list[pa.Table]) -> pa.Table:
    return vessel_series(pa.concat_tables(chunk))


@dataclass
class DayOutcome:
    """What writing a day did, for the caller's tallies."""

    #: per input file: rows accepted / quarantined by reason, from day resolution
    accepted_per_file: np.ndarray
    quarantined_per_file: list[dict[str, int]]
    #: store partitions (re)written, e.g. "positions/date=2022-01-03"
    partitions: list[str] = field(default_factory=list)


# ------------------------------------------------------------ mmsi ranges
@dataclass
class DayRuns:
    """A day's position rows as mmsi-sorted runs, cut into mmsi-range parts.

    Nothing is copied up front: part ``p`` is gathered from its slice of
    every run only when it is resolved (:meth:`gather`), straight into
    (mmsi, timestamp) order. Why not concatenate the runs into parts first:
    that copy wrote the whole day (~500 MB at 1e7 rows) into fresh pages
    while freeing the runs, and on a VM fresh pages are the costliest thing
    this ingest touches (a page fault and a zeroed page each, far more when
    the host must back the page first).
    """

    runs: list[PositionBuffer]
    #: per run, the row offsets where each part starts, and its length last
    cuts: list[np.ndarray]
    #: rows per part
    sizes: np.ndarray

    @classmethod
    def plan(cls, runs: list[PositionBuffer], n_parts: int) -> DayRuns:
        """Cut ``runs`` (stored rows first, then input order) into up to ``n_parts``.

        Runs not sorted by mmsi are sorted first (stable); batches come sorted.
        """
        runs = [_sorted_by_mmsi(r) for r in runs if len(r)]
        if not runs:
            return cls([], [], np.zeros(1, dtype=np.int64))
        n = sum(len(r) for r in runs)
        bounds = _mmsi_bounds(runs, n_parts if n >= MIN_PARTS_ROWS else 1)
        cuts = [
            np.concatenate([[0], np.searchsorted(r.cols["mmsi"], bounds), [len(r)]]) for r in runs
        ]
        return cls(runs, cuts, np.sum([np.diff(c) for c in cuts], axis=0))

    def __len__(self) -> int:
        return len(self.sizes)

    def source_names(self) -> list[str]:
        """Sorted names of the sources of all rows."""
        return sorted(set().union(*(r.source_names() for r in self.runs)))

    def gather(self, p: int, day_start_ms: int) -> PositionBuffer:
        """Rows of part ``p`` ordered by (mmsi, timestamp), stored rows first on ties.

        Within a key, rows keep run order (stored, then input order), as
        :func:`stswatch.pipeline.cleaning.resolve_day` requires. Walking ~100 sorted
        runs in merged order would miss the cache at every row in each of
        the ~17 gathers of resolving and writing the part; gathered once up
        front, all later passes are sequential.
        """
        n = int(self.sizes[p])
        if n == 0:
            return PositionBuffer.empty()
        pieces = [
            (r.cols, int(c[p]), int(c[p + 1]))
            for r, c in zip(self.runs, self.cuts, strict=True)
            if c[p + 1] > c[p]
        ]
        # key: mmsi (< 2**30), ms of the day (< 2**27), then the new-row flag
        # so that a stored row sorts first among the rows of its key
        key = np.empty(n, dtype=np.int64)
        at = 0
        for cols, a, b in pieces:
            seg = key[at : at + b - a]
            np.subtract(cols["ts"][a:b], day_start_ms, out=seg)
            seg <<= 1
            seg |= cols["origin"][a:b] >= 0
            mmsi = cols["mmsi"][a:b].astype(np.int64)
            mmsi <<= 28
            seg |= mmsi
            at += b - a
        order = np.argsort(key, kind="stable")  # a merge of the sorted pieces
        del key
        # column by column: the pieces side by side in one scratch buffer
        # (reused for every column), then gathered in order
        scratch = np.empty(n * 8, dtype=np.uint8)
        out = {}
        for k, dtype in BUFFER_DTYPES.items():
            joined = scratch[: n * np.dtype(dtype).itemsize].view(dtype)
            np.concatenate([cols[k][a:b] for cols, a, b in pieces], out=joined)
            out[k] = np.take(joined, order)
        return PositionBuffer(out)

    def release(self) -> None:
        """Drop the runs (once every part is gathered)."""
        self.runs, self.cuts = [], []


def _sorted_by_mmsi(run: PositionBuffer) -> PositionBuffer:
    mmsi = run.cols["mmsi"]
    if len(mmsi) < 2 or bool(np.all(mmsi[1:] >= mmsi[:-1])):
        return run
    return run.take(np.argsort(mmsi, kind="stable"))  # stable: ties keep their order


def _mmsi_bounds(runs: list[PositionBuffer], n_parts: int) -> np.ndarray:
    """Up to ``n_parts - 1`` mmsi values splitting the rows into equal parts."""
    if n_parts < 2:
        return np.empty(0, dtype=np.int32)
    mmsi = np.concatenate([r.cols["mmsi"] for r in runs])
    kth = [len(mmsi) * p // n_parts for p in range(1, n_parts)]
    return np.unique(np.partition(mmsi, kth)[kth])


# ------------------------------------------------------------------ writing
def write_day(
    store: Store,
    day: date,
    parts: DayParts,
    file_names: list[str],
    cfg: CleaningConfig,
) -> DayOutcome:
    """Merge ``parts`` with the stored day and rewrite what changed.

    ``file_names`` are the run's inputs, indexed by the buffers' ``origin``.
    """
    outcome = DayOutcome(
        accepted_per_file=np.zeros(len(file_names), dtype=np.int64),
        quarantined_per_file=[{} for _ in file_names],
    )
    release_memory()
    quarantine_new = list(parts.quarantine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vessels") as side:
        # the vessel series is built beside the positions (both cores busy)
        vessels: Future[str | None] | None = None
        if parts.statics or parts.compacted:
            vessels = side.submit(lambda: _write_vessels(store, day, parts.day_statics()))
        if parts.positions:
            runs, parts.positions = parts.positions, []
            quarantine_new.extend(_write_positions(store, day, runs, outcome, file_names, cfg))
        if vessels is not None and (written := vessels.result()) is not None:
            outcome.partitions.insert(0, written)
    if quarantine_new:
        written = _write_quarantine(store, day, quarantine_new)
        if written is not None:
            outcome.partitions.append(written)
    return outcome


def _write_vessels(store: Store, day: date, statics: list[pa.Table]) -> str | None:
    stored = store.read_day(VESSELS, day)
    cand = pa.concat_tables([stored, *(t.cast(VESSEL_SCHEMA) for t in statics)])
    statics.clear()
    series = vessel_series(cand)  # sorted by (mmsi, timestamp), one row per key
    del cand
    if series.equals(stored) and store.has_day(VESSELS, day):
        return None
    store.write_day(VESSELS, day, series, presorted=True)
    return f"{VESSELS}/date={day.isoformat()}"


def _write_quarantine(store: Store, day: date, new: list[pa.Table]) -> str | None:
    stored = store.read_day(QUARANTINE, day)
    merged = _distinct_sorted(pa.concat_tables([stored, *(q.cast(QUARANTINE_SCHEMA) for q in new)]))
    if merged.num_rows == stored.num_rows and store.has_day(QUARANTINE, day):
        return None
    store.write_day(QUARANTINE, day, merged, presorted=True)
    return f"{QUARANTINE}/date={day.isoformat()}"


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


@dataclass
class _PartResult:
    batches: list[pa.RecordBatch]
    quarantine: pa.Table | None
    any_accepted: bool
    #: (input file index, quarantine reason) -> rows
    counts: dict[tuple[int, str], int]


class _UnchangedDayError(Exception):
    """Raised into the Parquet writer to cancel a day file that would not change."""


def _write_positions(
    store: Store,
    day: date,
    runs: list[PositionBuffer],
    outcome: DayOutcome,
    file_names: list[str],
    cfg: CleaningConfig,
) -> list[pa.Table]:
    """Resolve the day's positions part by part and stream them to the store."""
    # new rows per input file, counted before the runs are merged
    for run in runs:
        if len(run):
            outcome.accepted_per_file[int(run.cols["origin"][0])] += len(run)
    stored = PositionBuffer.from_positions(store.read_day(POSITIONS, day))
    had_day = store.has_day(POSITIONS, day)
    # stored rows (origin -1) come first in every part: its stored prefix
    plan = DayRuns.plan([stored, *runs], DAY_PARTS)
    del stored, runs
    day_start_ms = (day.toordinal() - date(1970, 1, 1).toordinal()) * MS_PER_DAY
    parts = _DayPositions(plan, day_start_ms, file_names, cfg, outcome)
    try:
        store.write_day(POSITIONS, day, parts.batches(had_day), presorted=True)
        outcome.partitions.append(f"{POSITIONS}/date={day.isoformat()}")
    except _UnchangedDayError:
        pass
    return parts.quarantine


class _DayPositions:
    """A day's mmsi-range parts, resolved on two threads and handed on in order.

    :meth:`batches` feeds the Parquet writer the row groups of each part as
    soon as it is resolved (:meth:`resolve`), at most ``_PARTS_AHEAD`` ahead,
    and tallies each part's quarantine into the day's outcome.
    """

    def __init__(
        self,
        plan: DayRuns,
        day_start_ms: int,
        file_names: list[str],
        cfg: CleaningConfig,
        outcome: DayOutcome,
    ) -> None:
        self.plan = plan
        self.day_start_ms = day_start_ms
        self.file_names = file_names
        self.cfg = cfg
        self.outcome = outcome
        # one dictionary of source names for the whole day file (data-determined)
        self.sources = plan.source_names()
        self.quarantine: list[pa.Table] = []
        self.any_accepted = False
        self._gathered: list[int] = []

    def resolve(self, p: int) -> _PartResult:
        """Gather, resolve and encode part ``p`` (in a worker thread)."""
        plan = self.plan
        buf = plan.gather(p, self.day_start_ms)
        self._gathered.append(p)
        if len(self._gathered) == len(plan):
            plan.release()  # the runs' memory goes back as soon as no part needs it
        res = resolve_day(buf, buf.cols["origin"] < 0, self.day_start_ms, self.cfg)
        q, counts = self._part_quarantine(buf, res)
        out = res.out_index
        batches = [
            b
            for start in range(0, len(out), ROW_GROUP_ROWS)
            for b in buf.to_positions(
                out[start : start + ROW_GROUP_ROWS], sources=self.sources
            ).to_batches()
        ]
        return _PartResult(batches, q, bool((res.status == Status.ACCEPTED).any()), counts)

    def _part_quarantine(
        self, buf: PositionBuffer, res: DayResolution
    ) -> tuple[pa.Table | None, dict[tuple[int, str], int]]:
        """The part's quarantine rows and their counts per (input file, reason)."""
        q_idx = np.flatnonzero(np.isin(res.status, list(STATUS_REASON)))
        counts: dict[tuple[int, str], int] = {}
        if not len(q_idx):
            return None, counts
        q_status = res.status[q_idx]
        # stored rows are never judged: every quarantined row is new (origin >= 0)
        pairs = buf.cols["origin"][q_idx].astype(np.int64) * 16 + q_status
        for pair, n in zip(*np.unique(pairs, return_counts=True), strict=True):
            counts[(int(pair) // 16, STATUS_REASON[int(pair) % 16].value)] = int(n)
        q = buf.to_quarantine(
            q_idx,
            [STATUS_REASON[int(s)].value for s in q_status],
            [res.details.get(int(s)) for s in q_status],
            self.file_names,
        )
        return q, counts

    def batches(self, had_day: bool) -> Iterator[pa.RecordBatch]:
        """Every part's row groups in order; cancels the write if nothing is new."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="day-part") as pool:
            pending: deque[Future[_PartResult]] = deque()
            todo = deque(range(len(self.plan)))
            while todo or pending:
                while todo and len(pending) < _PARTS_AHEAD:
                    pending.append(pool.submit(self.resolve, todo.popleft()))
                result = pending.popleft().result()
                self._tally(result)
                yield from result.batches
                del result
                # the part's gathered rows are encoded and freed: hand the
                # pages back before the next parts fill up (the day's peak)
                release_memory()
        if had_day and not self.any_accepted:
            raise _UnchangedDayError  # nothing new: keep the stored file as it is

    def _tally(self, result: _PartResult) -> None:
        if result.quarantine is not None:
            self.quarantine.append(result.quarantine)
        outcome = self.outcome
        for (origin, reason), n in result.counts.items():
            # accepted = new rows - quarantined (stored rows count as accepted)
            outcome.accepted_per_file[origin] -= n
            per_file = outcome.quarantined_per_file[origin]
            per_file[reason] = per_file.get(reason, 0) + n
        self.any_accepted |= result.any_accepted
