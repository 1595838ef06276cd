"""Decoy scenarios: close or slow pairs that a correct detector must *not* report.

Each breaks exactly one part of the rendezvous definition (500 m, 2 h,
< 2 kn on both vessels, away from port), so together they test every rule:
short meetings (duration), convoys and pair trawlers (speed), passing ships
(duration and speed), anchorage crowds (away-from-port), and a ship loitering
while its partner stays dark (no two-vessel rendezvous: a *dark* transfer when
the partner is seen on AIS before and after, nothing to pair otherwise). See
:mod:`stswatch.pipeline.simulator.scenarios` for the shared machinery.
"""

from __future__ import annotations

import numpy as np

from stswatch.pipeline.simulator.geometry import (
    KN_TO_MPS,
    destination,
    is_land,
    offset_m,
    segment_at_sea,
)
from stswatch.pipeline.simulator.motion import AT_ANCHOR, FISHING, UNDER_WAY, Track
from stswatch.pipeline.simulator.profiles import plain_identity, transfer_pair
from stswatch.pipeline.simulator.scenarios import (
    SCENARIO_SEPARATION_M,
    Context,
    H,
    drift_core,
    meeting,
    notes_for,
    partner_track,
)
from stswatch.pipeline.simulator.transfers import (
    add_any_dark_transfer,
    add_transfer,
    schedule_changes,
)


def add_short_meeting(ctx: Context) -> bool:
    """Two ships alongside for under 1.5 h: below the 2 h rule, not a rendezvous."""
    rng = ctx.rng
    dur_s = float(rng.uniform(0.5, 1.4)) * H
    t_start = ctx.start_time(ctx.region.lon_center, 2 * H, 2 * H, dur_s, 0.5)
    if t_start is None:
        return False
    point = ctx.remote_point(t_start - 2 * H, t_start + dur_s + 2 * H)
    if point is None:
        return False
    lat, lon = point
    ctx.occupy(lat, lon, t_start, t_start + dur_s, SCENARIO_SEPARATION_M)
    mids = ctx.region.local_mids
    a = plain_identity(rng, ctx.taken_mmsis, mids, "merchant")
    b = plain_identity(rng, ctx.taken_mmsis, mids, "merchant")
    # no waiting or lingering: the slow-and-close span must stay < 1.5 h
    meeting(ctx, a, b, (UNDER_WAY, UNDER_WAY), lat, lon, t_start, dur_s, 0.0, 0.0)
    ctx.add_truth(
        "short_meeting",
        [a.mmsi, b.mmsi],
        t_start,
        t_start + dur_s,
        lat,
        lon,
        is_rendezvous=False,
        is_illicit=None,
        notes=f"duration={dur_s / H:.2f}h",
    )
    return True


def _straight_pair(
    ctx: Context,
    *,
    kind: str,
    speed_kn: tuple[float, float],
    dur_h: tuple[float, float],
    sep_m: tuple[float, float],
    min_coast_m: float,
) -> bool:
    """Convoys and pair trawlers: side by side, moving, for hours."""
    rng = ctx.rng
    dur_s = float(rng.uniform(*dur_h)) * H
    t_start = ctx.start_time(ctx.region.lon_center, H, H, dur_s, 0.5)
    if t_start is None:
        return False
    for _ in range(30):
        point = ctx.remote_point(t_start, t_start + dur_s, min_coast_m=min_coast_m)
        if point is None:
            return False
        lat, lon = point
        v = float(rng.uniform(*speed_kn))
        leg_s = (rng.uniform(1.0, 2.0) if kind == "pair_trawl" else dur_s / H) * H
        sep = float(rng.uniform(*sep_m))
        brg = float(rng.uniform(0, 360))
        a, b = Track(), Track()
        t, ok = t_start, True
        status = FISHING if kind == "pair_trawl" else UNDER_WAY
        while ok:
            la_b, lo_b = destination(lat, lon, brg + 90.0, sep)
            a.add(t, lat, lon, status)
            b.add(t, float(la_b), float(lo_b), status)
            if t >= t_start + dur_s - 1:
                break
            step = min(leg_s, t_start + dur_s - t)
            if kind == "pair_trawl":
                brg = (brg + rng.choice([-1, 1]) * rng.uniform(20, 50)) % 360
            la2, lo2 = destination(lat, lon, brg, v * KN_TO_MPS * step)
            ok = segment_at_sea(lat, lon, float(la2), float(lo2))
            lat, lon, t = float(la2), float(lo2), t + step
        if not ok or is_land(np.array(b.lat), np.array(b.lon)).any():
            continue
        mids = ctx.region.local_mids
        ida = plain_identity(
            rng, ctx.taken_mmsis, mids, "fishing" if kind == "pair_trawl" else "merchant"
        )
        idb = plain_identity(
            rng, ctx.taken_mmsis, mids, "fishing" if kind == "pair_trawl" else "merchant"
        )
        transit = v if kind == "convoy" else float(rng.uniform(7, 10))
        ctx.add_vessel(ida, a, transit, 0.0)
        ctx.add_vessel(idb, b, transit, 0.0)
        mid = len(a.t_s) // 2
        ctx.occupy(a.lat[mid], a.lon[mid], t_start, t_start + dur_s, SCENARIO_SEPARATION_M)
        ctx.add_truth(
            kind,
            [ida.mmsi, idb.mmsi],
            t_start,
            t_start + dur_s,
            a.lat[mid],
            a.lon[mid],
            is_rendezvous=False,
            is_illicit=None,
            notes=f"speed={v:.1f}kn;separation={sep:.0f}m",
        )
        return True
    return False


def add_convoy(ctx: Context) -> bool:
    return _straight_pair(
        ctx,
        kind="convoy",
        speed_kn=(8.0, 12.0),
        dur_h=(3.0, 8.0),
        sep_m=(200.0, 400.0),
        min_coast_m=15_000.0,
    )


def add_pair_trawl(ctx: Context) -> bool:
    # 2.7 kn floor: reported SOG noise (~0.1 kn) must never dip under the 2 kn rule
    return _straight_pair(
        ctx,
        kind="pair_trawl",
        speed_kn=(2.7, 4.0),
        dur_h=(4.0, 10.0),
        sep_m=(300.0, 480.0),
        min_coast_m=15_000.0,
    )


def add_passing(ctx: Context) -> bool:
    """Two ships crossing or meeting head-on within a few hundred metres, at speed."""
    rng = ctx.rng
    t_c = ctx.start_time(ctx.region.lon_center, 2 * H, 2 * H, 0.0, 0.5)
    if t_c is None:
        return False
    for _ in range(30):
        point = ctx.remote_point(t_c - H, t_c + H, min_coast_m=15_000.0)
        if point is None:
            return False
        lat, lon = point
        va, vb = rng.uniform(10, 16, 2)
        brg_a = float(rng.uniform(0, 360))
        brg_b = (brg_a + rng.uniform(100, 260)) % 360
        d_pass = float(rng.uniform(80, 400))
        lat_b, lon_b = (float(x) for x in destination(lat, lon, brg_a + 90, d_pass))
        tracks = []
        for la, lo, brg, v in ((lat, lon, brg_a, va), (lat_b, lon_b, brg_b, vb)):
            la0, lo0 = destination(la, lo, brg + 180, v * KN_TO_MPS * H)
            la1, lo1 = destination(la, lo, brg, v * KN_TO_MPS * H)
            if not segment_at_sea(float(la0), float(lo0), float(la1), float(lo1)):
                break
            tr = Track()
            tr.add(t_c - H, float(la0), float(lo0))
            tr.add(t_c + H, float(la1), float(lo1))
            tracks.append((tr, v))
        if len(tracks) < 2:
            continue
        mids = ctx.region.local_mids
        ids = [plain_identity(rng, ctx.taken_mmsis, mids, "merchant") for _ in range(2)]
        for ident, (tr, v) in zip(ids, tracks, strict=True):
            ctx.add_vessel(ident, tr, float(v), 0.0)
        ctx.occupy(lat, lon, t_c - H, t_c + H, SCENARIO_SEPARATION_M)
        ctx.add_truth(
            "passing",
            [i.mmsi for i in ids],
            t_c - 600.0,
            t_c + 600.0,
            lat,
            lon,
            is_rendezvous=False,
            is_illicit=None,
            notes=f"closest={d_pass:.0f}m;speeds={va:.1f}/{vb:.1f}kn",
        )
        return True
    return False


def add_anchorage_crowd(ctx: Context) -> bool:
    """Many ships at anchor for many hours a few km off a real port: never a rendezvous."""
    rng = ctx.rng
    ports = ctx.region.ports
    for _ in range(20):
        port = ports[int(rng.integers(len(ports)))]
        d = rng.uniform(2_000, 4_000, 64)
        clat, clon = destination(port.lat, port.lon, rng.uniform(0, 360, 64), d)
        sea = np.flatnonzero(~is_land(clat, clon) & (ctx.port_distance_m(clat, clon) < 4_000))
        if len(sea) == 0:
            continue
        clat, clon = float(clat[sea[0]]), float(clon[sea[0]])
        n = int(rng.integers(6, 15))
        la, lo = destination(
            clat, clon, rng.uniform(0, 360, 8 * n), 2_000 * np.sqrt(rng.random(8 * n))
        )
        # within the detector's own port radius (10 km) with margin
        ok = ~is_land(la, lo) & (ctx.port_distance_m(la, lo) < 7_000)
        la, lo = la[ok][:n], lo[ok][:n]
        if len(la) < 6:
            continue
        # two neighbours always lie within 500 m: the crowd must tempt the
        # pair rule, so that only the away-from-port rule can reject it
        la1, lo1 = destination(la[0], lo[0], rng.uniform(0, 360), rng.uniform(200, 450))
        if is_land(np.array([la1]), np.array([lo1]))[0]:
            continue
        la[1], lo[1] = float(la1), float(lo1)
        mmsis = []
        t_lo, t_hi = [], []
        for i in range(len(la)):
            stay = float(rng.uniform(8, 30)) * H
            a0 = float(rng.uniform(-stay / 2, max(ctx.window_s - stay / 2, 1.0)))
            if i == 1:  # the close neighbour shares most of the first ship's stay
                a0, stay = t_lo[0] + float(rng.uniform(0, 2)) * H, max(stay, 8 * H)
            a1 = min(a0 + stay, ctx.window_s + 2 * H)
            a0 = max(a0, -2 * H)
            tr = Track()
            t = a0
            while t < a1:  # swinging round the anchor: tens of metres
                sla, slo = offset_m(la[i], lo[i], rng.normal(0, 25), rng.normal(0, 25))
                tr.add(t, float(sla), float(slo), AT_ANCHOR)
                t += H
            tr.add(a1, float(la[i]), float(lo[i]), AT_ANCHOR)
            ident = plain_identity(rng, ctx.taken_mmsis, ctx.region.local_mids, "anchored")
            ctx.add_vessel(ident, tr, float(rng.uniform(8, 12)))
            mmsis.append(ident.mmsi)
            t_lo.append(a0)
            t_hi.append(a1)
        ctx.add_truth(
            "anchorage_crowd",
            mmsis,
            max(min(t_lo), 0.0),
            min(max(t_hi), ctx.window_s),
            clat,
            clon,
            is_rendezvous=False,
            is_illicit=None,
            notes=f"port={port.name};n_vessels={len(mmsis)}",
        )
        return True
    return False


#: Share of loitering-with-dark-partner scenarios whose partner is on AIS before
#: and after the meeting (switched off only alongside: a dark transfer the
#: detector can pair); in the rest the partner never transmits at all and
#: only the loiterer is seen (no pair can be made).
DARK_PARTNER_SEEN_SHARE = 0.75


def add_loitering_dark_partner(ctx: Context) -> bool:
    """One ship drifting far offshore for hours; a partner comes alongside with AIS off.

    The partner (when seen at all) transits in and out on AIS, switches off
    0.2-0.8 h before coming alongside and back on 0.2-0.8 h after leaving, so
    its last and first fixes lie a few to ~20 km from the loiterer. Its time
    alongside (2.5-8 h) varies within the loiterer's 5-12 h drift.
    """
    rng = ctx.rng
    dur_s = float(rng.uniform(5, 12)) * H
    t_start = ctx.start_time(ctx.region.lon_center, H, H, dur_s, 0.7)
    if t_start is None:
        return False
    point = ctx.remote_point(t_start, t_start + dur_s)
    if point is None:
        return False
    lat, lon = point
    ctx.occupy(lat, lon, t_start, t_start + dur_s, SCENARIO_SEPARATION_M)
    a, b, _ = transfer_pair(rng, ctx.taken_mmsis, ctx.region.local_mids, illicit=True)
    core = drift_core(rng, lat, lon, t_start, t_start + dur_s, UNDER_WAY)
    seen = rng.random() < DARK_PARTNER_SEEN_SHARE
    mmsis = [a.mmsi]
    if seen:
        along_s = float(rng.uniform(2.5, min(8.0, dur_s / H - 1.0))) * H
        t_a = t_start + float(rng.uniform(0.5 * H, dur_s - along_s - 0.5 * H))
        t_b = t_a + along_s
        off_s, on_s = (float(x) * H for x in rng.uniform(0.2, 0.8, 2))
        b.dark.append((t_a - off_s, t_b + on_s))
        b.flags.append(f"dark_alongside={(along_s + off_s + on_s) / H:.1f}h")
        for ident in (a, b):
            if ident.draught_after_m is not None:
                ident.draught_change_s = t_b
        core_b = partner_track(rng, core, t_a, t_b, (40.0, 180.0), UNDER_WAY)
        schedule_changes(b, t_a, t_b, ctx.window_s, rng)
        mmsis.append(b.mmsi)
    else:
        a.draught_after_m = None  # no partner seen, no cargo to show
    schedule_changes(a, t_start, t_start + dur_s, ctx.window_s, rng)
    ctx.add_vessel(a, core, float(rng.uniform(9, 12)))
    if seen:
        ctx.add_vessel(b, core_b, float(rng.uniform(9, 12)))
    ctx.add_truth(
        "loitering_dark_partner",
        mmsis,
        t_start,
        t_start + dur_s,
        lat,
        lon,
        is_rendezvous=False,
        is_illicit=True,
        notes=notes_for(
            "partner on AIS except alongside" if seen else "partner not transmitting",
            a=a,
            b=b if seen else None,
        ),
    )
    return True


BUILDERS = {
    "illicit_rendezvous": lambda ctx: add_transfer(ctx, illicit=True),
    "legit_transfer": lambda ctx: add_transfer(ctx, illicit=False),
    "dark_transfer": add_any_dark_transfer,
    "anchorage_crowd": add_anchorage_crowd,
    "passing": add_passing,
    "convoy": add_convoy,
    "pair_trawl": add_pair_trawl,
    "short_meeting": add_short_meeting,
    "loitering_dark_partner": add_loitering_dark_partner,
}
