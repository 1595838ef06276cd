"""Global Fishing Watch-style position CSV (``mmsi|ssvid, timestamp[_utc], lat, lon, ...``).

GFW's pipelines, test fixtures and data downloads carry positions as lower-case
columns: ``ssvid`` (or ``mmsi``), ``timestamp`` (or ``timestamp_utc``) as ISO
8601 with a zone (``2015-03-19T05:12:22Z``), ``lat``, ``lon`` and optionally
``speed_knots``/``speed``, ``course`` and ``heading``. The real encounter of
GFW's own test suite (``pipe-encounters`` ``real_series_data``) comes in this
layout *without* any speed, so detection judges speed from the positions
themselves (:func:`stswatch.detectors.tracks.resample_tracks`). Other columns
(e.g. ``distance_from_shore_m``) are ignored; rows carry no static data.

Times are read as ISO 8601 with a zone; a block holding naive times goes
through the readers' text fallback, which takes them as UTC like every other
layout (AIS archives are UTC by convention).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.common import (
    CsvLayout,
    column_getter,
    csv_observations,
    empty_rejects,
    header_fields,
    position_columns,
    read_csv_batches,
)

SOURCE = "gfw"

#: canonical name -> accepted header names (exact, lower case as GFW writes them)
ALIASES: dict[str, tuple[str, ...]] = {
    "mmsi": ("ssvid", "mmsi"),
    "timestamp": ("timestamp", "timestamp_utc"),
    "lat": ("lat",),
    "lon": ("lon",),
    "sog": ("speed_knots", "speed"),
    "cog": ("course",),
    "heading": ("heading",),
}

_READ_TYPES: dict[str, pa.DataType] = {
    "mmsi": pa.float64(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
    "lat": pa.float64(),
    "lon": pa.float64(),
    "sog": pa.float64(),
    "cog": pa.float64(),
    "heading": pa.float64(),
}

REQUIRED = ("mmsi", "timestamp", "lat", "lon")


def column_map(header: list[str]) -> dict[str, str]:
    """canonical name -> header name, for the columns present (exact lower-case names)."""
    present = set(header)
    out = {}
    for canon, names in ALIASES.items():
        for name in names:
            if name in present:
                out[canon] = name
                break
    return out


def looks_like(header: list[str]) -> bool:
    """Lower-case GFW names for every required column (MarineCadastre capitalises its own)."""
    return all(k in column_map(header) for k in REQUIRED)


def _make_converter(cols: dict[str, str]):
    def convert(raw: pa.Table, rows: pa.Array, source_file: str) -> tuple[pa.Table, pa.Table]:
        n = raw.num_rows
        get = column_getter(raw, cols)
        out = position_columns(get)
        return csv_observations(out, n, SOURCE, source_file, rows), empty_rejects()

    return convert


def read_gfw(path: Path) -> Iterator[ReaderBatch]:
    """Stream a GFW-style position CSV as reader batches."""
    path = Path(path)
    cols = column_map(header_fields(path))
    layout = CsvLayout(
        source=SOURCE, column_types={name: _READ_TYPES[canon] for canon, name in cols.items()}
    )
    return read_csv_batches(path, layout, _make_converter(cols))
