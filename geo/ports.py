"""Ports from installed packages, and fast nearest-port queries.

Sources, merged once and cached (:func:`load_ports`):

* **World Port Index** (NGA, 2,951 ports with UN/LOCODE) bundled in ``harborly``;
* **searoute**'s port list (3,962 ports with UN/LOCODE; ~2,400 codes the WPI
  lacks, mostly small commercial ports);
* **GeoNames harbour-like features** bundled in ``harborly`` (harbours, ports,
  anchorages, docks, ferry terminals; no LOCODE), which add thousands of small
  fishing and ferry harbours.

Why a port list alone is still not enough: every list has holes, and each a
different one. Hvide Sande (Denmark, 56.00 N 8.13 E), a busy fishing port, is
missing from the World Port Index (the nearest WPI port is Ringkøbing, 12 km
away) and from GFW's WPI-based list; searoute and a GeoNames marina entry
happen to have it. Countless smaller landings, private terminals and shipyards
appear in no list at all. The away-from-port rule therefore also requires
distance to coast (:mod:`geo.coast`) and to anchorages learned from the data
(:mod:`detectors.anchorages`).

Queries use a KD-tree on 3-D unit vectors (scipy ``cKDTree``): chord length
converts exactly to great-circle distance, there is no antimeridian seam, and
it answers ~1e6 points/s, 30x faster than a haversine ``BallTree``.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

#: Mean Earth radius (IUGG), metres; same sphere as :mod:`geo.distance`.
EARTH_RADIUS_M = 6_371_008.8

#: GeoNames feature codes that describe a place where ships berth or anchor.
#: Marinas (S.MAR) and boat landings (S.LDNG) are left out: they are pleasure
#: craft places, and the coast-distance rule already covers them.
GEONAMES_PORT_CODES = frozenset({"H.HBR", "L.PRT", "H.ANCH", "H.DCK", "H.DCKB", "S.DCKY", "S.FYT"})

PORT_COLUMNS = ["name", "locode", "country", "lat", "lon", "source"]

FloatArray = npt.NDArray[np.float64]


def _harborly_registry() -> pd.DataFrame:
    path = files("harborly").joinpath("data", "port_registry.parquet")
    with path.open("rb") as fh:
        return pd.read_parquet(fh)


def _searoute_ports() -> pd.DataFrame:
    path = files("searoute").joinpath("data", "ports.geojson")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    rows = [
        (
            f["properties"].get("name"),
            f["properties"].get("port"),
            f["geometry"]["coordinates"][1],
            f["geometry"]["coordinates"][0],
        )
        for f in features
        if f.get("geometry") and f["geometry"].get("type") == "Point"
    ]
    df = pd.DataFrame(rows, columns=["name", "locode", "lat", "lon"])
    df["country"] = df["locode"].str[:2]
    df["source"] = "searoute"
    return df


def _wpi_ports(registry: pd.DataFrame) -> pd.DataFrame:
    wpi = registry[registry["provider"] == "NGA_WPI"]
    return pd.DataFrame(
        {
            "name": wpi["canonical_name"].to_numpy(),
            "locode": wpi["unlocode"].to_numpy(),
            "country": wpi["country_code"].to_numpy(),
            "lat": wpi["latitude"].to_numpy(),
            "lon": wpi["longitude"].to_numpy(),
            "source": "wpi",
        }
    )


def _geonames_ports(registry: pd.DataFrame) -> pd.DataFrame:
    geo = registry[
        (registry["provider"] == "GEONAMES") & registry["function_code"].isin(GEONAMES_PORT_CODES)
    ]
    return pd.DataFrame(
        {
            "name": geo["canonical_name"].to_numpy(),
            "locode": pd.NA,
            "country": geo["country_code"].replace("", pd.NA).to_numpy(),
            "lat": geo["latitude"].to_numpy(),
            "lon": geo["longitude"].to_numpy(),
            "source": "geonames",
        }
    )


@functools.lru_cache(maxsize=1)
def load_ports() -> pd.DataFrame:
    """All known ports, one row each: name, locode, country, lat, lon, source.

    ``source`` is ``"wpi"``, ``"searoute"`` or ``"geonames"``. searoute ports
    whose LOCODE the WPI already has are dropped (the WPI position is kept), so
    nearest-port attributes name the curated entry. Cached: treat the frame as
    read-only.
    """
    registry = _harborly_registry()
    wpi = _wpi_ports(registry)
    sea = _searoute_ports()
    sea = sea[~sea["locode"].isin(set(wpi["locode"].dropna()))]
    ports = pd.concat([wpi, sea, _geonames_ports(registry)], ignore_index=True)[PORT_COLUMNS]
    ports = ports[np.isfinite(ports["lat"]) & np.isfinite(ports["lon"])].reset_index(drop=True)
    for col in ("name", "locode", "country", "source"):
        ports[col] = ports[col].astype("string")
    return ports


def unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """(n, 3) unit vectors: a KD-tree over them is seamless at the antimeridian and poles."""
    phi = np.radians(lat)
    lam = np.radians(lon)
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)])


def chord_to_m(chord: FloatArray) -> FloatArray:
    """Straight-line distance between unit vectors -> great-circle metres."""
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


@functools.lru_cache(maxsize=1)
def _port_tree() -> cKDTree:
    ports = load_ports()
    return cKDTree(unit_vectors(ports["lat"].to_numpy(), ports["lon"].to_numpy()))


def _query(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Great-circle metres to, and row index of, the nearest port (NaN/-1 for NaN input)."""
    la, lo = np.broadcast_arrays(
        np.asarray(lat, dtype=np.float64).ravel(), np.asarray(lon, dtype=np.float64).ravel()
    )
    dist = np.full(la.shape, np.nan)
    idx = np.full(la.shape, -1, dtype=np.intp)
    ok = np.isfinite(la) & np.isfinite(lo)
    if ok.any():
        chord, i = _nearest(la[ok], lo[ok])
        dist[ok] = chord_to_m(chord)
        idx[ok] = i
    return dist, idx


#: First pass radius: most AIS positions have a port within it, and a bounded
#: search prunes far more of the tree; the rest get an unbounded second pass.
_FIRST_PASS_CHORD = 100_000.0 / EARTH_RADIUS_M


def _nearest(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Exact nearest port (chord, index), with queries ordered by 0.25° cell.

    Sorting the queries makes consecutive searches walk the same tree nodes
    (cache-friendly); results are returned in input order.
    """
    tree = _port_tree()
    if lat.size < 10_000:
        chord, idx = tree.query(unit_vectors(lat, lon), k=1)
        return chord, idx
    cell = np.floor((lat + 90.0) * 4.0).astype(np.int64) * 1440 + np.floor(
        ((lon + 180.0) % 360.0) * 4.0
    ).astype(np.int64)
    order = np.argsort(cell, kind="stable")
    vectors = unit_vectors(lat[order], lon[order])
    chord, idx = tree.query(vectors, k=1, distance_upper_bound=_FIRST_PASS_CHORD)
    far = np.isinf(chord)
    if far.any():
        chord[far], idx[far] = tree.query(vectors[far], k=1)
    out_chord = np.empty_like(chord)
    out_idx = np.empty_like(idx)
    out_chord[order] = chord
    out_idx[order] = idx
    return out_chord, out_idx


def distance_to_port_m(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    """Great-circle distance in metres from each position to the nearest known port.

    Works across the antimeridian (unit vectors have no seam); NaN in, NaN out.
    Output has the broadcast shape of ``lat`` and ``lon``.
    """
    shape = np.broadcast_shapes(np.shape(lat), np.shape(lon))
    dist, _ = _query(lat, lon)
    return dist.reshape(shape)


def nearest_port(lat: npt.ArrayLike, lon: npt.ArrayLike) -> pd.DataFrame:
    """The nearest port of each position, for event attributes.

    One row per input position (same order), columns ``name``, ``locode``,
    ``country``, ``distance_m``; a NaN position yields a row of missing values.
    """
    dist, idx = _query(lat, lon)
    ports = load_ports()
    safe = np.where(idx >= 0, idx, 0)
    out = pd.DataFrame(
        {
            "name": ports["name"].to_numpy()[safe],
            "locode": ports["locode"].to_numpy()[safe],
            "country": ports["country"].to_numpy()[safe],
            "distance_m": dist,
        }
    )
    missing = idx < 0
    if missing.any():
        out.loc[missing, ["name", "locode", "country"]] = pd.NA
    for col in ("name", "locode", "country"):
        out[col] = out[col].astype("string")
    return out
