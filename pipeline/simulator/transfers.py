"""Transfers of both classes: visible rendezvous and dark transfers.

A transfer is a supplier and a receiver (:func:`~.profiles.transfer_pair`),
a place drawn from the class's location mix (:meth:`~.scenarios.Context.place`),
a duration from Global Fishing Watch's published encounters, and the
behaviour tactics of its plan applied to the transmitters:

* ``ais_off``: a vessel silent 6-30 h, ending 0.5-2 h before it arrives or
  starting 0.5-2 h after it leaves;
* ``switch_at_sea``: a vessel's track *starts* (AIS switched on) 0.3-1.5 h
  before it arrives, or *ends* likewise after it leaves, with at least 8 h of
  the window on that side, so the silence is observable;
* a **dark transfer**: the partner comes alongside a loitering ship with its
  AIS off for the whole approach, meeting and departure (the one-sided case
  that observer comparisons found most common). Mostly illicit
  (:data:`DARK_TRANSFER_ILLICIT_SHARE`); the legitimate ones are partners in
  a reception hole.

Both classes, alike, sometimes share a **reception hole**: both vessels of a
meeting silent together for 2-8 h mid-meeting (:data:`SHARED_SILENCE_SHARE`),
which is not going dark.
"""

from __future__ import annotations

import numpy as np

from stswatch.pipeline.simulator.profiles import Identity, TransferPlan, transfer_pair
from stswatch.pipeline.simulator.scenarios import (
    GFW_DURATION_LOG_SD,
    GFW_DURATION_MEDIAN_H,
    Context,
    H,
    meeting,
    notes_for,
    truncated_lognormal_h,
)

#: Share of dark transfers that are illicit (the rest: a partner out of reception).
DARK_TRANSFER_ILLICIT_SHARE = 0.75
#: Share of transfers of either class with a reception hole shared by both vessels.
SHARED_SILENCE_SHARE = 0.05
#: A track switched on/off at sea leaves at least this much silent window on its side.
SWITCH_SILENCE_H = 8.0
#: Transfers last 3-24 h (GFW log-normal, both classes; 68 % of GFW's published
#: encounters lie in this range, their median 7.3 h).
MIN_DURATION_H, MAX_DURATION_H = 3.0, 24.0


def _darkness(rng: np.random.Generator, plan: TransferPlan) -> dict[str, dict]:
    """Per vessel: hours dark before/after and a switch at sea ("on"/"off"), from the plan."""
    out = {s: {"before_h": 0.0, "after_h": 0.0, "switch": None} for s in "ab"}
    for side in plan.tactics.get("ais_off", ""):
        r = rng.random()
        if r < 0.55 or r >= 0.85:
            out[side]["before_h"] = float(rng.uniform(6.0, 30.0))
        if r >= 0.55:
            out[side]["after_h"] = float(rng.uniform(6.0, 30.0))
    for side in plan.tactics.get("switch_at_sea", ""):
        out[side]["switch"] = "on" if rng.random() < 0.5 else "off"
    return out


def _needs_s(dark: dict[str, dict]) -> tuple[float, float]:
    """Window time needed before the arrival and after the departure for the silences."""
    before = max(d["before_h"] + 2.5 if d["before_h"] else 0.0 for d in dark.values())
    after = max(d["after_h"] + 2.5 if d["after_h"] else 0.0 for d in dark.values())
    if any(d["switch"] == "on" for d in dark.values()):
        before = max(before, SWITCH_SILENCE_H + 1.5)
    if any(d["switch"] == "off" for d in dark.values()):
        after = max(after, SWITCH_SILENCE_H + 1.5)
    return before * H, after * H


def _shrink(dark: dict[str, dict]) -> None:
    """A short window cannot hold every silence: shorten to 8 h, then drop them."""
    for d in dark.values():
        for key in ("before_h", "after_h"):
            d[key] = min(d[key], 8.0) if d[key] > 8.0 else 0.0
        d["switch"] = None


def apply_darkness(
    identity: Identity,
    arrive_s: float,
    leave_s: float,
    dark: dict,
    window_s: float,
    rng: np.random.Generator,
) -> None:
    """Silence ``identity``'s transmitter as ``dark`` says (in place)."""
    if dark["before_h"]:
        end = arrive_s - rng.uniform(0.5, 2.0) * H
        identity.dark.append((end - dark["before_h"] * H, end))
        identity.flags.append(f"dark_before={dark['before_h']:.1f}h")
    if dark["after_h"]:
        start = leave_s + rng.uniform(0.5, 2.0) * H
        identity.dark.append((start, start + dark["after_h"] * H))
        identity.flags.append(f"dark_after={dark['after_h']:.1f}h")
    if dark["switch"] == "on":
        identity.dark.append((-2 * H, arrive_s - rng.uniform(0.3, 1.5) * H))
        identity.flags.append("switched_on_at_sea")
    elif dark["switch"] == "off":
        identity.dark.append((leave_s + rng.uniform(0.3, 1.5) * H, window_s + 2 * H))
        identity.flags.append("switched_off_at_sea")


def schedule_changes(
    identity: Identity, arrive_s: float, leave_s: float, window_s: float, rng: np.random.Generator
) -> None:
    """Put planned name / call-sign changes where the data shows them: after, else before.

    A change outside the window would be invisible, so the label would lie;
    it is dropped instead.
    """
    for field, flag in (("name", "renamed"), ("callsign", "callsign_changed")):
        if getattr(identity, f"{field}_after") is None:
            continue
        after = leave_s + float(rng.uniform(0.5, 6.0)) * H
        before = arrive_s - float(rng.uniform(1.0, 6.0)) * H
        if after < window_s:
            setattr(identity, f"{field}_change_s", after)
        elif before > 0:
            setattr(identity, f"{field}_change_s", before)
        else:
            setattr(identity, f"{field}_after", None)
            if flag in identity.flags:
                identity.flags.remove(flag)


def _shared_silence(
    rng: np.random.Generator, a: Identity, b: Identity, t_start: float, dur_s: float
) -> None:
    """Both vessels silent together mid-meeting: a reception hole, for both classes."""
    if dur_s < 5 * H or rng.random() >= SHARED_SILENCE_SHARE:
        return
    length = float(rng.uniform(2.0, min(8.0, dur_s / H - 3.0))) * H
    start = t_start + float(rng.uniform(1.0, dur_s / H - length / H - 1.0)) * H
    for v in (a, b):
        v.dark.append((start, start + length))
        v.flags.append(f"shared_silence={length / H:.1f}h")


def _plan_notes(plan: TransferPlan, where: str) -> str:
    clean = plan.illicit and plan.clean_looking
    return f"pair={plan.pair_type};where={where}" + (";clean-looking" if clean else "")


def add_transfer(ctx: Context, *, illicit: bool) -> bool:
    """One visible transfer (both AIS on during the meeting). False when it cannot be placed."""
    rng = ctx.rng
    a, b, plan = transfer_pair(rng, ctx.taken_mmsis, ctx.region.local_mids, illicit=illicit)
    dur_s = (
        truncated_lognormal_h(
            rng, GFW_DURATION_MEDIAN_H, GFW_DURATION_LOG_SD, MIN_DURATION_H, MAX_DURATION_H
        )
        * H
    )
    dur_s = min(dur_s, max(3.0 * H, ctx.window_s - 4 * H))
    wait_s = float(rng.uniform(0.0, 2.0)) * H
    linger_s = float(rng.uniform(0.0, 1.0)) * H
    dark = _darkness(rng, plan)
    for _ in range(3):
        need_before, need_after = _needs_s(dark)
        need_before += wait_s + H
        need_after += linger_s + H
        if need_before + dur_s + need_after <= ctx.window_s:
            break
        _shrink(dark)
    where = ctx.location_kind(illicit)
    t_start = ctx.start_time(ctx.region.lon_center, need_before, need_after, dur_s, plan.night_bias)
    if t_start is None:
        return False
    t0, t1 = t_start - wait_s, t_start + dur_s + linger_s
    placed = ctx.place(where, t0, t1)
    if placed is None:
        return False
    lat, lon, zone = placed
    for ident, side, arrive, leave in (
        (a, "a", t0, t1),
        (b, "b", t_start, t_start + dur_s),
    ):
        apply_darkness(ident, arrive, leave, dark[side], ctx.window_s, rng)
        if ident.draught_after_m is not None:
            ident.draught_change_s = leave
        schedule_changes(ident, arrive, leave, ctx.window_s, rng)
    _shared_silence(rng, a, b, t_start, dur_s)
    drift = 0.2 if where == "coastal" else 0.6
    meeting(ctx, a, b, plan.status, lat, lon, t_start, dur_s, wait_s, linger_s, max_drift_kn=drift)
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
        notes=notes_for(_plan_notes(plan, where), a=a, b=b),
    )
    return True


def add_dark_transfer(ctx: Context, *, illicit: bool) -> bool:
    """A loitering ship met by a partner whose AIS is off from approach to departure.

    The partner's last fix before and first fix after lie 3-19 km from the
    meeting (AIS off 0.2-0.8 h before arriving, on as long after leaving, at
    9-13 kn); its silence (>= 5.4 h) is one gap that overlaps the loiterer's
    drift.
    """
    rng = ctx.rng
    a, b, plan = transfer_pair(rng, ctx.taken_mmsis, ctx.region.local_mids, illicit=illicit)
    if rng.random() < 0.5:  # the dark one may be the supplier or the receiver
        a, b = b, a
    dur_s = float(rng.uniform(5.0, 12.0)) * H
    wait_s = float(rng.uniform(0.5, 2.0)) * H
    linger_s = float(rng.uniform(0.0, 1.0)) * H
    approach_s, depart_s = (float(x) * H for x in rng.uniform(0.2, 0.8, 2))
    need_before, need_after = wait_s + approach_s + 2 * H, linger_s + depart_s + 2 * H
    where = ctx.location_kind(illicit)
    t_start = ctx.start_time(ctx.region.lon_center, need_before, need_after, dur_s, plan.night_bias)
    if t_start is None:
        return False
    t0, t1 = t_start - wait_s, t_start + dur_s + linger_s
    placed = ctx.place(where, t0 - approach_s, t1 + depart_s)
    if placed is None:
        return False
    lat, lon, zone = placed
    b.dark.append((t_start - approach_s, t_start + dur_s + depart_s))
    b.flags.append(f"dark_partner={(dur_s + approach_s + depart_s) / H:.1f}h")
    for ident, arrive, leave in ((a, t0, t1), (b, t_start, t_start + dur_s)):
        if ident.draught_after_m is not None:
            ident.draught_change_s = leave
        schedule_changes(ident, arrive, leave, ctx.window_s, rng)
    drift = 0.2 if where == "coastal" else 0.6
    meeting(ctx, a, b, plan.status, lat, lon, t_start, dur_s, wait_s, linger_s, max_drift_kn=drift)
    # the partner reports normally on either side of its silence: with a
    # satellite-like clock its last fix could lie 45 min (10+ km) earlier, beyond
    # any pairing radius, and the truth would promise a pair nobody could make
    # (unless every vessel is satellite-like: then so is the partner)
    if b.sparse and ctx.sparse_event_share < 1.0:
        b.sparse = False
        b.flags.remove("sparse")
    ctx.add_truth(
        "dark_transfer",
        [a.mmsi, b.mmsi],
        t_start,
        t_start + dur_s,
        lat,
        lon,
        is_rendezvous=False,
        is_illicit=illicit,
        zone=zone.name if zone else None,
        notes=notes_for(_plan_notes(plan, where), f"dark={b.mmsi}", a=a, b=b),
    )
    return True


def add_any_dark_transfer(ctx: Context) -> bool:
    """A dark transfer whose class is drawn (:data:`DARK_TRANSFER_ILLICIT_SHARE`)."""
    return add_dark_transfer(ctx, illicit=bool(ctx.rng.random() < DARK_TRANSFER_ILLICIT_SHARE))
