"""AIS gaps ("going dark") and their link to rendezvous.

A transfer partner that switches its transponder off shortly before or after a
meeting is one of the strongest signals analysts use; GFW's ``pipe-gaps``
flags silences of 6 h or more. Here a gap is two *consecutive* clean fixes of
one vessel at least ``GapConfig.min_gap_h`` apart, described by its two ends
(last fix before, first fix after), the straight-line distance between them and
the implied speed: 2 kn over 10 h means the ship waited somewhere; 12 kn means
it just sailed out of receiver range.

Data-window edges: a silence before a vessel's first fix or after its last fix
in the frame is *not* a gap, because its length is unknown (the vessel may have
been reporting just outside the window). So gaps are only ever reported with
both ends observed, and the caller widens the window (stswatch.pipeline.detection reads
neighbouring days) to see gaps that cross its edges.

Everything is vectorised: a sortedness check (one stable sort only when the
frame is not already in (mmsi, time) order), ``np.diff`` and boolean masks for
detection; ``searchsorted`` over (mmsi, time) keys for linking, so linking is
O((events + gaps) log gaps), never events x gaps.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from stswatch.detectors.events import event_ids
from stswatch.detectors.tracks import sort_positions
from stswatch.geo.coast import distance_to_coast_m
from stswatch.geo.distance import METRES_PER_NM, haversine_m
from stswatch.pipeline.config import GapConfig

GAP_COLUMNS = [
    "gap_id",
    "mmsi",
    "start_time",
    "end_time",
    "duration_h",
    "start_lat",
    "start_lon",
    "end_lat",
    "end_lon",
    "distance_m",
    "implied_speed_kn",
    "start_distance_to_coast_m",
]

LINK_COLUMNS = ["gap_before_h_a", "gap_after_h_a", "gap_before_h_b", "gap_after_h_b", "gap_ids"]

_TS = "datetime64[ms, UTC]"


def _utc_ms(values: pd.Series | np.ndarray) -> npt.NDArray[np.int64]:
    """Epoch milliseconds of tz-aware or naive-UTC timestamps."""
    s = pd.Series(values)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ms]").view(np.int64)


def _to_ts(ms: npt.NDArray[np.int64]) -> pd.Series:
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True)).astype(_TS)


def empty_gaps() -> pd.DataFrame:
    """A zero-row gap frame with the output dtypes."""
    return pd.DataFrame(
        {
            "gap_id": pd.Series([], dtype=object),
            "mmsi": pd.Series([], dtype="int32"),
            "start_time": pd.Series([], dtype=_TS),
            "end_time": pd.Series([], dtype=_TS),
            **{c: pd.Series([], dtype="float64") for c in GAP_COLUMNS[4:]},
        }
    )


def detect_gaps(positions: pd.DataFrame, cfg: GapConfig) -> pd.DataFrame:
    """Gaps of at least ``cfg.min_gap_h`` between consecutive fixes of each vessel.

    ``positions`` holds clean fixes (POSITION_SCHEMA columns; only mmsi,
    timestamp, lat, lon are read), in any order. Returns one row per gap,
    sorted by (mmsi, start_time), with a stable ``gap_id`` hashed from the
    vessel and the time of the last fix before the silence.
    """
    if positions.empty:
        return empty_gaps()
    # The store (and resampling) keep pings sorted by (mmsi, timestamp):
    # sort_positions checks that in one linear pass and sorts only when needed,
    # instead of a two-key lexsort of every ping (seconds at 10 M pings).
    order, t_ms = sort_positions(positions)
    mmsi_col = positions["mmsi"]
    # int32/int64 columns are viewed, not copied (80 MB per copy at 10 M pings).
    mmsi = (
        mmsi_col.to_numpy()
        if mmsi_col.dtype in (np.int32, np.int64)
        else mmsi_col.to_numpy(np.int64)
    )
    lat = positions["lat"].to_numpy(np.float64)
    lon = positions["lon"].to_numpy(np.float64)
    if order is not None:
        mmsi, t_ms, lat, lon = mmsi[order], t_ms[order], lat[order], lon[order]

    dt_ms = np.diff(t_ms)
    is_gap = (mmsi[1:] == mmsi[:-1]) & (dt_ms >= cfg.min_gap_h * 3_600_000.0)
    i = np.nonzero(is_gap)[0]
    if i.size == 0:
        return empty_gaps()
    j = i + 1
    mmsi = mmsi.astype(np.int64, copy=False)
    duration_h = dt_ms[i] / 3_600_000.0
    distance_m = haversine_m(lat[i], lon[i], lat[j], lon[j])
    out = pd.DataFrame(
        {
            "gap_id": event_ids(mmsi[i], mmsi[i], t_ms[i].astype("datetime64[ms]"), kind="gap"),
            "mmsi": mmsi[i].astype(np.int32),
            "start_time": _to_ts(t_ms[i]),
            "end_time": _to_ts(t_ms[j]),
            "duration_h": duration_h,
            "start_lat": lat[i],
            "start_lon": lon[i],
            "end_lat": lat[j],
            "end_lon": lon[j],
            "distance_m": distance_m,
            "implied_speed_kn": distance_m / METRES_PER_NM / duration_h,
            "start_distance_to_coast_m": distance_to_coast_m(lat[i], lon[i]),
        }
    )
    return out[GAP_COLUMNS]


def _window_max(
    keys: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    lo_keys: npt.NDArray[np.int64],
    hi_keys: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Max of ``values`` whose sorted ``keys`` lie in [lo, hi] per query (0.0 if none).

    Also returns the [start, stop) index range of each query, for the id lists.
    """
    start = np.searchsorted(keys, lo_keys, side="left")
    stop = np.searchsorted(keys, hi_keys, side="right")
    out = np.zeros(lo_keys.size, dtype=np.float64)
    has = stop > start
    if has.any() and values.size:
        # Windows are short (a vessel rarely has more than a few gaps a day),
        # so expanding every [start, stop) range is cheap and exact.
        lens = stop - start
        idx = np.repeat(start[has], lens[has]) + _ramp(lens[has])
        group = np.repeat(np.nonzero(has)[0], lens[has])
        np.maximum.at(out, group, values[idx])
    return out, start, stop


def _ramp(lens: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """[0..l0-1, 0..l1-1, ...] without a Python loop."""
    total = int(lens.sum())
    offsets = np.repeat(np.cumsum(lens) - lens, lens)
    return np.arange(total) - offsets


def link_gaps(rendezvous: pd.DataFrame, gaps: pd.DataFrame, cfg: GapConfig) -> pd.DataFrame:
    """Attach each vessel's gaps around each rendezvous.

    For every event (``mmsi_a``, ``mmsi_b``, ``start_time``, ``end_time``) and
    each vessel: ``gap_before_h_*`` is the longest gap of that vessel that
    *ended* within ``cfg.link_window_h`` before the event start, and
    ``gap_after_h_*`` the longest that *started* within ``link_window_h`` after
    the event end (0.0 when none). ``gap_ids`` lists every linked gap id
    (before/after, vessel a then b). Returns a copy of ``rendezvous`` with
    these columns added (replaced if present); row order is unchanged.
    """
    out = rendezvous.copy()
    n = len(out)
    if n == 0:
        for col in LINK_COLUMNS[:-1]:
            out[col] = pd.Series([], dtype="float64")
        out["gap_ids"] = pd.Series([], dtype=object)
        return out
    window_ms = round(cfg.link_window_h * 3_600_000.0)
    ev_start = _utc_ms(out["start_time"])
    ev_end = _utc_ms(out["end_time"])
    ids_per_event: list[list[str]] = [[] for _ in range(n)]

    if len(gaps):
        g_mmsi = gaps["mmsi"].to_numpy(np.int64)
        g_start = _utc_ms(gaps["start_time"])
        g_end = _utc_ms(gaps["end_time"])
        g_dur = gaps["duration_h"].to_numpy(np.float64)
        g_id = gaps["gap_id"].to_numpy(object)
    else:
        g_mmsi = g_start = g_end = np.zeros(0, dtype=np.int64)
        g_dur = np.zeros(0)
        g_id = np.zeros(0, dtype=object)

    # Keys (vessel code, seconds since t0) packed in one int64: codes number
    # the distinct vessels (< 2^30), the time span is < 2^33 s (272 years).
    ev_mmsi = {side: out[f"mmsi_{side}"].to_numpy(np.int64) for side in ("a", "b")}
    _, codes = np.unique(np.concatenate([g_mmsi, ev_mmsi["a"], ev_mmsi["b"]]), return_inverse=True)
    codes = codes.astype(np.int64)
    g_mmsi = codes[: g_mmsi.size]
    ev_code = {"a": codes[g_mmsi.size : g_mmsi.size + n], "b": codes[g_mmsi.size + n :]}
    all_t = np.concatenate([g_start, g_end, ev_start - window_ms, ev_end + window_ms])
    t0 = int(all_t.min()) if all_t.size else 0

    def keys(m: npt.NDArray[np.int64], t_ms: npt.NDArray[np.int64], ceil: bool) -> np.ndarray:
        sec = (t_ms - t0 + (999 if ceil else 0)) // 1000
        return (m << 33) + sec

    by_end = np.lexsort((g_end, g_mmsi))
    by_start = np.lexsort((g_start, g_mmsi))
    end_keys = keys(g_mmsi[by_end], g_end[by_end], ceil=False)
    start_keys = keys(g_mmsi[by_start], g_start[by_start], ceil=False)
    for side in ("a", "b"):
        m = ev_code[side]
        before, b_lo, b_hi = _window_max(
            end_keys,
            g_dur[by_end],
            keys(m, ev_start - window_ms, ceil=True),
            keys(m, ev_start, ceil=False),
        )
        after, a_lo, a_hi = _window_max(
            start_keys,
            g_dur[by_start],
            keys(m, ev_end, ceil=True),
            keys(m, ev_end + window_ms, ceil=False),
        )
        out[f"gap_before_h_{side}"] = before
        out[f"gap_after_h_{side}"] = after
        for lo, hi, order in ((b_lo, b_hi, by_end), (a_lo, a_hi, by_start)):
            for e in np.nonzero(hi > lo)[0]:  # loop over linked events only
                ids_per_event[e].extend(g_id[order[lo[e] : hi[e]]].tolist())
    out["gap_ids"] = pd.Series(ids_per_event, index=out.index, dtype=object)
    return out
