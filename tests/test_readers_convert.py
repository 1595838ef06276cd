"""The vectorised column kernels of the CSV readers equal the straightforward ones.

Each fast kernel (numeric columns in one masked pass; IMO, ship type and
transceiver class parsed from the string bytes) is compared with the plain
Arrow/numpy formulation it replaced, on random values including nulls, NaN,
infinities, sentinels, out-of-range numbers, odd spellings and sliced or
chunked arrays.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.pipeline.readers.arrow_arrays import float_array, to_float
from stswatch.pipeline.readers.imo import _imo_from_strings as imo_from_strings
from stswatch.pipeline.readers.imo import imo_from_text
from stswatch.pipeline.readers.marinecadastre import (
    _ship_type,
    _transceiver_class,
    ship_type_column,
    transceiver_class_column,
)
from stswatch.pipeline.readers.observation_columns import (
    NUMERIC_FIELDS,
    per_distinct,
    position_columns,
    range_to_null,
    sentinel_to_null,
)

SPECIAL = [0.0, -0.0, 0.1, 91.0, 181.0, 102.3, 360.0, 511.0, 1000.0, 30.0, 2.0**62, -(2.0**62)]
floats = st.one_of(
    st.none(),
    st.sampled_from(SPECIAL),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1000, 1200),
)
texts = st.one_of(
    st.none(),
    st.sampled_from(["", "A", "B", "a", "b", "C", "AB", " A", "IMO0000000", "IMO1234567"]),
    st.text(alphabet="0123456789IMOABab .-xé", max_size=14),
    st.from_regex(r"IMO[0-9]{5,9}", fullmatch=True),
    st.from_regex(r"[0-9]{1,5}", fullmatch=True),
)


def _column(values: list, typ: pa.DataType, cut: int, chunks: bool) -> pa.Array | pa.ChunkedArray:
    """``values`` as an Arrow column, sliced by ``cut`` rows and optionally chunked."""
    arr = pa.array([None] * cut + values, typ).slice(cut)
    if chunks and len(values) > 1:
        mid = len(values) // 2
        return pa.chunked_array([arr.slice(0, mid), arr.slice(mid)], typ)
    return arr


def _same(new: pa.Array, old: pa.Array) -> None:
    # NaN never survives as a value (it becomes null), so lists compare exactly
    assert new.type == old.type
    assert new.to_pylist() == old.to_pylist()


@settings(max_examples=300, deadline=None)
@given(st.lists(floats, max_size=40), st.integers(0, 9), st.booleans())
def test_range_to_null_equals_sentinel_to_null(values, cut, chunks):
    col = _column(values, pa.float64(), cut, chunks)
    for _, _, sentinel, lo, hi in NUMERIC_FIELDS:
        old = float_array(
            sentinel_to_null(to_float(col), sentinel=sentinel, lo=lo, hi=hi), pa.float32()
        )
        _same(range_to_null(col, pa.float32(), sentinel=sentinel, lo=lo, hi=hi), old)


@settings(max_examples=300, deadline=None)
@given(st.lists(floats, max_size=40), st.integers(0, 9), st.booleans())
def test_position_columns_equal_plain_formulation(values, cut, chunks):
    col = _column(values, pa.float64(), cut, chunks)
    ts = pa.array([0] * len(values), pa.timestamp("ms"))
    out = position_columns(lambda canon: ts if canon == "timestamp" else col)
    x = to_float(col)
    _same(out["mmsi"], float_array(np.where(np.abs(x) < 2**62, x, np.nan), pa.int64()))
    _same(out["lat"], float_array(np.where(x == 91.0, np.nan, x), pa.float64()))
    _same(out["lon"], float_array(np.where(x == 181.0, np.nan, x), pa.float64()))


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, max_size=40), st.integers(0, 9), st.booleans())
def test_text_kernels_equal_per_distinct(values, cut, chunks):
    col = _column(values, pa.string(), cut, chunks)
    plain = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    _same(imo_from_text(col), per_distinct(plain, imo_from_strings))
    _same(ship_type_column(col), per_distinct(plain, _ship_type))
    _same(transceiver_class_column(col), per_distinct(plain, _transceiver_class))


def test_imo_spellings():
    values = ["IMO1234567", "IMO0000000", "IMO12345678", "IMO01234567", "1234567", None, "", "x"]
    assert imo_from_text(pa.array(values)).to_pylist() == [
        1234567, None, None, 1234567, 1234567, None, None, None
    ]  # fmt: skip


def test_common_spellings_take_the_byte_kernels():
    from stswatch.pipeline.readers.imo import _imo_fast
    from stswatch.pipeline.readers.marinecadastre import _ship_type_fast

    imo = pa.array(["IMO1234567", "IMO0000000", "IMO9999999", "IMO0123456"])
    number, keep, done = _imo_fast(imo)
    assert done.all() and number.tolist() == [1234567, 0, 9999999, 123456]
    assert keep.tolist() == [True, False, True, False]
    code, keep, done = _ship_type_fast(pa.array(["0", "37", "099", "1004", "1026", "100"]))
    assert done.all() and keep.tolist() == [True, True, True, True, False, False]
    assert code[keep].tolist() == [0, 37, 99, 70]
