"""Stone Soup AIS track CSV (``Time, MMSI, Latitude_degrees, Longitude_degrees, ...``).

The Solent sample of the Stone Soup project (``stonesoup_SolentAIS_*.csv``)
holds dense real tracks (a fix every few seconds) in a busy harbour: the
detector tests need it to show that vessels moored together inside a port
are *not* flagged. Times are ``YYYY-MM-DD HH:MM:SS.fff`` UTC; rows carry no
static data.

The ``source`` column is ``"stonesoup"`` (not a :class:`~stswatch.pipeline.schemas.Source`
member, since the schema module is not this reader's to change).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.common import (
    CsvLayout,
    csv_observations,
    empty_rejects,
    float_array,
    header_fields,
    read_csv_batches,
    sentinel_to_null,
    timestamp_utc,
    to_float,
)

SOURCE = "stonesoup"
COLUMN_TYPES: dict[str, pa.DataType] = {
    "Time": pa.timestamp("ms"),
    "MMSI": pa.float64(),
    "Latitude_degrees": pa.float64(),
    "Longitude_degrees": pa.float64(),
    "COG_degrees": pa.float64(),
    "SOG_knots": pa.float64(),
}
REQUIRED = ("Time", "MMSI", "Latitude_degrees", "Longitude_degrees")


def looks_like(header: list[str]) -> bool:
    return all(c in header for c in REQUIRED)


def _convert(raw: pa.Table, rows: pa.Array, source_file: str) -> tuple[pa.Table, pa.Table]:
    n = raw.num_rows
    out: dict[str, pa.Array] = {}
    mmsi = to_float(raw.column("MMSI"))
    out["mmsi"] = float_array(np.where(np.abs(mmsi) < 2**62, mmsi, np.nan), pa.int64())
    out["timestamp"] = timestamp_utc(raw.column("Time"))
    lat = to_float(raw.column("Latitude_degrees"))
    lon = to_float(raw.column("Longitude_degrees"))
    out["lat"] = float_array(np.where(lat == 91.0, np.nan, lat), pa.float64())
    out["lon"] = float_array(np.where(lon == 181.0, np.nan, lon), pa.float64())
    if "SOG_knots" in raw.column_names:
        sog = sentinel_to_null(to_float(raw.column("SOG_knots")), sentinel=102.3, lo=0, hi=102.3)
        out["sog_kn"] = float_array(sog, pa.float32())
    if "COG_degrees" in raw.column_names:
        cog = sentinel_to_null(to_float(raw.column("COG_degrees")), sentinel=360, lo=0, hi=360)
        out["cog_deg"] = float_array(cog, pa.float32())
    return csv_observations(out, n, SOURCE, source_file, rows), empty_rejects()


def read_stonesoup(path: Path) -> Iterator[ReaderBatch]:
    """Stream a Stone Soup AIS CSV as reader batches."""
    path = Path(path)
    header = header_fields(path)
    layout = CsvLayout(
        source=SOURCE, column_types={k: v for k, v in COLUMN_TYPES.items() if k in header}
    )
    return read_csv_batches(path, layout, _convert)
