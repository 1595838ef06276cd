"""Row order of a reader batch by (UTC day, mmsi, timestamp), and its day slices.

Computed once per batch and shared: the static reduction needs each vessel's
reports of a day in time order, and position rows buffered in this order turn
the day's big sort into a merge of sorted runs.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pyarrow as pa

from stswatch.pipeline.cleaning.columns import BatchNumbers

MS_PER_DAY = 86_400_000


def stable_argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")``, ~2.5x faster on AIS keys.

    numpy's default sort is a vectorised introsort (~2.4 ms for 80k int64
    keys against ~5.9 ms for its stable timsort) but orders equal keys
    arbitrarily. Equal (mmsi, time) keys are rare (duplicates), so only the
    runs of equal keys are re-sorted by position afterwards, which restores
    input order among them: the same permutation as a stable sort.
    """
    order = np.argsort(key)
    if len(order) < 2:
        return order
    sk = key[order]
    tie = sk[1:] == sk[:-1]
    if tie.any():
        in_run = np.zeros(len(order), dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        pos = np.flatnonzero(in_run)
        sub = order[pos]
        order[pos] = sub[np.lexsort((sub, sk[pos]))]
    return order


def batch_order(obs: pa.Table, nums: BatchNumbers | None = None) -> np.ndarray:
    """Stable row order of a batch by (UTC day, mmsi, timestamp).

    Computed once per batch and shared: the static reduction needs each
    vessel's reports of a day in time order, and position rows buffered in
    this order turn the day's big sort into a merge of sorted runs. Day
    first: a batch that crosses midnight hands each day its rows as one
    slice of the ordered rows (no gather per day), and within a day the order
    is by (mmsi, timestamp) as the day's resolution wants it.

    One packed int64 key, (day - first day, mmsi, ms of the day) in 6 + 30 +
    27 bits, is ~3x faster than a lexsort; batches spanning 64 days or more
    (long NMEA logs) take the exact lexsort instead. Rows the checks reject
    (null or out-of-range mmsi or time) get clipped keys: they are masked
    out by every user of the order.
    """
    nums = nums if nums is not None else BatchNumbers.of(obs)
    if len(nums.ts) == 0:
        return np.empty(0, dtype=np.intp)
    valid_ts = nums.ts[~nums.ts_null] if nums.ts_null.any() else nums.ts
    lo = int(valid_ts.min()) // MS_PER_DAY if len(valid_ts) else 0
    hi = int(valid_ts.max()) // MS_PER_DAY if len(valid_ts) else 0
    mmsi = np.clip(nums.mmsi, 0, _MMSI_KEY_MAX)
    if hi - lo > _DAY_KEY_MAX:
        return np.lexsort((nums.ts, mmsi, nums.ts // MS_PER_DAY))
    # ms since the first day's midnight: (day offset, ms of the day) in one
    # number below 2**33, no division per row
    key = np.clip(nums.ts - lo * MS_PER_DAY, 0, (_DAY_KEY_MAX + 1) * MS_PER_DAY - 1)
    if hi > lo:  # the day offset goes above the mmsi
        day = key // MS_PER_DAY
        key -= day * MS_PER_DAY
        np.left_shift(day, 57, out=day)
        key |= day
    np.left_shift(mmsi, 27, out=mmsi)
    key |= mmsi
    return stable_argsort(key)


#: largest mmsi and day offset that fit the packed key of :func:`batch_order`
_MMSI_KEY_MAX = 2**30 - 1  # MMSIs have 9 digits: < 2**30
_DAY_KEY_MAX = 2**6 - 1


def day_bounds(ts: np.ndarray) -> list[tuple[int, int, int]]:
    """(UTC day, start, stop) of the slices of rows in :func:`batch_order`.

    ``ts`` (ms) are rows in that order, so their days never decrease.
    """
    if len(ts) == 0:
        return []
    lo, hi = int(ts[0]) // MS_PER_DAY, int(ts[-1]) // MS_PER_DAY
    if lo == hi:
        return [(lo, 0, len(ts))]
    day = ts // MS_PER_DAY
    starts = np.flatnonzero(day[1:] != day[:-1]) + 1
    edges = [0, *starts.tolist(), len(ts)]
    return [(int(day[a]), a, b) for a, b in pairwise(edges)]
