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
    order, start = _sorted_groups(buf, day_start_ms)
    # Sorted position -> buffer row, skipped when the order is the identity.
    at: Callable[[np.ndarray], np.ndarray] = _same if order is None else order.__getitem__
    _mark_duplicates(buf, start, at, is_stored, status)
    del start
    kept = _kept_rows(status, order)
    del order, at
    jump = position_jumps(buf, kept, is_stored, cfg)
    if jump.any():
        status[kept[jump]] = Status.POSITION_JUMP
        kept = kept[~jump]
    return DayResolution(kept, status, _details(cfg))


def _sorted_groups(buf: PositionBuffer, day_start_ms: int) -> tuple[np.ndarray | None, np.ndarray]:
    """(order, start): the buffer's rows in (mmsi, timestamp) order, and which
    sorted positions start a new (mmsi, timestamp) group.

    ``order`` maps sorted position -> buffer row, None when the rows already
    are in order. The ingest hands parts already in order
    (stswatch.pipeline.ingest_day.DayRuns.gather): then every gather through
    it is skipped, ~1/4 of the day resolution's work.
    """
    n = len(buf)
    # (mmsi, time of day) packed in one int64: mmsi < 2**30, ms of day < 2**27.
    # Memory matters at 1e7 rows: build the key in place, keep indices int32.
    key = buf.cols["ts"] - day_start_ms
    shifted = buf.cols["mmsi"].astype(np.int64)
    np.left_shift(shifted, 27, out=shifted)
    key |= shifted
    del shifted
    order: np.ndarray | None = None
    if not bool(np.all(key[1:] >= key[:-1])):
        order = np.argsort(key, kind="stable").astype(np.int32)  # ties: stored first
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
    return order, start


def _mark_duplicates(
    buf: PositionBuffer,
    start: np.ndarray,
    at: Callable[[np.ndarray], np.ndarray],
    is_stored: np.ndarray,
    status: np.ndarray,
) -> None:
    """Set the status of every row after the first of its (mmsi, timestamp) group.

    ``start`` marks group starts in sorted order, ``at`` maps sorted positions
    to buffer rows; ``status`` is updated in place (see the module's rules).
    """
    dup_pos = np.flatnonzero(~start)  # sorted positions of non-first rows of a group
    if not len(dup_pos):
        return
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


def _kept_rows(status: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """Buffer rows still kept (new and accepted, or stored), in sorted order."""
    if order is None:
        return np.flatnonzero((status == Status.ACCEPTED) | (status == Status.STORED))
    ranked = status[order]
    return order[(ranked == Status.ACCEPTED) | (ranked == Status.STORED)]


def _details(cfg: CleaningConfig) -> dict[int, str]:
    """Detail text of each quarantine status (see :attr:`DayResolution.details`)."""
    return {
        Status.DUPLICATE_EXACT: "identical to a kept row (mmsi, timestamp and values)",
        Status.DUPLICATE_MMSI_TIME: "a kept row has the same mmsi and timestamp, other values",
        Status.POSITION_JUMP: (
            f"implied speed > {cfg.max_jump_speed_kn:g} kn and distance > "
            f"{cfg.min_jump_distance_m:g} m to both neighbours"
        ),
    }
