"""Day resolution: once a UTC day's rows are all known, sort them and settle duplicates.

Rules for duplicates, chosen so that re-ingesting an input gives the same
tally *and* a byte-identical store:

* the row kept for a (mmsi, timestamp) is the one already stored, if any,
  else the first new row in input order (the *candidate*);
* the candidate, when a stored row exists, is compared with it: identical ->
  accepted (it *is* in the store, so it counts as accepted and is not written
  twice); different -> ``duplicate_mmsi_time`` (the store wins: first come,
  first kept, so earlier results never change under a later ingest);
* every later new row of the key is compared with the kept row:
  ``duplicate_exact`` if identical on every position field, else
  ``duplicate_mmsi_time``. Comparing with the kept row (not with whatever
  new row came first) makes a row's verdict independent of which other
  files are ingested with it.

The rows that survive are then checked for position jumps (:mod:`.jumps`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stswatch.pipeline.cleaning.jumps import position_jumps
from stswatch.pipeline.cleaning.position_buffer import PositionBuffer
from stswatch.pipeline.config import CleaningConfig
from stswatch.pipeline.schemas import QuarantineReason

#: Columns compared for "exact duplicate" (source and provenance excluded:
#: the same ping relayed by two receivers or two feeds is one ping).
VALUE_COLUMNS = ("lat", "lon", "sog", "cog", "heading", "nav", "cls")


class Status:
    """Outcome codes of a buffered row after day resolution (int8)."""

    ACCEPTED = 0  # new row written to the store
    ALREADY_STORED = 1  # identical to a stored row: accepted, nothing to write
    DUPLICATE_EXACT = 2
    DUPLICATE_MMSI_TIME = 3
    POSITION_JUMP = 4
    STORED = 5  # a row that came from the store itself


STATUS_REASON = {
    Status.DUPLICATE_EXACT: QuarantineReason.DUPLICATE_EXACT,
    Status.DUPLICATE_MMSI_TIME: QuarantineReason.DUPLICATE_MMSI_TIME,
    Status.POSITION_JUMP: QuarantineReason.POSITION_JUMP,
}


@dataclass
class DayResolution:
    """Outcome of :func:`resolve_day` for a buffer (stored rows first)."""

    #: buffer indices of the rows to store, in canonical (mmsi, timestamp) order
    out_index: np.ndarray
    #: Status code per buffer row
    status: np.ndarray
    #: Status -> detail text of the rows quarantined with it. Details never
    #: name other rows: the same input must give the same quarantine row
    #: whatever else is ingested with it (idempotent store).
    details: dict[int, str]


def _equal_rows(buf: PositionBuffer, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    eq = np.ones(len(i), dtype=bool)
    for name in VALUE_COLUMNS:
        a, b = buf.cols[name][i], buf.cols[name][j]
        if a.dtype.kind == "f":
            eq &= (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            eq &= a == b
    return eq


def _same(pos: np.ndarray) -> np.ndarray:
    return pos


def resolve_day(
    buf: PositionBuffer, stored: int | np.ndarray, day_start_ms: int, cfg: CleaningConfig
) -> DayResolution:
    """Sort one day, resolve duplicates against stored rows, flag position jumps.

    ``stored`` marks the rows already in the store: a count (they are the
    buffer's first rows) or a boolean mask. New rows must be in input order
    relative to each other (the first new row of a key is its candidate),
    and a stored row must precede the new rows of its (mmsi, timestamp).
    Every ``ts`` must lie within the day.
    """
    n = len(buf)
    status = np.full(n, Status.ACCEPTED, dtype=np.int8)
    if isinstance(stored, np.ndarray):
        is_stored = stored
    else:
        is_stored = np.zeros(n, dtype=bool)
        is_stored[:stored] = True
    status[is_stored] = Status.STORED
    if n == 0:
        return DayResolution(np.empty(0, dtype=np.int64), status, {})
    # (mmsi, time of day) packed in one int64: mmsi < 2**30, ms of day < 2**27.
    # Memory matters at 1e7 rows: build the key in place, keep indices int32.
    key = buf.cols["ts"] - day_start_ms
    shifted = buf.cols["mmsi"].astype(np.int64)
    np.left_shift(shifted, 27, out=shifted)
    key |= shifted
    del shifted
    # Sorted position -> buffer row. The ingest hands parts already in order
    # (stswatch.pipeline.ingest_day.DayRuns.gather): then it is the identity and every
    # gather through it is skipped (``at``), ~1/4 of this function's work.
    order: np.ndarray | None = None
    if not bool(np.all(key[1:] >= key[:-1])):
        order = np.argsort(key, kind="stable").astype(np.int32)  # ties: stored first
    at: Callable[[np.ndarray], np.ndarray] = _same if order is None else order.__getitem__
    # group starts, computed in chunks so key[order] never exists whole
    start = np.empty(n, dtype=bool)
    start[0] = True
    if order is None:
        np.not_equal(key[1:], key[:-1], out=start[1:])
    else:
        step = 1 << 20
        for lo in range(1, n, step):
            hi = min(lo + step, n)
            np.not_equal(key[order[lo:hi]], key[order[lo - 1 : hi - 1]], out=start[lo:hi])
    del key
    dup_pos = np.flatnonzero(~start)  # sorted positions of non-first rows of a group
    if len(dup_pos):
        group = np.cumsum(start) - 1
        gs = np.flatnonzero(start)
        has_stored = is_stored[at(gs)]
        # new-row candidate of each group: first row, or second if the first is stored
        cand = gs + has_stored
        g_dup = group[dup_pos]
        # groups that have more than one row
        multi = np.unique(g_dup)
        # (a) candidate vs stored row
        s_groups = multi[has_stored[multi]]
        if len(s_groups):
            ci = at(cand[s_groups])
            si = at(gs[s_groups])
            same = _equal_rows(buf, ci, si)
            status[ci[same]] = Status.ALREADY_STORED
            status[ci[~same]] = Status.DUPLICATE_MMSI_TIME
        # (b) later new rows vs the group's kept row: the stored row if there
        # is one, else the candidate (so the verdict on a row does not depend
        # on which other new rows came with it: idempotent re-ingest)
        later = dup_pos[dup_pos != cand[g_dup]]
        later = later[~is_stored[at(later)]]
        if len(later):
            bi = at(later)
            ref = at(gs[group[later]])  # first row of the group: stored or candidate
            same = _equal_rows(buf, bi, ref)
            status[bi[same]] = Status.DUPLICATE_EXACT
            status[bi[~same]] = Status.DUPLICATE_MMSI_TIME
        del group
    del start
    if order is None:
        kept = np.flatnonzero((status == Status.ACCEPTED) | (status == Status.STORED))
    else:
        ranked = status[order]
        kept = order[(ranked == Status.ACCEPTED) | (ranked == Status.STORED)]
        del ranked
    del order, at
    jump = position_jumps(buf, kept, is_stored, cfg)
    if jump.any():
        status[kept[jump]] = Status.POSITION_JUMP
        kept = kept[~jump]
    details = {
        Status.DUPLICATE_EXACT: "identical to a kept row (mmsi, timestamp and values)",
        Status.DUPLICATE_MMSI_TIME: "a kept row has the same mmsi and timestamp, other values",
        Status.POSITION_JUMP: (
            f"implied speed > {cfg.max_jump_speed_kn:g} kn and distance > "
            f"{cfg.min_jump_distance_m:g} m to both neighbours"
        ),
    }
    return DayResolution(kept, status, details)
