"""STS / lightering areas: named polygons and discs, and which one a position lies in.

A recurring offshore meeting area (the US Gulf's designated lightering zones,
the Laconian Gulf, off Lomé...) is where ship-to-ship transfers concentrate,
legitimate and illicit alike. Detection must *report* transfers there with
the area as context, never treat the area like a port anchorage and drop them.

:class:`StsAreas` holds areas as given in GeoJSON: Polygon / MultiPolygon
features, or Point features with a ``radius_m`` property (most hubs are only
publicly described as "off X"). :func:`parse_sts_areas` validates a document
and names what is wrong in one line (users write these files by hand).
:func:`listed_sts_areas` loads the shipped reference (``data/sts_areas.geojson``,
provenance in ``data/PROVENANCE.md``) once. Reading users' files is the
caller's job (:mod:`stswatch.pipeline.sts_areas`): ``geo/`` does no file I/O
beyond installed reference data.

Polygons are tested in lon/lat (shapely ``contains_xy``), which is exact for
areas that do not cross the antimeridian (split those, as RFC 7946 asks);
discs use great-circle distance.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from stswatch.geo.distance import haversine_m

#: ``sts_area_source`` of an area from the shipped reference or a user's file.
LISTED = "listed"
#: ``sts_area_source`` of an area learned from the data (a recurring offshore crowd).
LEARNED = "learned"

FloatArray = npt.NDArray[np.float64]


class StsAreaError(ValueError):
    """An STS area file or document is not usable; the message says where and why."""


@dataclass(frozen=True)
class StsAreas:
    """Named areas; :meth:`locate` gives the first area containing each position."""

    names: tuple[str, ...] = ()
    #: (area index, prepared shapely geometry) of polygon areas.
    polygons: tuple[tuple[int, Any], ...] = ()
    #: Disc areas: index into ``names``, centre and radius.
    disc_index: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    disc_lat: FloatArray = field(default_factory=lambda: np.zeros(0))
    disc_lon: FloatArray = field(default_factory=lambda: np.zeros(0))
    disc_radius_m: FloatArray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.names)

    def __add__(self, other: StsAreas) -> StsAreas:
        """Both sets; on overlap ``self``'s areas come first (the first match names a spot)."""
        shift = len(self.names)
        return StsAreas(
            names=self.names + other.names,
            polygons=self.polygons + tuple((i + shift, g) for i, g in other.polygons),
            disc_index=np.concatenate([self.disc_index, other.disc_index + shift]),
            disc_lat=np.concatenate([self.disc_lat, other.disc_lat]),
            disc_lon=np.concatenate([self.disc_lon, other.disc_lon]),
            disc_radius_m=np.concatenate([self.disc_radius_m, other.disc_radius_m]),
        )

    def locate(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Index (into ``names``) of the first area containing each position, -1 if none.

        Areas are few (tens) and positions are events or anchorage cells (at
        most thousands), so one vectorised test per area is cheap.
        """
        la = np.asarray(lat, dtype=np.float64).ravel()
        lo = np.asarray(lon, dtype=np.float64).ravel()
        out = np.full(la.size, len(self.names), dtype=np.int64)
        ok = np.isfinite(la) & np.isfinite(lo)
        for index, geom in self.polygons:
            inside = ok & shapely.contains_xy(geom, lo, la)
            out = np.where(inside, np.minimum(out, index), out)
        for k in range(self.disc_index.size):
            d = haversine_m(la, lo, self.disc_lat[k], self.disc_lon[k])
            inside = ok & (d <= self.disc_radius_m[k])
            out = np.where(inside, np.minimum(out, self.disc_index[k]), out)
        return np.where(out == len(self.names), -1, out)

    def names_at(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Name of the area containing each position, None where none does."""
        idx = self.locate(lat, lon)
        table = np.array([*self.names, None], dtype=object)
        return table[np.where(idx < 0, len(self.names), idx)]


def _in_range(coords: np.ndarray) -> bool:
    return bool(
        np.isfinite(coords).all()
        and (np.abs(coords[..., 0]) <= 180).all()
        and (np.abs(coords[..., 1]) <= 90).all()
    )


def _feature_area(feature: Any, where: str) -> tuple[str, Any, tuple[float, float, float] | None]:
    """(name, prepared polygon or None, disc or None) of one feature; StsAreaError if unusable."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise StsAreaError(f"{where}: not a GeoJSON Feature")
    props = feature.get("properties") or {}
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise StsAreaError(f"{where}: needs a non-empty 'name' property")
    geometry = feature.get("geometry")
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Point":
        coords = np.asarray(geometry.get("coordinates"), dtype=np.float64)
        radius = props.get("radius_m")
        if coords.shape != (2,) or not _in_range(coords):
            raise StsAreaError(f"{where} ({name!r}): Point needs [lon, lat] within range")
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius > 0:
            raise StsAreaError(f"{where} ({name!r}): a Point area needs a 'radius_m' > 0")
        return name.strip(), None, (float(coords[1]), float(coords[0]), float(radius))
    if kind in ("Polygon", "MultiPolygon"):
        try:
            geom = shape(geometry)
        except Exception as exc:  # shapely raises several types for malformed rings
            raise StsAreaError(f"{where} ({name!r}): unreadable {kind}: {exc}") from None
        bounds = np.asarray(geom.bounds, dtype=np.float64).reshape(2, 2)
        if geom.is_empty or not _in_range(bounds):
            raise StsAreaError(f"{where} ({name!r}): {kind} is empty or outside lon/lat range")
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        shapely.prepare(geom)
        return name.strip(), geom, None
    raise StsAreaError(
        f"{where} ({name!r}): geometry must be Polygon, MultiPolygon or Point with radius_m, "
        f"got {kind!r}"
    )


def parse_sts_areas(document: Any, origin: str = "STS areas") -> StsAreas:
    """Areas from a GeoJSON FeatureCollection (already decoded JSON).

    ``origin`` names the document in error messages (a file path). Raises
    :class:`StsAreaError` with one line naming the feature and the problem.
    """
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise StsAreaError(f"{origin}: expected a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise StsAreaError(f"{origin}: 'features' must be a list")
    names: list[str] = []
    polygons: list[tuple[int, Any]] = []
    discs: list[tuple[int, float, float, float]] = []
    for n, feature in enumerate(features):
        name, geom, disc = _feature_area(feature, f"{origin}: feature {n}")
        if geom is not None:
            polygons.append((len(names), geom))
        if disc is not None:
            discs.append((len(names), *disc))
        names.append(name)
    arr = np.array(discs, dtype=np.float64).reshape(-1, 4)
    return StsAreas(
        names=tuple(names),
        polygons=tuple(polygons),
        disc_index=arr[:, 0].astype(np.int64),
        disc_lat=arr[:, 1].copy(),
        disc_lon=arr[:, 2].copy(),
        disc_radius_m=arr[:, 3].copy(),
    )


@functools.cache
def listed_sts_areas() -> StsAreas:
    """The shipped reference of designated and widely reported STS areas (loaded once)."""
    path = files("stswatch.data").joinpath("sts_areas.geojson")
    return parse_sts_areas(json.loads(path.read_text(encoding="utf-8")), "data/sts_areas.geojson")
