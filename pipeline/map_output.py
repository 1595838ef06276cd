"""Map-ready properties: styles by kind and score, flat text, decoded codes, links, track legs.

Opened as it is in geojson.io or QGIS, a file of identical pins says
nothing. This module adds what map tools read without configuration:

* simplestyle-spec properties (``marker-color``, ``marker-size``,
  ``marker-symbol``, ``stroke``, ``stroke-width``, ``stroke-opacity``), which
  geojson.io, GitHub's map preview and many web maps honour, and which the
  GeoPackage's QGIS styles read as data-defined values: ranked events by kind
  (rendezvous orange-red, dark transfers purple) and score (darker and larger
  = more suspicious), tracks in the cards' vessel colours;
* ``reasons_text``: the reasons as one string (Shapefile/CSV exports drop lists);
* the nearest port's name and distance, ship types in words, the flag claimed
  by each MMSI;
* links between features: ``gap_ids`` and ``loitering_ids`` on events,
  ``event_id`` on the gaps they explain;
* tracks with approach and departure legs (``OutputConfig.track_leg_h``
  either side), thinned to one fix per ``track_fix_interval_s`` for the map,
  with ``times`` and ``speeds`` per vertex.

Pure: frames in, frames out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stswatch.pipeline.ship_types import ship_type_name

#: Score bins and the colour/size of each, per ranked kind (ColorBrewer
#: Oranges and Purples, light to dark: colour-blind safe, print in grey).
SCORE_BINS = (0.2, 0.5, 0.8)
RAMPS = {
    "rendezvous": ("#fdae6b", "#f16913", "#d94801", "#7f2704"),
    "dark_rendezvous": ("#bcbddc", "#9e9ac8", "#6a51a3", "#3f007d"),
}
SIZES = ("small", "medium", "large", "large")
SYMBOLS = {"rendezvous": "ferry", "dark_rendezvous": "danger"}
VESSEL_COLOURS = {"a": "#1f6fb4", "b": "#d9620b"}
LOITERING_STYLE = {"marker-color": "#737373", "marker-size": "small", "marker-symbol": "circle"}
GAP_STYLE = {"stroke": "#444444", "stroke-width": 1.5, "stroke-opacity": 0.8}
#: Map tracks keep at most one fix per this many seconds (plus the fixes at
#: each end of a silence): 2 minutes is < 750 m at 12 kn, and keeps a day's
#: file a few MB where raw Class A reports every few seconds would not.
TRACK_FIX_INTERVAL_S = 120


def nearest_ports(ranked: pd.DataFrame) -> pd.DataFrame | None:
    """The nearest listed port of each event's mean position: name, country, distance, lat/lon.

    Same index as ``ranked``; None when the port reference cannot be loaded
    (an output without ports beats no output).
    """
    from stswatch.geo.ports import load_ports, nearest_port

    if ranked.empty:
        return None
    try:
        ports = nearest_port(ranked["mean_lat"].to_numpy(float), ranked["mean_lon"].to_numpy(float))
        table = load_ports()
    except (OSError, ValueError, ImportError):
        return None
    located = table.drop_duplicates("name").set_index("name")[["lat", "lon"]]
    ports.index = ranked.index
    ports["lat"] = ports["name"].map(located["lat"]).astype(float)
    ports["lon"] = ports["name"].map(located["lon"]).astype(float)
    return ports


def _bin(score: np.ndarray) -> np.ndarray:
    return np.digitize(np.nan_to_num(score, nan=0.0), SCORE_BINS)


def event_styles(events: pd.DataFrame) -> pd.DataFrame:
    """``marker-color``, ``marker-size``, ``marker-symbol`` per ranked event (same index)."""
    kinds = events["kind"].fillna("rendezvous") if "kind" in events else "rendezvous"
    kinds = pd.Series(kinds, index=events.index).where(lambda k: k.isin(RAMPS), "rendezvous")
    b = _bin(events["score"].to_numpy(float))
    return pd.DataFrame(
        {
            "marker-color": [RAMPS[k][i] for k, i in zip(kinds, b, strict=True)],
            "marker-size": [SIZES[i] for i in b],
            "marker-symbol": [SYMBOLS[k] for k in kinds],
        },
        index=events.index,
    )


def _flags(mmsi: pd.Series) -> tuple[list[Any], list[Any]]:
    from stswatch.pipeline.mmsi import flags_of

    iso2, name = flags_of(pd.to_numeric(mmsi, errors="coerce").fillna(0).astype(np.int64))
    return list(name), list(iso2)


def loitering_links(
    events: pd.DataFrame, loitering: pd.DataFrame, window_h: float
) -> list[list[str]]:
    """Published loitering events of either vessel within ``window_h`` of each event."""
    out: list[list[str]] = [[] for _ in range(len(events))]
    if events.empty or loitering.empty:
        return out
    pad = pd.Timedelta(hours=window_h)
    lo_start, lo_end = loitering["start_time"], loitering["end_time"]
    for i, row in enumerate(events.itertuples(index=False)):
        same = loitering["mmsi"].isin([row.mmsi_a, row.mmsi_b])
        near = (lo_start <= row.end_time + pad) & (lo_end >= row.start_time - pad)
        out[i] = sorted(loitering.loc[same & near, "event_id"].astype(str))
    return out


def event_map_properties(
    events: pd.DataFrame, loitering: pd.DataFrame, ports: pd.DataFrame | None, link_window_h: float
) -> pd.DataFrame:
    """The ranked events with styles, flat reasons, port, decoded codes and links added."""
    out = events.copy()
    if out.empty:
        return out
    for col, values in event_styles(out).items():
        out[col] = values
    out["reasons_text"] = [
        "; ".join(map(str, r)) if isinstance(r, list | tuple | np.ndarray) else ""
        for r in out["reasons"]
    ]
    if ports is not None:
        out["nearest_port_name"] = ports["name"].astype(object).where(ports["name"].notna(), None)
        out["nearest_port_country"] = (
            ports["country"].astype(object).where(ports["country"].notna(), None)
        )
        out["nearest_port_distance_m"] = ports["distance_m"].to_numpy(float)
    for side in ("a", "b"):
        if f"ship_type_{side}" in out:
            out[f"ship_type_name_{side}"] = out[f"ship_type_{side}"].map(ship_type_name)
        out[f"flag_{side}"], out[f"flag_code_{side}"] = _flags(out[f"mmsi_{side}"])
    out["loitering_ids"] = pd.Series(
        loitering_links(out, loitering, link_window_h), index=out.index, dtype=object
    )
    if "gap_ids" not in out:
        out["gap_ids"] = pd.Series([[] for _ in range(len(out))], index=out.index, dtype=object)
    return out


def gap_map_properties(gaps: pd.DataFrame, ranked: pd.DataFrame) -> pd.DataFrame:
    """Gaps with ``event_id`` (the most suspicious event listing them) and a dashed-line style."""
    out = gaps.copy()
    owner: dict[str, str] = {}
    if not ranked.empty and "gap_ids" in ranked:
        for event_id, ids in zip(ranked["event_id"], ranked["gap_ids"], strict=True):
            for gap_id in ids if isinstance(ids, list | tuple | np.ndarray) else []:
                owner.setdefault(str(gap_id), str(event_id))  # ranked: first = highest score
    if not out.empty:
        out["event_id"] = out["gap_id"].astype(str).map(owner).astype(object)
        out["event_id"] = out["event_id"].where(out["event_id"].notna(), None)
        for col, value in GAP_STYLE.items():
            out[col] = value
    return out


def loitering_map_properties(loitering: pd.DataFrame) -> pd.DataFrame:
    out = loitering.copy()
    if not out.empty:
        for col, value in LOITERING_STYLE.items():
            out[col] = value
    return out


def approach_tracks(
    ranked: pd.DataFrame,
    positions: pd.DataFrame,
    leg_h: float,
    *,
    fix_interval_s: int = TRACK_FIX_INTERVAL_S,
    split_gap_h: float = 1.0,
) -> pd.DataFrame:
    """Both vessels' fixes from ``leg_h`` before each event to ``leg_h`` after it.

    Columns: event_id, mmsi, timestamp, lat, lon, sog_kn, part (a new part
    after each silence of ``split_gap_h`` or more, so a map never draws a
    solid line where nothing was received), vessel, and the track style.
    Thinned to the first fix of each ``fix_interval_s`` bin plus each fix
    that ends a part.
    """
    cols = ["event_id", "mmsi", "timestamp", "lat", "lon", "sog_kn", "part", "vessel"]
    if ranked.empty or positions.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    pad = pd.Timedelta(hours=leg_h)
    sides = pd.concat(
        [
            pd.DataFrame(
                {
                    "event_id": ranked["event_id"].astype(str).to_numpy(),
                    "mmsi": ranked[f"mmsi_{s}"].astype(np.int64).to_numpy(),
                    "w0": (ranked["start_time"] - pad).to_numpy(),
                    "w1": (ranked["end_time"] + pad).to_numpy(),
                    "vessel": "vessel 1" if s == "a" else "vessel 2",
                    "stroke": VESSEL_COLOURS[s],
                    "score": ranked["score"].to_numpy(float),
                }
            )
            for s in ("a", "b")
        ],
        ignore_index=True,
    )
    keep = [c for c in ("mmsi", "timestamp", "lat", "lon", "sog_kn") if c in positions]
    pings = positions.loc[positions["mmsi"].isin(sides["mmsi"].unique()), keep]
    pings = pings.assign(mmsi=pings["mmsi"].astype(np.int64))
    merged = pings.merge(sides, on="mmsi", how="inner")
    ts = merged["timestamp"]
    merged = merged[(ts >= merged["w0"]) & (ts <= merged["w1"])]
    merged = merged.sort_values(["event_id", "mmsi", "timestamp"], kind="stable")
    if merged.empty:
        return merged.reindex(columns=cols)
    t_ms = merged["timestamp"].dt.as_unit("ms").astype("int64").to_numpy()
    group = (merged["event_id"] + ":" + merged["mmsi"].astype(str)).to_numpy()
    first = np.r_[True, group[1:] != group[:-1]]
    last = np.r_[group[1:] != group[:-1], True]
    dt = np.r_[0, np.diff(t_ms)]
    silence = (~first) & (dt >= split_gap_h * 3_600_000)
    part = np.cumsum(first | silence)
    ends_part = last | np.r_[silence[1:], False]
    bins = t_ms // (fix_interval_s * 1000)
    new_bin = first | silence | np.r_[True, bins[1:] != bins[:-1]]
    out = merged.assign(part=part)[new_bin | ends_part]
    out["stroke-width"] = np.where(out["score"] >= SCORE_BINS[1], 3.0, 1.5)
    out["stroke-opacity"] = 0.9
    return out.drop(columns=["w0", "w1", "score"]).reset_index(drop=True)
