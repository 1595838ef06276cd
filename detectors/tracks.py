"""Track segmentation and resampling onto a global UTC grid, fully vectorised.

Why resample at all: two ships report at their own irregular rates (2 s to
several minutes, hours by satellite), so "were they 300 m apart at 14:10?"
needs both positions at the same instants. Like Global Fishing Watch we put
every vessel on a 10-minute grid; unlike a per-day grid, ours is multiples of
the interval since the Unix epoch, so ticks of different days and of separate
runs (backfill vs daily) coincide exactly and events keep their ids.

Interpolation happens only *inside* segments: a segment ends at a silence
longer than ``max_interpolation_gap_h`` (a vessel that went dark is never
"seen" meeting anyone) and at an implied speed above ``max_segment_speed_kn``
(two transmitters sharing an MMSI, a spoofed fix). A grid tick within half an
interval of a segment's first or last fix takes that fix's position (held,
``interpolated=False``), so a ship reporting every 20 minutes still lands on
the grid. The whole computation is a few numpy passes over the sorted pings
(per-segment tick counts, ``np.repeat``, ``np.searchsorted`` for the bracketing
fixes): no Python loop per ping or per vessel.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pandas as pd

from stswatch.geo.distance import (
    METRES_PER_DEGREE,
    METRES_PER_NM,
    delta_lon,
    equirectangular_m,
    implied_speed_kn,
    wrap_lon,
)
from stswatch.pipeline.config import TrackConfig

#: Column order and dtypes of the resampled frame (docs/ARCHITECTURE.md).
RESAMPLED_COLUMNS = ("mmsi", "timestamp", "lat", "lon", "sog_kn", "segment", "interpolated")
TIMESTAMP_DTYPE = "datetime64[ms, UTC]"

_MS_PER_H = 3_600_000


def empty_resampled() -> pd.DataFrame:
    """A zero-row resampled frame with the documented dtypes."""
    return pd.DataFrame(
        {
            "mmsi": np.empty(0, np.int32),
            "timestamp": pd.Series(np.empty(0, "datetime64[ms]")).dt.tz_localize("UTC"),
            "lat": np.empty(0, np.float64),
            "lon": np.empty(0, np.float64),
            "sog_kn": np.empty(0, np.float32),
            "segment": np.empty(0, np.int32),
            "interpolated": np.empty(0, bool),
        }
    )


def timestamps_to_ms(values: pd.Series | npt.ArrayLike) -> npt.NDArray[np.int64]:
    """UTC timestamps (any pandas datetime resolution, tz-aware or naive UTC) as epoch ms.

    A ``datetime64[ms, UTC]`` column (the store's type) is returned as a
    zero-copy int64 view: on 10 M pings every avoided copy is 80 MB.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = pd.to_datetime(s, utc=True)
    arr = s.array
    ints = np.asarray(arr.asi8)
    per_ms = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}[arr.unit]
    if per_ms is None:
        return ints * 1_000
    return ints if per_ms == 1 else ints // per_ms


def ms_to_timestamps(ms: npt.NDArray[np.int64]) -> pd.Series:
    """Epoch milliseconds as a ``datetime64[ms, UTC]`` Series (no copy of the data)."""
    return pd.Series(ms.astype("datetime64[ms]")).dt.tz_localize("UTC")


def _mmsi_array(positions: pd.DataFrame) -> np.ndarray:
    """MMSIs as a plain integer array, zero-copy for the store's int32 column."""
    col = positions["mmsi"]
    if col.dtype in (np.int32, np.int64):
        return col.to_numpy()
    return col.to_numpy(dtype=np.int64)


def sort_positions(positions: pd.DataFrame) -> tuple[npt.NDArray[np.intp] | None, np.ndarray]:
    """Order of rows by (mmsi, timestamp), or None when already sorted; also epoch ms.

    The store keeps each day sorted by (mmsi, timestamp), so a window read
    day by day is a few sorted runs; a stable sort (timsort) merges those runs
    in near-linear time, and a sorted frame is detected in one pass.
    """
    t = timestamps_to_ms(positions["timestamp"])
    mmsi = _mmsi_array(positions)
    n = t.size
    if n == 0:
        return None, t
    same = mmsi[1:] == mmsi[:-1]
    if np.all((mmsi[1:] > mmsi[:-1]) | (same & (t[1:] >= t[:-1]))):
        return None, t
    _, inv = np.unique(mmsi, return_inverse=True)
    t_rel = t - t.min()
    key = (inv.astype(np.int64) << 40) | t_rel
    return np.argsort(key, kind="stable"), t


#: Hops judged per chunk when segmenting: bounds the float temporaries of the
#: speed test to ~100 MB whatever the day's size.
_SEGMENT_CHUNK = 1_000_000


def _continuations(
    mmsi: np.ndarray,
    t: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    cfg: TrackConfig,
) -> npt.NDArray[np.bool_]:
    """For each pair of consecutive sorted fixes, True when they belong to one segment.

    A segment breaks at a new vessel, a silence over ``max_interpolation_gap_h``,
    an implied speed over ``max_segment_speed_kn`` or a repeated timestamp. The speed test compares
    squared equirectangular hops in degrees with the squared allowed distance
    (no sqrt, no division), chunk by chunk to keep temporaries small.
    """
    n_hops = max(t.size - 1, 0)
    cont = np.empty(n_hops, dtype=bool)
    max_gap_ms = cfg.max_interpolation_gap_h * _MS_PER_H
    deg_per_ms = cfg.max_segment_speed_kn * METRES_PER_NM / _MS_PER_H / METRES_PER_DEGREE
    for lo in range(0, n_hops, _SEGMENT_CHUNK):
        hi = min(lo + _SEGMENT_CHUNK, n_hops)
        a, b = slice(lo, hi), slice(lo + 1, hi + 1)
        dt_ms = t[b] - t[a]
        dy = lat[b] - lat[a]
        dx = delta_lon(lon[a], lon[b]) * np.cos(np.radians(lat[a]))
        allowed = deg_per_ms * dt_ms
        cont[a] = (
            (mmsi[b] == mmsi[a])
            & (dt_ms > 0)
            & (dt_ms <= max_gap_ms)
            & (dy * dy + dx * dx <= allowed * allowed)
        )
    return cont


def _interpolate_chunk(
    t: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    sog: npt.NDArray[np.float32],
    first_fix: npt.NDArray[np.int64],
    last_fix: npt.NDArray[np.int64],
    k0: npt.NDArray[np.int64],
    n_ticks: npt.NDArray[np.int64],
    interval_ms: int,
    tick_ms: npt.NDArray[np.int64],
    out_lat: npt.NDArray[np.float64],
    out_lon: npt.NDArray[np.float64],
    out_sog: npt.NDArray[np.float32],
    interpolated: npt.NDArray[np.bool_],
) -> None:
    """Fill the output slices for a run of consecutive segments (see resample_tracks).

    Bracketing fixes are found with one ``np.searchsorted`` of
    (local segment, clipped tick time) keys in the fixes' keys, which are
    sorted because segments are contiguous and time-sorted.
    """
    f_lo, f_hi = int(first_fix[0]), int(last_fix[-1]) + 1
    n_seg = first_fix.size
    seg = np.repeat(np.arange(n_seg, dtype=np.int64), n_ticks)
    offsets = np.cumsum(n_ticks) - n_ticks
    k = np.arange(seg.size, dtype=np.int64) - np.repeat(offsets - k0, n_ticks)
    tick_ms[:] = k * interval_ms
    del k
    tt = t[f_lo:f_hi]
    t_base = min(int(tt.min()), int(tick_ms.min()))
    tc = np.clip(tick_ms, t[first_fix][seg], t[last_fix][seg])
    fix_key = np.repeat(np.arange(n_seg, dtype=np.int64), last_fix - first_fix + 1)
    fix_key <<= 40
    fix_key |= tt - t_base
    tick_key = seg << 40
    tick_key |= tc - t_base
    j0 = np.searchsorted(fix_key, tick_key, side="right") - 1 + f_lo
    del fix_key, tick_key
    j1 = np.minimum(j0 + 1, last_fix[seg])
    del seg
    t0 = t[j0]
    span = (t[j1] - t0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(span > 0, (tc - t0) / span, 0.0)
    del span, tc
    lat0 = lat[j0]
    out_lat[:] = lat0 + w * (lat[j1] - lat0)
    del lat0
    lon0 = lon[j0]
    out_lon[:] = wrap_lon(lon0 + w * delta_lon(lon0, lon[j1]))
    del lon0
    s0, s1 = sog[j0], sog[j1]
    s0f = np.where(np.isnan(s0), s1, s0)
    s1f = np.where(np.isnan(s1), s0, s1)
    out_sog[:] = s0f + w.astype(np.float32) * (s1f - s0f)
    interpolated[:] = (tick_ms > t0) & (tick_ms < t[j1])


def resample_tracks(positions: pd.DataFrame, cfg: TrackConfig) -> pd.DataFrame:
    """Segment each vessel's pings and resample them onto the global UTC grid.

    ``positions`` needs ``mmsi``, ``timestamp`` (UTC), ``lat``, ``lon`` and
    ``sog_kn`` (may be null: then the implied speed between neighbouring fixes
    stands in, so a vessel with a broken speed log is still judged on speed).
    Returns the resampled frame of docs/ARCHITECTURE.md sorted by
    (mmsi, timestamp): one row per vessel and grid tick inside a segment.

    Steps: fixes in (mmsi, time) order -> segments -> missing speeds filled
    -> grid ticks per segment -> interpolation, chunk by chunk of whole
    segments (:func:`_chunks`) -> repeated ticks dropped.
    """
    n = len(positions)
    if n == 0:
        return empty_resampled()
    mmsi, t, lat, lon, sog = _sorted_fixes(positions)
    # Repeated (mmsi, timestamp) rows (the cleaner quarantines them, but a frame
    # built elsewhere may have them) simply break the segment: see
    # _continuations. Dropping them would copy every column.
    cont = _continuations(mmsi, t, lat, lon, cfg)
    first_fix, last_fix = _segment_ends(cont, n)
    sog = _fill_missing_sog(sog, cont, t, lat, lon)
    interval_ms = int(cfg.resample_interval_min) * 60_000
    k0, n_ticks = _segment_ticks(t[first_fix], t[last_fix], interval_ms)
    if int(n_ticks.sum()) == 0:
        return empty_resampled()
    out = _GridColumns(mmsi, first_fix, n_ticks)
    for segs, rows in _chunks(first_fix, n_ticks, n):
        _interpolate_chunk(
            t,
            lat,
            lon,
            sog,
            first_fix[segs],
            last_fix[segs],
            k0[segs],
            n_ticks[segs],
            interval_ms,
            *out.rows(rows),
        )
    out.drop_repeated_ticks()
    return out.frame()


def _sorted_fixes(positions: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """``(mmsi, epoch ms, lat, lon, sog_kn)`` in (mmsi, timestamp) order; null speeds are NaN."""
    order, t = sort_positions(positions)
    mmsi = _mmsi_array(positions)
    lat = positions["lat"].to_numpy(dtype=np.float64)
    lon = positions["lon"].to_numpy(dtype=np.float64)
    sog = positions["sog_kn"].to_numpy(dtype=np.float32, na_value=np.nan)
    if order is not None:
        mmsi, t, lat, lon, sog = mmsi[order], t[order], lat[order], lon[order], sog[order]
    return mmsi, t, lat, lon, sog


def _segment_ends(
    cont: npt.NDArray[np.bool_], n: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """First and last fix of each segment, from the continuation flags of the ``n`` fixes."""
    seg_start = np.ones(n, dtype=bool)
    seg_start[1:] = ~cont
    first_fix = np.flatnonzero(seg_start)
    last_fix = np.append(first_fix[1:] - 1, n - 1)
    return first_fix, last_fix


def _fill_missing_sog(
    sog: npt.NDArray[np.float32],
    cont: npt.NDArray[np.bool_],
    t: npt.NDArray[np.int64],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
) -> npt.NDArray[np.float32]:
    """Missing SOG: the implied speed of the hop after (or before) the fix within its segment.

    A lone fix with no SOG stays unknown (NaN). Returns ``sog`` itself when
    nothing is missing, otherwise a filled copy.
    """
    missing = np.flatnonzero(np.isnan(sog))
    if not missing.size:
        return sog
    n = sog.size
    sog = sog.copy()
    nxt = np.minimum(missing + 1, n - 1)
    prv = np.maximum(missing - 1, 0)
    hop_next = implied_speed_kn(
        equirectangular_m(lat[missing], lon[missing], lat[nxt], lon[nxt]),
        (t[nxt] - t[missing]) / 1000.0,
    )
    hop_prev = implied_speed_kn(
        equirectangular_m(lat[prv], lon[prv], lat[missing], lon[missing]),
        (t[missing] - t[prv]) / 1000.0,
    )
    ok_next = (missing < n - 1) & np.append(cont, False)[missing]
    ok_prev = (missing > 0) & np.insert(cont, 0, False)[missing]
    sog[missing] = np.where(ok_next, hop_next, np.where(ok_prev, hop_prev, np.nan))
    return sog


def _segment_ticks(
    t_first: npt.NDArray[np.int64], t_last: npt.NDArray[np.int64], interval_ms: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """First grid index and tick count of each segment.

    Grid indices k with k*I within [first - half, last + half]: a tick within
    half an interval of an end fix holds that fix.
    """
    half_ms = interval_ms // 2 - 1
    k0 = -((half_ms - t_first) // interval_ms)  # ceil((t_first - half) / I)
    k1 = (t_last + half_ms) // interval_ms
    return k0, np.maximum(k1 - k0 + 1, 0)


def _chunks(
    first_fix: npt.NDArray[np.intp], n_ticks: npt.NDArray[np.int64], n: int
) -> Iterator[tuple[slice, slice]]:
    """(segments, output rows) of runs of whole segments of ~_SEGMENT_CHUNK fixes each.

    Interpolating chunk by chunk keeps the many per-tick temporaries from
    ever existing for the whole day at once. Runs without ticks are skipped.
    """
    cuts = np.unique(
        np.concatenate(
            [
                [0],
                np.searchsorted(first_fix, np.arange(_SEGMENT_CHUNK, n, _SEGMENT_CHUNK)),
                [first_fix.size],
            ]
        )
    )
    tick_end = np.cumsum(n_ticks)
    tick_start = tick_end - n_ticks
    for s_lo, s_hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        q_lo, q_hi = int(tick_start[s_lo]), int(tick_end[s_hi - 1])
        if q_hi == q_lo:
            continue
        yield slice(s_lo, s_hi), slice(q_lo, q_hi)


class _GridColumns:
    """The columns of the resampled frame: allocated once, filled chunk by chunk (``rows``).

    The arrays live only here, so dropping rows rebinds each column and frees
    the old one at once (never all columns twice).
    """

    def __init__(self, mmsi: np.ndarray, first_fix: npt.NDArray[np.intp], n_ticks: np.ndarray):
        total = int(n_ticks.sum())
        self.segment = np.repeat(np.arange(first_fix.size, dtype=np.int32), n_ticks)
        self.mmsi = np.repeat(mmsi[first_fix].astype(np.int32), n_ticks)
        self.tick_ms = np.empty(total, dtype=np.int64)
        self.lat = np.empty(total, dtype=np.float64)
        self.lon = np.empty(total, dtype=np.float64)
        self.sog = np.empty(total, dtype=np.float32)
        self.interpolated = np.empty(total, dtype=bool)

    def rows(self, rows: slice) -> tuple[np.ndarray, ...]:
        """Views of the tick, lat, lon, sog and interpolated columns over ``rows``, to fill."""
        return (
            self.tick_ms[rows],
            self.lat[rows],
            self.lon[rows],
            self.sog[rows],
            self.interpolated[rows],
        )

    def drop_repeated_ticks(self) -> None:
        """Held ticks at the ends of two consecutive segments of one vessel can fall
        on the same grid instant: keep the first."""
        mmsi, tick_ms = self.mmsi, self.tick_ms
        dup_tick = np.zeros(tick_ms.size, dtype=bool)
        dup_tick[1:] = (mmsi[1:] == mmsi[:-1]) & (tick_ms[1:] <= tick_ms[:-1])
        del mmsi, tick_ms
        if dup_tick.any():
            keep = ~dup_tick
            self.mmsi = self.mmsi[keep]
            self.tick_ms = self.tick_ms[keep]
            self.segment = self.segment[keep]
            self.lat = self.lat[keep]
            self.lon = self.lon[keep]
            self.sog = self.sog[keep]
            self.interpolated = self.interpolated[keep]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "mmsi": self.mmsi,
                "timestamp": ms_to_timestamps(self.tick_ms),
                "lat": self.lat,
                "lon": self.lon,
                "sog_kn": self.sog,
                "segment": self.segment,
                "interpolated": self.interpolated,
            },
            copy=False,
        )
