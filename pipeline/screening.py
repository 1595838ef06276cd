"""Screening ranked events against a watchlist: which vessel matched which listed entry, how.

A vessel is screened under every identity it reported in the window read (its
static-report series), not only the one on the event row: a tanker that
changed its name or IMO the day before a meeting is still caught under the
old one. Matches on IMO or MMSI are exact; a match on the normalised name
alone is weaker (names are reused) and labelled so. Each (event, vessel,
listed entry) gives one hit carrying every basis it matched on.

Pure: frames in, lists of plain dicts out (they go into GeoJSON properties,
cards and Prefect artifacts as they are).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stswatch.pipeline.watchlist import MATCH_ORDER, Watchlist, normalise_name

SIDES = ("a", "b")
#: ``strength`` of a hit: exact identifiers, or the weaker name-only match.
EXACT = "exact"
NAME_ONLY = "name only"


def vessel_identities(events: pd.DataFrame, vessels: pd.DataFrame | None) -> pd.DataFrame:
    """Every (event, side, mmsi, imo, name) a ranked event's vessels reported.

    From the event row itself plus each distinct (imo, name) of the vessel's
    static reports in ``vessels`` (VESSEL_SCHEMA columns).
    """
    parts = []
    for side in SIDES:
        if f"mmsi_{side}" not in events.columns:
            continue
        part = pd.DataFrame(
            {
                "event_id": events["event_id"].astype(str).to_numpy(),
                "side": side,
                "mmsi": pd.to_numeric(events[f"mmsi_{side}"], errors="coerce").astype("Int64"),
                "imo": pd.to_numeric(events.get(f"imo_{side}"), errors="coerce"),
                "name": events.get(f"vessel_name_{side}"),
            }
        )
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["event_id", "side", "mmsi", "imo", "name"])
    ids = pd.concat(parts, ignore_index=True)
    if vessels is not None and not vessels.empty:
        static = vessels[["mmsi", "imo", "vessel_name"]].drop_duplicates()
        static = static.rename(columns={"vessel_name": "name"})
        static["mmsi"] = static["mmsi"].astype("Int64")
        reported = ids[["event_id", "side", "mmsi"]].drop_duplicates().merge(static, on="mmsi")
        ids = pd.concat([ids, reported], ignore_index=True)
    ids["imo"] = pd.to_numeric(ids["imo"], errors="coerce").astype("Int64")
    ids.loc[ids["imo"] <= 0, "imo"] = pd.NA
    return ids.drop_duplicates().reset_index(drop=True)


def _matches(ids: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """(event_id, side, mmsi, entry, basis, value) for every identifier that matches."""
    listed = entries.reset_index(names="entry")
    found = []
    for basis in ("imo", "mmsi"):
        left = ids[list(dict.fromkeys(["event_id", "side", "mmsi", basis]))]
        left = left.dropna(subset=[basis]).drop_duplicates()
        m = left.merge(listed[["entry", basis]].dropna(subset=[basis]), on=basis)
        found.append(m.assign(basis=basis, value=m[basis].astype(str))[_MATCH_COLS])
    named = ids[["event_id", "side", "mmsi", "name"]].dropna(subset=["name"])
    named = named.assign(name_key=named["name"].map(normalise_name))
    named = named[named["name_key"] != ""]
    right = listed.loc[listed["name_key"] != "", ["entry", "name_key"]]
    m = named.merge(right, on="name_key")
    found.append(m.assign(basis="name", value=m["name"].astype(str))[_MATCH_COLS])
    return pd.concat(found, ignore_index=True)


_MATCH_COLS = ["event_id", "side", "mmsi", "entry", "basis", "value"]


def _int_or_none(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def screen_events(
    events: pd.DataFrame, vessels: pd.DataFrame | None, watchlist: Watchlist | None
) -> pd.Series:
    """``watchlist_hits`` per event (same index as ``events``): a list of hit dicts.

    Each hit: ``vessel`` ("vessel 1" is ``mmsi_a``, as in the reasons), ``mmsi``,
    ``match`` (bases joined by "+", strongest first: imo, mmsi, name),
    ``strength`` ("exact" or "name only"), ``matched`` (the vessel's value that
    matched), ``list``, ``listed_name``, ``listed_imo``, ``listed_mmsi``,
    ``note``, ``source`` (file:line of the entry). Events with no hit get [].
    """
    empty = pd.Series([[] for _ in range(len(events))], index=events.index, dtype=object)
    if watchlist is None or len(watchlist) == 0 or events.empty:
        return empty
    ids = vessel_identities(events, vessels)
    found = _matches(ids, watchlist.entries)
    if found.empty:
        return empty
    rank = {b: i for i, b in enumerate(MATCH_ORDER)}
    found["rank"] = found["basis"].map(rank)
    found = found.sort_values(["event_id", "side", "entry", "rank", "value"], kind="stable")
    entries = watchlist.entries
    hits: dict[str, list[dict[str, Any]]] = {}
    for (event_id, side, entry), g in found.groupby(["event_id", "side", "entry"], sort=True):
        bases = list(dict.fromkeys(g["basis"]))
        row = entries.iloc[int(entry)]
        hits.setdefault(str(event_id), []).append(
            {
                "vessel": "vessel 1" if side == "a" else "vessel 2",
                "mmsi": _int_or_none(g["mmsi"].iloc[0]),
                "match": "+".join(bases),
                "strength": EXACT if bases[0] in ("imo", "mmsi") else NAME_ONLY,
                "matched": str(g["value"].iloc[0]),
                "list": str(row["list"]),
                "listed_name": None if pd.isna(row["name"]) else str(row["name"]),
                "listed_imo": _int_or_none(row["imo"]),
                "listed_mmsi": _int_or_none(row["mmsi"]),
                "note": None if pd.isna(row["note"]) else str(row["note"]),
                "source": str(row["source"]),
                "_rank": rank[bases[0]],
            }
        )
    out = []
    for event_id in events["event_id"].astype(str):
        event_hits = sorted(hits.get(event_id, []), key=lambda h: (h["_rank"], h["vessel"]))
        out.append([{k: v for k, v in h.items() if k != "_rank"} for h in event_hits])
    return pd.Series(out, index=events.index, dtype=object)


def hit_text(hit: dict[str, Any]) -> str:
    """One line for a reason, a card or a table: who matched what, on which list, how strongly."""
    listed = hit.get("listed_name") or ""
    ident = {"imo": f"IMO {hit.get('listed_imo')}", "mmsi": f"MMSI {hit.get('listed_mmsi')}"}
    basis = hit["match"].split("+")[0]
    if hit["strength"] == EXACT:
        what = f"{ident[basis]} on watchlist {hit['list']}" + (f" ({listed})" if listed else "")
        bases = hit["match"].split("+")
        exact = " and ".join(b.upper() for b in bases if b != "name")
        also = ", name agrees" if "name" in bases else ""
        return f"{hit['vessel']} {what}: exact {exact} match{also}"
    return (
        f"{hit['vessel']} name '{hit['matched']}' matches '{listed}' on watchlist "
        f"{hit['list']}: name only, weaker (ship names are reused)"
    )


def strongest_per_vessel(hits: list[dict[str, Any]]) -> dict[str, str]:
    """``{"vessel 1": "exact" | "name only", ...}``: the strongest hit of each vessel."""
    best: dict[str, str] = {}
    for h in hits:
        if best.get(h["vessel"]) != EXACT:
            best[h["vessel"]] = h["strength"]
    return best


def n_hits(hits: pd.Series) -> np.ndarray:
    """How many hits each event has (0 for none), for summaries."""
    return np.array([len(h) if isinstance(h, list) else 0 for h in hits], dtype=np.int64)
