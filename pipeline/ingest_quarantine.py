"""The quarantine of an ingest run: filed by day and input, spilled to disk, appended whole.

Why not in memory: a file of bad rows is quarantined row by row (nothing is
lost), and a 200 MB file of empty CSV rows is 11 million quarantine rows,
several GB as Arrow tables. Here the rows of each (input, day) are kept in
memory up to :data:`SPILL_ROWS` in all, beyond which the largest bucket is
written to an Arrow IPC file owned by the run's transaction (removed when
its day is written, or with the transaction's other temporary files if the
run fails or is killed).

Why appended, not merged: a day's quarantine file is the rows already
stored, then, input by input in run order, the new rows (reading-phase
rows in file order, then the day's duplicate/jump rows). An input the day
has already recorded (same content, :mod:`stswatch.pipeline.store_manifest`)
adds nothing, which is what makes re-ingesting idempotent, under any
spelling of the path, without comparing rows. Writing is a stream of row
groups: memory stays bounded whatever the size of the quarantine.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.cleaning import MS_PER_DAY
from stswatch.pipeline.schemas import QUARANTINE, QUARANTINE_SCHEMA
from stswatch.pipeline.storage import Store, StoreTransaction
from stswatch.pipeline.store_commit import Staging
from stswatch.pipeline.store_format import iter_table_file
from stswatch.pipeline.store_lock import META_DIR

#: Quarantine rows held in memory in all before the largest bucket goes to disk
#: (~130 bytes a row: ~35 MB; measured, a 400 MB file of empty CSV rows, 23.5 M
#: quarantine rows, peaked at 1.2 GB RSS, about what a 1e7-row day needs).
SPILL_ROWS = 250_000
#: Bucket key for rows without a usable time, until their file's day is known.
UNDATED = None


@dataclass
class _Bucket:
    tables: list[pa.Table] = field(default_factory=list)
    rows: int = 0
    #: spilled IPC files, in order, before the tables still in memory
    spills: list[Path] = field(default_factory=list)
    #: every row filed here so far, by quarantine reason
    reasons: Counter[str] = field(default_factory=Counter)


def days_of(ts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """UTC day number per row (-1 where the timestamp is null)."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    lowest = np.iinfo(np.int64).min
    ms = pc.fill_null(ts.cast(pa.int64()), pa.scalar(lowest, pa.int64()))
    ms = ms.to_numpy(zero_copy_only=False)
    return np.where(ms == lowest, -1, ms // MS_PER_DAY)


class QuarantineSpill:
    """Quarantine rows of a run by (input, UTC day), in arrival order, memory bounded."""

    def __init__(self, staging: Staging, spill_rows: int = SPILL_ROWS) -> None:
        self._staging = staging
        self._spill_rows = spill_rows
        self._buckets: dict[tuple[int, int | None], _Bucket] = {}
        self._in_memory = 0
        self._n_spills = 0
        self._lock = threading.Lock()

    def add(self, origin: int, table: pa.Table) -> None:
        """File one reader/row-check quarantine table of input ``origin`` by its rows' days."""
        if not table.num_rows:
            return
        qday = days_of(table["timestamp"])
        for d in np.unique(qday):
            whole = len(qday) == 1 or bool((qday == d).all())
            part = table if whole else table.filter(pa.array(qday == d))
            self._add(origin, None if d < 0 else int(d), part)

    def _add(self, origin: int, day: int | None, table: pa.Table) -> None:
        with self._lock:
            bucket = self._buckets.setdefault((origin, day), _Bucket())
            bucket.tables.append(table)
            bucket.rows += table.num_rows
            bucket.reasons.update(_reason_counts(table))
            self._in_memory += table.num_rows
            if self._in_memory > self._spill_rows:
                self._spill_largest()

    def _spill_largest(self) -> None:
        bucket = max(self._buckets.values(), key=lambda b: b.rows)
        if not bucket.tables:
            return
        self._n_spills += 1
        name = f"spill-{self._n_spills}.arrow"
        tmp = self._staging.temp_for(self._staging.root / META_DIR / name)
        with pa.OSFile(str(tmp), "wb") as sink:
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            with pa.ipc.new_file(sink, QUARANTINE_SCHEMA, options=options) as writer:
                for table in bucket.tables:
                    writer.write_table(table)
        bucket.spills.append(tmp)
        self._in_memory -= bucket.rows
        bucket.tables, bucket.rows = [], 0

    def file_undated(self, origin: int, fallback_day: int) -> None:
        """Rows of ``origin`` without a time go to ``fallback_day`` (its file's first day)."""
        with self._lock:
            undated = self._buckets.pop((origin, UNDATED), None)
            if undated is None:
                return
            bucket = self._buckets.setdefault((origin, fallback_day), _Bucket())
            bucket.spills += undated.spills
            bucket.tables += undated.tables
            bucket.rows += undated.rows
            bucket.reasons.update(undated.reasons)

    def reasons(self) -> dict[tuple[int, int], Counter[str]]:
        """Rows filed per (input, day), by reason (call before :meth:`take`)."""
        with self._lock:
            return {
                (o, d): b.reasons.copy() for (o, d), b in self._buckets.items() if d is not None
            }

    def days(self) -> set[int]:
        return {d for _, d in self._buckets if d is not None}

    def take(self, origin: int, day: int) -> Iterator[pa.Table]:
        """The rows of ``origin`` filed under ``day``, in arrival order; frees them."""
        with self._lock:
            bucket = self._buckets.pop((origin, day), None)
            if bucket is not None:
                self._in_memory -= bucket.rows
        if bucket is None:
            return
        yield from self._tables_of(bucket)
        for spill in bucket.spills:
            self._staging.discard(spill)

    def _tables_of(self, bucket: _Bucket) -> Iterator[pa.Table]:
        for spill in bucket.spills:
            with pa.memory_map(str(spill)) as source:
                reader = pa.ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    yield pa.Table.from_batches([reader.get_batch(i)])
        yield from bucket.tables

    def discard_all(self) -> None:
        with self._lock:
            buckets, self._buckets = list(self._buckets.values()), {}
        for bucket in buckets:
            for spill in bucket.spills:
                self._staging.discard(spill)


def _reason_counts(table: pa.Table) -> dict[str, int]:
    counts = pc.value_counts(table["reason"].combine_chunks())
    return dict(
        zip(
            counts.field("values").to_pylist(),
            counts.field("counts").to_pylist(),
            strict=True,
        )
    )


def renamed(table: pa.Table, spelled: str, name: str) -> pa.Table:
    """``source_file`` as the input's store name (``spelled`` is the path as given)."""
    if spelled == name or not table.num_rows:
        return table
    i = table.schema.get_field_index("source_file")
    col = pc.replace_substring(table.column(i), pattern=spelled, replacement=name)
    return table.set_column(i, table.schema.field(i), col)


def write_day_quarantine(txn: StoreTransaction, day: date, new: Iterator[pa.Table]) -> str | None:
    """Append ``new`` (the day's new quarantine rows, in order) to the stored ones.

    Returns the partition written, or None when nothing is new (the stored
    file stays as it is).
    """
    first = next((t for t in new if t.num_rows), None)
    if first is None:
        return None
    path = txn.store.path(QUARANTINE, day)

    def batches() -> Iterator[pa.RecordBatch]:
        if path.is_file():
            yield from iter_table_file(path, QUARANTINE)
        yield from first.cast(QUARANTINE_SCHEMA).to_batches()
        for table in new:
            yield from table.cast(QUARANTINE_SCHEMA).to_batches()

    txn.write(QUARANTINE, day, batches(), presorted=True)
    return f"{QUARANTINE}/date={day.isoformat()}"


def stored_source_files(store: Store, day: date) -> set[str]:
    """Names in a day's stored quarantine (for days written before manifests)."""
    path = store.path(QUARANTINE, day)
    if not path.is_file():
        return set()
    names = store.read_day(QUARANTINE, day, columns=["source_file"])["source_file"]
    return {n for n in pc.unique(names).to_pylist() if n is not None}
