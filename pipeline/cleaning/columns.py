"""Arrow columns as compact numpy, for the cleaner: nulls filled, text as int8 codes.

Every stage of the cleaner works on numpy arrays, never on Python objects per
row. These conversions are shared by the row checks, the batch order, the
position buffer and the vessel series; :class:`BatchNumbers` converts a
batch's key columns once so that none of them pays for it again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.readers.arrow_arrays import buffer_values, one_array, string_parts
from stswatch.pipeline.readers.arrow_arrays import validity as validity_of

#: Fixed vocabularies for the int8 codes of string columns in the buffer.
CLASS_VOCAB = ("A", "B")
#: Sources seen in this process (known ones first; new ones appended). Codes
#: never reach the store: strings are written, so codes need not be stable.
SOURCE_VOCAB: list[str] = ["marinecadastre", "dma", "nmea", "simulated", "stonesoup"]


def to_numpy(arr: pa.Array | pa.ChunkedArray, dtype: np.dtype, fill: float | int) -> np.ndarray:
    """A column as numpy ``dtype`` with nulls as ``fill`` (no copy when it has none)."""
    arr = one_array(arr)  # combine_chunks would copy a single chunk
    if arr.null_count:
        arr = pc.fill_null(arr, pa.scalar(fill, arr.type))
    out = arr.to_numpy(zero_copy_only=False)
    return out.astype(dtype, copy=False)


def take_values(
    arr: pa.Array | pa.ChunkedArray, idx: np.ndarray, dtype: type, fill: float | int
) -> np.ndarray:
    """``to_numpy(arr, dtype, fill)[idx]`` read off a numeric column's buffers.

    Values are gathered from the data buffer as they are, then the null rows
    among ``idx`` get ``fill``: no filled copy of the whole column first.
    """
    arr = one_array(arr)
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        return np.take(to_numpy(arr, np.dtype(dtype), fill), idx)
    out = np.take(buffer_values(arr), idx).astype(dtype, copy=False)
    valid = validity_of(arr)
    if valid is not None:
        out[~np.take(valid, idx)] = fill
    return out


def text_codes(arr: pa.Array | pa.ChunkedArray, vocab: list[str] | tuple[str, ...]) -> np.ndarray:
    """Strings -> int8 codes into ``vocab`` (-1 for null/unknown)."""
    arr = one_array(arr)
    if pa.types.is_string(arr.type) and all(len(w) == 1 and w.isascii() for w in vocab):
        return _char_codes(arr, vocab)
    idx = pc.index_in(arr, value_set=pa.array(list(vocab), pa.string()))
    return to_numpy(idx, np.int8, -1)


def _char_codes(arr: pa.Array, vocab: list[str] | tuple[str, ...]) -> np.ndarray:
    """:func:`text_codes` for one-letter words (transceiver class), read off the
    string buffers: ~10x cheaper than hashing every row. Each row's first
    byte is looked up in a 256-entry table (rows not one byte long: -1)."""
    parts = string_parts(arr)
    if parts is None:
        return np.full(len(arr), -1, dtype=np.int8)
    starts, lens, data, _ = parts
    table = np.full(256, -1, dtype=np.int8)
    for i, word in enumerate(vocab):
        table[ord(word)] = i
    first = np.take(data, np.minimum(starts, len(data) - 1))  # any byte where not one
    codes = np.take(table, first)
    codes[lens != 1] = -1  # null rows have length 0
    return codes


def one_value(arr: pa.Array) -> str | None:
    """The single value of a string array without nulls, read off its buffers
    (every batch of a file carries one source name), else None."""
    if not len(arr) or arr.null_count or not pa.types.is_string(arr.type):
        return None
    first = arr[0].as_py()
    parts = string_parts(arr)
    if parts is None:  # no data bytes: every value empty
        return first
    starts, lens, data, _ = parts
    text = first.encode()
    if not (lens == len(text)).all():
        return None
    lo = int(starts[0])
    whole = data[lo : lo + len(text) * len(arr)]
    return first if np.array_equal(whole, np.frombuffer(text * len(arr), np.uint8)) else None


_SOURCE_LOCK = threading.Lock()


def source_codes(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Source names -> int8 codes into :data:`SOURCE_VOCAB`, extending it with new names."""
    arr = one_array(arr)
    # A reader batch comes from one source: one comparison of its bytes
    # instead of hashing every row twice (unique, then index_in).
    first = one_value(arr)
    if first is not None:
        with _SOURCE_LOCK:
            if first not in SOURCE_VOCAB:
                SOURCE_VOCAB.append(first)
            code = SOURCE_VOCAB.index(first)
        return np.full(len(arr), code, dtype=np.int8)
    with _SOURCE_LOCK:  # batches are checked in worker threads
        for value in pc.unique(arr).to_pylist():
            if value is not None and value not in SOURCE_VOCAB:
                SOURCE_VOCAB.append(value)
        vocab = tuple(SOURCE_VOCAB)
    return text_codes(arr, vocab)


@dataclass(frozen=True)
class BatchNumbers:
    """The key columns of a batch as numpy, converted once and shared.

    The row checks, the batch order, the static reduction and the position
    buffer all need mmsi, time and position; converting them once instead
    of in each step saves a quarter of the per-batch checks.
    """

    mmsi: np.ndarray  # int64, -1 = null
    ts: np.ndarray  # int64 ms since epoch, 0 = null
    ts_null: np.ndarray
    lat: np.ndarray  # float64, NaN = null
    lon: np.ndarray
    has_pos: np.ndarray

    @classmethod
    def of(cls, obs: pa.Table) -> BatchNumbers:
        ts_col = obs["timestamp"]
        return cls(
            mmsi=to_numpy(obs["mmsi"], np.int64, -1),
            ts=to_numpy(ts_col.cast(pa.int64()), np.int64, 0),
            ts_null=np.asarray(ts_col.is_null().to_numpy(zero_copy_only=False), dtype=bool),
            lat=to_numpy(obs["lat"], np.float64, np.nan),
            lon=to_numpy(obs["lon"], np.float64, np.nan),
            has_pos=to_numpy(obs["has_position"], np.bool_, True),
        )
