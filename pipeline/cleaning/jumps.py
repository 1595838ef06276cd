"""Position jumps: a single ping implying an impossible speed to both neighbours.

A **position jump** is a single new ping whose implied speed to *both*
neighbours of the same vessel exceeds ``max_jump_speed_kn`` while being more
than ``min_jump_distance_m`` away from both (GPS noise over a second is not a
jump). Neighbours may be stored rows; only new rows are judged, so stored data
is never rewritten. Pings at the ends of a day's track have one neighbour and
are never judged (the track stage splits segments on implausible speeds anyway).
"""

from __future__ import annotations

import numpy as np

from stswatch.pipeline.cleaning.position_buffer import PositionBuffer
from stswatch.pipeline.config import CleaningConfig

EARTH_RADIUS_M = 6_371_008.8
M_PER_NM = 1_852.0


def haversine_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres (correct across the antimeridian)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


#: Rows per chunk of the jump check (bounded temporaries at 1e7 rows/day).
_JUMP_CHUNK_ROWS = 1 << 20


def position_jumps(
    buf: PositionBuffer, kept: np.ndarray, is_stored: np.ndarray, cfg: CleaningConfig
) -> np.ndarray:
    """Mask over ``kept`` (canonical order) of single-ping position jumps.

    A ping needs only its two neighbours, so the check runs over chunks that
    overlap by one row on each side: same result, bounded memory.
    """
    m = len(kept)
    jump = np.zeros(m, dtype=bool)
    for lo in range(0, m, _JUMP_CHUNK_ROWS):
        a = max(lo - 1, 0)
        b = min(lo + _JUMP_CHUNK_ROWS + 1, m)
        part = _jumps_chunk(buf, kept[a:b], cfg)
        jump[lo : min(lo + _JUMP_CHUNK_ROWS, m)] = part[
            lo - a : lo - a + min(_JUMP_CHUNK_ROWS, m - lo)
        ]
    jump &= ~is_stored[kept]  # stored rows are never re-judged
    return jump


def _jumps_chunk(buf: PositionBuffer, idx: np.ndarray, cfg: CleaningConfig) -> np.ndarray:
    m = len(idx)
    if m < 3:
        return np.zeros(m, dtype=bool)
    idx = np.asarray(idx, dtype=np.intp)
    mmsi = np.take(buf.cols["mmsi"], idx)
    same_prev = mmsi[1:] == mmsi[:-1]
    del mmsi
    lat = np.take(buf.cols["lat"], idx)
    lon = np.take(buf.cols["lon"], idx)
    ts = np.take(buf.cols["ts"], idx)
    dt_h = np.diff(ts).astype(np.float64) / 3_600_000.0
    del ts
    # Cheap upper bound first: the great circle is no longer than going
    # along a meridian then a parallel, R * (|dlat| + |dlon|) in radians.
    # Pairs whose bound is not "far" cannot be far; haversine runs on the
    # few others only (same verdicts, ~4x less work on real tracks).
    dlat = np.abs(np.diff(lat))
    dlon = np.abs(np.diff(lon))
    np.minimum(dlon, 360.0 - dlon, out=dlon)
    bound_m = (dlat + dlon) * (np.pi / 180.0 * EARTH_RADIUS_M * 1.001) + 1.0
    del dlat, dlon
    with np.errstate(divide="ignore", invalid="ignore"):
        maybe = (bound_m > cfg.min_jump_distance_m) & same_prev
        maybe &= ~(bound_m / M_PER_NM / dt_h <= cfg.max_jump_speed_kn) | ~(dt_h > 0)
    del bound_m
    cand = np.flatnonzero(maybe)
    far = np.zeros(m - 1, dtype=bool)
    if len(cand):
        a, b = cand, cand + 1
        dist = haversine_m(lat[a], lon[a], lat[b], lon[b])  # between i and i+1
        dt_c = dt_h[cand]
        with np.errstate(divide="ignore", invalid="ignore"):
            speed_kn = np.where(dt_c > 0, dist / M_PER_NM / dt_c, np.inf)
        far[cand] = (speed_kn > cfg.max_jump_speed_kn) & (dist > cfg.min_jump_distance_m)
    jump = np.zeros(m, dtype=bool)
    jump[1:-1] = far[:-1] & far[1:]
    return jump
