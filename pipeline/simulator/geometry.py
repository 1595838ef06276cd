"""Small spherical helpers for the simulator (metres and degrees, vectorised).

The simulator works in *unwrapped* longitudes (a region straddling 180° uses
e.g. 175..185) so that tracks move continuously across the antimeridian; only
the final rows are wrapped back to [-180, 180). Land and coast queries wrap
their input themselves.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

#: Scalars or arrays of degrees / metres.
Floats = npt.ArrayLike

EARTH_RADIUS_M = 6_371_008.8
M_PER_NM = 1_852.0
#: knots -> metres per second
KN_TO_MPS = M_PER_NM / 3_600.0


def wrap_lon(lon: Floats) -> np.ndarray:
    """Longitude into [-180, 180)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


def unwrap_near(lon: Floats, lon_ref: float) -> np.ndarray:
    """Longitude shifted by multiples of 360 to lie within 180° of ``lon_ref``."""
    lon = np.asarray(lon, dtype=np.float64)
    return lon_ref + wrap_lon(lon - lon_ref)


def haversine_m(lat1: Floats, lon1: Floats, lat2: Floats, lon2: Floats) -> np.ndarray:
    """Great-circle distance in metres (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bearing_deg(lat1: Floats, lon1: Floats, lat2: Floats, lon2: Floats) -> np.ndarray:
    """Initial bearing from point 1 to point 2, degrees in [0, 360)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360.0


def destination(
    lat: Floats, lon: Floats, bearing: Floats, distance_m: Floats
) -> tuple[np.ndarray, np.ndarray]:
    """Point reached from (lat, lon) along ``bearing`` (deg) after ``distance_m``.

    The returned longitude stays unwrapped (continuous with the input), which is
    what keeps tracks smooth across 180°.
    """
    p1 = np.radians(lat)
    th = np.radians(bearing)
    d = np.asarray(distance_m, dtype=np.float64) / EARTH_RADIUS_M
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(th))
    dl = np.arctan2(np.sin(th) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), np.asarray(lon, dtype=np.float64) + np.degrees(dl)


def offset_m(
    lat: Floats, lon: Floats, east_m: Floats, north_m: Floats
) -> tuple[np.ndarray, np.ndarray]:
    """Shift by small metric offsets (flat-earth, exact enough below ~50 km)."""
    lat = np.asarray(lat, dtype=np.float64)
    dlat = np.degrees(np.asarray(north_m) / EARTH_RADIUS_M)
    dlon = np.degrees(np.asarray(east_m) / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    return lat + dlat, np.asarray(lon, dtype=np.float64) + dlon


def is_land(lat: Floats, lon: Floats) -> np.ndarray:
    """True where global_land_mask (1 km grid) says land; input lon may be unwrapped."""
    from stswatch.pipeline.simulator.landmask import is_land as _mask_is_land

    lat = np.clip(np.asarray(lat, dtype=np.float64), -89.999, 89.999)
    return _mask_is_land(lat, wrap_lon(lon))


@cache
def _coast_function():
    """Distance to coast in metres: stswatch.geo.coast when it exists, else landmetrics."""
    try:  # the project's own implementation (another module owner)
        from stswatch.geo.coast import distance_to_coast_m  # type: ignore[import-not-found]

        return distance_to_coast_m
    except ImportError:
        import landmetrics

        def _landmetrics_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
            return np.asarray(landmetrics.distance_to_land(lat, lon), dtype=np.float64) * 1_000.0

        return _landmetrics_m


def distance_to_coast_m(lat: Floats, lon: Floats) -> np.ndarray:
    """Distance to the nearest coast in metres (0 on land)."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = wrap_lon(np.atleast_1d(lon))
    d = np.asarray(_coast_function()(lat, lon), dtype=np.float64)
    return np.where(is_land(lat, lon), 0.0, d)


def segment_at_sea(
    lat1: float, lon1: float, lat2: float, lon2: float, *, step_m: float = 500.0
) -> bool:
    """True when every point sampled along the straight segment is at sea."""
    dist = float(haversine_m(lat1, lon1, lat2, lon2))
    n = max(2, int(dist / step_m) + 2)
    f = np.linspace(0.0, 1.0, n)
    lat = lat1 + (lat2 - lat1) * f
    lon = lon1 + (lon2 - lon1) * f
    return not bool(is_land(lat, lon).any())


@cache
def _port_function():
    """Distance to the pipeline's own port list (stswatch.geo.ports), or None if absent.

    Scenario placement asks the same port list the detector's away-from-port
    rule uses, so an anchorage crowd is "near a port" by the detector's own
    standard and a lightering zone is not.
    """
    try:
        from stswatch.geo.ports import distance_to_port_m as _geo_distance_to_port_m  # type: ignore[import-not-found]
    except ImportError:
        return None
    return _geo_distance_to_port_m


def distance_to_port_m(
    lat: Floats, lon: Floats, fallback_ports: list[tuple[float, float]]
) -> np.ndarray:
    """Distance to the nearest port (stswatch.geo.ports when installed, else ``fallback_ports``)."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = wrap_lon(np.atleast_1d(lon))
    fn = _port_function()
    if fn is not None:
        return np.asarray(fn(lat, lon), dtype=np.float64)
    out = np.full(lat.shape, np.inf)
    for plat, plon in fallback_ports:
        out = np.minimum(out, haversine_m(lat, lon, plat, plon))
    return out
