"""What every reader yields and raises: typed observations, the rows it could not type.

Also the builders of those tables (observations with missing columns as
nulls, quarantine rows for typed or raw records), shared by the CSV dialects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from stswatch.pipeline.readers.arrow_arrays import one_array, repeat_text
from stswatch.pipeline.schemas import OBSERVATION_SCHEMA, QUARANTINE_SCHEMA


class ReaderError(ValueError):
    """The input cannot be read as the expected format (message names the file)."""


@dataclass(frozen=True)
class ReaderBatch:
    """One batch of a source file.

    ``observations`` follows :data:`OBSERVATION_SCHEMA` and still needs cleaning;
    ``rejects`` follows :data:`QUARANTINE_SCHEMA` and holds records the reader
    could not type at all (malformed CSV line, NMEA checksum error...). Input
    records of a file = sum of both lengths over all its batches.
    """

    observations: pa.Table
    rejects: pa.Table

    def __post_init__(self) -> None:
        if not self.observations.schema.equals(OBSERVATION_SCHEMA):
            raise TypeError("ReaderBatch.observations must follow OBSERVATION_SCHEMA")
        if not self.rejects.schema.equals(QUARANTINE_SCHEMA):
            raise TypeError("ReaderBatch.rejects must follow QUARANTINE_SCHEMA")

    @property
    def n_records(self) -> int:
        return self.observations.num_rows + self.rejects.num_rows


def observations_table(columns: dict[str, pa.Array], n: int) -> pa.Table:
    """Assemble an OBSERVATION_SCHEMA table; missing columns become nulls."""
    arrays = []
    for f in OBSERVATION_SCHEMA:
        col = columns.get(f.name)
        if col is None:
            arrays.append(pa.nulls(n, f.type))
        else:
            col = one_array(col)
            arrays.append(col if col.type == f.type else col.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=OBSERVATION_SCHEMA)


def csv_observations(
    columns: dict[str, pa.Array], n: int, source: str, source_file: str, rows: pa.Array
) -> pa.Table:
    """A CSV block's typed columns as observations: every row has a position
    column set, and carries its source, file and record number."""
    columns["has_position"] = pa.array(np.ones(n, dtype=bool))
    columns["source"] = repeat_text(source, n)
    columns["source_file"] = repeat_text(source_file, n)
    columns["row_number"] = rows
    return observations_table(columns, n)


def rejects_from_observations(
    obs: pa.Table, reasons: list[str] | str, details: pa.Array | list[str | None] | None
) -> pa.Table:
    """Quarantine rows for typed observations (keeps mmsi/time/position)."""
    n = obs.num_rows
    if isinstance(reasons, str):
        reasons = [reasons] * n
    cols = {
        "reason": pa.array(reasons, pa.string()),
        "detail": pa.array(details, pa.string())
        if not isinstance(details, pa.Array)
        else details.cast(pa.string())
        if details is not None
        else pa.nulls(n, pa.string()),
        "raw": pa.nulls(n, pa.string()),
    }
    arrays = []
    for f in QUARANTINE_SCHEMA:
        if f.name in cols:
            arrays.append(cols[f.name])
        else:
            arrays.append(obs.column(f.name).combine_chunks().cast(f.type))
    return pa.Table.from_arrays(arrays, schema=QUARANTINE_SCHEMA)


def raw_rejects(
    reason: str,
    details: list[str | None],
    raws: list[str | None],
    row_numbers: list[int | None],
    *,
    source: str,
    source_file: str,
) -> pa.Table:
    """Quarantine rows for records that never became observations (raw text kept)."""
    n = len(raws)
    cols = {
        "reason": pa.array([reason] * n, pa.string()),
        "detail": pa.array(details, pa.string()),
        "source": pa.array([source] * n, pa.string()),
        "source_file": pa.array([source_file] * n, pa.string()),
        "row_number": pa.array(row_numbers, pa.int64()),
        "raw": pa.array(raws, pa.string()),
    }
    return pa.Table.from_arrays(
        [cols.get(f.name, pa.nulls(n, f.type)) for f in QUARANTINE_SCHEMA],
        schema=QUARANTINE_SCHEMA,
    )


_EMPTY_REJECTS = QUARANTINE_SCHEMA.empty_table()
_EMPTY_OBS = OBSERVATION_SCHEMA.empty_table()


def empty_rejects() -> pa.Table:
    """The empty quarantine table (one shared instance)."""
    return _EMPTY_REJECTS


def empty_obs() -> pa.Table:
    """The empty observations table (one shared instance)."""
    return _EMPTY_OBS
