"""The Parquet store: one Hive-partitioned folder per table, one file per UTC day.

Layout (readable as-is by pyarrow.dataset, pandas and DuckDB)::

    ROOT/positions/date=YYYY-MM-DD/part-0.parquet
    ROOT/vessels/date=YYYY-MM-DD/part-0.parquet
    ROOT/quarantine/date=YYYY-MM-DD/part-0.parquet
    ROOT/rendezvous/date=YYYY-MM-DD/part-0.parquet   (detected meetings, by start day)

Why one file per day and table: a day is the unit of work of every later stage
(detectors read a day plus its neighbours, flows run per day), and replacing a
whole file is the only write that can be made atomic on a POSIX file system.
A day is written to a hidden temporary file in the same folder, fsynced, then
``os.replace``\\ d over the previous version, so a crash mid-write leaves the
previous version intact (the stale temporary file is ignored by readers, whose
default is to skip names starting with ``.``, and removed by the next write).

Files are deterministic: rows sorted by (mmsi, timestamp) with a stable,
fully specified tie-break, fixed row-group size and writer options, and no
wall-clock values in the metadata, so ingesting the same input twice gives a
byte-identical store.

DuckDB one-liner::

    SELECT count(*) FROM read_parquet('ROOT/positions/*/*.parquet', hive_partitioning=true)
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stswatch.pipeline.schemas import (
    POSITION_SCHEMA,
    POSITION_WRITE_SCHEMA,
    POSITIONS,
    QUARANTINE,
    QUARANTINE_SCHEMA,
    RENDEZVOUS,
    RENDEZVOUS_SCHEMA,
    TABLES,
    VESSEL_SCHEMA,
    VESSELS,
)

SCHEMAS: dict[str, pa.Schema] = {
    POSITIONS: POSITION_SCHEMA,
    VESSELS: VESSEL_SCHEMA,
    QUARANTINE: QUARANTINE_SCHEMA,
    RENDEZVOUS: RENDEZVOUS_SCHEMA,
}

#: Sort keys per table. The quarantine has nullable keys, so it adds enough
#: columns to make the order total (deterministic bytes).
SORT_KEYS: dict[str, list[tuple[str, str]]] = {
    POSITIONS: [("mmsi", "ascending"), ("timestamp", "ascending")],
    VESSELS: [("mmsi", "ascending"), ("timestamp", "ascending")],
    QUARANTINE: [
        ("mmsi", "ascending"),
        ("timestamp", "ascending"),
        ("source_file", "ascending"),
        ("row_number", "ascending"),
        ("reason", "ascending"),
    ],
    RENDEZVOUS: [("start_time", "ascending"), ("event_id", "ascending")],
}

PART_NAME = "part-0.parquet"
#: Rows per Parquet row group: large enough for zstd to compress well, small
#: enough that a reader filtering on mmsi/timestamp can skip most of a day.
ROW_GROUP_ROWS = 256 * 1024
#: zstd level 1: on a 4 M-row day it compresses the positions ~35% faster
#: than level 3 for ~5% more bytes; the write is on the ingest's critical
#: path (one writer per day file), the bytes are cheap.
_WRITE_OPTIONS = {
    "compression": "zstd",
    "compression_level": 1,
    "version": "2.6",
}
#: Column encodings of the positions table (the only big one), each measured
#: on a 4 M-row day against plain + dictionary: delta for the sorted mmsi
#: key, a dictionary for timestamps (a row group holds at most 86,400
#: distinct seconds, so the dictionary stays under its page limit and the
#: column shrinks ~40%), byte-stream-split for coordinates (the cheapest to
#: encode); the small float columns compress best plain. All are in the
#: Parquet spec and read by pyarrow, pandas and DuckDB.
_COLUMN_ENCODING: dict[str, dict[str, str]] = {
    POSITIONS: {
        "mmsi": "DELTA_BINARY_PACKED",
        "lat": "BYTE_STREAM_SPLIT",
        "lon": "BYTE_STREAM_SPLIT",
    },
}
#: Arrow schema each table is written with, where it differs from the one it
#: is read as (see POSITION_WRITE_SCHEMA); such files omit the Arrow schema
#: from their metadata, so readers derive POSITION_SCHEMA from the Parquet types.
_WRITE_SCHEMAS: dict[str, pa.Schema] = {POSITIONS: POSITION_WRITE_SCHEMA}
#: Columns dictionary-encoded per table (text everywhere; see above for timestamps).
_DICTIONARY_EXTRA: dict[str, list[str]] = {POSITIONS: ["timestamp"]}
#: Columns with min/max statistics in the positions table: the ones readers
#: filter on (vessel, time, area). Statistics on every float column cost
#: ~0.1 CPU s per million rows and serve no query of this project.
_STATISTICS: dict[str, list[str] | bool] = {POSITIONS: ["mmsi", "timestamp", "lat", "lon"]}
_DAY_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


class StoreError(RuntimeError):
    """The store is missing, or a table name is unknown."""


def _check_table(table: str) -> pa.Schema:
    try:
        return SCHEMAS[table]
    except KeyError:
        raise StoreError(f"unknown store table {table!r}; expected one of {TABLES}") from None


def sort_table(table_name: str, data: pa.Table) -> pa.Table:
    """Sort rows into the store's canonical order (stable, nulls last)."""
    if data.num_rows < 2:
        return data
    idx = pc.sort_indices(data, sort_keys=SORT_KEYS[table_name])
    return data.take(idx)


def _fsync_dir(path: Path) -> None:
    # Durability of the rename itself; not supported on every platform.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Store:
    """A Parquet store rooted at ``root`` (created on first write)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- layout -------------------------------------------------------------
    def partition_dir(self, table: str, day: date) -> Path:
        _check_table(table)
        return self.root / table / f"date={day.isoformat()}"

    def path(self, table: str, day: date) -> Path:
        """The Parquet file holding ``table`` for UTC ``day``."""
        return self.partition_dir(table, day) / PART_NAME

    def days(self, table: str) -> list[date]:
        """Days present in ``table``, ascending (only days with a complete file)."""
        _check_table(table)
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

    # -- writing ------------------------------------------------------------
    def write_day(
        self,
        table: str,
        day: date,
        data: pa.Table | Iterable[pa.RecordBatch],
        *,
        presorted: bool = False,
    ) -> Path:
        """Atomically replace ``table``'s partition for ``day`` with ``data``.

        ``data`` is a table (sorted here unless ``presorted``) or an iterable of
        record batches already in canonical order (streamed, so a 10-million-row
        day need not be materialised twice). Columns are cast to the table's
        schema. If anything fails before the final rename — including an
        exception raised by the batch iterable — the previous file is untouched
        and the temporary file removed.
        """
        schema = _check_table(table)
        folder = self.partition_dir(table, day)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / PART_NAME
        for stale in folder.glob(f".{PART_NAME}.*.tmp"):
            stale.unlink(missing_ok=True)
        tmp = folder / f".{PART_NAME}.{os.getpid()}.tmp"

        if isinstance(data, pa.Table):
            tbl = data.select(schema.names).cast(schema)
            if not presorted:
                tbl = sort_table(table, tbl)
            batches: Iterable[pa.RecordBatch] = tbl.to_batches(max_chunksize=ROW_GROUP_ROWS)
        else:
            batches = data

        try:
            with tmp.open("wb") as fh:
                # Dictionary-encode text only: coordinates and times have too
                # many distinct values (encoding them costs CPU and bytes).
                text = [f.name for f in schema if pa.types.is_string(f.type)]
                write_schema = _WRITE_SCHEMAS.get(table, schema)
                writer = pq.ParquetWriter(
                    fh,
                    write_schema,
                    use_dictionary=text + _DICTIONARY_EXTRA.get(table, []),
                    column_encoding=_COLUMN_ENCODING.get(table),
                    write_statistics=_STATISTICS.get(table, True),
                    store_schema=table not in _WRITE_SCHEMAS,
                    **_WRITE_OPTIONS,
                )
                try:
                    buffered: list[pa.RecordBatch] = []
                    n_buffered = 0
                    for batch in batches:
                        if batch.num_rows == 0:
                            continue
                        rb = pa.Table.from_batches([batch]).select(schema.names).cast(write_schema)
                        buffered.extend(rb.to_batches())
                        n_buffered += rb.num_rows
                        # Row groups of a fixed size whatever the batch sizes,
                        # so the bytes depend on the rows only.
                        while n_buffered >= ROW_GROUP_ROWS:
                            chunk = pa.Table.from_batches(buffered, write_schema)
                            writer.write_table(chunk.slice(0, ROW_GROUP_ROWS))
                            rest = chunk.slice(ROW_GROUP_ROWS)
                            buffered = rest.to_batches()
                            n_buffered = rest.num_rows
                    if n_buffered:
                        writer.write_table(pa.Table.from_batches(buffered, write_schema))
                finally:
                    writer.close()
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(final)  # os.replace: atomic on POSIX
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(folder)
        return final

    # -- reading ------------------------------------------------------------
    def read_day(
        self,
        table: str,
        day: date,
        columns: Sequence[str] | None = None,
        filter: pc.Expression | None = None,
    ) -> pa.Table:
        """One day of ``table`` (an empty table with the schema if absent)."""
        schema = _check_table(table)
        path = self.path(table, day)
        if not path.is_file():
            empty = schema.empty_table()
            return empty.select(list(columns)) if columns is not None else empty
        tbl = pq.read_table(path, columns=list(columns) if columns is not None else None)
        if filter is not None:
            tbl = tbl.filter(filter)
        return tbl

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
        schema = _check_table(table)
        end = start if end is None else end
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

        _check_table(table)
        return ds.dataset(self.root / table, format="parquet", partitioning="hive")
