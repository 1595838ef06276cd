"""Named simulation regions: bounding box, real ports, lightering zones, lanes.

Regions are small on purpose and chosen so that training and test sets can be
drawn from *disjoint* seas (issue 4): the US Gulf of Mexico (the world's
largest lightering trade), the Yellow/East China Sea (where illicit transfers
to North Korean tankers are documented by the UN Panel of Experts), the Gulf
of Oman (Fujairah, the largest bunkering hub after Singapore), West Africa
(Lomé's STS zone, Gulf of Guinea fuel theft), the Malacca/Singapore straits
(Kuala Linggi and Tanjung Pelepas STS hubs; the "dark fleet" anchorage east of
Johor) and Fiji, which straddles the antimeridian for wrap-around tests.

Coordinates are approximate public positions (WPI ports, published STS area
notices); lightering zones are discs 25-100 km offshore where transfers recur.
Lanes are sea routes between ports computed with ``searoute`` (its marine
network, bundled with the package), trimmed where they enter harbours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from stswatch.pipeline.simulator.geometry import distance_to_coast_m, haversine_m, unwrap_near


@dataclass(frozen=True)
class Port:
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Zone:
    """A recurring, legitimate transfer area (lightering / bunkering / STS)."""

    name: str
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Region:
    """A simulation area. ``lon_max`` may exceed 180 (unwrapped) near the antimeridian."""

    name: str
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    ports: tuple[Port, ...]
    zones: tuple[Zone, ...]
    #: Pairs of (lat, lon) endpoints; each becomes a sea lane through searoute.
    routes: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    #: MIDs (flag codes) typical of ordinary local traffic.
    local_mids: tuple[int, ...] = field(default=(636, 538, 352, 563, 477, 229, 311))

    @property
    def lon_center(self) -> float:
        return (self.lon_min + self.lon_max) / 2.0

    @property
    def lat_center(self) -> float:
        return (self.lat_min + self.lat_max) / 2.0

    def contains(self, lat: np.ndarray, lon: np.ndarray, *, margin_deg: float = 0.0) -> np.ndarray:
        """Inside the box (lon compared unwrapped around the box centre)."""
        lon_u = unwrap_near(lon, self.lon_center)
        return (
            (lat >= self.lat_min - margin_deg)
            & (lat <= self.lat_max + margin_deg)
            & (lon_u >= self.lon_min - margin_deg)
            & (lon_u <= self.lon_max + margin_deg)
        )


P, Z = Port, Zone

REGIONS: dict[str, Region] = {
    r.name: r
    for r in [
        Region(
            "gulf_of_mexico",
            18.5,
            30.2,
            -97.8,
            -81.5,
            ports=(
                P("Galveston", 29.31, -94.77),
                P("Sabine Pass", 29.70, -93.85),
                P("Corpus Christi", 27.83, -97.05),
                P("Freeport", 28.93, -95.30),
                P("Southwest Pass", 28.93, -89.42),
                P("Port Fourchon", 29.10, -90.20),
                P("Mobile", 30.40, -88.05),
                P("Tampa", 27.60, -82.80),
                P("Veracruz", 19.21, -96.12),
                P("Coatzacoalcos", 18.16, -94.41),
            ),
            zones=(
                Z("Galveston Offshore Lightering Area", 28.72, -94.38, 20_000.0),
                Z("South Sabine Point Lightering Area", 28.95, -93.45, 20_000.0),
                Z("Southtex Lightering Area", 27.35, -96.25, 18_000.0),
                Z("South Timbalier lightering area", 28.45, -90.55, 15_000.0),
            ),
            routes=(
                ((29.31, -94.77), (21.8, -85.9)),
                ((29.70, -93.85), (28.93, -89.42)),
                ((27.83, -97.05), (29.31, -94.77)),
                ((28.93, -89.42), (21.8, -85.9)),
                ((27.60, -82.80), (21.8, -85.9)),
                ((19.21, -96.12), (29.31, -94.77)),
                ((18.16, -94.41), (28.93, -89.42)),
                ((30.40, -88.05), (24.3, -81.8)),
            ),
            local_mids=(366, 367, 368, 369, 636, 538, 352, 311, 345),
        ),
        Region(
            "east_china_sea",
            27.0,
            39.0,
            119.5,
            129.8,
            ports=(
                P("Yangshan (Shanghai)", 30.62, 122.07),
                P("Ningbo-Zhoushan", 29.93, 122.02),
                P("Qingdao", 36.05, 120.32),
                P("Dalian", 38.93, 121.70),
                P("Nampo", 38.72, 125.35),
                P("Incheon", 37.40, 126.55),
                P("Busan", 35.07, 129.07),
                P("Lianyungang", 34.75, 119.50),
            ),
            zones=(
                Z("Zhoushan offshore bunkering area", 30.05, 123.10, 20_000.0),
                Z("Qingdao offshore STS area", 35.65, 120.95, 15_000.0),
                Z("Yangshan outer STS area", 30.45, 122.70, 12_000.0),
            ),
            routes=(
                ((30.62, 122.07), (35.07, 129.07)),
                ((36.05, 120.32), (30.62, 122.07)),
                ((38.93, 121.70), (30.62, 122.07)),
                ((37.40, 126.55), (30.62, 122.07)),
                ((29.93, 122.02), (27.2, 121.5)),
                ((34.75, 119.50), (35.07, 129.07)),
            ),
            local_mids=(412, 413, 414, 440, 441, 431, 477, 352, 636),
        ),
        Region(
            "gulf_of_oman",
            22.6,
            26.4,
            56.3,
            61.5,
            ports=(
                P("Fujairah", 25.17, 56.37),
                P("Khor Fakkan", 25.35, 56.37),
                P("Sohar", 24.52, 56.63),
                P("Muscat", 23.63, 58.57),
                P("Jask", 25.64, 57.77),
                P("Chabahar", 25.29, 60.62),
            ),
            zones=(
                Z("Fujairah offshore STS area", 25.12, 56.62, 10_000.0),
                Z("Khor Fakkan outer STS area", 25.45, 56.62, 8_000.0),
                Z("Sohar offshore STS area", 24.55, 57.05, 10_000.0),
            ),
            routes=(
                ((26.2, 56.5), (22.8, 60.8)),
                ((25.17, 56.37), (23.0, 61.3)),
                ((24.52, 56.63), (26.2, 56.5)),
                ((23.63, 58.57), (25.17, 56.37)),
                ((25.29, 60.62), (25.17, 56.37)),
            ),
            local_mids=(470, 461, 422, 419, 636, 538, 352, 563),
        ),
        Region(
            "west_africa",
            0.5,
            6.6,
            -5.0,
            9.0,
            ports=(
                P("Lome", 6.13, 1.28),
                P("Cotonou", 6.34, 2.43),
                P("Lagos", 6.42, 3.40),
                P("Tema", 5.63, 0.01),
                P("Abidjan", 5.25, -4.00),
                P("Bonny", 4.42, 7.15),
                P("Takoradi", 4.88, -1.74),
            ),
            zones=(
                Z("Lome STS area", 5.85, 1.45, 15_000.0),
                Z("Lagos offshore STS area", 6.05, 3.70, 12_000.0),
                Z("Bonny offshore terminal area", 4.05, 7.00, 12_000.0),
            ),
            routes=(
                ((5.25, -4.00), (4.42, 7.15)),
                ((6.13, 1.28), (1.0, 3.0)),
                ((5.63, 0.01), (1.0, 0.5)),
                ((6.42, 3.40), (1.0, 6.0)),
                ((4.88, -1.74), (6.42, 3.40)),
            ),
            local_mids=(657, 627, 671, 610, 619, 636, 538, 352, 620),
        ),
        Region(
            "malacca",
            0.6,
            6.5,
            98.5,
            106.0,
            ports=(
                P("Singapore", 1.26, 103.84),
                P("Tanjung Pelepas", 1.36, 103.55),
                P("Port Klang", 3.00, 101.36),
                P("Kuala Linggi", 2.38, 101.98),
                P("Penang", 5.42, 100.35),
                P("Dumai", 1.69, 101.45),
                P("Kuantan", 3.97, 103.43),
            ),
            zones=(
                Z("Kuala Linggi STS area", 2.25, 101.75, 10_000.0),
                Z("Tanjung Pelepas western STS area", 1.30, 103.20, 5_000.0),
                Z("Eastern OPL (off Johor)", 1.55, 104.55, 12_000.0),
            ),
            routes=(
                ((1.26, 103.84), (5.9, 98.6)),
                ((1.26, 103.84), (5.5, 105.8)),
                ((3.00, 101.36), (1.26, 103.84)),
                ((1.26, 103.84), (3.97, 103.43)),
                ((1.69, 101.45), (5.42, 100.35)),
            ),
            local_mids=(533, 563, 564, 565, 566, 525, 477, 636, 538, 352),
        ),
        Region(
            "fiji",
            -21.5,
            -14.0,
            175.5,
            184.5,
            ports=(
                P("Suva", -18.14, 178.42),
                P("Lautoka", -17.60, 177.43),
                P("Levuka", -17.68, 178.84),
                P("Savusavu", -16.78, 179.33),
            ),
            zones=(Z("Suva outer bunkering area", -18.45, 178.75, 10_000.0),),
            routes=(
                ((-17.60, 177.43), (-21.1, 184.8)),
                ((-18.14, 178.42), (-14.5, 183.0)),
                ((-18.14, 178.42), (-17.60, 177.43)),
                ((-16.78, 179.33), (-20.5, 176.0)),
            ),
            local_mids=(520, 529, 572, 636, 538, 352, 512),
        ),
    ]
}


def get_region(name: str) -> Region:
    """Look a region up by name, with the list of known names on a typo."""
    try:
        return REGIONS[name]
    except KeyError:
        raise ValueError(f"unknown region {name!r}; known: {', '.join(sorted(REGIONS))}") from None


def _densify(lat: np.ndarray, lon: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    out_lat, out_lon = [lat[:1]], [lon[:1]]
    for i in range(len(lat) - 1):
        d = float(haversine_m(lat[i], lon[i], lat[i + 1], lon[i + 1]))
        n = max(1, int(np.ceil(d / step_m)))
        f = np.arange(1, n + 1) / n
        out_lat.append(lat[i] + (lat[i + 1] - lat[i]) * f)
        out_lon.append(lon[i] + (lon[i + 1] - lon[i]) * f)
    return np.concatenate(out_lat), np.concatenate(out_lon)


@cache
def region_lanes(name: str) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Sea lanes of a region as (lat, lon) arrays, densified to ~5 km, unwrapped.

    Each route goes through ``searoute``'s marine network (falling back to a
    straight line if it has none), is clipped to the region box and trimmed at
    both ends while within 3 km of the coast (the harbour entrance, where a
    1-km land mask and a lateral lane offset would put ships ashore).
    """
    import searoute

    region = get_region(name)
    lanes = []
    for (lat1, lon1), (lat2, lon2) in region.routes:
        try:
            coords = np.asarray(
                searoute.searoute([lon1, lat1], [lon2, lat2])["geometry"]["coordinates"],
                dtype=np.float64,
            )
            lon, lat = coords[:, 0], coords[:, 1]
        except Exception:  # no network path: a straight lane is still plausible
            lat, lon = np.array([lat1, lat2]), np.array([lon1, lon2])
        lon = unwrap_near(lon, region.lon_center)
        # searoute repeats vertices at the antimeridian; drop zero-length steps
        keep = np.r_[True, (np.diff(lat) != 0) | (np.diff(lon) != 0)]
        lat, lon = _densify(lat[keep], lon[keep], 5_000.0)
        inside = region.contains(lat, lon)
        offshore = distance_to_coast_m(lat, lon) >= 3_000.0
        ok = np.flatnonzero(inside & offshore)
        if len(ok) < 4:
            continue
        # keep the longest contiguous run of usable vertices
        breaks = np.flatnonzero(np.diff(ok) > 1)
        starts = np.r_[0, breaks + 1]
        ends = np.r_[breaks, len(ok) - 1]
        k = int(np.argmax(ends - starts))
        sel = ok[starts[k] : ends[k] + 1]
        if len(sel) >= 4:
            lanes.append((lat[sel].copy(), lon[sel].copy()))
    if not lanes:
        raise RuntimeError(f"region {name!r} has no usable sea lane")
    return tuple(lanes)
