"""NOAA MarineCadastre daily AIS CSV (``AIS_YYYY_MM_DD.csv`` / ``.zip``).

Layouts handled, told apart by their headers:

* current (2015+) 17 columns: ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,
  VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,
  TransceiverClass``; some years write integers as ``95.0``;
* 2014-era: ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,ROT,Status,VoyageID,
  ...`` (static data lived in a separate table, so rows carry no identity);
* MarineCadastre-derived extracts with ``Latitude``/``Longitude``/``UTC``
  headers (e.g. the PAMscapes example).

Sentinels become nulls: LAT 91, LON 181, SOG 102.3, COG 360, Heading 511;
``IMO1234567`` becomes the integer 1234567. Times are UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.common import (
    CsvLayout,
    ascii_digits,
    column_getter,
    csv_observations,
    distinct_or_rows,
    empty_rejects,
    float_array,
    float_values,
    header_fields,
    imo_from_text,
    masked_array,
    per_distinct,
    position_columns,
    read_csv_batches,
    string_parts,
    text_column,
    to_float,
    with_fallback,
)
from stswatch.pipeline.schemas import Source

#: canonical name -> accepted header spellings (compared case-insensitively)
ALIASES: dict[str, tuple[str, ...]] = {
    "mmsi": ("MMSI",),
    "timestamp": ("BaseDateTime", "UTC", "Timestamp"),
    "lat": ("LAT", "Latitude"),
    "lon": ("LON", "Longitude"),
    "sog": ("SOG",),
    "cog": ("COG",),
    "heading": ("Heading",),
    "vessel_name": ("VesselName",),
    "imo": ("IMO",),
    "callsign": ("CallSign",),
    "ship_type": ("VesselType",),
    "nav_status": ("Status",),
    "length": ("Length", "vesselLength"),
    "width": ("Width",),
    "draught": ("Draft",),
    "transceiver_class": ("TransceiverClass",),
}

_READ_TYPES: dict[str, pa.DataType] = {
    "mmsi": pa.float64(),  # float: some extracts write "367752440.0"; exact below 2**53
    "timestamp": pa.timestamp("ms"),
    "lat": pa.float64(),
    "lon": pa.float64(),
    "sog": pa.float64(),
    "cog": pa.float64(),
    "heading": pa.float64(),
    "vessel_name": pa.string(),
    "imo": pa.string(),
    "callsign": pa.string(),
    "ship_type": pa.string(),  # numeric code, but free text in some extracts
    "nav_status": pa.float64(),
    "length": pa.float64(),
    "width": pa.float64(),
    "draught": pa.float64(),
    "transceiver_class": pa.string(),
}

#: MarineCadastre's pre-2018 US vessel type codes (1001..1025) -> nearest ITU code.
US_VESSEL_TYPE_TO_ITU: dict[int, int] = {
    1001: 30, 1002: 30, 1003: 70, 1004: 70, 1005: 90, 1006: 90, 1007: 90,
    1008: 90, 1009: 90, 1010: 90, 1011: 90, 1012: 60, 1013: 60, 1014: 60,
    1015: 60, 1016: 70, 1017: 80, 1018: 90, 1019: 37, 1020: 35, 1021: 35,
    1022: 90, 1023: 52, 1024: 80, 1025: 31,
}  # fmt: skip

REQUIRED = ("mmsi", "timestamp", "lat", "lon")

#: code -> ITU code lookup (0..99 kept, 1001..1025 mapped, rest NaN); the
#: extra last slot is NaN for "no code".
_SHIP_TYPE_LUT = np.full(1027, np.nan)
_SHIP_TYPE_LUT[:100] = np.arange(100)
for _us, _itu in US_VESSEL_TYPE_TO_ITU.items():
    _SHIP_TYPE_LUT[_us] = _itu


def column_map(header: list[str]) -> dict[str, str]:
    """canonical name -> actual header name, for the columns present."""
    lower = {h.lower(): h for h in header}
    out = {}
    for canon, names in ALIASES.items():
        for name in names:
            if name.lower() in lower:
                out[canon] = lower[name.lower()]
                break
    return out


def looks_like(header: list[str]) -> bool:
    """True when the header carries MarineCadastre's required columns."""
    return all(k in column_map(header) for k in REQUIRED)


def _ship_type(values: pa.Array) -> pa.Array:
    """Numeric ITU code 0..99 (US codes 1001..1025 mapped); text -> null."""
    ok = pc.fill_null(pc.utf8_is_digit(values), False)
    num = pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.float64())
    arr = to_float(num)
    codes = np.where(np.isnan(arr) | (arr < 0) | (arr > 1025), -1, arr).astype(np.int64)
    out = _SHIP_TYPE_LUT[codes]  # index -1 hits the trailing NaN
    return float_array(out, pa.int16())


#: value of a 1- or 2-character digit field looked up from its first byte /
#: first two bytes (as a little-endian uint16); -1 when not all digits
_ONE_DIGIT = np.full(256, -1, np.int16)
_ONE_DIGIT[48:58] = np.arange(10)
_TWO_DIGITS = np.full(1 << 16, -1, np.int16)
_TWO_DIGITS[(np.arange(48, 58)[:, None] | (np.arange(48, 58) << 8)).ravel()] = np.arange(100)


def _ship_type_fast(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Codes written as 1-4 ASCII digits (nearly all), read from the bytes.

    One- and two-digit codes (the ITU ones) are two table lookups per row.
    """
    parts = string_parts(values)
    if parts is None or len(parts[2]) < 2:
        return None
    starts, lens, data, _ = parts
    pairs = np.ndarray((len(data) - 1,), np.dtype("<u2"), data, 0, (1,))
    # np.take: ~3x faster than fancy indexing with int32 positions
    two = np.take(_TWO_DIGITS, np.take(pairs, np.minimum(starts, len(pairs) - 1)))
    one = np.take(_ONE_DIGIT, np.take(data, np.minimum(starts, len(data) - 1)))
    code = np.where(lens == 2, two, one)
    code[(lens == 0) | (lens > 2)] = -1
    done = code >= 0
    keep = done.copy()
    wide = np.flatnonzero((lens == 3) | (lens == 4))
    if len(wide):  # the pre-2018 US codes 1001..1025
        number, ok = ascii_digits(starts[wide], lens[wide], data, 4)
        itu = _SHIP_TYPE_LUT[np.where(number <= 1025, number, -1)]
        done[wide] = ok
        keep[wide] = ok & ~np.isnan(itu)
        code[wide] = np.nan_to_num(itu)
    return code, keep, done


def ship_type_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """VesselType text -> ITU code (see :func:`_ship_type`), mostly without hashing."""
    return with_fallback(
        text_column(values), _ship_type_fast, lambda v: distinct_or_rows(v, _ship_type), pa.int16()
    )


def transceiver_class_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """TransceiverClass text -> 'A'/'B'/null (see :func:`_transceiver_class`).

    When every value is one byte long (the norm), the letter is upper-cased and
    tested on the bytes; otherwise each distinct value is mapped.
    """
    values = text_column(values)
    parts = string_parts(values)
    if parts is not None:
        starts, lens, data, valid = parts
        one = lens == 1
        if (one if valid is None else one | ~valid).all():
            letter = np.where(one, np.take(data, np.where(one, starts, 0)) & np.uint8(0xDF), 0)
            keep = (letter == 65) | (letter == 66)  # "A", "B" (either case)
            offsets = np.zeros(len(values) + 1, np.int32)
            np.cumsum(keep, out=offsets[1:])
            buffers = [np.packbits(keep, bitorder="little"), offsets, letter[keep]]
            return pa.Array.from_buffers(
                pa.string(), len(values), [pa.py_buffer(b) for b in buffers]
            )
    return per_distinct(values, _transceiver_class)


def _transceiver_class(values: pa.Array) -> pa.Array:
    """'A'/'B' in any case -> upper case; anything else -> null."""
    cls = pc.utf8_upper(values)
    return pc.if_else(
        pc.is_in(cls, value_set=pa.array(["A", "B"])), cls, pa.scalar(None, pa.string())
    )


def _make_converter(cols: dict[str, str]):
    def convert(raw: pa.Table, rows: pa.Array, source_file: str) -> tuple[pa.Table, pa.Table]:
        n = raw.num_rows
        get = column_getter(raw, cols)
        out = position_columns(get)
        status = get("nav_status")
        if status is not None:
            st, valid = float_values(status)
            keep = st >= 0
            keep &= st <= 15
            keep &= st == np.round(st)
            if valid is not None:
                keep &= valid
            out["nav_status"] = masked_array(st, keep, pa.int8())
        if (c := get("transceiver_class")) is not None:
            out["transceiver_class"] = transceiver_class_column(c)
        if (c := get("vessel_name")) is not None:
            out["vessel_name"] = text_column(c)
        if (c := get("callsign")) is not None:
            out["callsign"] = text_column(c)
        if (c := get("imo")) is not None:
            out["imo"] = imo_from_text(c)
        if (c := get("ship_type")) is not None:
            out["ship_type"] = ship_type_column(c)
        obs = csv_observations(out, n, Source.MARINECADASTRE.value, source_file, rows)
        return obs, empty_rejects()

    return convert


def read_marinecadastre(path: Path) -> Iterator[ReaderBatch]:
    """Stream a MarineCadastre CSV (plain, .gz or .zip) as reader batches."""
    path = Path(path)
    cols = column_map(header_fields(path))
    layout = CsvLayout(
        source=Source.MARINECADASTRE.value,
        column_types={cols[c]: _READ_TYPES[c] for c in cols},
    )
    return read_csv_batches(path, layout, _make_converter(cols))
