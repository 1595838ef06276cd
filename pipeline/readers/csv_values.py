"""Typing CSV text without raising, and mending bytes that are not UTF-8.

The CSV reader's safety net (:mod:`.csv_reader`): when typed parsing fails
a block, every column is read as bytes and typed here value by value, with
a mask of the values that are bad; a block pyarrow cannot parse at all
because a malformed line holds bytes that are not UTF-8 is mended first.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Line ends as pyarrow's CSV parser sees them (kept by the split: a capture group).
_LINE_ENDS = re.compile(rb"(\r\n|\r|\n)")


def mend_utf8(block: pa.Buffer) -> tuple[pa.Buffer, dict[int, bytes]]:
    """The block with undecodable bytes replaced, and the original lines by record number.

    Record numbers count non-empty lines from 1, as pyarrow does; line ends
    are kept, so every record keeps its number.
    """
    parts = _LINE_ENDS.split(block.to_pybytes())
    originals: dict[int, bytes] = {}
    record = 0
    for i in range(0, len(parts), 2):  # lines at even indices, line ends between
        line = parts[i]
        if not line:
            continue
        record += 1
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            originals[record] = line
            parts[i] = line.decode("utf-8", "replace").encode("utf-8")
    return pa.py_buffer(b"".join(parts)), originals


_FLOAT_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_ISO_RE = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]00:?00)?\s*$"


def utf8_or_null(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """A binary column as text: (strings, mask of values that are not UTF-8, now null).

    Checked as a whole first (the common case costs one validation pass);
    value by value only when that fails.
    """
    if not pa.types.is_binary(values.type):
        return values, np.zeros(len(values), dtype=bool)
    try:
        return values.cast(pa.string()), np.zeros(len(values), dtype=bool)
    except pa.ArrowInvalid:
        pass
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values.to_pylist()):
        if value is not None:
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                bad[i] = True
    kept = pc.if_else(pa.array(bad), pa.scalar(None, values.type), values)
    return kept.cast(pa.string()), bad


def has_fractions(table: pa.Table, columns: tuple[str, ...]) -> bool:
    for name in columns:
        if name in table.column_names:
            values = table.column(name)
            if pa.types.is_floating(values.type):
                vals = values.to_numpy()
                with np.errstate(invalid="ignore"):
                    if np.any(np.isfinite(vals) & (vals != np.floor(vals))):
                        return True
    return False


def parse_strings(
    values: pa.Array,
    typ: pa.DataType,
    timestamp_format: str | None = None,
    *,
    whole_number: bool = False,
) -> tuple[pa.Array, np.ndarray]:
    """Type a string column without raising: (typed array, bad-value mask).

    Null/blank input is a null output and *not* bad; a non-blank value that
    does not parse is null in the output and True in the mask. With
    ``whole_number`` (and for integer types) a value with a fraction is bad,
    never truncated.
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
        if whole_number or not pa.types.is_floating(typ):
            whole = pc.fill_null(pc.equal(parsed, pc.floor(parsed)), True)
            ok = pc.and_(ok, whole)
            parsed = pc.if_else(whole, parsed, pa.scalar(None, pa.float64()))
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
