"""Kinematics: keyframe tracks, sea-only walks, report times, vectorised interpolation.

A scenario vessel's motion is a piecewise-linear *keyframe track* (time in
seconds from the window start, lat, lon, nav status of the segment that starts
there). Reports are drawn per vessel on a jittered clock and positions are
interpolated for all vessels at once with one ``searchsorted`` over a
(vessel, time) key, so cost grows with rows, not with Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stswatch.pipeline.simulator.geometry import (
    KN_TO_MPS,
    bearing_deg,
    destination,
    haversine_m,
    segment_at_sea,
)
from stswatch.pipeline.simulator.regions import Region

#: ITU-R M.1371 navigational status codes used by the simulator.
UNDER_WAY = 0
AT_ANCHOR = 1
RESTRICTED_MANOEUVRABILITY = 3
MOORED = 5
FISHING = 7


@dataclass
class Track:
    """Keyframes of one vessel; ``status[i]`` applies from ``t_s[i]`` to ``t_s[i+1]``."""

    t_s: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)

    def add(self, t_s: float, lat: float, lon: float, status: int = UNDER_WAY) -> None:
        self.t_s.append(float(t_s))
        self.lat.append(float(lat))
        self.lon.append(float(lon))
        self.status.append(int(status))

    def prepend(self, other: Track) -> None:
        """Put ``other``'s keyframes (strictly earlier) in front of this track's."""
        self.t_s[:0], self.lat[:0] = other.t_s, other.lat
        self.lon[:0], self.status[:0] = other.lon, other.status


def sea_walk(
    rng: np.random.Generator,
    region: Region,
    lat: float,
    lon: float,
    t_s: float,
    until_s: float,
    speed_kn: float,
    *,
    backward: bool,
    first_bearing: float | None = None,
) -> Track:
    """Transit legs from (lat, lon, t_s) until ``until_s`` (backward: into the past).

    Legs last 1.5-4 h at ``speed_kn`` with a persistent but wandering bearing;
    every leg is checked against the land mask and the region box, so a vessel
    never crosses land. Returns keyframes in time order *excluding* the anchor
    point itself, ready to be joined to the scenario's core keyframes.
    """
    points: list[tuple[float, float, float]] = []
    bearing = rng.uniform(0, 360) if first_bearing is None else first_bearing
    speed_mps = max(speed_kn, 0.5) * KN_TO_MPS
    sign = -1.0 if backward else 1.0
    t = t_s
    guard = 0
    while (t > until_s) if backward else (t < until_s):
        guard += 1
        leg_s = rng.uniform(1.5, 4.0) * 3600.0
        placed = False
        for attempt in range(14):
            b = (bearing + rng.normal(0, 25 + 20 * attempt)) % 360.0
            shrink = 0.5 ** (attempt // 5)
            dist = speed_mps * leg_s * shrink
            lat2, lon2 = destination(lat, lon, b, dist)
            if region.contains(np.array([lat2]), np.array([lon2]), margin_deg=0.5)[0] and (
                segment_at_sea(lat, lon, float(lat2), float(lon2))
            ):
                lat, lon, bearing = float(lat2), float(lon2), b
                t += sign * leg_s * shrink
                placed = True
                break
        if not placed or guard > 400:  # boxed in: wait in place (rare, stays at sea)
            t += sign * 3 * 3600.0
        points.append((t, lat, lon))
    if backward:
        points.reverse()
    track = Track()
    for tt, la, lo in points:
        track.add(tt, la, lo, UNDER_WAY)
    return track


def report_times(
    rng: np.random.Generator,
    start_s: np.ndarray,
    end_s: np.ndarray,
    interval_s: np.ndarray,
    jitter_frac: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Jittered report clocks for many vessels at once.

    Returns ``(vessel_index, t_s)`` sorted by vessel then time, every time in
    [start_s, end_s) of its vessel, whole seconds (MarineCadastre resolution).
    Intervals are ``interval_s * (1 + U(-jitter, jitter))``: a segmented cumsum,
    no per-vessel loop.
    """
    start_s = np.asarray(start_s, dtype=np.float64)
    span = np.maximum(np.asarray(end_s, dtype=np.float64) - start_s, 0.0)
    interval_s = np.asarray(interval_s, dtype=np.float64)
    jitter_frac = np.broadcast_to(np.asarray(jitter_frac, dtype=np.float64), interval_s.shape)
    n_per = np.ceil(span / (interval_s * (1 - jitter_frac))).astype(np.int64) + 1
    vessel = np.repeat(np.arange(len(span)), n_per)
    steps = interval_s[vessel] * (
        1.0 + rng.uniform(-1.0, 1.0, size=len(vessel)) * jitter_frac[vessel]
    )
    first = np.r_[0, np.cumsum(n_per)[:-1]]
    # the first report of each vessel falls anywhere in its first interval
    steps[first] = rng.uniform(0.0, 1.0, size=len(first)) * interval_s
    csum = np.cumsum(steps)
    t = start_s[vessel] + csum - np.repeat(csum[first] - steps[first], n_per)
    t = np.floor(t)
    keep = t < start_s[vessel] + span[vessel]
    # floor can make two reports share a second; drop the later one
    vessel, t = vessel[keep], t[keep]
    dup = np.r_[False, (vessel[1:] == vessel[:-1]) & (t[1:] == t[:-1])]
    return vessel[~dup], t[~dup]


@dataclass(frozen=True)
class Interpolated:
    lat: np.ndarray
    lon: np.ndarray
    speed_kn: np.ndarray  # segment speed (what the vessel is doing), before sensor noise
    course_deg: np.ndarray
    status: np.ndarray


def interpolate_tracks(tracks: list[Track], vessel: np.ndarray, t_s: np.ndarray) -> Interpolated:
    """Positions of ``tracks[vessel[i]]`` at ``t_s[i]`` (rows sorted by vessel, time).

    Times before the first or after the last keyframe hold the end position.
    """
    n_k = np.array([len(tr.t_s) for tr in tracks], dtype=np.int64)
    if (n_k < 2).any():
        raise ValueError("every track needs at least two keyframes")
    kv = np.repeat(np.arange(len(tracks)), n_k)
    kt = np.concatenate([tr.t_s for tr in tracks])
    klat = np.concatenate([tr.lat for tr in tracks])
    klon = np.concatenate([tr.lon for tr in tracks])
    kst = np.concatenate([tr.status for tr in tracks]).astype(np.int8)
    if (np.diff(kt)[np.diff(kv) == 0] <= 0).any():
        raise ValueError("keyframe times must increase within a track")
    span = 1e9  # > any window length in seconds (31 years)
    key_k = kv * span + kt
    key_r = vessel * span + t_s
    first = np.r_[0, np.cumsum(n_k)[:-1]]
    idx = np.searchsorted(key_k, key_r, side="right") - 1
    idx = np.clip(idx, first[vessel], first[vessel] + n_k[vessel] - 2)
    t0, t1 = kt[idx], kt[idx + 1]
    frac = np.clip((t_s - t0) / (t1 - t0), 0.0, 1.0)
    lat = klat[idx] + (klat[idx + 1] - klat[idx]) * frac
    lon = klon[idx] + (klon[idx + 1] - klon[idx]) * frac
    seg_m = haversine_m(klat[:-1], klon[:-1], klat[1:], klon[1:])
    seg_s = np.diff(kt)
    with np.errstate(divide="ignore", invalid="ignore"):
        seg_kn = np.where(seg_s > 0, seg_m / seg_s / KN_TO_MPS, 0.0)
    seg_brg = bearing_deg(klat[:-1], klon[:-1], klat[1:], klon[1:])
    # before the first / after the last keyframe the vessel is not moving
    outside = (t_s < t0) | (t_s > t1)
    speed = np.where(outside, 0.0, seg_kn[idx])
    return Interpolated(lat, lon, speed, seg_brg[idx], kst[idx])


def sensor_noise(
    rng: np.random.Generator,
    speed_kn: np.ndarray,
    course_deg: np.ndarray,
    heading_offset_deg: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reported SOG, COG and heading from true motion (GPS-like noise).

    COG is meaningless when a ship barely moves, so it wanders widely below
    ~1 kn as in real feeds; heading follows COG under way and the hull's own
    orientation (``heading_offset_deg`` from the course) when drifting.
    """
    n = len(speed_kn)
    sog = speed_kn * (1.0 + rng.normal(0.0, 0.03, n)) + rng.normal(0.0, 0.05, n)
    sog = np.round(np.clip(sog, 0.0, 102.2), 1)
    slow = speed_kn < 1.0
    cog_sd = np.where(slow, 40.0, 1.5)
    # round, then wrap: 359.96 must read 0.0, never 360.0
    cog = np.round((course_deg + rng.normal(0.0, 1.0, n) * cog_sd) % 360.0, 1) % 360.0
    heading = np.where(slow, course_deg + heading_offset_deg, course_deg) + rng.normal(0.0, 2.0, n)
    heading = np.round(heading % 360.0) % 360
    return sog, cog, heading
