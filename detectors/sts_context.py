"""Anchorages versus STS areas, and the STS-area context of each event.

A learned anchorage (:mod:`stswatch.detectors.anchorages`: many distinct
vessels sitting still in one place) means two different things:

* near a port it is where ships wait for a berth, and meetings there are
  routine: the away-from-port rule keeps rendezvous 10 km from it;
* offshore (beyond 12 nm, or far from any port), or inside a listed
  STS/lightering area, it is where ships wait for a *transfer*: the Gulf of
  Mexico's lightering zones fill with waiting tankers. Treating such a place
  as an anchorage drops every transfer in it, the legitimate ones and the
  illicit ones hiding among them.

:func:`split_anchorages` sorts the learned cells into port anchorages (which
keep the away-from-anchorage rule) and learned STS areas (which do not).
:func:`sts_context` then names, for each event position, the listed area it
lies in (``sts_area_source = "listed"``) or else the learned area it lies
near (``"learned"``), so the analyst sees the area as context. Pure: frames
and area sets in, arrays out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from stswatch.geo.coast import distance_to_coast_m
from stswatch.geo.ports import distance_to_port_m, m_to_chord, unit_vectors
from stswatch.geo.sts_areas import LEARNED, LISTED, StsAreas
from stswatch.pipeline.config import PortFilterConfig, StsAreaConfig


def split_anchorages(
    anchorages: pd.DataFrame,
    listed: StsAreas,
    cfg: StsAreaConfig,
    port_cfg: PortFilterConfig,
) -> tuple[pd.DataFrame, StsAreas]:
    """(port anchorages, learned STS areas) from the learned anchorage cells.

    A cell is an STS area when it lies inside a listed area, or at least
    ``cfg.learned_min_distance_to_coast_m`` from the coast, or at least
    ``cfg.learned_min_distance_to_port_m`` from every listed port. Learned STS
    cells within two anchorage cells of each other form one area, named after
    its centre ("learned STS area 28.72N 94.38W"); each cell
    contributes a disc of ``cfg.learned_area_radius_m`` to it. Cells inside a
    listed area take the listed name instead (they are not learned areas).
    """
    if anchorages is None or anchorages.empty:
        return anchorages, StsAreas()
    lat = anchorages["lat"].to_numpy(np.float64)
    lon = anchorages["lon"].to_numpy(np.float64)
    in_listed = listed.locate(lat, lon) >= 0 if len(listed) else np.zeros(lat.size, bool)
    offshore = ~(distance_to_coast_m(lat, lon) < cfg.learned_min_distance_to_coast_m)
    offshore |= ~(distance_to_port_m(lat, lon) < cfg.learned_min_distance_to_port_m)
    sts = in_listed | offshore
    learned = offshore & ~in_listed
    return (
        anchorages.loc[~sts].reset_index(drop=True),
        _learned_areas(lat[learned], lon[learned], cfg, port_cfg),
    )


def _learned_areas(
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    cfg: StsAreaConfig,
    port_cfg: PortFilterConfig,
) -> StsAreas:
    """Discs around offshore anchorage cells, grouped into named areas by proximity."""
    if lat.size == 0:
        return StsAreas()
    xyz = unit_vectors(lat, lon)
    link = float(m_to_chord(np.array([2.5 * port_cfg.anchorage_cell_size_m]))[0])
    pairs = cKDTree(xyz).query_pairs(link, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])) if len(pairs) else ([], ([], [])),
        shape=(lat.size, lat.size),
    )
    n_areas, label = connected_components(graph, directed=False)
    names = []
    for g in range(n_areas):
        centre = xyz[label == g].mean(axis=0)
        c_lat = float(np.degrees(np.arcsin(centre[2] / np.linalg.norm(centre))))
        c_lon = float(np.degrees(np.arctan2(centre[1], centre[0])))
        names.append(
            f"learned STS area {abs(c_lat):.2f}{'N' if c_lat >= 0 else 'S'} "
            f"{abs(c_lon):.2f}{'E' if c_lon >= 0 else 'W'}"
        )
    return StsAreas(
        names=tuple(names),
        disc_index=label.astype(np.int64),
        disc_lat=lat.astype(np.float64),
        disc_lon=lon.astype(np.float64),
        disc_radius_m=np.full(lat.size, cfg.learned_area_radius_m),
    )


def sts_context(
    lat: npt.ArrayLike, lon: npt.ArrayLike, listed: StsAreas, learned: StsAreas
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """(``sts_area_name``, ``sts_area_source``) per position: a listed area, else a learned one."""
    la = np.asarray(lat, dtype=np.float64).ravel()
    lo = np.asarray(lon, dtype=np.float64).ravel()
    names = np.full(la.size, None, dtype=object)
    sources = np.full(la.size, None, dtype=object)
    for areas, source in ((learned, LEARNED), (listed, LISTED)):  # listed wins: written last
        if not len(areas):
            continue
        found = areas.names_at(la, lo)
        hit = found != None  # noqa: E711 - elementwise test on an object array
        names[hit] = found[hit]
        sources[hit] = source
    return names, sources
