"""The unit every reader yields: typed observations plus the rows it could not type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from stswatch.pipeline.schemas import OBSERVATION_SCHEMA, QUARANTINE_SCHEMA, QuarantineReason


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


def empty_observations() -> pa.Table:
    return OBSERVATION_SCHEMA.empty_table()


def rejects_table(
    reasons: Sequence[QuarantineReason | str],
    *,
    details: Sequence[str | None],
    source: str,
    source_file: str,
    row_numbers: Sequence[int],
    raws: Sequence[str | None],
) -> pa.Table:
    """Build reader rejects (rows that never became typed observations)."""
    n = len(reasons)
    if not (len(details) == len(row_numbers) == len(raws) == n):
        raise ValueError("rejects_table: all sequences must have the same length")
    columns = {
        "reason": pa.array([str(r) for r in reasons], pa.string()),
        "detail": pa.array(list(details), pa.string()),
        "source": pa.array([source] * n, pa.string()),
        "source_file": pa.array([source_file] * n, pa.string()),
        "row_number": pa.array(list(row_numbers), pa.int64()),
        "raw": pa.array(list(raws), pa.string()),
    }
    for f in QUARANTINE_SCHEMA:
        if f.name not in columns:
            columns[f.name] = pa.nulls(n, f.type)
    return pa.table([columns[f.name] for f in QUARANTINE_SCHEMA], schema=QUARANTINE_SCHEMA)
