"""How a store table file is laid out, written and read back (checked).

One Parquet file per table and UTC day. Files are deterministic: rows sorted
by (mmsi, timestamp) with a stable, fully specified tie-break, fixed
row-group size and writer options, and no wall-clock values in the metadata,
so ingesting the same input twice gives a byte-identical store.

Integrity: every data and dictionary page carries a CRC-32
(``write_page_checksum``), verified on every read
(``page_checksum_verification``): a flipped bit is an error, never an altered
coordinate. A file that cannot be read, fails its checksums or has another
table's schema raises :class:`DamagedPartitionError` naming the file, before
the caller writes anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from blake3 import blake3

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
from stswatch.pipeline.store_commit import checkpoint
from stswatch.pipeline.store_lock import StoreError

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
    # CRC-32 of every page, verified on read: costs ~1% of a write
    "write_page_checksum": True,
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


class DamagedPartitionError(StoreError):
    """A store file is unreadable, fails its checksums or has a foreign schema."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = Path(path)
        self.detail = detail
        super().__init__(
            f"damaged store file {path}: {detail}; nothing was written "
            "(`stswatch verify --store STORE` lists every damaged file, "
            "`--repair` re-derives days whose inputs are still there)"
        )


def check_table(table: str) -> pa.Schema:
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


class HashingWriter:
    """A binary file that counts and hashes (BLAKE3) what is written through it.

    The hash of a table file costs no second read: the Parquet writer's
    output passes through here on its way to the disk.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._hash = blake3()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.bytes += len(data)
        return self._fh.write(data)

    def tell(self) -> int:
        return self.bytes

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:  # the caller closes the real file
        self._fh.flush()

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def blake3(self) -> str:
        return self._hash.hexdigest()


def as_batches(table: str, data: pa.Table | Iterable[pa.RecordBatch], presorted: bool):
    """``data`` as record batches in canonical order (a table is cast and sorted here)."""
    if isinstance(data, pa.Table):
        schema = SCHEMAS[table]
        tbl = data.select(schema.names).cast(schema)
        if not presorted:
            tbl = sort_table(table, tbl)
        return tbl.to_batches(max_chunksize=ROW_GROUP_ROWS)
    return data


def write_table_file(out: HashingWriter, table: str, batches: Iterable[pa.RecordBatch]) -> int:
    """Write ``batches`` (canonical order) as ``table``'s Parquet file; returns rows."""
    schema = SCHEMAS[table]
    # Dictionary-encode text only: coordinates and times have too many
    # distinct values (encoding them costs CPU and bytes).
    text = [f.name for f in schema if pa.types.is_string(f.type)]
    write_schema = _WRITE_SCHEMAS.get(table, schema)
    writer = pq.ParquetWriter(
        out,
        write_schema,
        use_dictionary=text + _DICTIONARY_EXTRA.get(table, []),
        column_encoding=_COLUMN_ENCODING.get(table),
        write_statistics=_STATISTICS.get(table, True),
        store_schema=table not in _WRITE_SCHEMAS,
        **_WRITE_OPTIONS,
    )
    rows = 0
    try:
        buffered: list[pa.RecordBatch] = []
        n_buffered = 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            rb = pa.Table.from_batches([batch]).select(schema.names).cast(write_schema)
            buffered.extend(rb.to_batches())
            n_buffered += rb.num_rows
            # Row groups of a fixed size whatever the batch sizes, so the
            # bytes depend on the rows only.
            while n_buffered >= ROW_GROUP_ROWS:
                chunk = pa.Table.from_batches(buffered, write_schema)
                writer.write_table(chunk.slice(0, ROW_GROUP_ROWS))
                rows += ROW_GROUP_ROWS
                if rows == ROW_GROUP_ROWS:
                    checkpoint("mid-file")
                rest = chunk.slice(ROW_GROUP_ROWS)
                buffered = rest.to_batches()
                n_buffered = rest.num_rows
        if n_buffered:
            writer.write_table(pa.Table.from_batches(buffered, write_schema))
            rows += n_buffered
    finally:
        writer.close()
    return rows


#: Columns a table gained after files of it were written: older files lack
#: them and are still the table's (readers fill them with nulls, e.g.
#: :func:`stswatch.pipeline.event_history.conform`).
ADDED_LATER: dict[str, tuple[str, ...]] = {
    RENDEZVOUS: ("kind", "dark_mmsi", "shared_silence_h", "sts_area_name", "sts_area_source"),
}


def _check_schema(path: Path, table: str, got: pa.Schema, columns: Sequence[str] | None) -> None:
    expected = SCHEMAS[table]
    names = list(columns) if columns is not None else expected.names
    later = ADDED_LATER.get(table, ())
    names = [n for n in names if n in got.names or n not in later]
    want = [(n, expected.field(n).type) for n in names]
    have = [(f.name, f.type) for f in got]
    if want != have:
        raise DamagedPartitionError(
            path, f"its columns are not the {table} table's ({_describe(have, want)})"
        )


def _describe(have: list, want: list) -> str:
    missing = [n for n, _ in want if n not in dict(have)]
    if missing:
        return "missing " + ", ".join(missing[:4])
    wrong = [f"{n} is {t}" for n, t in have if n in dict(want) and dict(want)[n] != t]
    if wrong:
        return ", ".join(wrong[:4])
    return "extra " + ", ".join(n for n, _ in have if n not in dict(want))


def open_table_file(path: Path, table: str) -> pq.ParquetFile:
    """Open a table file for checked reading: footer consistent, schema the table's.

    The footer holds the row count twice (file and row groups): a flipped bit
    in one of them would otherwise drop rows silently.
    """
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=True)
        meta = pf.metadata
        in_groups = sum(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
    except (OSError, pa.ArrowException, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DamagedPartitionError(path, _first_line(exc)) from None
    if in_groups != meta.num_rows:
        raise DamagedPartitionError(
            path, f"footer says {meta.num_rows:,} rows, its row groups {in_groups:,}"
        )
    _check_schema(path, table, pf.schema_arrow, None)
    return pf


def read_table_file(
    path: Path,
    table: str,
    columns: Sequence[str] | None = None,
    filter: pc.Expression | None = None,
    *,
    expected_rows: int | None = None,
    expected_bytes: int | None = None,
) -> pa.Table:
    """Read one table file, checksums verified, schema and row count checked.

    ``expected_rows`` / ``expected_bytes``: what the day's manifest recorded
    for the file (a file replaced after its commit; the full BLAKE3
    comparison is ``stswatch verify``'s).
    """
    if expected_bytes is not None and path.stat().st_size != expected_bytes:
        raise DamagedPartitionError(
            path, f"{path.stat().st_size:,} bytes, its commit wrote {expected_bytes:,}"
        )
    pf = open_table_file(path, table)
    if expected_rows is not None and pf.metadata.num_rows != expected_rows:
        raise DamagedPartitionError(
            path, f"{pf.metadata.num_rows:,} rows, its commit recorded {expected_rows:,}"
        )
    try:
        data = pf.read(columns=list(columns) if columns is not None else None)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise DamagedPartitionError(path, _first_line(exc)) from None
    if data.num_rows != pf.metadata.num_rows:
        raise DamagedPartitionError(
            path, f"{data.num_rows:,} rows read, its footer says {pf.metadata.num_rows:,}"
        )
    _check_schema(path, table, data.schema, columns)
    if filter is not None:
        data = data.filter(filter)
    return data


def iter_table_file(path: Path, table: str) -> Iterator[pa.RecordBatch]:
    """Every row group of a file, checksums verified (bounded memory: ``verify``)."""
    pf = open_table_file(path, table)
    try:
        for i in range(pf.num_row_groups):
            yield from pf.read_row_group(i).to_batches()
    except DamagedPartitionError:
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DamagedPartitionError(path, _first_line(exc)) from None


def blake3_file(path: Path) -> tuple[str, int]:
    """(hex BLAKE3, size in bytes) of a file's bytes (what ``b3sum`` prints).

    BLAKE3 rather than SHA-256: as collision-resistant for telling inputs
    apart (a crafted collision must not pass new data off as already
    ingested), and 3.5x cheaper here (0.15 against 0.51 CPU s per GB, with
    SHA-NI; the README's benchmark section), which is what the input's
    identity costs every ingest. Read in 4 MiB chunks; the hashing itself
    releases the GIL.
    """
    h = blake3()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
