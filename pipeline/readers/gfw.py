"""Global Fishing Watch-style position CSV (``mmsi|ssvid, timestamp[_utc], lat, lon, ...``).

GFW's pipelines, test fixtures and data downloads carry positions as lower-case
columns: ``ssvid`` (or ``mmsi``), ``timestamp`` (or ``timestamp_utc``) as ISO
8601 with a zone (``2015-03-19T05:12:22Z``), ``lat``, ``lon`` and optionally
``speed_knots``/``speed``, ``course`` and ``heading``. The real encounter of
GFW's own test suite (``pipe-encounters`` ``real_series_data``) comes in this
layout *without* any speed, so detection judges speed from the positions
themselves (:func:`stswatch.detectors.tracks.resample_tracks`). Other columns
(e.g. ``distance_from_shore_m``) are ignored; rows carry no static data.

Timestamps must carry a zone (``Z`` or ``+00:00``): a naive time in this
layout is ambiguous, so such rows are quarantined as unparseable, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.common import (
    CsvLayout,
    empty_rejects,
    header_fields,
    observations_table,
    position_columns,
    read_csv_batches,
    repeat_text,
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

        def get(canon: str) -> pa.ChunkedArray | None:
            name = cols.get(canon)
            return raw.column(name) if name is not None else None

        out = position_columns(get)
        out["has_position"] = pa.array(np.ones(n, dtype=bool))
        out["source"] = repeat_text(SOURCE, n)
        out["source_file"] = repeat_text(source_file, n)
        out["row_number"] = rows
        return observations_table(out, n), empty_rejects()

    return convert


def read_gfw(path: Path) -> Iterator[ReaderBatch]:
    """Stream a GFW-style position CSV as reader batches."""
    path = Path(path)
    cols = column_map(header_fields(path))
    layout = CsvLayout(
        source=SOURCE, column_types={name: _READ_TYPES[canon] for canon, name in cols.items()}
    )
    return read_csv_batches(path, layout, _make_converter(cols))
