"""The Parquet store: one Hive-partitioned folder per table, one file per UTC day.

Layout (readable as-is by pyarrow.dataset, pandas and DuckDB)::

    ROOT/positions/date=YYYY-MM-DD/part-0.parquet
    ROOT/vessels/date=YYYY-MM-DD/part-0.parquet
    ROOT/quarantine/date=YYYY-MM-DD/part-0.parquet
    ROOT/rendezvous/date=YYYY-MM-DD/part-0.parquet   (detected meetings, by start day)
    ROOT/_stswatch/                     the store's own bookkeeping:
        write.lock, commit.lock         locks (store_lock)
        days/YYYY-MM-DD.json            day manifests (store_manifest)
        inputs.json                     inputs seen, by content
        journal-*.json, writers/        only during a commit (store_commit)

Why one file per day and table: a day is the unit of work of every later
stage (detectors read a day plus its neighbours, flows run per day).

Guarantees (see README "Guarantees"):

* one writer at a time: every write happens in :meth:`Store.transaction`,
  which holds the store's write lock;
* whole commits: a transaction's files (all tables of all days it touched,
  their manifests) become visible together, and stswatch readers
  (:meth:`Store.snapshot`, taken by every read) see a day before or after a
  commit, never a mix; a crash at any point leaves the old or the new
  version of every table;
* integrity: page checksums written and verified on every read; a damaged
  file raises :class:`DamagedPartitionError` with its path.

DuckDB one-liner::

    SELECT count(*) FROM read_parquet('ROOT/positions/*/*.parquet', hive_partitioning=true)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.store_format import (
    PART_NAME,
    ROW_GROUP_ROWS,
    SCHEMAS,
    SORT_KEYS,
    DamagedPartitionError,
    check_table,
    read_table_file,
    sort_table,
)
from stswatch.pipeline.store_lock import StoreBusyError, StoreError, read_lock, store_lock
from stswatch.pipeline.store_manifest import DayManifest, read_manifest
from stswatch.pipeline.store_transaction import StoreTransaction

__all__ = [
    "PART_NAME",
    "ROW_GROUP_ROWS",
    "SCHEMAS",
    "SORT_KEYS",
    "DamagedPartitionError",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreTransaction",
    "sort_table",
]

_DAY_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


class Store:
    """A Parquet store rooted at ``root`` (created on first write).

    ``lock_timeout_s``: how long a writer waits for another one (None: the
    ``$STSWATCH_LOCK_TIMEOUT_S`` / ``Config().store.lock_timeout_s`` default).
    """

    def __init__(self, root: Path | str, *, lock_timeout_s: float | None = None) -> None:
        self.root = Path(root)
        self.lock_timeout_s = lock_timeout_s

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- layout -------------------------------------------------------------
    def partition_dir(self, table: str, day: date) -> Path:
        check_table(table)
        return self.root / table / f"date={day.isoformat()}"

    def path(self, table: str, day: date) -> Path:
        """The Parquet file holding ``table`` for UTC ``day``."""
        return self.partition_dir(table, day) / PART_NAME

    def days(self, table: str) -> list[date]:
        """Days present in ``table``, ascending (only days with a complete file)."""
        check_table(table)
        base = self.root / table
        if not base.is_dir():
            return []
        out = []
        for child in base.iterdir():
            m = _DAY_DIR.match(child.name)
            if m and (child / PART_NAME).is_file():
                out.append(date.fromisoformat(m.group(1)))
        return sorted(out)

    def has_day(self, table: str, day: date) -> bool:
        return self.path(table, day).is_file()

    def manifest(self, day: date) -> DayManifest | None:
        """The day's committed manifest (None for days written before manifests)."""
        return read_manifest(self.root, day)

    # -- locking --------------------------------------------------------------
    def write_lock(self, purpose: str = "stswatch") -> contextlib.AbstractContextManager[None]:
        """The store's write lock (exclusive, re-entrant per thread); see store_lock."""
        return store_lock(self.root, timeout_s=self.lock_timeout_s, purpose=purpose)

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """Read several days/tables with no commit landing in between."""
        return read_lock(self.root, timeout_s=self.lock_timeout_s)

    @contextlib.contextmanager
    def transaction(self, purpose: str = "stswatch") -> Iterator[StoreTransaction]:
        """Stage writes and commit them as one when the block ends without an error."""
        with self.write_lock(purpose):
            txn = StoreTransaction(self)
            try:
                yield txn
            except BaseException:
                txn.abort()
                raise
            try:
                txn.commit()
            except BaseException:
                txn.abort()  # a no-op once the commit was decided (it rolls forward)
                raise

    # -- writing ------------------------------------------------------------
    def write_day(
        self,
        table: str,
        day: date,
        data: pa.Table | Iterable[pa.RecordBatch],
        *,
        presorted: bool = False,
    ) -> Path:
        """Replace ``table``'s partition for ``day`` with ``data``, in its own commit.

        See :meth:`StoreTransaction.write`. If anything fails before the
        commit (including an exception raised by the batch iterable), the
        previous file is untouched and the staged file removed.
        """
        with self.transaction() as txn:
            return txn.write(table, day, data, presorted=presorted)

    # -- reading ------------------------------------------------------------
    def read_day(
        self,
        table: str,
        day: date,
        columns: Sequence[str] | None = None,
        filter: pc.Expression | None = None,
    ) -> pa.Table:
        """One day of ``table`` (an empty table with the schema if absent).

        Checksums are verified and the schema checked: a damaged file raises
        :class:`DamagedPartitionError` naming it.
        """
        schema = check_table(table)
        path = self.path(table, day)
        with self.snapshot():
            if path.is_file():
                manifest = self.manifest(day)
                entry = manifest.tables.get(table) if manifest is not None else None
                return read_table_file(
                    path,
                    table,
                    columns,
                    filter,
                    expected_rows=entry.rows if entry is not None else None,
                    expected_bytes=entry.bytes if entry is not None else None,
                )
        empty = schema.empty_table()
        return empty.select(list(columns)) if columns is not None else empty

    def read(
        self,
        table: str,
        start: date,
        end: date | None = None,
        columns: Sequence[str] | None = None,
        filter: pc.Expression | None = None,
    ) -> pa.Table:
        """Rows of ``table`` for days ``start``..``end`` inclusive, in day order.

        Each day is sorted by (mmsi, timestamp); the concatenation is therefore
        ordered by (day, mmsi, timestamp). ``columns`` selects columns,
        ``filter`` is a ``pyarrow.compute`` expression applied per day.
        """
        schema = check_table(table)
        end = start if end is None else end
        with self.snapshot():
            parts = [
                self.read_day(table, d, columns=columns, filter=filter)
                for d in self.days(table)
                if start <= d <= end
            ]
        if not parts:
            empty = schema.empty_table()
            return empty.select(list(columns)) if columns is not None else empty
        return pa.concat_tables(parts)

    def dataset(self, table: str):  # -> pyarrow.dataset.Dataset
        """The table as a Hive-partitioned ``pyarrow.dataset`` (adds a ``date`` column)."""
        import pyarrow.dataset as ds

        check_table(table)
        return ds.dataset(self.root / table, format="parquet", partitioning="hive")
