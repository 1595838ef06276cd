"""Plain-words reasons for a score: the strongest evidence first, with its numbers.

An analyst triaging hundreds of candidates needs to know *why* one ranks
high, in terms they can check on the tracks: "vessel 2 AIS off 7.9 h before,
reappeared 18 km away", "vessel 2 draught +2.1 m, no port call", "name
changed from X to Y 1 h after". Each reason is an indicator whose actual
value raised the event's log-odds (:meth:`SuspicionModel.contributions`:
actual value versus the training median, all else equal), strongest first;
indicator groups (AIS off, identity, cargo, size) lead, kinematics follow.
A feature the model does not weigh never appears, however odd it looks.

Location is never a reason: one closing ``context:`` line says where the
meeting was (STS area, recurrence, distance off the coast, a reception hole
shared by both vessels), so the analyst can judge it, not the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from stswatch.pipeline.scoring.callsigns import country_name
from stswatch.pipeline.scoring.columns import FEATURE_GROUPS
from stswatch.pipeline.scoring.flags import flag_name

#: One event's feature values by column name (a record dict or a Series).
Row = Mapping[str, Any]

#: A reason needs at least this log-odds push (0.25 = odds x1.28) to be shown:
#: smaller effects are noise to an analyst.
MIN_CONTRIBUTION = 0.25
#: How many evidence reasons an event carries, strongest first (plus one context line).
MAX_REASONS = 3
#: Features that describe how the ships moved: shown after the indicators.
KINEMATIC = frozenset(FEATURE_GROUPS["kinematics"])
#: Evidence groups whose joint effect earns a reason of its own (kinematics only
#: describe the meeting, so they follow).
INDICATOR_GROUPS: tuple[str, ...] = tuple(g for g in FEATURE_GROUPS if g != "kinematics")
NO_EVIDENCE = "no AIS-off, identity, cargo or size indicator raised"


def _vessel(side: str) -> str:
    """'vessel 1' is ``mmsi_a``, 'vessel 2' is ``mmsi_b``, as in the GeoJSON."""
    return "vessel 1" if side == "a" else "vessel 2"


def _num(row: Row, name: str) -> float:
    value = row.get(name, np.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _km(m: float) -> str:
    return f"{m / 1000:.0f} km" if m >= 10_000 else f"{m / 1000:.1f} km"


def _sides_where(row: Row, name: str) -> list[str]:
    return [s for s in ("a", "b") if _num(row, f"{name}_{s}") > 0]


def _argmax_side(row: Row, name: str) -> str:
    a, b = _num(row, f"{name}_a"), _num(row, f"{name}_b")
    return "b" if np.isnan(a) or (not np.isnan(b) and b > a) else "a"


# --------------------------------------------------------------------------- AIS off


def _silence(row: Row, side: str, kind: str) -> str | None:
    """One vessel's silence before/after the meeting, with where it reappeared / fell silent."""
    gap = _num(row, f"gap_{kind}_h_{side}")
    switched = _num(row, f"switched_{'on' if kind == 'before' else 'off'}_h_{side}")
    v = _vessel(side)
    if switched > 0 and not gap >= switched:
        verb = "starts" if kind == "before" else "ends"
        return (
            f"{v} track {verb} at sea next to the meeting: AIS off at least {switched:.1f} h {kind}"
        )
    if not gap > 0:
        return None
    where = _num(row, f"{'reappeared' if kind == 'before' else 'went_silent'}_m_{side}")
    place = (
        f", {'reappeared' if kind == 'before' else 'fell silent'} {_km(where)} away"
        if np.isfinite(where)
        else ""
    )
    return f"{v} AIS off {gap:.1f} h {kind}{place}"


def _dark(kind: str) -> Callable[[Row], str]:
    def word(row: Row) -> str:
        texts = {
            s: (
                max(
                    _num(row, f"gap_{kind}_h_{s}"),
                    _num(row, f"switched_{'on' if kind == 'before' else 'off'}_h_{s}"),
                ),
                _silence(row, s, kind),
            )
            for s in ("a", "b")
        }
        best = max(("a", "b"), key=lambda s: np.nan_to_num(texts[s][0]))
        return texts[best][1] or f"AIS on {kind} the meeting (both vessels)"

    return word


def _n_dark(row: Row) -> str:
    parts = [t for s in ("a", "b") for k in ("before", "after") if (t := _silence(row, s, k))]
    if _num(row, "partner_gap_h") > 0:
        parts.insert(0, _partner(row))
    return "; ".join(parts[:2]) if parts else "AIS on around the meeting (both vessels)"


def _partner(row: Row) -> str:
    side = row.get("dark_side")
    v = _vessel(side) if side in ("a", "b") else "the partner"
    hours = _num(row, "partner_gap_h")
    last, first = (
        _num(row, "partner_last_fix_distance_m"),
        _num(row, "partner_first_fix_distance_m"),
    )
    fixes = []
    if np.isfinite(last):
        fixes.append(f"last fix {_km(last)} away")
    if np.isfinite(first):
        fixes.append(f"first fix after {_km(first)} away")
    tail = f": {', '.join(fixes)}" if fixes else ""
    return f"{v} (the partner) AIS off {hours:.1f} h while the other loitered{tail}"


def _switched(row: Row) -> str:
    parts = [t for s in ("a", "b") for k in ("before", "after") if (t := _silence(row, s, k))]
    parts = [p for p in parts if "track" in p]
    return "; ".join(parts) if parts else "no track switched on or off at sea"


def _reporting(row: Row) -> str:
    a, b = _num(row, "reporting_ratio_a"), _num(row, "reporting_ratio_b")
    side = "a" if np.isnan(b) or (not np.isnan(a) and a <= b) else "b"
    ratio = _num(row, f"reporting_ratio_{side}")
    if side == row.get("dark_side") and _num(row, "partner_gap_h") > 0:
        # a dark transfer: the silent rate *is* the partner's silence; say it with its numbers
        return _partner(row)
    return f"{_vessel(side)} reported at {ratio:.0%} of its usual rate during the meeting"


# --------------------------------------------------------------------------- identity


def _per_side(name: str, text: Callable[[Row, str], str], none: str) -> Callable[[Row], str]:
    def word(row: Row) -> str:
        sides = _sides_where(row, name)
        return "; ".join(text(row, s) for s in sides) if sides else none

    return word


def _invalid_imo(row: Row, side: str) -> str:
    imo = _num(row, f"imo_{side}")
    shown = f"IMO {imo:.0f}" if np.isfinite(imo) else "its IMO"
    return f"{_vessel(side)} {shown} fails its check digit"


def _mismatch(row: Row, side: str) -> str:
    mid = int(_num(row, f"mid_{side}"))
    reported = row.get(f"callsign_country_{side}")
    callsign = row.get(f"callsign_{side}")
    return (
        f"{_vessel(side)} call sign {callsign} is {country_name(reported)}'s, "
        f"its MMSI is {flag_name(mid)}'s (MID {mid})"
    )


def _concern(row: Row, side: str) -> str:
    mid = int(_num(row, f"mid_{side}"))
    return f"{_vessel(side)} flag {flag_name(mid)} (MID {mid}): registry of concern"


def _class_b(row: Row, side: str) -> str:
    return f"{_vessel(side)} Class B transponder on a {_num(row, f'length_m_{side}'):.0f} m ship"


def _changes(row: Row) -> str:
    side = _argmax_side(row, "identity_changes")
    text = row.get(f"identity_change_text_{side}")
    if isinstance(text, str) and text:
        return f"{_vessel(side)} {text}"
    n = _num(row, f"identity_changes_{side}")
    if not n > 0:
        return "stable identities"
    return f"{_vessel(side)} changed name/call sign/IMO {n:.0f}x"


# --------------------------------------------------------------------------- cargo, size


def _draught(row: Row) -> str:
    a, b = _num(row, "draught_change_m_a"), _num(row, "draught_change_m_b")
    side = "b" if np.isnan(a) or (not np.isnan(b) and abs(b) > abs(a)) else "a"
    change = _num(row, f"draught_change_m_{side}")
    if not _num(row, "draught_change_max_m") > 0 or np.isnan(change):
        if _sides_where(row, "port_call"):
            return "draught change explained by a port call"
        return "no draught change across the meeting"
    return f"{_vessel(side)} draught {change:+.1f} m, no port call"


def _opposite(row: Row) -> str:
    if not _num(row, "opposite_draught_change") > 0:
        return "no opposite draught change"
    a, b = _num(row, "draught_change_m_a"), _num(row, "draught_change_m_b")
    return f"vessel 1 draught {a:+.1f} m, vessel 2 {b:+.1f} m, no port call: cargo moved at sea"


def _small_receiver(row: Row) -> str:
    side = row.get("receiver_side")
    length = _num(row, "receiver_length_m")
    if side not in ("a", "b") or not np.isfinite(length):
        return "receiving ship unknown"
    size = "only " if _num(row, "small_receiver") > 0 else ""
    return f"receiving ship ({_vessel(side)}, draught up) {size}{length:.0f} m long"


def _size(row: Row) -> str:
    la, lb = _num(row, "length_m_a"), _num(row, "length_m_b")
    if np.isnan(la) or np.isnan(lb):
        return "a vessel's size unknown"
    if min(la, lb) > 0 and max(la, lb) / min(la, lb) >= 1.5:
        return f"size mismatch: {la:.0f} m and {lb:.0f} m"
    return f"similar sizes: {la:.0f} m and {lb:.0f} m"


#: feature -> function(row) -> plain words with the event's own values.
WORDING: dict[str, Callable[[Row], str]] = {
    "dark_before_max_h": _dark("before"),
    "dark_after_max_h": _dark("after"),
    "n_vessels_dark": _n_dark,
    "n_switched_at_sea": _switched,
    "partner_gap_h": _partner,
    "reporting_ratio_min": _reporting,
    "n_missing_imo": _per_side(
        "missing_imo", lambda r, s: f"{_vessel(s)} reports no IMO", "both vessels report an IMO"
    ),
    "n_invalid_imo": _per_side("invalid_imo", _invalid_imo, "IMO check digits valid"),
    "n_missing_name": _per_side(
        "missing_name", lambda r, s: f"{_vessel(s)} broadcasts no name", "both vessels named"
    ),
    "identity_changes_max": _changes,
    "n_flag_mismatch": _per_side("flag_mismatch", _mismatch, "call signs match the MMSIs"),
    "n_registry_of_concern": _per_side("registry_of_concern", _concern, "no registry of concern"),
    "n_class_b_large": _per_side("class_b_large", _class_b, "Class A transponders"),
    "draught_change_max_m": _draught,
    "opposite_draught_change": _opposite,
    "small_receiver": _small_receiver,
    "min_length_m": lambda r: f"the smaller ship is {_num(r, 'min_length_m'):.0f} m long",
    "length_ratio": _size,
    "tanker_with_small_or_unknown": lambda r: (
        "tanker meeting a small or unidentified vessel"
        if _num(r, "tanker_with_small_or_unknown") > 0
        else "well-identified pair of ships"
    ),
    "duration_h": lambda r: f"meeting lasted {_num(r, 'duration_h'):.1f} h",
    "min_distance_m": lambda r: f"closest approach {_num(r, 'min_distance_m'):.0f} m",
    "median_distance_m": lambda r: f"median separation {_num(r, 'median_distance_m'):.0f} m",
    "separation_std_m": lambda r: f"separation varied by ±{_num(r, 'separation_std_m'):.0f} m",
    "mean_sog_max_kn": lambda r: f"drifting at {_num(r, 'mean_sog_max_kn'):.1f} kn",
    "heading_alignment": lambda r: (
        "hulls lying parallel" if _num(r, "heading_alignment") >= 0.9 else "hulls not parallel"
    ),
}


#: Features whose wording says something useful even when their value is NaN.
WORDED_WHEN_UNKNOWN = frozenset({"length_ratio", "small_receiver"})


def word_feature(name: str, row: Row) -> str:
    """Plain words for one feature of one event (the value is shown, never just the name)."""
    value = row.get(name, np.nan)
    word = WORDING.get(name)
    if word is None:
        return f"{name.replace('_', ' ')} = {value}"
    if pd.isna(value) and name not in WORDED_WHEN_UNKNOWN:
        return f"{name.replace('_', ' ')} unknown"
    return word(row)


def context_line(row: Row) -> str | None:
    """Where the meeting was, for the analyst to judge: never a reason of the score."""
    parts = []
    area = row.get("sts_area_name")
    if isinstance(area, str) and area:
        parts.append(f"in {area} ({row.get('sts_area_source') or 'known'} STS area)")
    n = _num(row, "recurrence_count")
    if np.isfinite(n):
        parts.append(
            f"{n:.0f} other meeting{'s' if n != 1 else ''} within 20 km"
            if n > 0
            else "no other meeting recorded within 20 km"
        )
    coast = _num(row, "distance_to_coast_m")
    if np.isfinite(coast):
        parts.append(f"{_km(coast)} off the coast")
    shared = _num(row, "shared_silence_h")
    if shared > 0:
        parts.append(
            f"both silent together {shared:.1f} h mid-meeting "
            "(a reception hole, not counted as AIS off)"
        )
    return "context: " + ", ".join(parts) if parts else None


def indicator_group_columns(feature_names: list[str] | tuple[str, ...]) -> list[list[int]]:
    """Column indices in ``feature_names`` of each of :data:`INDICATOR_GROUPS`."""
    names = list(feature_names)
    return [[names.index(f) for f in FEATURE_GROUPS[g] if f in names] for g in INDICATOR_GROUPS]


def _measured(name: str, row: Row) -> bool:
    """An unmeasured feature is no evidence, whatever the model makes of it."""
    return name in WORDED_WHEN_UNKNOWN or not pd.isna(row.get(name, np.nan))


def explain(
    features: pd.DataFrame,
    contributions: np.ndarray,
    feature_names: list[str] | tuple[str, ...],
    *,
    group_contributions: np.ndarray | None = None,
    max_reasons: int = MAX_REASONS,
    min_contribution: float = MIN_CONTRIBUTION,
) -> list[list[str]]:
    """Evidence reasons per event (strongest first, indicators before kinematics) + context.

    ``contributions`` is ``(n_events, n_features)`` in log-odds (see
    :meth:`SuspicionModel.contributions`), columns in ``feature_names`` order.

    ``group_contributions`` (optional, ``(n_events, len(INDICATOR_GROUPS))``,
    :meth:`SuspicionModel.group_contributions`) gives each kind of evidence
    its say first: every indicator group whose joint effect reaches
    ``min_contribution`` contributes its strongest feature, strongest group
    first, before any group gets a second reason. Without it a group of
    correlated features (a dark partner raises ``n_vessels_dark`` and
    ``partner_gap_h`` together) could be crowded out by a single louder one,
    and a transfer whose partner kept AIS off would not say so.
    """
    reasons: list[list[str]] = []
    names = list(feature_names)
    kinematic = np.array([n in KINEMATIC for n in names])
    members = indicator_group_columns(names)
    records = features.to_dict("records")  # row access without building a Series per event
    for i, row in enumerate(records):
        c = contributions[i]
        leads: list[int] = []
        if group_contributions is not None:
            for g in np.argsort(-group_contributions[i], kind="stable"):
                if not group_contributions[i, g] >= min_contribution:
                    continue
                best = [j for j in members[g] if c[j] > 0 and _measured(names[j], row)]
                if best:
                    leads.append(max(best, key=lambda j: c[j]))
        # then indicators, then kinematics; each by contribution, strongest first
        order = [*leads, *(j for j in np.lexsort((-c, kinematic)) if j not in leads)]
        picked: list[str] = []
        evidence = False
        for j in order:
            if len(picked) >= max_reasons:
                break
            if j not in leads and not c[j] >= min_contribution:
                continue
            if not _measured(names[j], row):
                continue
            # a reason that only repeats parts already given ("; "-joined) adds nothing
            said = {part for text in picked for part in text.split("; ")}
            parts = [p for p in word_feature(names[j], row).split("; ") if p not in said]
            if parts:
                picked.append("; ".join(parts))
                evidence |= not kinematic[j]
        if not evidence:
            picked = [NO_EVIDENCE, *picked][:max_reasons]
        if (context := context_line(row)) is not None:
            picked.append(context)
        reasons.append(picked)
    return reasons
