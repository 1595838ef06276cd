"""Row checks: each reader batch, as it streams in, split into accepted and quarantined rows.

Checks, in order of precedence (a row's first failing check is its single
reason): missing timestamp, invalid MMSI, non-vessel MMSI (base stations,
AtoN, SAR aircraft, daughter craft...), impossible coordinates (missing, out
of range, or *null island* 0/0). Vectorised over the whole batch; accepted
rows are handed on as masks and an order (no filtered copy of the batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.cleaning.batch_order import batch_order
from stswatch.pipeline.cleaning.columns import BatchNumbers, to_numpy
from stswatch.pipeline.cleaning.vessel_series import static_candidates
from stswatch.pipeline.mmsi import MmsiKind, classify_mmsi
from stswatch.pipeline.readers.arrow_arrays import one_array
from stswatch.pipeline.schemas import QUARANTINE_SCHEMA, QuarantineReason


@dataclass
class BatchSplit:
    """One reader batch after row checks."""

    observations: pa.Table  # the batch as read (OBSERVATION_SCHEMA)
    position_mask: np.ndarray  # rows that passed the checks and carry a position
    statics: pa.Table  # VESSEL_SCHEMA candidates (not yet de-duplicated)
    quarantine: pa.Table  # QUARANTINE_SCHEMA
    n_static_only: int = 0  # accepted static-only observations
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    #: row permutation of ``observations`` in (mmsi, timestamp) order (stable)
    order: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    #: key columns as numpy (for the position buffer)
    numbers: BatchNumbers | None = None

    @property
    def positions(self) -> pa.Table:
        """The accepted position rows as a table (materialised on demand)."""
        if self.position_mask.all():
            return self.observations
        return self.observations.filter(pa.array(self.position_mask))


def _detail_position(lat: pa.Array, lon: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(
        "lat=",
        pc.fill_null(lat.cast(pa.string()), "null"),
        " lon=",
        pc.fill_null(lon.cast(pa.string()), "null"),
        "",
    )


def row_reasons(obs: pa.Table, nums: BatchNumbers | None = None) -> np.ndarray:
    """Per-row rejection code of the row checks: index into REASON_ORDER, -1 = ok.

    Precedence: missing timestamp, invalid MMSI, non-vessel MMSI, invalid
    position (the first failing check names the row's single reason).
    """
    nums = nums if nums is not None else BatchNumbers.of(obs)
    n = obs.num_rows
    code = np.full(n, -1, dtype=np.int8)
    ts_null, lat, lon, has_pos = nums.ts_null, nums.lat, nums.lon, nums.has_pos
    kind = classify_mmsi(nums.mmsi)
    with np.errstate(invalid="ignore"):
        bad_pos = has_pos & (
            ~(np.abs(lat) <= 90.0) | ~(np.abs(lon) <= 180.0) | ((lat == 0.0) & (lon == 0.0))
        )
    for i, mask in enumerate(
        (
            ts_null,
            kind == MmsiKind.INVALID,
            (kind != MmsiKind.INVALID) & (kind != MmsiKind.SHIP),
            bad_pos,
        )
    ):
        code[(code < 0) & mask] = i
    return code


REASON_ORDER = (
    QuarantineReason.MISSING_TIMESTAMP,
    QuarantineReason.INVALID_MMSI,
    QuarantineReason.NON_VESSEL_MMSI,
    QuarantineReason.INVALID_POSITION,
)


def _quarantine_from_obs(obs: pa.Table, code: np.ndarray) -> pa.Table:
    reasons = pa.array([r.value for r in REASON_ORDER], pa.string()).take(
        pa.array(code.astype(np.int32))
    )
    mmsi_text = pc.fill_null(one_array(obs["mmsi"]).cast(pa.string()), "null")
    kind_names = pa.array([k.name.lower() for k in MmsiKind], pa.string()).take(
        pa.array(classify_mmsi(to_numpy(obs["mmsi"], np.int64, -1)).astype(np.int32))
    )
    details = pc.if_else(
        pc.equal(reasons, QuarantineReason.INVALID_POSITION.value),
        _detail_position(one_array(obs["lat"]), one_array(obs["lon"])),
        pc.if_else(
            pc.equal(reasons, QuarantineReason.MISSING_TIMESTAMP.value),
            pa.scalar("no timestamp in record", pa.string()),
            pc.binary_join_element_wise("mmsi=", mmsi_text, " (", kind_names, ")", ""),
        ),
    )
    cols = {"reason": reasons, "detail": details, "raw": pa.nulls(obs.num_rows, pa.string())}
    return pa.Table.from_arrays(
        [
            cols[f.name] if f.name in cols else one_array(obs[f.name]).cast(f.type)
            for f in QUARANTINE_SCHEMA
        ],
        schema=QUARANTINE_SCHEMA,
    )


def split_batch(obs: pa.Table) -> BatchSplit:
    """Row checks on one reader batch (see module docstring)."""
    nums = BatchNumbers.of(obs)
    code = row_reasons(obs, nums)
    bad = code >= 0
    quarantine = (
        _quarantine_from_obs(obs.filter(pa.array(bad)), code[bad])
        if bad.any()
        else QUARANTINE_SCHEMA.empty_table()
    )
    counts: dict[str, int] = {}
    if bad.any():
        for i, n in enumerate(np.bincount(code[bad], minlength=len(REASON_ORDER))):
            if n:
                counts[REASON_ORDER[i].value] = int(n)
    # Masks instead of filtered tables: filtering copies every column,
    # strings included, and the buffer needs a few numeric columns only.
    good = ~bad
    has_pos = nums.has_pos
    order = batch_order(obs, nums)
    return BatchSplit(
        observations=obs,
        position_mask=good & has_pos,
        statics=static_candidates(obs, good, order, nums),
        quarantine=quarantine,
        n_static_only=int((good & ~has_pos).sum()),
        quarantined_by_reason=counts,
        order=order,
        numbers=nums,
    )
