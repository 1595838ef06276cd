"""Cleaning: every observation becomes a position, a vessel report, or a quarantine row.

Two stages, both vectorised (numpy/Arrow, no Python object per row):

1. **Row checks** (:func:`split_batch`, :mod:`.row_checks`), applied to each
   reader batch as it streams in: missing timestamp, invalid MMSI, non-vessel
   MMSI, impossible coordinates. Each batch is put in (UTC day, mmsi, time)
   order once (:mod:`.batch_order`); survivors are kept in a compact columnar
   :class:`PositionBuffer` (:mod:`.position_buffer`) so a 10-million-row day
   fits in well under a gigabyte.
2. **Day resolution** (:func:`resolve_day`, :mod:`.day_resolution`), once per
   UTC day when all of its rows are known: sort by (mmsi, timestamp), exact
   duplicates, same-(mmsi, timestamp) duplicates, and single-ping position
   jumps (:mod:`.jumps`).

Static data (name, IMO, dimensions, draught...) becomes a change series per
vessel and day (:mod:`.vessel_series`). :func:`clean` (:mod:`.whole_table`)
runs both stages on an in-memory table; the streaming ingest runs them batch
by batch and day by day. Modules:

* ``columns``: Arrow columns as numpy, int8 codes of text, :class:`BatchNumbers`
* ``position_buffer``: :class:`PositionBuffer`, rows back to store tables
* ``row_checks``: :func:`split_batch`, :class:`BatchSplit`, :func:`row_reasons`
* ``batch_order``: :func:`batch_order`, :func:`day_bounds`, :func:`stable_argsort`
* ``day_resolution``: :func:`resolve_day`, :class:`Status`, duplicate rules
* ``jumps``: :func:`position_jumps`, :func:`haversine_m`
* ``vessel_series``: :func:`static_candidates`, :func:`vessel_series`
* ``whole_table``: :func:`clean`, :class:`CleanResult`
"""

from __future__ import annotations

from stswatch.pipeline.cleaning.batch_order import (
    MS_PER_DAY,
    batch_order,
    day_bounds,
    stable_argsort,
)
from stswatch.pipeline.cleaning.columns import CLASS_VOCAB, SOURCE_VOCAB, BatchNumbers
from stswatch.pipeline.cleaning.day_resolution import (
    STATUS_REASON,
    VALUE_COLUMNS,
    DayResolution,
    Status,
    resolve_day,
)
from stswatch.pipeline.cleaning.jumps import EARTH_RADIUS_M, M_PER_NM, haversine_m, position_jumps
from stswatch.pipeline.cleaning.position_buffer import BUFFER_DTYPES, PositionBuffer
from stswatch.pipeline.cleaning.row_checks import REASON_ORDER, BatchSplit, row_reasons, split_batch
from stswatch.pipeline.cleaning.vessel_series import (
    STATIC_COLUMNS,
    static_candidates,
    vessel_series,
)
from stswatch.pipeline.cleaning.whole_table import CleanResult, clean

__all__ = [
    "BUFFER_DTYPES",
    "CLASS_VOCAB",
    "EARTH_RADIUS_M",
    "MS_PER_DAY",
    "M_PER_NM",
    "REASON_ORDER",
    "SOURCE_VOCAB",
    "STATIC_COLUMNS",
    "STATUS_REASON",
    "VALUE_COLUMNS",
    "BatchNumbers",
    "BatchSplit",
    "CleanResult",
    "DayResolution",
    "PositionBuffer",
    "Status",
    "batch_order",
    "clean",
    "day_bounds",
    "haversine_m",
    "position_jumps",
    "resolve_day",
    "row_reasons",
    "split_batch",
    "stable_argsort",
    "static_candidates",
    "vessel_series",
]
