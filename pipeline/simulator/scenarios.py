"""Labelled scenarios: each builds vessels (identity + keyframe track) and one truth row.

Scenario kinds and whether a correct rendezvous detector (500 m, 2 h, < 2 kn
on both vessels, away from port) must report them:

=========================  ==============  =========================================
kind                       is_rendezvous   geometry
=========================  ==============  =========================================
illicit_rendezvous         True            remote (> 30 km offshore), < 200 m, < 1 kn, 3-12 h
legit_transfer             True            recurring zone near an oil port, 4-16 h
anchorage_crowd            False           6-14 ships at anchor within 8 km of a port
passing                    False           crossing within 80-400 m at 10-16 kn
convoy                     False           parallel 200-400 m apart at 8-12 kn for hours
pair_trawl                 False           300-480 m apart at 2.7-4 kn for hours
short_meeting              False           drifting alongside for 0.5-1.4 h only
loitering_dark_partner     False           one ship drifting offshore; partner silent alongside
                                           (a dark transfer) or never seen
=========================  ==============  =========================================

This module holds the shared machinery (placement, timing, meeting geometry,
darkness) and the two transfer kinds; the decoys are in
:mod:`stswatch.pipeline.simulator.decoys`.

Meetings are calibrated on Global Fishing Watch's published encounters
(11,681 events, 2012-2017): duration log-normal with median 7.3 h and log-sd
0.94, truncated to the brief's 3-12 h; median separation 40 m; median speed
0.55 kn. Every vessel's track covers the whole window (sea-only transit legs
before and after its scenario), so the detector sees continuous tracks
except where a scenario switches a transmitter off on purpose.
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
from stswatch.pipeline.simulator.profiles import Identity, illicit_pair, legit_pair
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

    def remote_point(self, t0: float, t1: float, min_coast_m: float = REMOTE_MIN_COAST_M):
        """A random open-sea point far from coasts, ports, zones and other scenarios."""
        r = self.region
        for _ in range(40):
            lat = self.rng.uniform(r.lat_min, r.lat_max, 256)
            lon = self.rng.uniform(r.lon_min, r.lon_max, 256)
            ok = ~is_land(lat, lon)
            ok &= distance_to_coast_m(lat, lon) >= min_coast_m
            for z in r.zones:
                ok &= haversine_m(lat, lon, z.lat, z.lon) > z.radius_m + 30_000.0
            ok &= self.port_distance_m(lat, lon) > 40_000.0
            for i in np.flatnonzero(ok):
                if self._free(lat[i], lon[i], t0, t1, SCENARIO_SEPARATION_M):
                    return float(lat[i]), float(lon[i])
        return None

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
) -> None:
    """Vessel ``a`` arrives first and waits; ``b`` comes alongside for ``dur_s``; both leave."""
    rng = ctx.rng
    core_a = drift_core(rng, lat, lon, t_start - wait_s, t_start + dur_s + linger_s, status[0])
    core_b = partner_track(rng, core_a, t_start, t_start + dur_s, sep_m, status[1])
    hdg = float(rng.uniform(-180, 180))
    ctx.add_vessel(a, core_a, float(rng.uniform(9, 13)), hdg)
    ctx.add_vessel(b, core_b, float(rng.uniform(9, 13)), hdg + float(rng.normal(0, 5)))


def apply_dark(
    identity: Identity,
    arrive_s: float,
    leave_s: float,
    before_h: float | None,
    after_h: float | None,
    rng: np.random.Generator,
) -> None:
    if before_h:
        end = arrive_s - rng.uniform(0.5, 2.0) * H
        identity.dark.append((end - before_h * H, end))
        identity.flags.append(f"dark_before={before_h:.1f}h")
    if after_h:
        start = leave_s + rng.uniform(0.5, 2.0) * H
        identity.dark.append((start, start + after_h * H))
        identity.flags.append(f"dark_after={after_h:.1f}h")


def schedule_rename(
    identity: Identity, arrive_s: float, leave_s: float, window_s: float, rng: np.random.Generator
) -> None:
    """Put a planned name change where the data shows it: after the meeting, else before.

    A rename outside the window would be invisible, so the label ("renamed")
    would lie; it is dropped instead.
    """
    if identity.name_after is None:
        return
    after = leave_s + float(rng.uniform(0.5, 6.0)) * H
    before = arrive_s - float(rng.uniform(1.0, 6.0)) * H
    if after < window_s:
        identity.name_change_s = after
    elif before > 0:
        identity.name_change_s = before
    else:
        identity.name_after = None
        identity.flags.remove("renamed")


def notes_for(*parts: str | None, a: Identity, b: Identity | None = None) -> str:
    out = [p for p in parts if p]
    out += [f"a:{f}" for f in a.flags]
    if b is not None:
        out += [f"b:{f}" for f in b.flags]
    return ";".join(out)


def add_transfer(ctx: Context, *, illicit: bool) -> bool:
    """One illicit rendezvous or one legitimate transfer. False when it cannot be placed."""
    rng = ctx.rng
    if illicit:
        a, b, plan, variant = illicit_pair(rng, ctx.taken_mmsis, ctx.region.local_mids)
        dur_s = (
            truncated_lognormal_h(rng, GFW_DURATION_MEDIAN_H, GFW_DURATION_LOG_SD, 3.0, 12.0) * H
        )
    else:
        a, b, plan, variant = legit_pair(rng, ctx.taken_mmsis, ctx.region.local_mids)
        dur_s = truncated_lognormal_h(rng, 9.0, 0.5, 4.0, 16.0) * H
    dur_s = min(dur_s, max(3.0 * H, ctx.window_s - 4 * H))
    wait_s = float(rng.uniform(0.0, 2.0)) * H
    linger_s = float(rng.uniform(0.0, 1.0)) * H
    dark_b = [x or 0.0 for x in plan.dark_before_h]
    dark_a = [x or 0.0 for x in plan.dark_after_h]
    for _ in range(3):
        need_before = wait_s + max(dark_b) * H + (2.5 * H if max(dark_b) else 0.0) + H
        need_after = linger_s + max(dark_a) * H + (2.5 * H if max(dark_a) else 0.0) + H
        if need_before + dur_s + need_after <= ctx.window_s:
            break
        # a short window cannot hold every dark period: shorten, then drop them
        dark_b = [min(x, 8.0) if x else 0.0 for x in dark_b] if max(dark_b) > 8 else [0.0, 0.0]
        dark_a = [min(x, 8.0) if x else 0.0 for x in dark_a] if max(dark_a) > 8 else [0.0, 0.0]
    zone: Zone | None = None
    zones = list(ctx.region.zones) if plan.in_zone else []
    order = rng.permutation(len(zones)) if zones else []
    place_lon = zones[order[0]].lon if zones else ctx.region.lon_center
    t_start = ctx.start_time(place_lon, need_before, need_after, dur_s, plan.night_bias)
    if t_start is None:
        return False
    t0, t1 = t_start - wait_s, t_start + dur_s + linger_s
    point = None
    for k in order:  # the drawn zone first, then any other with room
        zone = zones[k]
        if (point := ctx.zone_point(zone, t0, t1)) is not None:
            break
    if not zones:
        zone, point = None, ctx.remote_point(t0, t1)
    if point is None:
        return False
    lat, lon = point
    ctx.occupy(lat, lon, t0, t1, ZONE_SEPARATION_M if zone else SCENARIO_SEPARATION_M)
    for ident, db, da, arrive, leave in (
        (a, dark_b[0], dark_a[0], t0, t1),
        (b, dark_b[1], dark_a[1], t_start, t_start + dur_s),
    ):
        apply_dark(ident, arrive, leave, db or None, da or None, rng)
        if ident.draught_after_m is not None:
            ident.draught_change_s = leave
        schedule_rename(ident, arrive, leave, ctx.window_s, rng)
    meeting(ctx, a, b, plan.status, lat, lon, t_start, dur_s, wait_s, linger_s)
    ctx.add_truth(
        "illicit_rendezvous" if illicit else "legit_transfer",
        [a.mmsi, b.mmsi],
        t_start,
        t_start + dur_s,
        lat,
        lon,
        is_rendezvous=True,
        is_illicit=illicit,
        zone=zone.name if zone else None,
        notes=notes_for(variant, f"odd={plan.odd}" if plan.odd else None, a=a, b=b),
    )
    return True
