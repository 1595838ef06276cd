"""Arrow arrays read and built without copies: numpy views of buffers, masked arrays.

The readers and the cleaner touch every value of ~10 million rows a day, so
they work on the Arrow buffers directly: numpy views of the values, the
validity bitmap, the offsets and bytes of string arrays, and arrays built
from numpy buffers with their null bitmap (no per-row Python object, no
filled copy of a column made only to be converted again).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


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
        value, good = digits_at(data, starts[idx], width)
        idx = idx[good]
        ok[idx] = True
        number[idx] = value[good]
    return number, ok


def digits_at(data: np.ndarray, first: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(int64 value, all-ASCII-digits) of the ``width`` bytes from each of ``first``."""
    value = np.zeros(len(first), np.int64)
    good = np.ones(len(first), bool)
    for k in range(width):
        digit = np.take(data, first + k) - np.uint8(48)  # non-digits wrap above 9
        good &= digit <= 9
        value *= 10
        value += digit
    return value, good


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
