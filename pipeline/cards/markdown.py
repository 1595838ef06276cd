"""The Markdown half of an evidence card: identities over the window, reasons, gaps, distances.

It sits beside the PNG with the same stem and embeds it, so a Markdown
viewer (GitLab, VS Code, Obsidian, a Prefect artifact) shows both. Numbers
carry their units; times are UTC.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from stswatch.pipeline.cards.data import IDENTITY_FIELDS, SIDES, CardData
from stswatch.pipeline.ship_types import ship_type_name

_FIELD_LABELS = {
    "vessel_name": "name",
    "callsign": "callsign",
    "imo": "IMO",
    "ship_type": "type",
    "length_m": "length",
}


def _t(ts: Any) -> str:
    return f"{pd.Timestamp(ts):%Y-%m-%d %H:%M}"


def _km(metres: Any) -> str:
    if metres is None or pd.isna(metres):
        return "unknown"
    if not np.isfinite(float(metres)):
        return "none known"
    return f"{float(metres) / 1000:.1f} km"


def _value(name: str, value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if name == "imo":
        return str(int(value))
    if name == "ship_type":
        words = ship_type_name(value)
        return f"{int(value)} ({words})" if words else str(int(value))
    if name == "length_m":
        return f"{float(value):.0f} m"
    return str(value).strip()


def identity_history(card: CardData, side: str, name: str) -> str:
    """A field's values over the window in time order: "A (from t0) → B at t1"."""
    st = card.statics[side]
    if name not in st.columns:
        return "not reported"
    rows = st.dropna(subset=[name])
    rows = rows[rows["timestamp"] <= card.window_end]
    inside = rows[rows["timestamp"] >= card.window_start]
    before = rows[rows["timestamp"] < card.window_start].tail(1)
    rows = pd.concat([before, inside])
    if rows.empty:
        return "not reported"
    values = [(_value(name, v), t) for v, t in zip(rows[name], rows["timestamp"], strict=True)]
    changes = [values[0]] + [cur for prev, cur in itertools.pairwise(values) if cur[0] != prev[0]]
    text = changes[0][0]
    for value, at in changes[1:]:
        text += f" → **{value}** at {_t(at)}"
    return text


def _flag(mmsi: int) -> str:
    from stswatch.pipeline.mmsi import flag_of

    flag = flag_of(int(mmsi))
    return f"{flag.name} ({flag.iso2})" if flag else "unallocated MID"


def _identity_table(card: CardData) -> list[str]:
    lines = ["| | vessel 1 | vessel 2 |", "|---|---|---|"]
    lines.append(f"| MMSI | {card.mmsi('a')} | {card.mmsi('b')} |")
    lines.append(f"| flag (from MMSI) | {_flag(card.mmsi('a'))} | {_flag(card.mmsi('b'))} |")
    for name in IDENTITY_FIELDS:
        cells = [identity_history(card, s, name) for s in SIDES]
        lines.append(f"| {_FIELD_LABELS[name]} | {cells[0]} | {cells[1]} |")
    draughts = []
    for side in SIDES:
        b = card.event.get(f"draught_before_m_{side}")
        a = card.event.get(f"draught_after_m_{side}")
        fmt = [f"{float(x):.1f} m" if x is not None and pd.notna(x) else "?" for x in (b, a)]
        draughts.append(f"{fmt[0]} → {fmt[1]}")
    lines.append(f"| draught before → after | {draughts[0]} | {draughts[1]} |")
    dark = card.event.get("dark_mmsi")
    if dark is not None and pd.notna(dark):
        cells = ["**AIS off (dark partner)**" if card.mmsi(s) == int(dark) else "" for s in SIDES]
        lines.append(f"| role | {cells[0]} | {cells[1]} |")
    return lines


def _silence_lines(card: CardData) -> list[str]:
    from stswatch.geo.distance import haversine_m

    out = []
    for s in sorted(card.silences, key=lambda s: s["start_time"]):
        d = float(haversine_m(s["start_lat"], s["start_lon"], s["end_lat"], s["end_lon"]))
        speed = d / 1852.0 / s["hours"] if s["hours"] > 0 else np.nan
        label = "AIS gap" if s["hours"] >= card.min_gap_h else "silence"
        vessel = "vessel 1" if s["side"] == "a" else "vessel 2"
        out.append(
            f"- {vessel}: {label} of {s['hours']:.1f} h, {_t(s['start_time'])} → "
            f"{_t(s['end_time'])} UTC, reappeared {d / 1000:.1f} km away "
            f"(implied {speed:.1f} kn)"
        )
    return out or [f"- none of {card.dash_gap_h:g} h or more in the window"]


def _distance_lines(card: CardData) -> list[str]:
    e = card.event
    out = []
    if card.port:
        country = f", {card.port['country']}" if card.port.get("country") else ""
        out.append(f"- nearest port: {card.port['name']}{country}, {_km(card.port['distance_m'])}")
    labels = (
        ("min_distance_to_port_m", "closest to any listed port during the event"),
        ("min_distance_to_coast_m", "closest to the coast"),
        ("min_distance_to_anchorage_m", "closest to a learned anchorage"),
        ("partner_last_fix_distance_m", "dark partner's last fix before its silence"),
        ("partner_first_fix_distance_m", "dark partner's first fix after it"),
    )
    out += [f"- {text}: {_km(e[col])}" for col, text in labels if col in e and pd.notna(e[col])]
    if isinstance(e.get("sts_area_name"), str) and e["sts_area_name"]:
        out.append(f"- in STS area **{e['sts_area_name']}** ({e.get('sts_area_source') or '?'})")
    shared = e.get("shared_silence_h")
    if shared is not None and pd.notna(shared) and float(shared) > 0:
        out.append(
            f"- both silent together for {float(shared):.1f} h "
            "(reception hole, not counted as going dark)"
        )
    return out


def card_markdown(card: CardData, png_name: str) -> str:
    """The Markdown card for ``card``; ``png_name`` is the image beside it."""
    e = card.event
    kind = card.kind.replace("_", " ")
    lines = [
        f"# {kind} {e['event_id']}: score {float(e.get('score') or 0):.2f} "
        f"(#{card.rank} of {card.n_ranked})",
        "",
        f"{_t(card.start)} → {_t(card.end)} UTC ({float(e.get('duration_h') or 0):.1f} h) at "
        f"{float(e['mean_lat']):.4f}, {float(e['mean_lon']):.4f}"
        + (f"; model {e['model_version']}" if e.get("model_version") else ""),
        "",
    ]
    verdict = e.get("verdict")
    if isinstance(verdict, str) and verdict:
        note = f": {e['note']}" if e.get("note") else ""
        lines.append(
            f"**Verdict: {verdict}** by {e.get('reviewed_by')} at {_t(e['reviewed_at'])} UTC{note}"
        )
    else:
        lines.append(
            f"**Not reviewed.** Record a verdict: `stswatch review set {e['event_id']} "
            "--verdict illicit|legitimate|unsure --note '...' --store STORE`"
        )
    lines += ["", f"![evidence card]({png_name})", "", "## Vessels over the window", ""]
    lines += _identity_table(card)
    lines += ["", "## Why it ranks here", ""]
    reasons = e.get("reasons")
    reasons = list(reasons) if isinstance(reasons, list | tuple | np.ndarray) else []
    lines += [f"- {r}" for r in reasons] or ["- no reason stood out"]
    hits = e.get("watchlist_hits")
    if isinstance(hits, list) and hits:
        from stswatch.pipeline.screening import hit_text

        lines += ["", "## Watchlist", ""]
        for h in hits:
            note = f" ({h['note']})" if h.get("note") else ""
            lines.append(f"- {hit_text(h)}{note}; entry {h['source']}")
    lines += ["", "## AIS silences in the window", "", *_silence_lines(card)]
    lines += ["", "## Distances", "", *_distance_lines(card)]
    return "\n".join(lines) + "\n"
