"""Who meets whom: the vessels of a transfer and the tactics applied to them.

Issue 14: the label must not be encoded in anything that is not behaviour.
So legitimate and illicit transfers are drawn from the **same** pair types
(crude lightering, bunkering, product transfers), the same flags, sizes,
durations, times of day, reporting rates and places (see
:mod:`stswatch.pipeline.simulator.transfers`); what differs is only how
often each *tactic* that public reporting describes is applied:

=====================  =========  ==========  ======================================
tactic                 illicit    legitimate  what it does
=====================  =========  ==========  ======================================
ais_off                0.40       0.04        one or both vessels silent 6-30 h before/after
switch_at_sea          0.15       0.02        a track starts/ends next to the meeting
no_imo                 0.22       0.04        one vessel reports no IMO number
bad_imo                0.12       0.02        IMO fails its check digit
renamed                0.18       0.02        name changes hours before/after the meeting
callsign_changed       0.10       0.01        call sign changes likewise
registry_of_concern    0.28       0.05        MMSI of a shadow-fleet / fraudulent registry
flag_mismatch          0.14       0.03        call sign of another country than the MMSI's MID
class_b_large          0.12       0.01        Class B kit on a hull of 100 m or more
small_receiver         0.28       0.05        the receiving ship is a small tanker (45-95 m)
no_name                0.05       0.01        no name broadcast
=====================  =========  ==========  ======================================

Sources for the tactics: the 2020 US Global Maritime Sanctions Advisory
(disabling AIS, falsified identity, flag hopping, STS transfers), the UN 1718
Committee's Panel of Experts reports (small DPRK-bound tankers receiving
from larger ones, fraudulent registrations, renames), and the 2023-24
shadow-fleet advisories (reflagging to registries with weak oversight,
spoofed or silent AIS). The legitimate rates are the noise of real data:
clerical IMO errors, an occasional Class B kit, a transponder switched off
for maintenance. About 8 % of illicit transfers draw no tactic at all and
look clean: a model cannot and should not find those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stswatch.pipeline.simulator.vessels import (
    MAJOR_TANKER_MIDS,
    make_callsigns,
    make_imos,
    make_mmsis,
    make_names,
)

#: tactic -> (share of illicit transfers, share of legitimate transfers).
TACTIC_RATES: dict[str, tuple[float, float]] = {
    "ais_off": (0.40, 0.04),
    "switch_at_sea": (0.15, 0.02),
    "no_imo": (0.22, 0.04),
    "bad_imo": (0.12, 0.02),
    "renamed": (0.18, 0.02),
    "callsign_changed": (0.10, 0.01),
    "registry_of_concern": (0.28, 0.05),
    "flag_mismatch": (0.14, 0.03),
    "class_b_large": (0.12, 0.01),
    "small_receiver": (0.28, 0.05),
    "no_name": (0.05, 0.01),
}

#: How many tactics one transfer uses: (illicit, legitimate) shares per count.
TACTIC_COUNT_SHARES: tuple[dict[int, float], dict[int, float]] = (
    {0: 0.05, 1: 0.12, 2: 0.28, 3: 0.30, 4: 0.25},
    {0: 0.80, 1: 0.17, 2: 0.03},
)

#: Registries that the simulated fleets use when a transfer draws
#: ``registry_of_concern``: flags named in shadow-fleet and Panel of Experts
#: reporting (Palau, Sierra Leone, Tuvalu, Cameroon, Comoros, Togo, Gabon,
#: Mongolia, Cook Islands, Eswatini, São Tomé, Tanzania, Moldova, Djibouti).
CONCERN_MIDS: tuple[int, ...] = (
    511,
    667,
    572,
    613,
    620,
    671,
    626,
    457,
    518,
    669,
    668,
    677,
    214,
    621,
)

#: Pair types, shared by both classes: (name, share).
PAIR_TYPES: tuple[tuple[str, float], ...] = (
    ("lightering", 0.4),
    ("bunkering", 0.3),
    ("product", 0.3),
)

#: Draught reporting noise, both classes: the after-value is never updated...
DRAUGHT_NOT_UPDATED_SHARE = 0.10
#: ...or one vessel never reports a draught at all.
DRAUGHT_MISSING_SHARE = 0.08
#: Local-night bias of meeting start times, the same for both classes: night
#: is context, not evidence (no advisory lists it as an indicator).
NIGHT_BIAS = 0.4


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
    callsign_after: str | None = None  # reported from callsign_change_s on
    callsign_change_s: float | None = None
    sparse: bool = False
    dark: list[tuple[float, float]] = field(default_factory=list)  # silent intervals (s)
    flags: list[str] = field(default_factory=list)  # what was done to it, for notes


@dataclass
class TransferPlan:
    """Behaviour of one transfer: which tactics, on which vessel, and where."""

    illicit: bool
    pair_type: str
    tactics: dict[str, str] = field(default_factory=dict)  # tactic -> "a" | "b" | "ab"
    night_bias: float = NIGHT_BIAS
    status: tuple[int, int] = (0, 0)

    @property
    def clean_looking(self) -> bool:
        return not self.tactics


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


def _base_mids(local_mids: tuple[int, ...]) -> tuple[int, ...]:
    """The flag pool of *every* transfer vessel: major registries plus local flags."""
    return tuple(MAJOR_TANKER_MIDS) + tuple(local_mids[:3])


def _pair(
    rng: np.random.Generator, taken: set[int], mids: tuple[int, ...], pair_type: str
) -> tuple[Identity, Identity]:
    """Supplier ``a`` and receiver ``b`` with loaded/ballast draughts and the cargo moved."""
    if pair_type == "lightering":  # VLCC/Suezmax lightered by an Aframax shuttle
        a = _one_identity(rng, taken, mids=mids, ship_types=(80, 81, 84), length_range_m=(274, 333))
        b = _one_identity(rng, taken, mids=mids, ship_types=(80, 81, 84), length_range_m=(228, 250))
        a.draught_m = round(float(rng.uniform(17.0, 21.5)), 1)
        a.draught_after_m = round(a.draught_m - float(rng.uniform(2.5, 5.5)), 1)
        b.draught_m = round(float(rng.uniform(6.5, 9.0)), 1)
        b.draught_after_m = round(b.draught_m + float(rng.uniform(3.0, 5.5)), 1)
    elif pair_type == "bunkering":  # a bunker tanker fuels a large cargo ship or tanker
        a = _one_identity(rng, taken, mids=mids, ship_types=(80, 81, 89), length_range_m=(85, 140))
        b = _one_identity(
            rng, taken, mids=mids, ship_types=(70, 71, 79, 80, 84), length_range_m=(180, 366)
        )
        a.draught_m = round(float(rng.uniform(5.5, 8.0)), 1)
        a.draught_after_m = round(a.draught_m - float(rng.uniform(0.8, 2.2)), 1)
        b.draught_m = round(float(rng.uniform(9.0, 14.5)), 1)
        b.draught_after_m = round(b.draught_m + float(rng.uniform(0.1, 0.4)), 1)
    else:  # product tankers: a mid-size supplier and receiver
        a = _one_identity(
            rng, taken, mids=mids, ship_types=(80, 81, 82, 84), length_range_m=(150, 250)
        )
        b = _one_identity(
            rng, taken, mids=mids, ship_types=(80, 81, 82, 84), length_range_m=(110, 200)
        )
        delta = float(rng.uniform(1.0, 4.0))
        a.draught_m = round(0.055 * a.length_m + float(rng.uniform(0.5, 2.0)), 1)
        a.draught_after_m = round(max(a.draught_m - delta, 2.0), 1)
        b.draught_m = round(0.04 * b.length_m + float(rng.uniform(0.0, 1.0)), 1)
        b.draught_after_m = round(b.draught_m + float(rng.uniform(0.8, 1.0)) * delta, 1)
    return a, b


def draw_tactics(rng: np.random.Generator, illicit: bool) -> dict[str, str]:
    """Which tactics one transfer uses, and on which vessel (``a``, ``b`` or ``ab``).

    Tactics come in bundles, as reporting describes dark-fleet operations (a
    weak registry *and* identity games *and* AIS off): first how many
    (:data:`TACTIC_COUNT_SHARES`), then which, weighted by :data:`TACTIC_RATES`.
    """
    col = 0 if illicit else 1
    counts, shares = zip(*TACTIC_COUNT_SHARES[col].items(), strict=True)
    k = int(rng.choice(counts, p=np.asarray(shares) / sum(shares)))
    names = list(TACTIC_RATES)
    weights = np.array([TACTIC_RATES[name][col] for name in names])
    picked = set(rng.choice(names, size=k, replace=False, p=weights / weights.sum()).tolist())
    tactics: dict[str, str] = {}
    for name in names:  # fixed order: a registry change comes before a call-sign mismatch
        if name in picked:
            side = (
                "b"
                if name == "small_receiver"
                else rng.choice(["a", "b", "ab"], p=[0.4, 0.45, 0.15])
            )
            tactics[name] = str(side)
    return tactics


def _small_receiver(rng: np.random.Generator, taken: set[int], mids, b: Identity) -> Identity:
    """Replace the receiver with a small tanker (DPRK-style: 45-95 m) that loads cargo."""
    small = _one_identity(rng, taken, mids=mids, ship_types=(80, 89, 0), length_range_m=(45, 95))
    small.draught_m = round(0.04 * small.length_m + float(rng.uniform(0.5, 1.2)), 1)
    small.draught_after_m = round(small.draught_m + float(rng.uniform(0.8, 2.2)), 1)
    small.flags = [*b.flags, "small_receiver"]
    taken.discard(b.mmsi)
    return small


def _apply_identity_tactic(
    rng: np.random.Generator, taken: set[int], name: str, v: Identity
) -> None:
    """Degrade one vessel's identity the way ``name`` describes (in place)."""
    if name == "no_imo":
        v.imo = None
    elif name == "bad_imo":
        if v.imo is None:  # already without an IMO: nothing left to corrupt
            return
        v.imo = v.imo - v.imo % 10 + (v.imo % 10 + int(rng.integers(1, 10))) % 10
    elif name == "renamed":
        v.name_after = str(make_names(rng, 1)[0])
    elif name == "callsign_changed":
        v.callsign_after = str(make_callsigns(rng, np.array([v.mmsi]))[0])
    elif name == "flag_mismatch":  # a call sign of some other flag state than the MID
        own = v.mmsi // 10**6
        other = int(rng.choice([m for m in (*MAJOR_TANKER_MIDS, 412, 422, 273) if m != own]))
        v.callsign = str(make_callsigns(rng, np.array([other * 10**6]))[0])
    elif name == "registry_of_concern":
        taken.discard(v.mmsi)
        v.mmsi = int(make_mmsis(rng, np.array([rng.choice(CONCERN_MIDS)]), taken)[0])
        v.callsign = str(make_callsigns(rng, np.array([v.mmsi]))[0])
    elif name == "class_b_large":
        if v.length_m is not None and v.length_m < 100:
            v.length_m = float(np.round(rng.uniform(100, 180)))
        v.transceiver_class = "B"
    elif name == "no_name":
        v.vessel_name = None
    else:  # behaviour tactics (ais_off, switch_at_sea) are applied by the transfer
        return
    v.flags.append(name)


def _draught_noise(rng: np.random.Generator, a: Identity, b: Identity) -> None:
    """Real draught reporting is sloppy, for both classes alike."""
    r = rng.random()
    target = a if rng.random() < 0.5 else b
    if r < DRAUGHT_NOT_UPDATED_SHARE:
        target.draught_after_m = target.draught_m
        target.flags.append("draught_not_updated")
    elif r < DRAUGHT_NOT_UPDATED_SHARE + DRAUGHT_MISSING_SHARE:
        target.draught_m = target.draught_after_m = None
        target.flags.append("no_draught")


def transfer_pair(
    rng: np.random.Generator, taken: set[int], local_mids: tuple[int, ...], *, illicit: bool
) -> tuple[Identity, Identity, TransferPlan]:
    """Supplier ``a``, receiver ``b`` and the plan of one transfer of either class.

    Everything but the tactics is drawn the same way for both classes.
    """
    names = [p for p, _ in PAIR_TYPES]
    shares = np.array([s for _, s in PAIR_TYPES])
    pair_type = str(rng.choice(names, p=shares / shares.sum()))
    mids = _base_mids(local_mids)
    a, b = _pair(rng, taken, mids, pair_type)
    plan = TransferPlan(
        illicit=illicit,
        pair_type=pair_type,
        tactics=draw_tactics(rng, illicit),
        status=(
            int(rng.choice([0, 1, 3], p=[0.5, 0.25, 0.25])),
            int(rng.choice([0, 1, 3], p=[0.5, 0.25, 0.25])),
        ),
    )
    if "small_receiver" in plan.tactics:
        b = _small_receiver(rng, taken, mids, b)
    for name, sides in plan.tactics.items():
        for side in sides:
            if name != "small_receiver":
                _apply_identity_tactic(rng, taken, name, a if side == "a" else b)
    _draught_noise(rng, a, b)
    return a, b, plan


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
