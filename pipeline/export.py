"""GeoJSON (RFC 7946) export of detected and scored events.

One FeatureCollection holds every kind of feature an analyst needs on a map,
told apart by the ``kind`` property so a QGIS rule-based style or a web map
filter can split them:

* ``rendezvous`` — Point at the event's mean position, with the score, the
  reasons and both vessels' identity;
* ``dark_rendezvous`` — Point at a loitering vessel's position, paired with a
  partner whose AIS was off alongside it (``dark_mmsi``); ranked in the same
  list as rendezvous (both come from the one event frame, by score). Its
  ``track`` is the loiterer's, and the partner's silence is its ``gap``
  feature (``partner_gap_id``);
* ``track`` — (Multi)LineString of one vessel's pings around a ranked event
  (approach and departure legs, broken at silences), with ``times``/``speeds``;
* ``loitering`` — Point of a single vessel drifting offshore;
* ``gap`` — (Multi)LineString from the last fix before to the first fix after
  an AIS gap (the straight line is what the vessel *could* have done).

RFC 7946 details handled here, because viewers are strict about them:
WGS84 lon/lat order, no ``crs`` member, coordinates rounded to 1e-6° (~0.1 m),
lines that cross the antimeridian split into a MultiLineString (section 3.1.9),
``NaN`` written as ``null`` (JSON has no NaN), times as ISO 8601 UTC with ``Z``.
The file is written aside and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COORD_DECIMALS = 6

#: Rendezvous properties written first, in this order (the contract users and
#: external checks rely on); any other event column follows.
RENDEZVOUS_LEADING_PROPERTIES = (
    "kind",
    "event_id",
    "mmsi_a",
    "mmsi_b",
    "dark_mmsi",
    "start_time",
    "end_time",
    "duration_h",
    "min_distance_m",
    "median_distance_m",
    "score",
    "reasons",
    "model_version",
)


def _json_value(value: Any) -> Any:
    """Convert pandas/numpy scalars to plain JSON values (NaN/NaT -> None)."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | datetime | np.datetime64):
        if pd.isna(value):
            return None
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else round(f, 6)
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is pd.NA or value is pd.NaT:
        return None
    return value


#: Properties that are codes or counts: written as JSON integers even when a
#: missing value made pandas hold the column as float (IMO 9500546, not 9500546.0).
INTEGER_PROPERTY_PREFIXES = ("mmsi", "imo", "ship_type", "n_")


def _property(key: str, value: Any) -> Any:
    out = _json_value(value)
    if isinstance(out, float) and out.is_integer() and key.startswith(INTEGER_PROPERTY_PREFIXES):
        return int(out)
    return out


def _properties(row: Mapping[str, Any], leading: Iterable[str] = ()) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key in leading:
        if key in row:
            props[key] = _property(key, row[key])
    for key, value in row.items():
        if key not in props:
            props[str(key)] = _property(str(key), value)
    return props


def _round(x: float) -> float:
    return round(float(x), COORD_DECIMALS)


def split_antimeridian(lons: np.ndarray, lats: np.ndarray) -> list[list[list[float]]]:
    """Split a lon/lat polyline where it crosses the antimeridian (RFC 7946 §3.1.9).

    A step of more than 180° in longitude is taken as a crossing (AIS fixes are
    minutes apart; no ship moves 180° between them). The crossing latitude is
    interpolated on the unwrapped line so both parts meet at ±180.
    """
    parts: list[list[list[float]]] = []
    current: list[list[float]] = []
    for i in range(len(lons)):
        lon, lat = float(lons[i]), float(lats[i])
        if current:
            prev_lon, prev_lat = current[-1]
            step = lon - prev_lon
            if abs(step) > 180.0:
                # unwrap the next point next to the previous one, find where it hits ±180
                edge = 180.0 if step < 0 else -180.0
                unwrapped = lon + 360.0 if step < 0 else lon - 360.0
                frac = (edge - prev_lon) / (unwrapped - prev_lon) if unwrapped != prev_lon else 0.0
                cross_lat = prev_lat + frac * (lat - prev_lat)
                current.append([_round(edge), _round(cross_lat)])
                parts.append(current)
                current = [[_round(-edge), _round(cross_lat)]]
        current.append([_round(lon), _round(lat)])
    if current:
        parts.append(current)
    return parts


def line_geometry(lons: np.ndarray, lats: np.ndarray) -> dict[str, Any] | None:
    """LineString, or MultiLineString when the line crosses the antimeridian.

    Returns None for fewer than two positions (not a valid LineString).
    """
    if len(lons) < 2:
        return None
    parts = [p for p in split_antimeridian(np.asarray(lons), np.asarray(lats)) if len(p) >= 2]
    if not parts:
        return None
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


def point_geometry(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [_round(lon), _round(lat)]}


def rendezvous_features(scored: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Point features of the ranked events (rendezvous and dark rendezvous), most suspicious first.

    ``kind`` comes from the event frame (a frame without it is all rendezvous).
    """
    if scored.empty:
        return
    frame = scored.sort_values(["score", "event_id"], ascending=[False, True], kind="stable")
    for row in frame.to_dict("records"):
        row = {**row, "kind": row.get("kind") or "rendezvous"}
        yield {
            "type": "Feature",
            "id": str(row["event_id"]),
            "geometry": point_geometry(row["mean_lon"], row["mean_lat"]),
            "properties": _properties(row, RENDEZVOUS_LEADING_PROPERTIES),
        }


#: Per-track columns copied to a track's properties when present (one value per track).
TRACK_PROPERTY_COLUMNS = ("vessel", "stroke", "stroke-width", "stroke-opacity")


def _track_geometry(g: pd.DataFrame) -> dict[str, Any] | None:
    """One line, or one part per ``part`` (a silence breaks the line); parts of one fix dropped."""
    if "part" not in g:
        return line_geometry(g["lon"].to_numpy(), g["lat"].to_numpy())
    lines = []
    for _, p in g.groupby("part", sort=False):
        geometry = line_geometry(p["lon"].to_numpy(), p["lat"].to_numpy())
        if geometry is not None:
            coords = geometry["coordinates"]
            lines += [coords] if geometry["type"] == "LineString" else coords
    if not lines:
        return None
    if len(lines) == 1:
        return {"type": "LineString", "coordinates": lines[0]}
    return {"type": "MultiLineString", "coordinates": lines}


def track_features(event_tracks: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """One (Multi)LineString per (event, vessel).

    With ``sog_kn`` the feature carries ``times`` and ``speeds``, one per fix
    in time order; with ``part`` the line breaks at AIS silences.
    """
    if event_tracks.empty:
        return
    tracks = event_tracks.sort_values(["event_id", "mmsi", "timestamp"], kind="stable")
    for (event_id, mmsi), g in tracks.groupby(["event_id", "mmsi"], sort=False):
        geometry = _track_geometry(g)
        if geometry is None:
            continue
        props = {
            "kind": "track",
            "event_id": str(event_id),
            "mmsi": int(mmsi),
            "start_time": _json_value(g["timestamp"].iloc[0]),
            "end_time": _json_value(g["timestamp"].iloc[-1]),
            "n_positions": len(g),
        }
        props.update({c: _json_value(g[c].iloc[0]) for c in TRACK_PROPERTY_COLUMNS if c in g})
        if "sog_kn" in g:
            props["times"] = [_json_value(t) for t in g["timestamp"]]
            props["speeds"] = [
                None if pd.isna(v) else round(float(v), 1) for v in g["sog_kn"].to_numpy()
            ]
        yield {
            "type": "Feature",
            "id": f"{event_id}-{int(mmsi)}",
            "geometry": geometry,
            "properties": props,
        }


def loitering_features(loitering: pd.DataFrame) -> Iterator[dict[str, Any]]:
    if loitering.empty:
        return
    for row in loitering.sort_values("start_time", kind="stable").to_dict("records"):
        row = {"kind": "loitering", **row}
        yield {
            "type": "Feature",
            "id": str(row["event_id"]),
            "geometry": point_geometry(row["mean_lon"], row["mean_lat"]),
            "properties": _properties(row, ("kind", "event_id", "mmsi", "start_time", "end_time")),
        }


def gap_features(gaps: pd.DataFrame) -> Iterator[dict[str, Any]]:
    if gaps.empty:
        return
    for row in gaps.sort_values("start_time", kind="stable").to_dict("records"):
        geometry = line_geometry(
            np.array([row["start_lon"], row["end_lon"]]),
            np.array([row["start_lat"], row["end_lat"]]),
        )
        if geometry is None:  # pragma: no cover - two points always make a line
            continue
        row = {"kind": "gap", **row}
        yield {
            "type": "Feature",
            "id": str(row["gap_id"]),
            "geometry": geometry,
            "properties": _properties(row, ("kind", "gap_id", "mmsi", "start_time", "end_time")),
        }


def feature_collection(
    scored: pd.DataFrame,
    event_tracks: pd.DataFrame,
    loitering: pd.DataFrame,
    gaps: pd.DataFrame,
) -> dict[str, Any]:
    """The whole map layer as a GeoJSON-ready dict."""
    features: list[dict[str, Any]] = [
        *rendezvous_features(scored),
        *track_features(event_tracks),
        *loitering_features(loitering),
        *gap_features(gaps),
    ]
    return {"type": "FeatureCollection", "features": features}


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> Path:
    """Write JSON beside ``path`` then rename over it (never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_geojson(
    path: Path,
    scored: pd.DataFrame,
    event_tracks: pd.DataFrame,
    loitering: pd.DataFrame,
    gaps: pd.DataFrame,
) -> Path:
    """Write one RFC 7946 FeatureCollection atomically and return its path."""
    return write_json_atomic(path, feature_collection(scored, event_tracks, loitering, gaps))


def write_map(
    path: Path,
    scored: pd.DataFrame,
    event_tracks: pd.DataFrame,
    loitering: pd.DataFrame,
    gaps: pd.DataFrame,
) -> Path:
    """The GeoJSON at ``path`` and the same features as ``<stem>.gpkg`` beside it.

    The GeoPackage has one layer per kind with a QGIS style inside
    (:mod:`stswatch.pipeline.geopackage`); both are written aside and renamed.
    """
    from stswatch.pipeline.geopackage import write_geopackage

    document = feature_collection(scored, event_tracks, loitering, gaps)
    write_json_atomic(path, document)
    write_geopackage(Path(path).with_suffix(".gpkg"), document)
    return Path(path)
