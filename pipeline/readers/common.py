"""Shared, vectorised helpers of the CSV readers.

Why a shared CSV engine: MarineCadastre, DMA and the Stone Soup track files
differ only in headers, vocabularies and time formats. The hard parts are the
same for all of them and live here once:

* **Block-parallel parsing with explicit types** (:mod:`.csv_blocks`): a
  day of national AIS is ~10 million rows, which must never exist as Python
  objects nor all at once in memory; blocks of whole lines are parsed and
  converted on both cores and yielded in file order.
* **Nothing lost**: a malformed line (wrong column count) or a field that
  cannot be typed becomes a quarantine row with the raw text, never a crash
  and never a silent drop. Typed parsing is fast but fails a whole block on
  one bad field; when that happens that block alone is re-parsed in *string
  mode* (every column as text, typed with vectorised validation), so clean
  blocks pay nothing for the safety net.
* **Compressed inputs** (``.gz``, ``.zip``) recognised from magic bytes.
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.csv_blocks import (
    LineBlocks,
    header_names,
    ordered_map,
    parse_block,
    record_numbers,
)
from stswatch.pipeline.schemas import (
    OBSERVATION_SCHEMA,
    QUARANTINE_SCHEMA,
    TIMESTAMP_TYPE,
    QuarantineReason,
)

#: Bytes per CSV block: ~80k MarineCadastre rows. Small enough to keep the
#: reader's memory flat (a few batches in flight), large enough that the
#: fixed cost of the ~100 vectorised calls per batch is negligible.
BLOCK_SIZE_BYTES = 8 << 20

#: Threads parsing and converting blocks (one task = parse + convert of a block).
PARSE_WORKERS = 2

#: Blocks read but not yet handed to the caller: bounds the reader's memory.
BLOCKS_IN_FLIGHT = 4

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


class ReaderError(ValueError):
    """The input cannot be read as the expected format (message names the file)."""


# --------------------------------------------------------------------------- I/O
def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"zip"`` or None, judged from the first bytes, not the name."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(GZIP_MAGIC):
        return "gzip"
    if magic.startswith(ZIP_MAGIC):
        return "zip"
    return None


def _zip_member(zf: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    members = [
        m
        for m in zf.infolist()
        if not m.is_dir() and not Path(m.filename).name.startswith((".", "__MACOSX"))
    ]
    if not members:
        raise ReaderError(f"{path}: zip archive is empty")
    # A daily archive holds one data file; prefer .csv/.nmea-like text members.
    members.sort(key=lambda m: (not m.filename.lower().endswith((".csv", ".txt")), m.filename))
    return members[0]


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading, transparently decompressing gzip or zip."""
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "zip":
        zf = zipfile.ZipFile(path)
        return zf.open(_zip_member(zf, path))
    return path.open("rb")


def read_head(path: Path, n_bytes: int = 64 * 1024) -> bytes:
    """The first bytes of the (decompressed) content, for format sniffing."""
    try:
        with open_binary(path) as fh:
            return fh.read(n_bytes)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ReaderError(f"{path}: cannot read ({exc})") from exc


def first_line(path: Path) -> str:
    head = read_head(path)
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    return line.decode("utf-8", errors="replace").lstrip("\ufeff")


def header_fields(path: Path) -> list[str]:
    """The CSV header's field names (quotes stripped, BOM removed)."""
    return [f.strip().strip('"').strip() for f in first_line(path).split(",")]


def zip_data_members(path: Path) -> list[str]:
    """Data files inside a zip archive, in name order (a DMA monthly archive
    holds one CSV per day; a daily archive holds one)."""
    with zipfile.ZipFile(path) as zf:
        names = [
            m.filename
            for m in zf.infolist()
            if not m.is_dir() and not Path(m.filename).name.startswith((".", "__MACOSX"))
        ]
    return sorted(names)


def _csv_input(path: Path, member: str | None = None) -> pa.NativeFile | IO[bytes]:
    kind = compression_of(path)
    if kind == "gzip":
        return pa.input_stream(str(path), compression="gzip")
    if kind == "zip":
        if member is None:
            return open_binary(path)
        return zipfile.ZipFile(path).open(member)
    return pa.input_stream(str(path))


def _member_header(path: Path, member: str | None) -> list[str]:
    if member is None:
        return header_fields(path)
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        line = fh.readline().rstrip(b"\r\n").decode("utf-8", errors="replace").lstrip("\ufeff")
    return [f.strip().strip('"').strip() for f in line.split(",")]


# --------------------------------------------------------------- vectorised typing
_FLOAT_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_ISO_RE = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]00:?00)?\s*$"


def parse_strings(
    values: pa.Array, typ: pa.DataType, timestamp_format: str | None = None
) -> tuple[pa.Array, np.ndarray]:
    """Type a string column without raising: (typed array, bad-value mask).

    Null/blank input is a null output and *not* bad; a non-blank value that
    does not parse is null in the output and True in the mask.
    """
    values = pc.utf8_trim_whitespace(values)
    blank = pc.fill_null(pc.equal(values, ""), True)
    values = pc.if_else(blank, pa.scalar(None, pa.string()), values)
    if pa.types.is_string(typ):
        return values, np.zeros(len(values), dtype=bool)
    if pa.types.is_timestamp(typ):
        if timestamp_format is not None:
            parsed = pc.strptime(values, format=timestamp_format, unit="ms", error_is_null=True)
            ok = pc.is_valid(parsed)
        else:
            ok = pc.fill_null(pc.match_substring_regex(values, _ISO_RE), False)
            cleaned = pc.replace_substring_regex(
                pc.if_else(ok, values, pa.scalar(None, pa.string())), r"(Z|[+-]00:?00)\s*$", ""
            )
            try:
                parsed = pc.cast(cleaned, pa.timestamp("ms"))
            except pa.ArrowInvalid:  # e.g. month 13: fall back to value by value
                parsed = pa.array([_try_iso(v) for v in cleaned.to_pylist()], pa.timestamp("ms"))
                ok = pc.is_valid(parsed)
        parsed = parsed.cast(pa.timestamp("ms"))
    else:
        ok = pc.fill_null(pc.match_substring_regex(values, _FLOAT_RE), False)
        parsed = pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.float64())
        if not pa.types.is_floating(typ):
            parsed = parsed.cast(typ, safe=False)
    bad = ~np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool) & ~np.asarray(
        pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool
    )
    return parsed, bad


def _try_iso(value: str | None) -> object:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as one Array: its only chunk as is (``combine_chunks`` copies it)."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def validity(arr: pa.Array) -> np.ndarray | None:
    """Row validity of ``arr`` as numpy bool, or None when it has no nulls."""
    if arr.null_count == 0:
        return None
    bits = np.unpackbits(np.frombuffer(arr.buffers()[0], np.uint8), bitorder="little")
    return bits[arr.offset : arr.offset + len(arr)].view(bool)


def float_values(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
    """(float64 values, validity or None) of a numeric column, without copies.

    The values are a read-only view; slots of null rows hold arbitrary numbers,
    so they must be used only together with the validity.
    """
    arr = one_array(arr)
    if arr.type != pa.float64():
        arr = arr.cast(pa.float64())
    return buffer_values(arr), validity(arr)


def buffer_values(arr: pa.Array) -> np.ndarray:
    """Read-only numpy view of a fixed-width numeric array's values, no copy.

    Slots of null rows hold arbitrary numbers: use with :func:`validity`.
    """
    dtype = np.dtype(arr.type.to_pandas_dtype())
    data = arr.buffers()[1]
    if data is None or len(arr) == 0:
        return np.zeros(len(arr), dtype)
    return np.frombuffer(data, dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


#: unsigned type of the same width and the bits of NaN, per float width
_NAN_BITS = {
    4: (np.uint32, np.float32(np.nan).view(np.uint32)),
    8: (np.uint64, np.float64(np.nan).view(np.uint64)),
}


def masked_array(values: np.ndarray, keep: np.ndarray | None, typ: pa.DataType) -> pa.Array:
    """numpy values -> Arrow ``typ``, null where ``keep`` is False (None: none null).

    Null slots hold NaN (float) or 0 (integer), as :func:`float_array` writes them,
    set with integer arithmetic on the bits (``np.where`` with a scalar costs ~4x).
    """
    dtype = np.dtype(typ.to_pandas_dtype())
    with np.errstate(invalid="ignore", over="ignore"):  # only in null slots, reset below
        data = values.astype(dtype)
    if keep is None:
        return pa.Array.from_buffers(typ, len(data), [None, pa.py_buffer(data)])
    if dtype.kind == "f":
        uint, nan = _NAN_BITS[dtype.itemsize]
        bits = data.view(uint)
        null = keep.view(np.uint8).astype(uint)
        null -= uint(1)  # all ones where null, 0 where kept
        bits &= ~null
        null &= nan
        bits |= null
    else:
        data *= keep
    bitmap = np.packbits(keep, bitorder="little")
    return pa.Array.from_buffers(typ, len(data), [pa.py_buffer(bitmap), pa.py_buffer(data)])


def to_float(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow numeric -> float64 numpy with NaN for nulls (no copy when possible)."""
    arr = one_array(arr)
    out = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return out if out.flags.writeable else out.copy()


def float_array(
    values: np.ndarray, typ: pa.DataType, *, null: np.ndarray | None = None
) -> pa.Array:
    """numpy float -> Arrow ``typ`` with NaN (and ``null``) as nulls."""
    mask = np.isnan(values)
    if null is not None:
        mask |= null
    if pa.types.is_integer(typ):
        return pa.array(np.where(mask, 0, values).astype(typ.to_pandas_dtype()), typ, mask=mask)
    return pa.array(values.astype(typ.to_pandas_dtype()), typ, mask=mask)


def sentinel_to_null(
    values: np.ndarray, *, sentinel: float | None = None, lo: float, hi: float
) -> np.ndarray:
    """Replace an AIS 'not available' sentinel and out-of-range values by NaN.

    ``lo``/``hi`` bound the meaningful range (inclusive lo, exclusive hi where
    the sentinel is the upper bound, e.g. COG 360 means 'not available').
    """
    out = values.copy()
    bad = (out < lo) | (out >= hi)
    if sentinel is not None:
        bad |= out == sentinel
    out[bad] = np.nan
    return out


def per_distinct(
    values: pa.Array | pa.ChunkedArray, func: Callable[[pa.Array], pa.Array]
) -> pa.Array:
    """``func`` applied to each distinct value once, then spread to every row.

    Static AIS text (IMO, ship type, class) repeats on every ping of a
    vessel: a batch of 80k rows holds a few thousand distinct values, so
    one hashing pass plus ``func`` on the dictionary costs ~5x less than
    ``func`` on every row. ``func`` must map row by row (same result for a
    value wherever it occurs) and null to null.
    """
    values = one_array(values)
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    return func(values.dictionary).take(values.indices)


def imo_from_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """'IMO1234567' / '1234567' -> int32; blanks, 'Unknown', 0 and junk -> null.

    Values written exactly as 'IMO' + 7 digits (nearly all non-blank ones) are
    read from the bytes directly; only the others go through the general
    per-distinct-value parse.
    """
    values = one_array(values)
    if pa.types.is_string(values.type):
        return with_fallback(values, _imo_fast, _imo_slow, pa.int32())
    if pa.types.is_dictionary(values.type):
        return per_distinct(values, _imo_from_strings)
    return _imo_from_numbers(values.cast(pa.int64()))


def _imo_slow(values: pa.Array) -> pa.Array:
    return distinct_or_rows(values, _imo_from_strings)


def distinct_or_rows(values: pa.Array, func: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``func`` by :func:`per_distinct` on many rows, directly on a few (the
    hashing pass and the take cost more than they save on ~100 rows)."""
    return per_distinct(values, func) if len(values) > 1024 else func(values)


_ASCII_ZEROS = np.uint64(0x3030303030303030)
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_PLUS_SIX = np.uint64(0x0606060606060606)


def _imo_fast(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """'IMO' + 7 (8, 9) ASCII digits or 7 bare digits, parsed from the string bytes.

    'IMO' + 7 digits, nearly all values, are read 8 bytes at a time (SWAR).
    """
    parts = string_parts(values)
    if parts is None:
        return None
    starts, lens, data, _ = parts
    number = np.zeros(len(values), np.int64)
    done = np.zeros(len(values), bool)
    idx = np.flatnonzero(lens == 10)
    if len(idx):
        first = starts[idx]
        # np.take: ~3x faster than fancy indexing with int32 positions
        head = np.take(_unaligned(data, np.uint64), first)  # "IMO" + 5 digits
        tail = np.take(_unaligned(data, np.uint16), first + 8).astype(np.uint64)  # 2 digits
        good = (head & np.uint64(0xFFFFFF)) == np.uint64(0x4F4D49)  # "IMO", little-endian
        # "0" + the 7 digits, as 8 bytes (first character in the lowest byte)
        eight = np.uint64(0x30) | ((head >> np.uint64(24)) << np.uint64(8))
        eight |= tail << np.uint64(48)
        good &= (eight & _HIGH_NIBBLES) == _ASCII_ZEROS
        good &= ((eight + _PLUS_SIX) & _HIGH_NIBBLES) == _ASCII_ZEROS
        idx = idx[good]
        done[idx] = True
        number[idx] = _eight_digits(eight[good])
    idx = np.flatnonzero(lens == 7)  # bare 7-digit numbers (DMA)
    if len(idx):
        value, good = _digits_at(data, np.take(starts, idx), 7)
        done[idx[good]] = True
        number[idx[good]] = value[good]
    for width in (11, 12):  # "IMO" + 8 or 9 digits: a few rows, byte by byte
        idx = np.flatnonzero(lens == width)
        if len(idx):
            first = np.take(starts, idx)
            good = np.take(data, first) == 73
            good &= np.take(data, first + 1) == 77
            good &= np.take(data, first + 2) == 79
            value, digits = _digits_at(data, first + 3, width - 3)
            good &= digits
            done[idx[good]] = True
            number[idx[good]] = value[good]
    keep = (number >= 1_000_000) & (number < 10_000_000)
    return number, keep, done


def _unaligned(data: np.ndarray, dtype: type) -> np.ndarray:
    """View of ``data`` with one little-endian ``dtype`` value starting at every byte."""
    size = np.dtype(dtype).itemsize
    count = max(len(data) - size + 1, 0)
    view = np.ndarray((count,), np.dtype(dtype).newbyteorder("<"), data, 0, (1,))
    view.flags.writeable = False
    return view


def _eight_digits(eight: np.ndarray) -> np.ndarray:
    """Value of 8 ASCII digits packed in uint64 (first digit in the lowest byte)."""
    v = eight - _ASCII_ZEROS
    v = (v * np.uint64(10) + (v >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v * np.uint64(100) + (v >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    v = (v * np.uint64(10000) + (v >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return v.astype(np.int64)


def _digits_at(data: np.ndarray, first: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(int64 value, all-ASCII-digits) of the ``width`` bytes from each of ``first``."""
    value = np.zeros(len(first), np.int64)
    good = np.ones(len(first), bool)
    for k in range(width):
        digit = np.take(data, first + k) - np.uint8(48)  # non-digits wrap above 9
        good &= digit <= 9
        value *= 10
        value += digit
    return value, good


def string_parts(
    values: pa.Array,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """(start offsets, byte lengths, data bytes, validity) of a string array.

    None when the array has no data bytes at all. Lengths of null rows are 0.
    """
    if not pa.types.is_string(values.type) or len(values) == 0:
        return None
    _, off_buf, data_buf = values.buffers()
    if data_buf is None or data_buf.size == 0:
        return None
    offsets = np.frombuffer(off_buf, np.int32, count=len(values) + 1, offset=values.offset * 4)
    starts = offsets[:-1]
    lens = offsets[1:] - starts
    valid = validity(values)
    if valid is not None:
        lens = np.where(valid, lens, 0)
    return starts, lens, np.frombuffer(data_buf, np.uint8), valid


def ascii_digits(
    starts: np.ndarray, lens: np.ndarray, data: np.ndarray, max_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """(int64 value, ok) of the byte ranges that are 1..``max_len`` ASCII digits.

    ``value`` is 0 where ``ok`` is False (and for null rows, whose length is 0).
    """
    number = np.zeros(len(lens), np.int64)
    ok = np.zeros(len(lens), bool)
    for width in range(1, max_len + 1):
        idx = np.flatnonzero(lens == width)
        if len(idx) == 0:
            continue
        value, good = _digits_at(data, starts[idx], width)
        idx = idx[good]
        ok[idx] = True
        number[idx] = value[good]
    return number, ok


def with_fallback(
    values: pa.Array,
    fast: Callable[[pa.Array], tuple[np.ndarray, np.ndarray, np.ndarray] | None],
    slow: Callable[[pa.Array], pa.Array],
    typ: pa.DataType,
) -> pa.Array:
    """A column mapped by a vectorised ``fast`` kernel, ``slow`` for the rows it cannot.

    ``fast`` returns (values, keep, done): the result of the rows where ``done``
    (null where ``keep`` is False), or None when it handles none. Null rows
    are null; the valid rows not done are mapped by ``slow`` (which maps row by
    row, null to null, into ``typ``).
    """
    res = fast(values)
    if res is None:
        return slow(values).cast(typ)
    number, keep, done = res
    rest = ~done
    valid = validity(values)
    if valid is not None:
        rest &= valid
    if rest.any():
        idx = np.flatnonzero(rest)
        other = slow(values.take(pa.array(idx))).cast(typ)
        number = number.copy()
        number[idx] = other.fill_null(0).to_numpy(zero_copy_only=False)
        keep = keep.copy()
        keep[idx] = other.is_valid().to_numpy(zero_copy_only=False)
    return masked_array(number, keep, typ)


def _imo_from_strings(values: pa.Array) -> pa.Array:
    # Literal replace + utf8_is_digit: ~10x faster than a regex per value.
    digits = pc.utf8_trim_whitespace(pc.replace_substring(values, "IMO", ""))
    ok = pc.and_(
        pc.fill_null(pc.utf8_is_digit(digits), False),
        pc.less_equal(pc.utf8_length(digits), 9),
    )
    return _imo_from_numbers(
        pc.cast(pc.if_else(ok, digits, pa.scalar(None, pa.string())), pa.int64())
    )


def _imo_from_numbers(arr: pa.Array) -> pa.Array:
    # IMO numbers are 7 digits; 0 and other short values are "not available".
    arr = pc.if_else(pc.and_(pc.greater_equal(arr, 1_000_000), pc.less(arr, 10_000_000)), arr, None)
    return arr.cast(pa.int32())


def text_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Text column as read (names and call signs).

    Blank fields are already null (the CSV reader's ``null_values``); values
    are not trimmed, which would cost a full pass per column for the rare
    padded name.
    """
    return one_array(values).cast(pa.string())


def map_text(
    values: pa.Array | pa.ChunkedArray, mapping: dict[str, int], typ: pa.DataType
) -> pa.Array:
    """Case-insensitive vocabulary lookup, vectorised (unknown text -> null)."""
    values = one_array(values)
    keys = list(mapping)
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(values.cast(pa.string())))
    idx = pc.index_in(norm, value_set=pa.array([k.lower() for k in keys], pa.string()))
    codes = pa.array([mapping[k] for k in keys], typ)
    return pc.take(codes, idx)


def timestamp_utc(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Naive (UTC by convention of every source) timestamps -> TIMESTAMP_TYPE."""
    values = one_array(values)
    if isinstance(values.type, pa.TimestampType) and values.type.tz is not None:
        return values.cast(TIMESTAMP_TYPE)
    return values.cast(pa.timestamp("ms")).cast(TIMESTAMP_TYPE)


# ------------------------------------------------------------------ table builders
#: Numeric fields every CSV layout carries: (canonical name, output field,
#: AIS "not available" sentinel, lowest and highest meaningful value). Values
#: outside the range become null; AIS sends 0 for "not available" dimensions.
NUMERIC_FIELDS: tuple[tuple[str, str, float | None, float, float], ...] = (
    ("sog", "sog_kn", 102.3, 0.0, 102.3),
    ("cog", "cog_deg", 360.0, 0.0, 360.0),
    ("heading", "heading_deg", 511.0, 0.0, 360.0),
    ("length", "length_m", None, 0.1, 1000.0),
    ("width", "width_m", None, 0.1, 1000.0),
    ("draught", "draught_m", None, 0.1, 30.0),  # AIS max 25.5 m
)


def column_getter(
    raw: pa.Table, columns: dict[str, str]
) -> Callable[[str], pa.ChunkedArray | None]:
    """``get(canonical name)`` -> the layout's column of ``raw``, or None when it lacks it."""

    def get(canon: str) -> pa.ChunkedArray | None:
        name = columns.get(canon)
        return raw.column(name) if name is not None else None

    return get


def position_columns(
    get: Callable[[str], pa.Array | pa.ChunkedArray | None],
) -> dict[str, pa.Array]:
    """mmsi, timestamp, lat/lon and the NUMERIC_FIELDS, typed, from a layout's columns.

    ``get`` maps a canonical name ("mmsi", "timestamp", "lat", "lon", "sog",
    ...) to the layout's column, or None when the layout lacks it. Only the
    documented coordinate sentinels (lat 91, lon 181) become null here; other
    impossible coordinates stay, so the cleaner quarantines them with their value.
    """
    out: dict[str, pa.Array] = {}
    mmsi, valid = float_values(get("mmsi"))
    out["mmsi"] = masked_array(mmsi, _and(np.abs(mmsi) < 2**62, valid), pa.int64())
    out["timestamp"] = timestamp_utc(get("timestamp"))
    for canon, sentinel in (("lat", 91.0), ("lon", 181.0)):
        vals, valid = float_values(get(canon))
        keep = ~np.isnan(vals)
        keep &= vals != sentinel
        out[canon] = masked_array(vals, _and(keep, valid), pa.float64())
    for canon, field, sentinel, lo, hi in NUMERIC_FIELDS:
        col = get(canon)
        if col is not None:
            out[field] = range_to_null(col, pa.float32(), sentinel=sentinel, lo=lo, hi=hi)
    return out


def _and(keep: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    if valid is not None:
        keep &= valid
    return keep


def range_to_null(
    values: pa.Array | pa.ChunkedArray,
    typ: pa.DataType,
    *,
    sentinel: float | None = None,
    lo: float,
    hi: float,
) -> pa.Array:
    """Numeric column -> ``typ``, null outside [lo, hi), at ``sentinel``, NaN and null.

    The same values as ``float_array(sentinel_to_null(to_float(values), ...), typ)``
    in one pass over the column and without its three copies.
    """
    vals, valid = float_values(values)
    keep = vals >= lo
    keep &= vals < hi
    if sentinel is not None and lo <= sentinel < hi:
        keep &= vals != sentinel
    return masked_array(vals, _and(keep, valid), typ)


#: value -> longest repeat_text array built for it (a few values per process),
#: for batches up to ~16 MiB of repeated text
_REPEATED: dict[str, pa.Array] = {}
_REPEAT_CACHE_BYTES = 16 << 20


def repeat_text(value: str, n: int) -> pa.Array:
    """``n`` copies of ``value`` as a string array: a slice of a cached one.

    Every batch of a file carries the same source and file name, so the array
    is built once (from one bytes repetition and an offsets range; ``pa.repeat``
    appends row by row) and each batch gets a zero-copy slice of it, which also
    spares ~40 bytes of fresh memory per row.
    """
    cached = _REPEATED.get(value)
    if cached is None or len(cached) < n:
        cached = _repeat_text(value, n)
        if n * len(value) > _REPEAT_CACHE_BYTES:  # a huge batch: not worth keeping
            return cached
        if len(_REPEATED) >= 16:
            _REPEATED.clear()
        _REPEATED[value] = cached
    return cached.slice(0, n)


def _repeat_text(value: str, n: int) -> pa.Array:
    data = value.encode()
    if n * len(data) >= 2**31 - 1:  # beyond int32 offsets: rare, take the slow road
        return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(len(data))
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)]
    )


def observations_table(columns: dict[str, pa.Array], n: int) -> pa.Table:
    """Assemble an OBSERVATION_SCHEMA table; missing columns become nulls."""
    arrays = []
    for f in OBSERVATION_SCHEMA:
        col = columns.get(f.name)
        if col is None:
            arrays.append(pa.nulls(n, f.type))
        else:
            col = one_array(col)
            arrays.append(col if col.type == f.type else col.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=OBSERVATION_SCHEMA)


def csv_observations(
    columns: dict[str, pa.Array], n: int, source: str, source_file: str, rows: pa.Array
) -> pa.Table:
    """A CSV block's typed columns as observations: every row has a position
    column set, and carries its source, file and record number."""
    columns["has_position"] = pa.array(np.ones(n, dtype=bool))
    columns["source"] = repeat_text(source, n)
    columns["source_file"] = repeat_text(source_file, n)
    columns["row_number"] = rows
    return observations_table(columns, n)


def rejects_from_observations(
    obs: pa.Table, reasons: list[str] | str, details: pa.Array | list[str | None] | None
) -> pa.Table:
    """Quarantine rows for typed observations (keeps mmsi/time/position)."""
    n = obs.num_rows
    if isinstance(reasons, str):
        reasons = [reasons] * n
    cols = {
        "reason": pa.array(reasons, pa.string()),
        "detail": pa.array(details, pa.string())
        if not isinstance(details, pa.Array)
        else details.cast(pa.string())
        if details is not None
        else pa.nulls(n, pa.string()),
        "raw": pa.nulls(n, pa.string()),
    }
    arrays = []
    for f in QUARANTINE_SCHEMA:
        if f.name in cols:
            arrays.append(cols[f.name])
        else:
            arrays.append(obs.column(f.name).combine_chunks().cast(f.type))
    return pa.Table.from_arrays(arrays, schema=QUARANTINE_SCHEMA)


def raw_rejects(
    reason: str,
    details: list[str | None],
    raws: list[str | None],
    row_numbers: list[int | None],
    *,
    source: str,
    source_file: str,
) -> pa.Table:
    n = len(raws)
    cols = {
        "reason": pa.array([reason] * n, pa.string()),
        "detail": pa.array(details, pa.string()),
        "source": pa.array([source] * n, pa.string()),
        "source_file": pa.array([source_file] * n, pa.string()),
        "row_number": pa.array(row_numbers, pa.int64()),
        "raw": pa.array(raws, pa.string()),
    }
    return pa.Table.from_arrays(
        [cols.get(f.name, pa.nulls(n, f.type)) for f in QUARANTINE_SCHEMA],
        schema=QUARANTINE_SCHEMA,
    )


_EMPTY_REJECTS = QUARANTINE_SCHEMA.empty_table()
_EMPTY_OBS = OBSERVATION_SCHEMA.empty_table()


def empty_rejects() -> pa.Table:
    return _EMPTY_REJECTS


# ------------------------------------------------------------------- CSV engine
#: converter(raw typed table, row_numbers, source_file) -> (observations, rejects)
Converter = Callable[[pa.Table, pa.Array, str], tuple[pa.Table, pa.Table]]


@dataclass(frozen=True)
class CsvLayout:
    """How to read one CSV dialect: which columns, read as which Arrow type."""

    source: str
    #: header name -> Arrow type to read it as (only these columns are read)
    column_types: dict[str, pa.DataType]
    #: strptime format of timestamp columns (None = ISO 8601)
    timestamp_format: str | None = None
    null_values: tuple[str, ...] = ("",)


def _present(layout: CsvLayout, header: list[str]) -> dict[str, pa.DataType]:
    return {name: typ for name, typ in layout.column_types.items() if name in header}


def read_csv_batches(path: Path, layout: CsvLayout, convert: Converter) -> Iterator[ReaderBatch]:
    """Stream ``path`` as :class:`ReaderBatch` objects using ``layout``.

    Row numbers are 1-based data-record numbers as pyarrow counts records:
    the header and empty lines are not records, malformed lines are (and
    keep their number in the quarantine). A zip archive with several data
    files is read member by member, each named ``archive.zip!member.csv`` in
    ``source_file`` (so file and row number still identify a record).
    """
    members: list[str | None] = [None]
    if compression_of(path) == "zip":
        found = zip_data_members(path)
        csvs = [m for m in found if m.lower().endswith(".csv")]
        found = csvs or found  # skip READMEs and the like beside the data
        if len(found) > 1:
            members = list(found)
    for member in members:
        yield from _read_member(path, member, layout, convert)


@dataclass(frozen=True)
class _Member:
    """What every block task of one CSV member needs."""

    path: Path
    layout: CsvLayout
    types: dict[str, pa.DataType]
    convert: Converter
    source_file: str
    column_names: list[str]
    typed_options: pacsv.ConvertOptions
    string_options: pacsv.ConvertOptions


def _read_member(
    path: Path, member: str | None, layout: CsvLayout, convert: Converter
) -> Iterator[ReaderBatch]:
    types = _present(layout, _member_header(path, member))
    with _csv_input(path, member) as stream:
        blocks = LineBlocks(stream, BLOCK_SIZE_BYTES)
        ctx = _Member(
            path=path,
            layout=layout,
            types=types,
            convert=convert,
            source_file=str(path) if member is None else f"{path}!{member}",
            column_names=_column_names(path, layout, blocks.header),
            typed_options=_convert_options(layout, types, as_strings=False),
            string_options=_convert_options(layout, types, as_strings=True),
        )
        _check_header(ctx, blocks.header or b"")
        done = 0  # records in the blocks already yielded

        def read_block(block: pa.Buffer) -> tuple[ReaderBatch, int]:
            try:
                return _read_block(ctx, block)
            finally:
                blocks.recycle(block)

        tasks = ordered_map(
            read_block,
            blocks,
            workers=PARSE_WORKERS,
            in_flight=BLOCKS_IN_FLIGHT,
        )
        with closing(tasks) as results:
            for batch, n_records in results:
                yield _offset_rows(batch, done)
                done += n_records


def _column_names(path: Path, layout: CsvLayout, header: bytes | None) -> list[str]:
    """The header's names as pyarrow's own reader would name the columns."""
    if header is None:
        raise ReaderError(f"{path}: not a readable {layout.source} CSV (Empty CSV file)")
    try:
        return header_names(header)
    except pa.ArrowInvalid as exc:
        raise ReaderError(f"{path}: not a readable {layout.source} CSV ({exc})") from None


def _convert_options(
    layout: CsvLayout, types: dict[str, pa.DataType], *, as_strings: bool
) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types=dict.fromkeys(types, pa.string()) if as_strings else dict(types),
        include_columns=list(types),
        null_values=list(layout.null_values),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        timestamp_parsers=[layout.timestamp_format] if layout.timestamp_format else None,
    )


def _check_header(ctx: _Member, header: bytes) -> None:
    """Fail on a header the layout cannot be read with, even without data rows."""
    buf = pa.py_buffer(header + b"\n")
    read = pacsv.ReadOptions(use_threads=False)
    try:
        pacsv.read_csv(buf, read_options=read, convert_options=ctx.typed_options)
        return
    except pa.ArrowInvalid:
        pass
    try:
        pacsv.read_csv(buf, read_options=read, convert_options=ctx.string_options)
    except pa.ArrowInvalid as exc:
        raise _unreadable(ctx, exc) from None


def _unreadable(ctx: _Member, exc: Exception) -> ReaderError:
    return ReaderError(f"{ctx.path}: not a readable {ctx.layout.source} CSV ({exc})")


def _read_block(ctx: _Member, block: pa.Buffer) -> tuple[ReaderBatch, int]:
    """Parse and convert one block: (batch with block-relative row numbers, records).

    Typed parsing is fast but fails the whole block on one bad field; then
    only this block is re-parsed in string mode, so clean blocks pay nothing
    for the safety net.
    """
    try:
        return _typed_block(ctx, block)
    except pa.ArrowInvalid:
        pass  # a field failed to convert: redo this block in string mode
    try:
        return _string_block(ctx, block)
    except pa.ArrowInvalid as exc:
        raise _unreadable(ctx, exc) from None


def _typed_block(ctx: _Member, block: pa.Buffer) -> tuple[ReaderBatch, int]:
    table, invalid = parse_block(block, ctx.column_names, ctx.typed_options)
    rows, n_records = record_numbers(table.num_rows, invalid)
    bad = _invalid_rejects(invalid, ctx)
    if table.num_rows == 0:
        return ReaderBatch(empty_obs(), bad), n_records
    obs, rej = ctx.convert(table, pa.array(rows), ctx.source_file)
    if bad.num_rows:
        rej = pa.concat_tables([bad, rej])
    return ReaderBatch(obs, rej), n_records


def _string_block(ctx: _Member, block: pa.Buffer) -> tuple[ReaderBatch, int]:
    """Parse with every column as text, typing each value defensively.

    Fields that cannot be typed quarantine their record (``invalid_timestamp``
    or ``parse_error``, with the raw text and the offending field).
    """
    table, invalid = parse_block(block, ctx.column_names, ctx.string_options)
    rows, n_records = record_numbers(table.num_rows, invalid)
    bad = _invalid_rejects(invalid, ctx)
    if table.num_rows == 0:
        return ReaderBatch(empty_obs(), bad), n_records
    layout, types = ctx.layout, ctx.types
    typed_cols = {}
    bad_mask = np.zeros(table.num_rows, dtype=bool)
    detail = np.full(table.num_rows, None, dtype=object)
    ts_bad = np.zeros(table.num_rows, dtype=bool)
    for name, typ in types.items():
        col = table.column(name).combine_chunks()
        parsed, col_bad = parse_strings(col, typ, layout.timestamp_format)
        typed_cols[name] = parsed
        new = col_bad & ~bad_mask
        if new.any():
            texts = col.to_numpy(zero_copy_only=False)
            detail[new] = [f"{name}={t!r}" for t in texts[new]]
            if pa.types.is_timestamp(typ):
                ts_bad |= new
        bad_mask |= col_bad
    typed = pa.table(typed_cols)
    rejects = [bad]
    if bad_mask.any():
        sel = np.flatnonzero(bad_mask)
        raw_cols = [pc.fill_null(table.column(n).combine_chunks().take(sel), "") for n in types]
        raws = pc.binary_join_element_wise(*raw_cols, ",")
        for reason, mask in (
            (QuarantineReason.INVALID_TIMESTAMP, ts_bad),
            (QuarantineReason.PARSE_ERROR, bad_mask & ~ts_bad),
        ):
            if not mask[sel].any():
                continue
            pick = mask[sel]
            rejects.append(
                raw_rejects(
                    reason,
                    list(detail[sel][pick]),
                    raws.filter(pa.array(pick)).to_pylist(),
                    rows[sel][pick].tolist(),
                    source=layout.source,
                    source_file=ctx.source_file,
                )
            )
        typed = typed.filter(pa.array(~bad_mask))
        rows = rows[~bad_mask]
    obs, rej = ctx.convert(typed, pa.array(rows), ctx.source_file)
    rejects.append(rej)
    return ReaderBatch(obs, pa.concat_tables(rejects)), n_records


def _invalid_rejects(invalid: list[pacsv.InvalidRow], ctx: _Member) -> pa.Table:
    """Malformed lines (wrong column count) as parse_error rows with their raw text."""
    if not invalid:
        return empty_rejects()
    return raw_rejects(
        QuarantineReason.PARSE_ERROR,
        [f"expected {r.expected_columns} columns, got {r.actual_columns}" for r in invalid],
        [r.text for r in invalid],
        [r.number for r in invalid],  # record number within the block
        source=ctx.layout.source,
        source_file=ctx.source_file,
    )


def _offset_rows(batch: ReaderBatch, offset: int) -> ReaderBatch:
    """Block-relative row numbers -> file row numbers (``offset`` records before)."""
    if not offset:
        return batch
    return ReaderBatch(
        _add_to_rows(batch.observations, offset), _add_to_rows(batch.rejects, offset)
    )


def _add_to_rows(table: pa.Table, offset: int) -> pa.Table:
    if not table.num_rows:
        return table
    i = table.schema.get_field_index("row_number")
    shifted = pc.add(table.column(i), pa.scalar(offset, pa.int64()))
    return table.set_column(i, table.schema.field(i), shifted)


def empty_obs() -> pa.Table:
    return _EMPTY_OBS
