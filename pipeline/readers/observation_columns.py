"""A layout's raw CSV columns typed into observation columns, vectorised.

Each CSV dialect reads its columns as Arrow types, then maps them onto
OBSERVATION_SCHEMA with these helpers: AIS "not available" sentinels and
out-of-range values to null, vocabularies to codes, naive times to UTC, and
static text mapped once per distinct value instead of once per row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.readers.arrow_arrays import float_values, masked_array, one_array, validity
from stswatch.pipeline.schemas import TIMESTAMP_TYPE


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


def distinct_or_rows(values: pa.Array, func: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``func`` by :func:`per_distinct` on many rows, directly on a few (the
    hashing pass and the take cost more than they save on ~100 rows)."""
    return per_distinct(values, func) if len(values) > 1024 else func(values)


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
