"""Labelled scenarios: each builds vessels (identity + keyframe track) and one truth row.

Scenario kinds and whether a correct rendezvous detector (500 m, 2 h, < 2 kn
on both vessels, away from port) must report them:

=========================  ==============  =========================================
kind                       is_rendezvous   geometry
=========================  ==============  =========================================
illicit_rendezvous         True            zone, offshore or coastal; < 200 m, < 1 kn, 3-24 h
legit_transfer             True            the same places, sizes and durations
dark_transfer              False           one ship loitering, its partner alongside with AIS off
anchorage_crowd            False           6-14 ships at anchor within 8 km of a port
passing                    False           crossing within 80-400 m at 10-16 kn
convoy                     False           parallel 200-400 m apart at 8-12 kn for hours
pair_trawl                 False           300-480 m apart at 2.7-4 kn for hours
short_meeting              False           drifting alongside for 0.5-1.4 h only
loitering_dark_partner     False           one ship drifting offshore; partner silent alongside
                                           (a dark transfer) or never seen
=========================  ==============  =========================================

Places (:data:`LOCATION_KINDS`): inside a lightering / STS zone, offshore
(> 30 km from any coast) or coastal (12-20 km off a coast: another state's
territorial sea, where public reporting places illicit transfers that moved
inshore). Both classes draw their place from the same mix by default
(:attr:`Context.location_mix`), so location carries no label.

This module holds the shared machinery (placement, timing, meeting geometry);
transfers are built in :mod:`stswatch.pipeline.simulator.transfers`, decoys in
:mod:`stswatch.pipeline.simulator.decoys`.

Meetings are calibrated on Global Fishing Watch's published encounters
(11,681 events, 2012-2017): duration log-normal with median 7.3 h and log-sd
0.94; median separation 40 m; median speed 0.55 kn. Every vessel's track
covers the whole window (sea-only transit legs before and after its
scenario), so the detector sees continuous tracks except where a scenario
switches a transmitter off on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stswatch.pipeline.simulator.geometry import (
    KN_TO_MPS,
    destination,
    distance_to_coast_m,
    distance_to_port_m,
    haversine_m,
    is_land,
    wrap_lon,
)
from stswatch.pipeline.simulator.motion import (
    Track,
    sea_walk,
)
from stswatch.pipeline.simulator.profiles import Identity
from stswatch.pipeline.simulator.regions import Region, Zone

#: GFW encounter durations: log-normal fit of the published events.
GFW_DURATION_MEDIAN_H = 7.3
GFW_DURATION_LOG_SD = 0.94
#: Offshore events sit at least this far from any coast (brief: > 30 km).
REMOTE_MIN_COAST_M = 30_000.0
#: Two simultaneous scenarios at least this far apart never interact.
SCENARIO_SEPARATION_M = 30_000.0
#: Inside a lightering zone, simultaneous transfers keep this distance: real
#: zones hold several pairs, but not close enough to look like an anchorage.
ZONE_SEPARATION_M = 6_000.0
H = 3_600.0
#: Where a transfer can happen, in the order of a location mix.
LOCATION_KINDS = ("zone", "offshore", "coastal")
#: Default share of each place, the same for both classes (issue 14).
DEFAULT_LOCATION_MIX = (0.35, 0.4, 0.25)
#: Coastal meetings: this far off the coast (the detector drops events within
#: 5 km; 12 km leaves room for a slow drift), and at most this far.
COASTAL_MIN_COAST_M = 12_000.0
COASTAL_MAX_COAST_M = 20_000.0


@dataclass
class ScenarioVessel:
    identity: Identity
    track: Track
    heading_offset_deg: float


@dataclass
class Context:
    """Mutable state shared by the scenario builders of one simulation."""

    rng: np.random.Generator
    region: Region
    window_s: float
    taken_mmsis: set[int]
    sparse_event_share: float
    #: (zone, offshore, coastal) shares per class: ``{True: illicit, False: legit}``.
    location_mix: dict[bool, tuple[float, float, float]] = field(
        default_factory=lambda: {True: DEFAULT_LOCATION_MIX, False: DEFAULT_LOCATION_MIX}
    )
    vessels: list[ScenarioVessel] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)
    occupied: list[tuple[float, float, float, float, float]] = field(default_factory=list)

    # --- placement -----------------------------------------------------------
    def port_distance_m(self, lat, lon) -> np.ndarray:
        return distance_to_port_m(lat, lon, [(p.lat, p.lon) for p in self.region.ports])

    def _free(self, lat: float, lon: float, t0: float, t1: float, sep_m: float) -> bool:
        for la, lo, a, b, s in self.occupied:
            if t0 - 6 * H < b and a < t1 + 6 * H and haversine_m(lat, lon, la, lo) < max(sep_m, s):
                return False
        return True

    def occupy(self, lat: float, lon: float, t0: float, t1: float, sep_m: float) -> None:
        self.occupied.append((lat, lon, t0, t1, sep_m))

    def _sea_point(
        self,
        t0: float,
        t1: float,
        *,
        coast_m: tuple[float, float],
        zone_margin_m: float,
        min_port_m: float,
        tries: int,
        batch: int,
    ):
        """A random sea point with its coast distance in ``coast_m``, clear of zones
        (by ``zone_margin_m`` past their edge), ports and other scenarios."""
        r = self.region
        for _ in range(tries):
            lat = self.rng.uniform(r.lat_min, r.lat_max, batch)
            lon = self.rng.uniform(r.lon_min, r.lon_max, batch)
            ok = ~is_land(lat, lon)
            coast = distance_to_coast_m(lat, lon)
            ok &= (coast >= coast_m[0]) & (coast <= coast_m[1])
            for z in r.zones:
                ok &= haversine_m(lat, lon, z.lat, z.lon) > z.radius_m + zone_margin_m
            ok &= self.port_distance_m(lat, lon) > min_port_m
            for i in np.flatnonzero(ok):
                if self._free(lat[i], lon[i], t0, t1, SCENARIO_SEPARATION_M):
                    return float(lat[i]), float(lon[i])
        return None

    def remote_point(self, t0: float, t1: float, min_coast_m: float = REMOTE_MIN_COAST_M):
        """A random open-sea point far from coasts, ports, zones and other scenarios."""
        return self._sea_point(
            t0,
            t1,
            coast_m=(min_coast_m, np.inf),
            zone_margin_m=30_000.0,
            min_port_m=40_000.0,
            tries=40,
            batch=256,
        )

    def zone_point(self, zone: Zone, t0: float, t1: float):
        """A point inside a lightering zone that the port filter will not remove."""
        for _ in range(20):
            d = zone.radius_m * np.sqrt(self.rng.random(64))
            lat, lon = destination(zone.lat, zone.lon, self.rng.uniform(0, 360, 64), d)
            # margins over the detector's 5 km coast / 10 km port rules
            ok = ~is_land(lat, lon) & (distance_to_coast_m(lat, lon) >= 8_000.0)
            ok &= self.port_distance_m(lat, lon) > 15_000.0
            for i in np.flatnonzero(ok):
                if self._free(lat[i], lon[i], t0, t1, ZONE_SEPARATION_M):
                    return float(lat[i]), float(lon[i])
        return None

    def coastal_point(self, t0: float, t1: float):
        """A point 12-20 km off a coast, clear of ports, zones and other scenarios."""
        return self._sea_point(
            t0,
            t1,
            coast_m=(COASTAL_MIN_COAST_M, COASTAL_MAX_COAST_M),
            zone_margin_m=10_000.0,
            min_port_m=20_000.0,
            tries=60,
            batch=512,
        )

    def location_kind(self, illicit: bool) -> str:
        """Draw where a transfer of this class happens (zone / offshore / coastal)."""
        mix = np.asarray(self.location_mix[bool(illicit)], dtype=np.float64)
        return str(self.rng.choice(LOCATION_KINDS, p=mix / mix.sum()))

    def place(self, kind: str, t0: float, t1: float) -> tuple[float, float, Zone | None] | None:
        """A meeting point of ``kind`` free over [t0, t1], registered as occupied."""
        zone = None
        if kind == "zone" and self.region.zones:
            zones = self.region.zones
            for k in self.rng.permutation(len(zones)):  # a random zone first, then any with room
                zone = zones[k]
                if (point := self.zone_point(zone, t0, t1)) is not None:
                    break
            else:
                return None
            sep = ZONE_SEPARATION_M
        elif kind == "coastal":
            point, sep = self.coastal_point(t0, t1), SCENARIO_SEPARATION_M
        else:
            point, sep = self.remote_point(t0, t1), SCENARIO_SEPARATION_M
        if point is None:
            return None
        self.occupy(point[0], point[1], t0, t1, sep)
        return point[0], point[1], zone

    # --- time ----------------------------------------------------------------
    def start_time(
        self,
        lon: float,
        need_before_s: float,
        need_after_s: float,
        duration_s: float,
        night_bias: float,
    ) -> float | None:
        """A start time in the window, biased to local night with ``night_bias``."""
        lo, hi = need_before_s, self.window_s - duration_s - need_after_s
        if hi < lo:
            return None
        n_days = max(1, int(np.ceil(self.window_s / 86_400)))
        for _ in range(60):
            night = self.rng.random() < night_bias
            local_h = self.rng.uniform(19.0, 27.0) if night else self.rng.uniform(6.0, 16.0)
            day = self.rng.integers(-1, n_days + 1)
            t = day * 86_400 + ((local_h - lon / 15.0) % 24.0) * H
            if lo <= t <= hi:
                return float(t)
        return float(self.rng.uniform(lo, hi))

    # --- vessels -------------------------------------------------------------
    def add_vessel(
        self,
        identity: Identity,
        core: Track,
        speed_kn: float,
        heading_offset_deg: float | None = None,
    ) -> None:
        """Extend a core track with sea transits to cover the window; register it."""
        before = sea_walk(
            self.rng,
            self.region,
            core.lat[0],
            core.lon[0],
            core.t_s[0],
            -H,
            speed_kn,
            backward=True,
        )
        after = sea_walk(
            self.rng,
            self.region,
            core.lat[-1],
            core.lon[-1],
            core.t_s[-1],
            self.window_s + H,
            speed_kn,
            backward=False,
        )
        full = Track(list(core.t_s), list(core.lat), list(core.lon), list(core.status))
        full.prepend(before)
        full.t_s += after.t_s
        full.lat += after.lat
        full.lon += after.lon
        full.status += after.status
        if len(full.t_s) < 2:
            full.add(full.t_s[-1] + H, full.lat[-1], full.lon[-1], full.status[-1])
        if identity.sparse is False and self.rng.random() < self.sparse_event_share:
            identity.sparse = True
            identity.flags.append("sparse")
        if heading_offset_deg is None:
            heading_offset_deg = float(self.rng.uniform(-180, 180))
        self.vessels.append(ScenarioVessel(identity, full, heading_offset_deg))

    def add_truth(
        self,
        kind: str,
        mmsis: list[int],
        t0: float,
        t1: float,
        lat: float,
        lon: float,
        *,
        is_rendezvous: bool,
        is_illicit: bool | None,
        notes: str,
        zone: str | None = None,
    ) -> None:
        pair = sorted(mmsis)[:2] if len(mmsis) == 2 else [*sorted(mmsis)[:1], None]
        self.truth.append(
            {
                "kind": kind,
                "mmsi_a": pair[0],
                "mmsi_b": pair[1],
                "mmsis": ";".join(str(m) for m in sorted(mmsis)),
                "start_s": t0,
                "end_s": t1,
                "lat": lat,
                "lon": float(wrap_lon(lon)),
                "is_rendezvous": is_rendezvous,
                "is_illicit": is_illicit,
                "zone": zone,
                "notes": notes,
            }
        )


def drift_core(
    rng: np.random.Generator,
    lat: float,
    lon: float,
    t0: float,
    t1: float,
    status: int,
    *,
    max_drift_kn: float = 0.6,
) -> Track:
    """Slow drift (current and wind) with keyframes every 20-40 min."""
    tr = Track()
    t = t0
    drift_dir = rng.uniform(0, 360)
    while True:
        tr.add(t, lat, lon, status)
        if t >= t1:
            break
        step = min(rng.uniform(20, 40) * 60.0, t1 - t)
        drift_dir = (drift_dir + rng.normal(0, 20)) % 360
        speed = rng.uniform(0.05, max_drift_kn) * KN_TO_MPS
        lat, lon = (float(x) for x in destination(lat, lon, drift_dir, speed * step))
        t += step
    return tr


def partner_track(
    rng: np.random.Generator,
    core: Track,
    t0: float,
    t1: float,
    sep_m: tuple[float, float],
    status: int,
) -> Track:
    """The other hull of a meeting: same drift, a slowly varying offset of ``sep_m``."""
    tr = Track()
    brg = rng.uniform(0, 360)
    kt = np.asarray(core.t_s)
    times = np.unique(np.r_[t0, kt[(kt > t0) & (kt < t1)], t1])
    lats = np.interp(times, kt, core.lat)
    lons = np.interp(times, kt, core.lon)
    for t, la, lo in zip(times, lats, lons, strict=True):
        d = rng.uniform(*sep_m)
        brg = (brg + rng.normal(0, 8)) % 360
        la2, lo2 = destination(la, lo, brg, d)
        tr.add(t, float(la2), float(lo2), status)
    return tr


def truncated_lognormal_h(
    rng: np.random.Generator, median_h: float, log_sd: float, lo_h: float, hi_h: float
) -> float:
    for _ in range(1000):
        x = float(np.exp(rng.normal(np.log(median_h), log_sd)))
        if lo_h <= x <= hi_h:
            return x
    return float(np.clip(median_h, lo_h, hi_h))


def meeting(
    ctx: Context,
    a: Identity,
    b: Identity,
    status: tuple[int, int],
    lat: float,
    lon: float,
    t_start: float,
    dur_s: float,
    wait_s: float,
    linger_s: float,
    sep_m: tuple[float, float] = (40.0, 180.0),
    max_drift_kn: float = 0.6,
) -> None:
    """Vessel ``a`` arrives first and waits; ``b`` comes alongside for ``dur_s``; both leave."""
    rng = ctx.rng
    core_a = drift_core(
        rng,
        lat,
        lon,
        t_start - wait_s,
        t_start + dur_s + linger_s,
        status[0],
        max_drift_kn=max_drift_kn,
    )
    core_b = partner_track(rng, core_a, t_start, t_start + dur_s, sep_m, status[1])
    hdg = float(rng.uniform(-180, 180))
    ctx.add_vessel(a, core_a, float(rng.uniform(9, 13)), hdg)
    ctx.add_vessel(b, core_b, float(rng.uniform(9, 13)), hdg + float(rng.normal(0, 5)))


def notes_for(*parts: str | None, a: Identity, b: Identity | None = None) -> str:
    out = [p for p in parts if p]
    out += [f"a:{f}" for f in a.flags]
    if b is not None:
        out += [f"b:{f}" for f in b.flags]
    return ";".join(out)
