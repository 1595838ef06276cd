"""Anchorages versus STS areas: transfers in a recurring offshore meeting area are reported.

An anchorage is where ships wait for a port; tankers waiting inside a
lightering zone make a learned "anchorage" too, and the away-from-anchorage
rule used to drop every transfer in it. Now a learned crowd offshore (beyond
12 nm) or inside a listed area is an STS area: its transfers are reported with
the area as context. Crowds at port anchorages still give no rendezvous.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers_tracks import OFFSHORE, at, drifting, meeting, offset, positions

from stswatch.geo.sts_areas import StsAreaError, listed_sts_areas, parse_sts_areas
from stswatch.pipeline.config import Config, ConfigError, StsAreaConfig
from stswatch.pipeline.detection import detect_frames
from stswatch.pipeline.sts_areas import load_sts_areas, read_sts_area_file

#: Inside the Southtex lightering zone (33 CFR 156.300), ~230 km off Texas.
IN_SOUTHTEX = (27.0, -94.3)
#: Off Freeport, Texas: 10 km from the coast, 21 km from the nearest listed port.
OFF_FREEPORT = (29.04, -95.0)
A, B = 366000001, 538000002


def waiting_tankers(lat: float, lon: float, n: int = 6) -> list[pd.DataFrame]:
    """``n`` ships at anchor/idle for 12 h, 1.2 km apart on a ring (no two within 500 m)."""
    out = []
    for k in range(n):
        angle = 2 * np.pi * k / n
        where = offset(lat, lon, 1_200 * np.sin(angle), 1_200 * np.cos(angle))
        out.append(drifting(355000100 + k, at(0), 12.0, *where, sog_kn=0.1, every_min=6.0))
    return out


def test_transfer_inside_a_lightering_zone_next_to_waiting_tankers_is_reported() -> None:
    pos = positions(
        *waiting_tankers(*IN_SOUTHTEX),
        meeting(A, B, at(2), 6.0, *offset(*IN_SOUTHTEX, north_m=3_000.0)),
    )
    res = detect_frames(pos, None)
    ev = res.rendezvous
    assert ev[["mmsi_a", "mmsi_b"]].values.tolist() == [[A, B]]
    assert ev.iloc[0]["sts_area_name"] == "Southtex lightering zone"
    assert ev.iloc[0]["sts_area_source"] == "listed"
    # the old rule (waiting tankers = anchorage, 10 km exclusion) would have dropped it
    old_rule = Config().with_overrides(
        sts_areas={
            "use_listed": False,
            "learned_min_distance_to_coast_m": 1e9,
            "learned_min_distance_to_port_m": 1e9,
        }
    )
    assert detect_frames(pos, None, old_rule).rendezvous.empty


def test_offshore_crowd_outside_any_listed_area_is_a_learned_sts_area() -> None:
    pos = positions(
        *waiting_tankers(*OFFSHORE),
        meeting(A, B, at(2), 6.0, *offset(*OFFSHORE, north_m=3_000.0)),
    )
    row = detect_frames(pos, None).rendezvous.iloc[0]
    assert row["sts_area_source"] == "learned"
    assert row["sts_area_name"].startswith("learned STS area 35.0")
    assert row["sts_area_name"].endswith("W")
    # the waiting ships, each alone far offshore, are loitering with the same context
    res = detect_frames(pos, None)
    assert len(res.loitering) == 6
    assert set(res.loitering["sts_area_source"]) == {"learned"}


def test_anchorage_crowd_off_a_port_still_gives_no_rendezvous() -> None:
    # Six ships sitting still 120-360 m apart off Freeport: every pair is close and
    # slow, and 10 km from the coast and 21 km from the port; only the anchorage rule
    # can reject them, and it must.
    lat, lon = OFF_FREEPORT
    crowd = [
        drifting(
            412000010 + k, at(0), 6.0, *offset(lat, lon, 120 * (k % 3), 120 * (k // 3)), sog_kn=0.1
        )
        for k in range(6)
    ]
    res = detect_frames(positions(*crowd), None)
    assert res.rendezvous.empty
    assert res.loitering.empty


def test_crowd_near_an_empty_shore_far_from_any_port_is_an_sts_area() -> None:
    # 12 km off Padre Island (inside 12 nm) but ~90 km from the nearest listed
    # port: nobody waits there for a berth.
    where = (27.0, -97.25)
    pos = positions(
        *waiting_tankers(*where),
        meeting(A, B, at(2), 6.0, *offset(*where, north_m=3_000.0)),
    )
    row = detect_frames(pos, None).rendezvous.iloc[0]
    assert row["sts_area_source"] == "learned"


def test_event_outside_every_area_has_no_area_context() -> None:
    row = detect_frames(meeting(A, B, at(2), 4.0, *OFFSHORE), None).rendezvous.iloc[0]
    assert row["sts_area_name"] is None and row["sts_area_source"] is None


def test_shipped_reference_holds_the_gulf_zones_and_the_reported_hubs() -> None:
    areas = listed_sts_areas()
    for name in (
        "Southtex lightering zone",
        "Gulfmex No. 2 lightering zone",
        "Offshore Pascagoula No. 2 lightering zone",
        "South Sabine Point lightering zone",
        "Laconian Gulf STS area",
        "Lome STS area",
        "Eastern OPL off Johor",
        "Fujairah offshore anchorage and STS area",
    ):
        assert name in areas.names
    # a point of each Gulf zone from the regulation's vertices, and one outside
    names = areas.names_at([27.0, 27.0, 28.5, 28.5, 25.0], [-95.0, -90.0, -87.5, -93.3, -90.0])
    assert names.tolist() == [
        "Southtex lightering zone",
        "Gulfmex No. 2 lightering zone",
        "Offshore Pascagoula No. 2 lightering zone",
        "South Sabine Point lightering zone",
        None,
    ]


def _write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def _area(name, geometry, **props):
    return {"type": "Feature", "properties": {"name": name, **props}, "geometry": geometry}


def test_users_own_area_names_the_spot(tmp_path) -> None:
    square = {
        "type": "Polygon",
        "coordinates": [
            [[-40.5, 34.5], [-39.5, 34.5], [-39.5, 35.5], [-40.5, 35.5], [-40.5, 34.5]]
        ],
    }
    path = _write(
        tmp_path / "mine.geojson",
        {"type": "FeatureCollection", "features": [_area("Analyst box", square)]},
    )
    cfg = Config().with_overrides(sts_areas={"extra_files": (path,)})
    row = detect_frames(meeting(A, B, at(2), 4.0, *OFFSHORE), None, cfg).rendezvous.iloc[0]
    assert (row["sts_area_name"], row["sts_area_source"]) == ("Analyst box", "listed")
    disc = _write(
        tmp_path / "disc.geojson",
        {
            "type": "FeatureCollection",
            "features": [
                _area("Disc", {"type": "Point", "coordinates": [-40.0, 35.0]}, radius_m=5000)
            ],
        },
    )
    areas = load_sts_areas(StsAreaConfig(extra_files=(disc,), use_listed=False))
    assert areas.names_at([35.0, 35.1], [-40.0, -40.0]).tolist() == ["Disc", None]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        (json.dumps({"type": "Feature"}), "expected a GeoJSON FeatureCollection"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [_area("", {"type": "Point", "coordinates": [0, 0]})],
                }
            ),
            "feature 0: needs a non-empty 'name'",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [_area("P", {"type": "Point", "coordinates": [0, 0]})],
                }
            ),
            "needs a 'radius_m' > 0",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        _area("L", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
                    ],
                }
            ),
            "geometry must be Polygon, MultiPolygon or Point",
        ),
        (json.dumps({"type": "FeatureCollection", "features": []}), "holds no areas"),
    ],
)
def test_bad_area_file_is_one_clear_error(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(StsAreaError, match=message) as err:
        read_sts_area_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_area_file_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(StsAreaError, match="no such STS area file"):
        read_sts_area_file(tmp_path / "nope.geojson")


def test_polygon_outside_lon_lat_range_is_refused() -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            _area("X", {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [0, 1], [0, 0]]]})
        ],
    }
    with pytest.raises(StsAreaError, match="outside lon/lat range"):
        parse_sts_areas(doc, "doc")


def test_config_refuses_a_non_path_area_file() -> None:
    with pytest.raises(ConfigError):
        StsAreaConfig(extra_files=("",))
