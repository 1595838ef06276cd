"""The whole-table API: :func:`clean` on an in-memory table, all days at once.

The streaming ingest (:mod:`stswatch.pipeline.ingest`) runs the same stages
batch by batch and day by day; this is the same logic for a table that fits in
memory (tests, notebooks, the simulator, training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.cleaning.batch_order import MS_PER_DAY
from stswatch.pipeline.cleaning.columns import to_numpy
from stswatch.pipeline.cleaning.day_resolution import STATUS_REASON, resolve_day
from stswatch.pipeline.cleaning.position_buffer import PositionBuffer
from stswatch.pipeline.cleaning.row_checks import split_batch
from stswatch.pipeline.cleaning.vessel_series import vessel_series
from stswatch.pipeline.config import CleaningConfig
from stswatch.pipeline.schemas import OBSERVATION_SCHEMA, POSITION_SCHEMA, VESSEL_SCHEMA


@dataclass
class CleanResult:
    """Clean tables of one in-memory cleaning run."""

    positions: pa.Table  # POSITION_SCHEMA, sorted by (mmsi, timestamp)
    vessels: pa.Table  # VESSEL_SCHEMA, sorted by (mmsi, timestamp)
    quarantine: pa.Table  # QUARANTINE_SCHEMA
    n_static_only: int = 0

    @property
    def n_accepted(self) -> int:
        return self.positions.num_rows + self.n_static_only


def clean(observations: pa.Table, cfg: CleaningConfig | None = None) -> CleanResult:
    """Clean an in-memory OBSERVATION_SCHEMA table (all days at once).

    The streaming ingest (:mod:`stswatch.pipeline.ingest`) runs the same two stages
    batch by batch and day by day; this function is the same logic for a
    table that fits in memory (tests, notebooks, the simulator).
    Every input row ends in exactly one of ``positions``, static-only
    accepted (``n_static_only``) or ``quarantine``.
    """
    cfg = cfg or CleaningConfig()
    if not observations.schema.equals(OBSERVATION_SCHEMA):
        observations = observations.select(OBSERVATION_SCHEMA.names).cast(OBSERVATION_SCHEMA)
    split = split_batch(observations)
    quarantine = [split.quarantine]
    files = sorted(set(pc.unique(split.positions["source_file"]).to_pylist()) - {None})
    origin_of = {f: i for i, f in enumerate(files)}
    parts = []
    for f in files:
        sub = split.positions.filter(pc.equal(split.positions["source_file"], f))
        parts.append(PositionBuffer.from_observations(sub, origin_of[f]))
    nofile = split.positions.filter(pc.is_null(split.positions["source_file"]))
    if nofile.num_rows:
        parts.append(PositionBuffer.from_observations(nofile, len(files)))
    buf = PositionBuffer.concat(parts)
    file_names = [*files, None]
    day = buf.cols["ts"] // MS_PER_DAY
    positions = []
    for d in np.unique(day):
        sel = np.flatnonzero(day == d)
        sub = buf.take(sel)
        res = resolve_day(sub, 0, int(d) * MS_PER_DAY, cfg)
        positions.append(sub.to_positions(res.out_index))
        q = np.flatnonzero(np.isin(res.status, list(STATUS_REASON)))
        if len(q):
            quarantine.append(
                sub.to_quarantine(
                    q,
                    [STATUS_REASON[int(s)].value for s in res.status[q]],
                    [res.details.get(int(st)) for st in res.status[q]],
                    file_names,  # type: ignore[arg-type]
                )
            )
    pos = pa.concat_tables(positions) if positions else POSITION_SCHEMA.empty_table()
    # Static series per day, like the store.
    stat = split.statics
    vessels = []
    if stat.num_rows:
        sday = to_numpy(stat["timestamp"].cast(pa.int64()), np.int64, 0) // MS_PER_DAY
        for d in np.unique(sday):
            vessels.append(vessel_series(stat.filter(pa.array(sday == d))))
    ves = pa.concat_tables(vessels) if vessels else VESSEL_SCHEMA.empty_table()
    return CleanResult(pos, ves, pa.concat_tables(quarantine), split.n_static_only)
