"""Plain-words reasons for a score, taken from the model's own contributions.

An analyst triaging hundreds of candidates needs to know *why* one ranks high.
Each reason is a feature whose actual value raised the event's log-odds
(:meth:`SuspicionModel.contributions`: actual value versus the training
median, all else equal), worded with the event's own values and the vessel it
concerns. Nothing here is a fixed template per score band: a feature the
model does not weigh never appears, however odd it looks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from stswatch.pipeline.scoring.flags import flag_name

#: One event's feature values by column name (a record dict or a Series).
Row = Mapping[str, Any]

#: A reason needs at least this log-odds push (0.25 = odds x1.28) to be shown:
#: smaller effects are noise to an analyst.
MIN_CONTRIBUTION = 0.25
#: How many reasons an event carries, strongest first.
MAX_REASONS = 3


def _vessel(row: Row, side: str) -> str:
    """'vessel 1' is ``mmsi_a``, 'vessel 2' is ``mmsi_b``, as in the GeoJSON."""
    return "vessel 1" if side == "a" else "vessel 2"


def _argmax_side(row: Row, name: str, absolute: bool = False) -> str:
    a, b = row.get(f"{name}_a", np.nan), row.get(f"{name}_b", np.nan)
    a = abs(a) if absolute and pd.notna(a) else a
    b = abs(b) if absolute and pd.notna(b) else b
    if pd.isna(a):
        return "b"
    if pd.isna(b):
        return "a"
    return "a" if a >= b else "b"


def _sides_where(row: Row, name: str) -> list[str]:
    return [s for s in ("a", "b") if row.get(f"{name}_{s}", 0) > 0]


def _which(row: Row, sides: list[str]) -> str:
    if len(sides) == 2:
        return "both vessels"
    return _vessel(row, sides[0]) if sides else "a vessel"


def _km(m: float) -> str:
    return f"{m / 1000:.0f} km" if m >= 10_000 else f"{m / 1000:.1f} km"


def _distance_to(kind: str) -> Callable[[Row], str]:
    """'N km from the nearest KIND', or 'no KIND within N km' at the feature's cap.

    Distances are capped (``ScoringConfig.max_feature_distance_m``) where none
    is known at all, e.g. no anchorage learned in the window: "1000 km from the
    nearest anchorage" would state a distance nobody measured.
    """
    from stswatch.pipeline.config import DEFAULT_CONFIG

    cap_m = DEFAULT_CONFIG.scoring.max_feature_distance_m

    def word(row: Row) -> str:
        m = float(row[f"distance_to_{kind}_m"])
        if m >= cap_m:
            return f"no {kind} within {_km(cap_m)}"
        return f"{_km(m)} from the nearest {kind}"

    return word


def _gap(kind: str) -> Callable[[Row], str]:
    def word(row: Row) -> str:
        side = _argmax_side(row, f"gap_{kind}_h")
        hours = row[f"gap_{kind}_h_{side}"]
        if not hours > 0:
            return f"no AIS gap {kind} the meeting"
        return f"AIS dark {hours:.0f} h {kind} meeting ({_vessel(row, side)})"

    return word


def _draught(row: Row) -> str:
    side = _argmax_side(row, "draught_change_m", absolute=True)
    change = row.get(f"draught_change_m_{side}", np.nan)
    if not row["draught_change_max_m"] > 0 or pd.isna(change):
        if _sides_where(row, "port_call"):
            return "draught change explained by a port call"
        return "no draught change across the meeting"
    return f"draught {change:+.1f} m without port call ({_vessel(row, side)})"


def _opposite(row: Row) -> str:
    if row["opposite_draught_change"] > 0:
        a, b = row["draught_change_m_a"], row["draught_change_m_b"]
        return f"one vessel deeper, the other lighter ({a:+.1f} m / {b:+.1f} m): cargo moved at sea"
    return "no opposite draught change"


def _missing(field: str) -> Callable[[Row], str]:
    def word(row: Row) -> str:
        sides = _sides_where(row, f"missing_{field.lower()}")
        if not sides:
            return f"both vessels report an {field}" if field == "IMO" else "both vessels named"
        return f"no {field} ({_which(row, sides)})"

    return word


def _foc(row: Row) -> str:
    sides = _sides_where(row, "flag_of_convenience")
    if not sides:
        return "no flag of convenience"
    parts = []
    for side in sides:
        mid = int(row[f"mid_{side}"])
        prefix = "no IMO; " if row.get(f"missing_imo_{side}", 0) > 0 else ""
        parts.append(f"{prefix}MID {mid} ({flag_name(mid)}) ({_vessel(row, side)})")
    return "; ".join(parts)


def _class_b(row: Row) -> str:
    sides = _sides_where(row, "class_b_large")
    if not sides:
        return "Class A transponders"
    side = sides[0]
    return f"Class B transponder on a {row[f'length_m_{side}']:.0f} m ship ({_vessel(row, side)})"


def _tankers(row: Row) -> str:
    n = int(row["n_tankers"]) if pd.notna(row["n_tankers"]) else 0
    return {0: "no tanker in the pair", 1: "one tanker in the pair"}.get(n, "tanker with tanker")


def _odd_pair(row: Row) -> str:
    if row["tanker_with_small_or_unknown"] > 0:
        return "tanker meeting a small or unidentified vessel"
    return "well-identified pair of ships"


def _size(row: Row) -> str:
    la, lb = row.get("length_m_a"), row.get("length_m_b")
    if pd.isna(la) or pd.isna(lb):
        return "a vessel's size unknown"
    big, small = max(la, lb), min(la, lb)
    if small > 0 and big / small >= 1.5:
        return f"size mismatch: {la:.0f} m and {lb:.0f} m"
    return f"similar sizes: {la:.0f} m and {lb:.0f} m"


def _identity_changes(row: Row) -> str:
    side = _argmax_side(row, "identity_changes")
    n = row[f"identity_changes_{side}"]
    if not n > 0:
        return "stable identities"
    return f"name/callsign/IMO changed {n:.0f}x ({_vessel(row, side)})"


def _reporting(row: Row) -> str:
    side = _argmax_side(row, "reporting_ratio")
    side = "a" if side == "b" else "b"  # the lower ratio is the one that matters
    ratio = row.get(f"reporting_ratio_{side}", np.nan)
    if pd.isna(ratio):
        ratio, side = row["reporting_ratio_min"], "a"
    return f"reporting at {ratio:.0%} of its usual rate during meeting ({_vessel(row, side)})"


def _recurrence(row: Row) -> str:
    n = row["recurrence_count"]
    if not n > 0:
        return "no other meeting recorded at this spot"
    return f"{n:.0f} other meeting{'s' if n != 1 else ''} recorded within 20 km"


#: feature -> function(row) -> plain words with the event's own values.
WORDING: dict[str, Callable[[Row], str]] = {
    "duration_h": lambda r: f"meeting lasted {r['duration_h']:.1f} h",
    "min_distance_m": lambda r: f"closest approach {r['min_distance_m']:.0f} m",
    "median_distance_m": lambda r: f"median separation {r['median_distance_m']:.0f} m",
    "separation_std_m": lambda r: f"separation varied by ±{r['separation_std_m']:.0f} m",
    "mean_sog_max_kn": lambda r: f"drifting at {r['mean_sog_max_kn']:.1f} kn",
    "heading_alignment": lambda r: (
        "hulls lying parallel" if r["heading_alignment"] >= 0.9 else "hulls not parallel"
    ),
    "distance_to_coast_m": lambda r: f"{_km(r['distance_to_coast_m'])} from the coast",
    "distance_to_port_m": _distance_to("port"),
    "distance_to_anchorage_m": _distance_to("anchorage"),
    "recurrence_count": _recurrence,
    "night_share": lambda r: f"{r['night_share']:.0%} of the meeting in darkness",
    "gap_before_max_h": _gap("before"),
    "gap_after_max_h": _gap("after"),
    "reporting_ratio_min": _reporting,
    "draught_change_max_m": _draught,
    "opposite_draught_change": _opposite,
    "n_missing_imo": _missing("IMO"),
    "n_missing_name": _missing("name"),
    "n_flag_of_convenience": _foc,
    "n_class_b_large": _class_b,
    "n_tankers": _tankers,
    "tanker_with_small_or_unknown": _odd_pair,
    "length_ratio": _size,
    "identity_changes_max": _identity_changes,
}


def word_feature(name: str, row: Row) -> str:
    """Plain words for one feature of one event (the value is shown, never just the name)."""
    value = row.get(name, np.nan)
    if pd.isna(value) and name not in {"length_ratio"}:
        return f"{name.replace('_', ' ')} unknown"
    word = WORDING.get(name)
    return word(row) if word is not None else f"{name.replace('_', ' ')} = {value:g}"


def explain(
    features: pd.DataFrame,
    contributions: np.ndarray,
    feature_names: list[str] | tuple[str, ...],
    *,
    max_reasons: int = MAX_REASONS,
    min_contribution: float = MIN_CONTRIBUTION,
) -> list[list[str]]:
    """Top contributing factors per event (strongest first), in plain words.

    ``contributions`` is ``(n_events, n_features)`` in log-odds (see
    :meth:`SuspicionModel.contributions`), columns in ``feature_names`` order.
    """
    reasons: list[list[str]] = []
    names = list(feature_names)
    records = features.to_dict("records")  # row access without building a Series per event
    for i, row in enumerate(records):
        c = contributions[i]
        order = np.argsort(-c, kind="stable")
        picked: list[str] = []
        for j in order:
            if len(picked) >= max_reasons or not c[j] >= min_contribution:
                break
            text = word_feature(names[j], row)
            if text not in picked:
                picked.append(text)
        reasons.append(picked)
    return reasons
