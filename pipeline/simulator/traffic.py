"""Background traffic: thousands of vessels moving along a region's sea lanes.

Each vessel sails a lane back and forth at its own cruising speed with a fixed
lateral offset (lanes are corridors kilometres wide, not lines). Position is a
closed-form function of time (arc length reflected at the lane ends), so a
4-million-row day is a handful of numpy passes. Rows that the land mask puts
ashore (lane offsets near narrow straits) are recomputed on the lane's centre
line, and the rare ones still ashore are dropped, like a harbour blind spot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stswatch.pipeline.simulator.geometry import (
    KN_TO_MPS,
    bearing_deg,
    haversine_m,
    is_land,
    offset_m,
)
from stswatch.pipeline.simulator.motion import UNDER_WAY, report_times, sensor_noise
from stswatch.pipeline.simulator.regions import Region, region_lanes
from stswatch.pipeline.simulator.vessels import background_vessels


@dataclass(frozen=True)
class ReportClock:
    """How often vessels report, as the archive keeps them.

    MarineCadastre publishes Class A downsampled to about one fix a minute;
    Class B transmits every 30 s-3 min and is received less often (~3 min).
    Satellite-like reporting gives one fix every 15-45 min with +-25 % jitter,
    which keeps every gap under the tracker's 1 h interpolation limit.
    """

    class_a_interval_s: float = 60.0
    class_a_jitter: float = 0.15
    class_b_interval_s: float = 180.0
    class_b_jitter: float = 0.30
    sparse_interval_min_s: float = 15 * 60.0
    sparse_interval_max_s: float = 45 * 60.0
    sparse_jitter: float = 0.25

    def __post_init__(self) -> None:
        if min(self.class_a_interval_s, self.class_b_interval_s, self.sparse_interval_min_s) <= 0:
            raise ValueError("report intervals must be > 0")
        if self.sparse_interval_max_s < self.sparse_interval_min_s:
            raise ValueError("sparse_interval_max_s must be >= sparse_interval_min_s")
        for j in (self.class_a_jitter, self.class_b_jitter, self.sparse_jitter):
            if not 0.0 <= j < 1.0:
                raise ValueError("jitter fractions must be in [0, 1)")


DEFAULT_CLOCK = ReportClock()


@dataclass(frozen=True)
class Rows:
    """Row-aligned arrays of one group of vessels, ``vessel`` indexing ``vessels``."""

    vessels: pd.DataFrame
    vessel: np.ndarray
    t_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    sog_kn: np.ndarray
    cog_deg: np.ndarray
    heading_deg: np.ndarray
    nav_status: np.ndarray


def report_interval_s(
    rng: np.random.Generator,
    transceiver_class: np.ndarray,
    sparse: np.ndarray,
    clock: ReportClock = DEFAULT_CLOCK,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-vessel base interval and jitter from class and sparse (satellite) flag."""
    is_b = np.asarray(transceiver_class) == "B"
    interval = np.where(is_b, clock.class_b_interval_s, clock.class_a_interval_s)
    jitter = np.where(is_b, clock.class_b_jitter, clock.class_a_jitter)
    sparse_iv = rng.uniform(
        clock.sparse_interval_min_s, clock.sparse_interval_max_s, size=len(interval)
    )
    return np.where(sparse, sparse_iv, interval), np.where(sparse, clock.sparse_jitter, jitter)


def expected_rows_per_vessel_day(
    class_b_share: float, sparse_share: float, clock: ReportClock = DEFAULT_CLOCK
) -> float:
    """Mean reports per vessel per day, used to size the fleet for a row target."""
    a = 86_400 / clock.class_a_interval_s
    b = 86_400 / clock.class_b_interval_s
    s = 86_400 / ((clock.sparse_interval_min_s + clock.sparse_interval_max_s) / 2)
    dense = (1 - class_b_share) * a + class_b_share * b
    return float((1 - sparse_share) * dense + sparse_share * s)


def _lane_positions(
    lane_lat: np.ndarray, lane_lon: np.ndarray, s_m: np.ndarray, lateral_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point at arc length ``s_m`` along a lane, shifted ``lateral_m`` to its right."""
    seg = haversine_m(lane_lat[:-1], lane_lon[:-1], lane_lat[1:], lane_lon[1:])
    cum = np.r_[0.0, np.cumsum(seg)]
    lat = np.interp(s_m, cum, lane_lat)
    lon = np.interp(s_m, cum, lane_lon)
    i = np.clip(np.searchsorted(cum, s_m, side="right") - 1, 0, len(seg) - 1)
    brg = bearing_deg(lane_lat[:-1], lane_lon[:-1], lane_lat[1:], lane_lon[1:])[i]
    r = np.radians(brg)
    lat, lon = offset_m(lat, lon, lateral_m * np.cos(r), -lateral_m * np.sin(r))
    return lat, lon, brg


def lane_traffic(
    rng: np.random.Generator,
    region: Region,
    n_vessels: int,
    window_s: float,
    *,
    sparse_share: float,
    taken_mmsis: set[int],
    clock: ReportClock = DEFAULT_CLOCK,
    drop_fraction: float = 0.03,
) -> Rows:
    """Generate the background fleet and its reports over [0, window_s)."""
    lanes = region_lanes(region.name)
    lane_len = np.array([haversine_m(la[:-1], lo[:-1], la[1:], lo[1:]).sum() for la, lo in lanes])
    vessels = background_vessels(rng, n_vessels, region.local_mids, taken_mmsis)
    # busier lanes are the longer ones: weight by length
    lane = rng.choice(len(lanes), size=n_vessels, p=lane_len / lane_len.sum())
    s0 = rng.uniform(0.0, 1.0, n_vessels) * lane_len[lane]
    direction = rng.choice([-1.0, 1.0], size=n_vessels)
    lateral = rng.normal(0.0, 1_500.0, n_vessels).clip(-4_000.0, 4_000.0)
    sparse = rng.random(n_vessels) < sparse_share
    interval, jitter = report_interval_s(
        rng, vessels["transceiver_class"].to_numpy(), sparse, clock
    )
    vessel, t = report_times(
        rng, np.zeros(n_vessels), np.full(n_vessels, window_s), interval, jitter
    )
    # reception holes: a few reports never reach the archive
    keep = rng.random(len(t)) >= drop_fraction
    vessel, t = vessel[keep], t[keep]

    speed_mps = vessels["speed_kn"].to_numpy() * KN_TO_MPS
    length = lane_len[lane][vessel]
    s = s0[vessel] + direction[vessel] * speed_mps[vessel] * t
    u = np.mod(s, 2 * length)
    forward = u <= length
    s_ref = np.where(forward, u, 2 * length - u)
    heading_sign = np.where(forward, direction[vessel], -direction[vessel])

    lat = np.empty(len(t))
    lon = np.empty(len(t))
    course = np.empty(len(t))
    lane_of_row = lane[vessel]
    for k, (la, lo) in enumerate(lanes):
        sel = lane_of_row == k
        lat[sel], lon[sel], brg = _lane_positions(la, lo, s_ref[sel], lateral[vessel[sel]])
        course[sel] = np.where(heading_sign[sel] > 0, brg, (brg + 180.0) % 360.0)

    # vessels whose offset takes them ashore sail the centre line instead
    ashore = is_land(lat, lon)
    if ashore.any():
        bad = np.zeros(n_vessels, dtype=bool)
        bad[vessel[ashore]] = True
        redo = bad[vessel]
        for k, (la, lo) in enumerate(lanes):
            sel = redo & (lane_of_row == k)
            if sel.any():
                lat[sel], lon[sel], _ = _lane_positions(la, lo, s_ref[sel], np.zeros(sel.sum()))
        ashore = is_land(lat, lon)
    keep = ~ashore
    vessel, t, lat, lon, course = vessel[keep], t[keep], lat[keep], lon[keep], course[keep]
    speed_kn = vessels["speed_kn"].to_numpy()[vessel]
    sog, cog, heading = sensor_noise(rng, speed_kn, course, np.zeros(len(t)))
    return Rows(
        vessels=vessels.drop(columns="speed_kn"),
        vessel=vessel,
        t_s=t,
        lat=lat,
        lon=lon,
        sog_kn=sog,
        cog_deg=cog,
        heading_deg=heading,
        nav_status=np.full(len(t), UNDER_WAY, dtype=np.int8),
    )
