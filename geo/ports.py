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
distance to coast (:mod:`stswatch.geo.coast`) and to anchorages learned from the data
(:mod:`stswatch.detectors.anchorages`).

Queries use a KD-tree on 3-D unit vectors (scipy ``cKDTree``): chord length
converts exactly to great-circle distance, there is no antimeridian seam, and
it answers ~1e6 points/s, 30x faster than a haversine ``BallTree``. Distance
queries over clustered track data (millions of drifting or anchored ticks in a
few thousand cells) go faster still: one search per occupied 0.05° cell finds
every port that can be nearest to any point of it, and each point is measured
against those few (:func:`_nearest_chord_by_cell`, exact, 3-4x less CPU).
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

#: Mean Earth radius (IUGG), metres; same sphere as :mod:`stswatch.geo.distance`.
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


def m_to_chord(metres: npt.ArrayLike) -> FloatArray:
    """Great-circle metres -> straight-line distance between unit vectors (KD-tree radius)."""
    half_angle = np.clip(
        np.asarray(metres, dtype=np.float64) / (2.0 * EARTH_RADIUS_M), 0, np.pi / 2
    )
    return 2.0 * np.sin(half_angle)


@functools.lru_cache(maxsize=1)
def _port_tree() -> cKDTree:
    ports = load_ports()
    return cKDTree(unit_vectors(ports["lat"].to_numpy(), ports["lon"].to_numpy()))


def _query(
    lat: npt.ArrayLike, lon: npt.ArrayLike, *, need_index: bool = True
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Great-circle metres to, and row index of, the nearest port (NaN/-1 for NaN input).

    With ``need_index=False`` only the distances are exact and meaningful
    (indices are -1): the per-cell shortcut (:func:`_nearest_chord_by_cell`)
    answers most points without the tree.
    """
    la, lo = np.broadcast_arrays(
        np.asarray(lat, dtype=np.float64).ravel(), np.asarray(lon, dtype=np.float64).ravel()
    )
    dist = np.full(la.shape, np.nan)
    idx = np.full(la.shape, -1, dtype=np.intp)
    ok = np.isfinite(la) & np.isfinite(lo)
    if ok.any():
        la_ok, lo_ok = (la, lo) if ok.all() else (la[ok], lo[ok])
        if need_index or la_ok.size < _CELL_MIN_POINTS:
            chord, i = _nearest(la_ok, lo_ok)
            idx[ok] = i
        else:
            chord = _nearest_chord_by_cell(la_ok, lo_ok)
        dist[ok] = chord_to_m(chord)
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


#: Side of the cells of the per-cell shortcut, degrees (~5.5 km of latitude).
_CELL_DEG = 0.05
#: Ports fetched per cell centre; a cell with more candidates uses the tree.
_CELL_K = 16
#: Below this many points the tree alone is as fast as the shortcut's set-up.
_CELL_MIN_POINTS = 2_048
#: Cells must hold this many points on average for the shortcut to pay off.
_CELL_MAX_SHARE = 8
#: Points per block when measuring candidate distances (bounds temporaries).
_CELL_BLOCK = 1 << 18


def _cell_candidates(
    tree: cKDTree, centre: FloatArray, radius: FloatArray
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Per cell: number of candidate ports (0 = list incomplete) and their indices.

    Most cells need few candidates, so a cheap 4-nearest search runs first and
    only the cells it leaves incomplete are searched for ``_CELL_K``.
    """
    n_cells = centre.shape[0]
    n_cand = np.zeros(n_cells, dtype=np.intp)
    i_out = np.zeros((n_cells, _CELL_K), dtype=np.intp)
    todo = np.arange(n_cells)
    for k in (4, _CELL_K):
        k = min(k, tree.n)
        d_c, i_c = tree.query(centre[todo], k=k)
        d_c, i_c = d_c.reshape(todo.size, k), i_c.reshape(todo.size, k)
        is_cand = d_c <= d_c[:, :1] + 2.0 * radius[todo, None]
        # Complete when the k-th port already lies beyond reach (or there are
        # no more ports at all); the candidates are a prefix (d_c is sorted).
        done = ~is_cand[:, -1] | (k == tree.n)
        n_cand[todo[done]] = is_cand[done].sum(axis=1)
        i_out[todo[done], :k] = i_c[done]
        todo = todo[~done]
        if todo.size == 0:
            break
    return n_cand, i_out


def _nearest_chord_by_cell(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Exact chord to the nearest port, mostly without per-point tree searches.

    Why: detection asks for the port distance of millions of ticks, most of
    them in open water where the KD-tree search is slowest (its first,
    bounded pass finds nothing and a second pass starts over). Positions
    cluster heavily (a drifting or anchored ship stays in a few cells), so the
    search is done once per occupied cell instead.

    For a cell with centre C and radius r (largest chord from C to the cell),
    let d1 be the chord from C to its nearest port. Any point p of the cell has
    a port within d1 + r, so its nearest port P* satisfies
    |C - P*| <= |p - P*| + r <= d1 + 2r (triangle inequality in 3-D). The
    ports within d1 + 2r of C are therefore a complete candidate list; when
    the cell's ``_CELL_K`` nearest ports include them all, each point is
    measured against those few candidates only. Other cells (dense port
    clusters) fall back to the tree. The result equals the tree's.
    """
    tree = _port_tree()
    n = lat.size
    if not np.all(np.abs(lat) <= 90.0):
        # Out-of-range latitudes lie outside their cell: let the tree answer.
        return _nearest(lat, lon)[0]
    n_rows = round(180.0 / _CELL_DEG)
    n_cols = round(360.0 / _CELL_DEG)
    row = np.clip(np.floor((lat + 90.0) / _CELL_DEG).astype(np.int64), 0, n_rows - 1)
    col = np.minimum(np.floor(((lon + 180.0) % 360.0) / _CELL_DEG).astype(np.int64), n_cols - 1)
    cell = row * n_cols + col
    # Track data come ordered by vessel and time: consecutive points share a
    # cell, so unique() runs over the (few) runs of equal cells, not every point.
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(cell[1:], cell[:-1], out=change[1:])
    run_start = np.flatnonzero(change)
    uniq, run_inv = np.unique(cell[run_start], return_inverse=True)
    if uniq.size * _CELL_MAX_SHARE > n:
        # Scattered points (few per cell): one tree search each is cheaper.
        return _nearest(lat, lon)[0]
    point_cell = np.repeat(run_inv, np.diff(np.append(run_start, n)))
    del row, col, cell, change

    c_lat0 = (uniq // n_cols) * _CELL_DEG - 90.0
    c_lon0 = (uniq % n_cols) * _CELL_DEG - 180.0
    centre = unit_vectors(c_lat0 + _CELL_DEG / 2, c_lon0 + _CELL_DEG / 2)
    # The farthest point of a small lat/lon cell from its centre is a corner.
    radius = np.zeros(uniq.size)
    for dlat in (0.0, _CELL_DEG):
        for dlon in (0.0, _CELL_DEG):
            corner = unit_vectors(np.minimum(c_lat0 + dlat, 90.0), c_lon0 + dlon)
            radius = np.maximum(radius, np.linalg.norm(corner - centre, axis=1))
    radius = radius * (1.0 + 1e-9) + 1e-12  # rounding margin: never too small
    n_cand, i_c = _cell_candidates(tree, centre, radius)

    out = np.empty(n)
    ports_xyz = tree.data
    for b0 in range(0, n, _CELL_BLOCK):
        b1 = min(b0 + _CELL_BLOCK, n)
        pc = point_cell[b0:b1]
        counts = n_cand[pc]
        resolved = np.flatnonzero(counts > 0)
        if resolved.size:
            cnt = counts[resolved]
            # (point, candidate) pairs: candidates of a cell are its first
            # ``cnt`` k-nearest ports (is_cand is a prefix: d_c is sorted).
            pair_point = np.repeat(np.arange(resolved.size), cnt)
            first = np.cumsum(cnt) - cnt
            pair_rank = np.arange(pair_point.size) - np.repeat(first, cnt)
            port = i_c[pc[resolved][pair_point], pair_rank]
            xyz = unit_vectors(lat[b0:b1][resolved], lon[b0:b1][resolved])
            diff = xyz[pair_point] - ports_xyz[port]
            chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            out[b0 + resolved] = np.minimum.reduceat(chord, first)
        rest = np.flatnonzero(counts == 0)
        if rest.size:
            out[b0 + rest], _ = _nearest(lat[b0:b1][rest], lon[b0:b1][rest])
    return out


def distance_to_port_m(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    """Great-circle distance in metres from each position to the nearest known port.

    Works across the antimeridian (unit vectors have no seam); NaN in, NaN out.
    Output has the broadcast shape of ``lat`` and ``lon``.
    """
    shape = np.broadcast_shapes(np.shape(lat), np.shape(lon))
    dist, _ = _query(lat, lon, need_index=False)
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
