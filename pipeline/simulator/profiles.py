"""Who meets whom: identity and behaviour profiles of legitimate and illicit transfers.

Public reporting (UN Panel of Experts on DPRK, US Treasury advisories, Windward
and Lloyd's List dark-fleet studies) describes the contrast the suspicion model
must learn: legitimate lightering/bunkering happens in recurring zones near oil
ports, by large tankers with clean, stable identities and continuous AIS, in
daylight; illicit transfers happen at remote spots, with AIS dark before or
after, weak or changing identities (no IMO, renamed, flags of convenience,
Class B transponders on large hulls), smaller ships, draught changes without
a port call, at night. Real data overlaps: some legitimate events look odd on
one feature (``LEGIT_ODD_SHARE``), and some illicit ones look clean on most
(``ILLICIT_CLEAN_SHARE``), so no single feature separates the classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stswatch.pipeline.simulator.vessels import (
    FOC_MIDS,
    MAJOR_TANKER_MIDS,
    make_callsigns,
    make_imos,
    make_mmsis,
    make_names,
)

#: Share of legitimate transfers with exactly one odd feature (brief: 15-25 %).
LEGIT_ODD_SHARE = 0.2
#: Share of illicit transfers that look clean on most features (brief: 15-25 %).
ILLICIT_CLEAN_SHARE = 0.2
#: Odd features a legitimate event can carry, one at a time.
LEGIT_ODD_FEATURES = (
    "night",
    "no_imo",
    "foc_flag",
    "gap_before",
    "no_draught",
    "mid_size",
    "off_zone",
)
#: Share of legitimate transfers that are bunkering (small bunker tanker
#: supplying a large ship) rather than crude lightering.
BUNKERING_SHARE = 0.25


@dataclass
class Identity:
    """Static fields of one vessel, with optional in-window changes."""

    mmsi: int
    vessel_name: str | None
    imo: int | None
    callsign: str | None
    ship_type: int | None
    length_m: float | None
    width_m: float | None
    draught_m: float | None
    transceiver_class: str = "A"
    draught_after_m: float | None = None  # reported from draught_change_s on
    draught_change_s: float | None = None
    name_after: str | None = None  # reported from name_change_s on
    name_change_s: float | None = None
    sparse: bool = False
    dark: list[tuple[float, float]] = field(default_factory=list)  # silent intervals (s)
    flags: list[str] = field(default_factory=list)  # what was done to it, for notes


@dataclass
class EventPlan:
    """Behaviour of one transfer: timing bias, darkness, draught, nav status."""

    night_bias: float  # probability the meeting starts at local night
    dark_before_h: tuple[float | None, float | None]  # per vessel (a, b)
    dark_after_h: tuple[float | None, float | None]
    in_zone: bool
    status: tuple[int, int]
    odd: str | None = None
    clean_looking: bool = False


def _one_identity(
    rng: np.random.Generator,
    taken: set[int],
    *,
    mids: tuple[int, ...],
    ship_types: tuple[int, ...],
    length_range_m: tuple[float, float],
) -> Identity:
    mmsi = int(make_mmsis(rng, np.array([rng.choice(mids)]), taken)[0])
    length = float(np.round(rng.uniform(*length_range_m)))
    return Identity(
        mmsi=mmsi,
        vessel_name=str(make_names(rng, 1)[0]),
        imo=int(make_imos(rng, 1)[0]),
        callsign=str(make_callsigns(rng, np.array([mmsi]))[0]),
        ship_type=int(rng.choice(ship_types)),
        length_m=length,
        width_m=float(np.round(length / rng.uniform(5.2, 6.4))),
        draught_m=None,
    )


def legit_pair(
    rng: np.random.Generator, taken: set[int], local_mids: tuple[int, ...]
) -> tuple[Identity, Identity, EventPlan, str]:
    """A lightering (mother + shuttle) or bunkering pair with clean identities."""
    mids = tuple(MAJOR_TANKER_MIDS) + tuple(local_mids[:3])
    bunkering = rng.random() < BUNKERING_SHARE
    if bunkering:
        a = _one_identity(rng, taken, mids=mids, ship_types=(80, 81, 89), length_range_m=(85, 140))
        b = _one_identity(
            rng, taken, mids=mids, ship_types=(70, 71, 79, 80, 84), length_range_m=(180, 366)
        )
        a.draught_m = round(float(rng.uniform(5.5, 8.0)), 1)
        a.draught_after_m = round(a.draught_m - float(rng.uniform(0.8, 2.2)), 1)
        b.draught_m = round(float(rng.uniform(9.0, 14.5)), 1)
        b.draught_after_m = round(b.draught_m + float(rng.uniform(0.1, 0.4)), 1)
        kind_note = "bunkering"
    else:
        a = _one_identity(rng, taken, mids=mids, ship_types=(80, 81, 84), length_range_m=(274, 333))
        b = _one_identity(rng, taken, mids=mids, ship_types=(80, 81, 84), length_range_m=(228, 250))
        a.draught_m = round(float(rng.uniform(17.0, 21.5)), 1)  # loaded VLCC/Suezmax
        a.draught_after_m = round(a.draught_m - float(rng.uniform(2.5, 5.5)), 1)
        b.draught_m = round(float(rng.uniform(6.5, 9.0)), 1)  # Aframax shuttle in ballast
        b.draught_after_m = round(b.draught_m + float(rng.uniform(3.0, 5.5)), 1)
        kind_note = "lightering"
    plan = EventPlan(
        night_bias=0.2,
        dark_before_h=(None, None),
        dark_after_h=(None, None),
        in_zone=True,
        status=(
            int(rng.choice([3, 1, 0], p=[0.5, 0.3, 0.2])),
            int(rng.choice([3, 0], p=[0.6, 0.4])),
        ),
    )
    if rng.random() < LEGIT_ODD_SHARE:
        odd = str(rng.choice(LEGIT_ODD_FEATURES))
        plan.odd = odd
        target = a if rng.random() < 0.5 else b
        if odd == "night":
            plan.night_bias = 1.0
        elif odd == "no_imo":
            target.imo = None
        elif odd == "foc_flag":
            # a flag of convenience that is *not* also a major tanker registry
            odd_mids = [m for m in FOC_MIDS if m not in MAJOR_TANKER_MIDS]
            new = int(make_mmsis(rng, np.array([rng.choice(odd_mids)]), taken)[0])
            target.mmsi = new
        elif odd == "gap_before":
            plan.dark_before_h = (float(rng.uniform(6.0, 9.0)), None)
        elif odd == "no_draught":
            target.draught_m = target.draught_after_m = None
        elif odd == "mid_size":
            b.length_m = float(np.round(rng.uniform(110, 170)))
            b.width_m = float(np.round(b.length_m / 5.8))
        elif odd == "off_zone":
            plan.in_zone = False
        target.flags.append(f"odd:{odd}")
    for v in (a, b):
        v.width_m = v.width_m if v.width_m else None
    return a, b, plan, kind_note


def illicit_pair(
    rng: np.random.Generator, taken: set[int], local_mids: tuple[int, ...]
) -> tuple[Identity, Identity, EventPlan, str]:
    """A supplier and a receiver with weak identities, darkness and a cargo draught swap."""
    clean = rng.random() < ILLICIT_CLEAN_SHARE
    if clean:
        mids = tuple(MAJOR_TANKER_MIDS)
        types = (80, 81, 84)
        lengths = ((150.0, 250.0), (120.0, 200.0))
    else:
        mids = FOC_MIDS + tuple(local_mids[:2])
        types = (80, 80, 81, 82, 84, 89, 0, 0, 70, 79, 90)
        lengths = ((70.0, 185.0), (55.0, 140.0))
    a = _one_identity(rng, taken, mids=mids, ship_types=types, length_range_m=lengths[0])
    b = _one_identity(rng, taken, mids=mids, ship_types=types, length_range_m=lengths[1])
    a.draught_m = round(0.06 * a.length_m + float(rng.uniform(0.5, 2.0)), 1)
    b.draught_m = round(0.045 * b.length_m + float(rng.uniform(0.0, 1.0)), 1)
    r = rng.random()
    if r < 0.65:  # cargo moved: supplier lighter, receiver deeper, no port call
        delta = float(rng.uniform(1.0, 4.0))
        a.draught_after_m = round(max(a.draught_m - delta, 1.5), 1)
        b.draught_after_m = round(b.draught_m + float(rng.uniform(0.8, 1.0)) * delta, 1)
    elif r < 0.85:
        a.draught_after_m, b.draught_after_m = a.draught_m, b.draught_m
    else:
        a.draught_m = b.draught_m = None
    dark_b: list[float | None] = [None, None]
    dark_a: list[float | None] = [None, None]
    if not clean:
        for i, v in enumerate((a, b)):
            if rng.random() < 0.45:
                v.imo = None
                v.flags.append("no_imo")
            if rng.random() < 0.25:
                v.name_after = str(make_names(rng, 1)[0])
                v.flags.append("renamed")
            if rng.random() < 0.08:
                v.vessel_name = None
                v.flags.append("no_name")
            if rng.random() < 0.25:
                v.callsign = None
                v.flags.append("no_callsign")
            if v.length_m and v.length_m >= 60 and rng.random() < 0.15:
                v.transceiver_class = "B"
                v.flags.append("class_b_large")
            if rng.random() < 0.55:
                dark_b[i] = float(rng.uniform(6.0, 30.0))
            if rng.random() < 0.45:
                dark_a[i] = float(rng.uniform(6.0, 30.0))
        if all(x is None for x in dark_b + dark_a) and rng.random() < 0.7:
            dark_b[int(rng.integers(0, 2))] = float(rng.uniform(6.0, 30.0))
    plan = EventPlan(
        night_bias=0.35 if clean else 0.7,
        dark_before_h=(dark_b[0], dark_b[1]),
        dark_after_h=(dark_a[0], dark_a[1]),
        in_zone=False,
        status=(
            int(rng.choice([0, 1, 3], p=[0.6, 0.2, 0.2])),
            int(rng.choice([0, 1, 3], p=[0.6, 0.2, 0.2])),
        ),
        clean_looking=clean,
    )
    return a, b, plan, "clean-looking" if clean else "typical"


def plain_identity(
    rng: np.random.Generator, taken: set[int], mids: tuple[int, ...], kind: str
) -> Identity:
    """Ordinary identity for decoy scenarios (fishing, cargo, tankers)."""
    if kind == "fishing":
        v = _one_identity(rng, taken, mids=mids, ship_types=(30,), length_range_m=(20, 45))
        v.imo = None if rng.random() < 0.6 else v.imo
        v.draught_m = round(float(rng.uniform(2.5, 4.5)), 1)
    elif kind == "anchored":
        v = _one_identity(
            rng, taken, mids=mids, ship_types=(70, 71, 79, 80, 81, 84), length_range_m=(120, 300)
        )
        v.draught_m = round(0.055 * v.length_m, 1)
    else:
        v = _one_identity(
            rng, taken, mids=mids, ship_types=(70, 71, 79, 80, 81, 60), length_range_m=(80, 300)
        )
        v.draught_m = round(0.05 * v.length_m + 1.0, 1)
    return v
