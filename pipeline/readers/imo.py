"""IMO numbers from text: 'IMO1234567' or bare digits -> int32, junk -> null.

Nearly every non-blank value is 'IMO' + 7 digits (MarineCadastre) or 7 bare
digits (DMA), so those are read straight from the string bytes, eight at a
time; the rare other spellings go through a general per-distinct-value parse.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.readers.arrow_arrays import digits_at, one_array, string_parts
from stswatch.pipeline.readers.observation_columns import (
    distinct_or_rows,
    per_distinct,
    with_fallback,
)


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
        value, good = digits_at(data, np.take(starts, idx), 7)
        done[idx[good]] = True
        number[idx[good]] = value[good]
    for width in (11, 12):  # "IMO" + 8 or 9 digits: a few rows, byte by byte
        idx = np.flatnonzero(lens == width)
        if len(idx):
            first = np.take(starts, idx)
            good = np.take(data, first) == 73
            good &= np.take(data, first + 1) == 77
            good &= np.take(data, first + 2) == 79
            value, digits = digits_at(data, first + 3, width - 3)
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
