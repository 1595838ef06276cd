"""Row checks: each reader batch, as it streams in, split into accepted and quarantined rows.

Checks, in order of precedence (a row's first failing check is its single
reason): missing timestamp, implausible timestamp (before
``CleaningConfig.earliest_valid_date`` or more than ``max_future_h`` after the
time of ingest), invalid MMSI, non-vessel MMSI (base stations, AtoN, SAR
aircraft, daughter craft...), impossible coordinates (missing, out of range,
or *null island* 0/0). Vectorised over the whole batch; accepted rows are
handed on as masks and an order (no filtered copy of the batch).

Time of ingest is a parameter (:class:`TimeWindow`), never the wall clock:
the same batch gives the same split whenever it is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.cleaning.batch_order import batch_order
from stswatch.pipeline.cleaning.columns import BatchNumbers, to_numpy
from stswatch.pipeline.cleaning.vessel_series import static_candidates
from stswatch.pipeline.config import CleaningConfig
from stswatch.pipeline.mmsi import MmsiKind, classify_mmsi
from stswatch.pipeline.readers.arrow_arrays import one_array
from stswatch.pipeline.schemas import QUARANTINE_SCHEMA, QuarantineReason

_MS_PER_H = 3_600_000


@dataclass(frozen=True)
class TimeWindow:
    """Plausible times (ms since the epoch, inclusive); ``latest_ms`` None = no upper bound."""

    earliest_ms: int
    latest_ms: int | None = None

    @classmethod
    def of(cls, cfg: CleaningConfig, now: datetime | None) -> TimeWindow:
        """From the config and the time of ingest (None: the earliest bound only)."""
        earliest = datetime(
            cfg.earliest_valid_date.year,
            cfg.earliest_valid_date.month,
            cfg.earliest_valid_date.day,
            tzinfo=UTC,
        )
        latest = None
        if now is not None:
            aware = now if now.tzinfo else now.replace(tzinfo=UTC)
            latest = round(aware.timestamp() * 1000 + cfg.max_future_h * _MS_PER_H)
        return cls(round(earliest.timestamp() * 1000), latest)

    def describe(self) -> str:
        first = _iso(self.earliest_ms)[:10]
        if self.latest_ms is None:
            return f"before {first}"
        return f"outside {first} .. {_iso(self.latest_ms)} (time of ingest + tolerance)"


#: The default window: the earliest bound of the default config, no upper bound.
DEFAULT_WINDOW = TimeWindow.of(CleaningConfig(), None)


def _iso(ms: int) -> str:
    """ISO 8601 UTC text of any int64 ms value (plain ms beyond years 1..9999)."""
    if -62_135_596_800_000 <= ms <= 253_402_300_799_999:
        return np.datetime_as_string(np.datetime64(int(ms), "ms"), unit="s") + "Z"
    return f"{ms} ms since 1970"


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
    #: accepted rows without a position (static-only reports)
    static_only_mask: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))

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


def row_reasons(
    obs: pa.Table, nums: BatchNumbers | None = None, window: TimeWindow = DEFAULT_WINDOW
) -> np.ndarray:
    """Per-row rejection code of the row checks: index into REASON_ORDER, -1 = ok.

    Precedence: missing timestamp, implausible timestamp, invalid MMSI,
    non-vessel MMSI, invalid position (the first failing check names the
    row's single reason).
    """
    nums = nums if nums is not None else BatchNumbers.of(obs)
    n = obs.num_rows
    code = np.full(n, -1, dtype=np.int8)
    ts_null, lat, lon, has_pos = nums.ts_null, nums.lat, nums.lon, nums.has_pos
    implausible = ~ts_null & (nums.ts < window.earliest_ms)
    if window.latest_ms is not None:
        implausible |= ~ts_null & (nums.ts > window.latest_ms)
    kind = classify_mmsi(nums.mmsi)
    with np.errstate(invalid="ignore"):
        bad_pos = has_pos & (
            ~(np.abs(lat) <= 90.0) | ~(np.abs(lon) <= 180.0) | ((lat == 0.0) & (lon == 0.0))
        )
    for i, mask in enumerate(
        (
            ts_null,
            implausible,
            kind == MmsiKind.INVALID,
            (kind != MmsiKind.INVALID) & (kind != MmsiKind.SHIP),
            bad_pos,
        )
    ):
        code[(code < 0) & mask] = i
    return code


REASON_ORDER = (
    QuarantineReason.MISSING_TIMESTAMP,
    QuarantineReason.INVALID_TIMESTAMP,
    QuarantineReason.INVALID_MMSI,
    QuarantineReason.NON_VESSEL_MMSI,
    QuarantineReason.INVALID_POSITION,
)


def _quarantine_from_obs(obs: pa.Table, code: np.ndarray, window: TimeWindow) -> pa.Table:
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
    bad_time = code == REASON_ORDER.index(QuarantineReason.INVALID_TIMESTAMP)
    if bad_time.any():
        # the implausible time goes into the detail and the column is nulled:
        # a year 9999 or 1e17 ms must not break whoever reads the quarantine
        # with a narrower time type (pandas' nanoseconds end in 2262)
        ms = to_numpy(obs["timestamp"].cast(pa.int64()), np.int64, 0)
        text = np.array(details.to_pylist(), dtype=object)
        rule = window.describe()
        text[bad_time] = [f"timestamp {_iso(int(v))} {rule}" for v in ms[bad_time]]
        cols["detail"] = pa.array(text.tolist(), pa.string())
        ts = one_array(obs["timestamp"]).cast(QUARANTINE_SCHEMA.field("timestamp").type)
        cols["timestamp"] = pc.if_else(pa.array(bad_time), pa.scalar(None, ts.type), ts)
    return pa.Table.from_arrays(
        [
            cols[f.name] if f.name in cols else one_array(obs[f.name]).cast(f.type)
            for f in QUARANTINE_SCHEMA
        ],
        schema=QUARANTINE_SCHEMA,
    )


def split_batch(obs: pa.Table, window: TimeWindow = DEFAULT_WINDOW) -> BatchSplit:
    """Row checks on one reader batch (see module docstring)."""
    nums = BatchNumbers.of(obs)
    code = row_reasons(obs, nums, window)
    bad = code >= 0
    quarantine = (
        _quarantine_from_obs(obs.filter(pa.array(bad)), code[bad], window)
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
        static_only_mask=good & ~has_pos,
    )
