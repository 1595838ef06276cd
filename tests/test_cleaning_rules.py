"""One hand-built case per cleaning rule (stswatch.pipeline.cleaning.clean)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow.compute as pc
from helpers_ingest import SHIP_A, SHIP_B, obs_table

from stswatch.pipeline.cleaning import clean
from stswatch.pipeline.config import CleaningConfig

T0 = datetime(2022, 1, 3, 10, 0, tzinfo=UTC)


def reasons(result) -> Counter[str]:
    return Counter(result.quarantine["reason"].to_pylist())


def assert_balanced(obs, result) -> None:
    assert result.n_accepted + result.quarantine.num_rows == obs.num_rows


def test_invalid_mmsi_is_quarantined() -> None:
    obs = obs_table([{"mmsi": 123456789}, {"mmsi": 12345}, {"mmsi": SHIP_A}])
    r = clean(obs)
    assert reasons(r) == {"invalid_mmsi": 2}
    assert r.positions["mmsi"].to_pylist() == [SHIP_A]
    assert_balanced(obs, r)


def test_base_station_and_aton_kept_out_of_tracks_but_counted() -> None:
    obs = obs_table([{"mmsi": 2190001}, {"mmsi": 992191234}, {"mmsi": 982191234}])
    r = clean(obs)
    assert r.positions.num_rows == 0
    assert reasons(r) == {"non_vessel_mmsi": 3}
    assert "base_station" in r.quarantine["detail"][0].as_py()


def test_impossible_coordinates_and_null_island() -> None:
    obs = obs_table(
        [
            {"lat": 0.0, "lon": 0.0},  # null island
            {"lat": 95.0},  # out of range
            {"lon": -200.0},
            {"lat": None},  # sentinel 91 nulled by the reader
            {"lat": 0.0, "lon": 5.0, "timestamp": T0 + timedelta(minutes=1)},  # equator: fine
        ]
    )
    r = clean(obs)
    assert reasons(r) == {"invalid_position": 4}
    assert r.positions.num_rows == 1
    assert "lat=95" in " ".join(r.quarantine["detail"].to_pylist())


def test_missing_timestamp() -> None:
    r = clean(obs_table([{"timestamp": None}]))
    assert reasons(r) == {"missing_timestamp": 1}


def test_exact_duplicate_keeps_first_row() -> None:
    obs = obs_table([{}, {}])
    r = clean(obs)
    assert reasons(r) == {"duplicate_exact": 1}
    assert r.quarantine["row_number"].to_pylist() == [2]
    assert r.positions.num_rows == 1


def test_same_mmsi_time_with_different_values() -> None:
    obs = obs_table([{"lat": 10.0}, {"lat": 10.001}])
    r = clean(obs)
    assert reasons(r) == {"duplicate_mmsi_time": 1}
    assert r.positions["lat"].to_pylist() == [10.0]  # first in input order wins


def test_exact_duplicate_ignores_source() -> None:
    """The same ping relayed by two feeds is one ping."""
    r = clean(obs_table([{"source": "dma"}, {"source": "nmea"}]))
    assert reasons(r) == {"duplicate_exact": 1}


def _track(lats: list[float], step_min: float = 10.0, mmsi: int = SHIP_A) -> list[dict]:
    return [
        {"mmsi": mmsi, "lat": lat, "lon": 20.0, "timestamp": T0 + timedelta(minutes=step_min * i)}
        for i, lat in enumerate(lats)
    ]


def test_single_ping_jump_is_quarantined() -> None:
    # 1 degree of latitude (60 nm) in 10 minutes = 360 kn, then back.
    obs = obs_table(_track([10.0, 10.01, 11.0, 10.03, 10.04]))
    r = clean(obs)
    assert reasons(r) == {"position_jump": 1}
    assert r.quarantine["lat"].to_pylist() == [11.0]
    assert r.positions.num_rows == 4


def test_jump_at_track_end_is_not_judged() -> None:
    """The last ping has one neighbour: a real departure cannot be told from a glitch."""
    r = clean(obs_table(_track([10.0, 10.01, 11.0])))
    assert r.quarantine.num_rows == 0


def test_fast_but_short_moves_are_gps_noise_not_jumps() -> None:
    """30 m in 1 s is 58 kn 'implied', but below min_jump_distance_m."""
    rows = [
        {"lat": 10.0, "timestamp": T0},
        {"lat": 10.0003, "timestamp": T0 + timedelta(seconds=1)},
        {"lat": 10.0, "timestamp": T0 + timedelta(seconds=2)},
    ]
    r = clean(obs_table(rows))
    assert r.quarantine.num_rows == 0


def test_jump_threshold_comes_from_config() -> None:
    # 0.05 deg = 3 nm in 10 min = 18 kn: not a jump at 50 kn, a jump at 10 kn.
    obs = obs_table(_track([10.0, 10.0, 10.05, 10.0, 10.0]))
    assert clean(obs).quarantine.num_rows == 0
    strict = CleaningConfig(max_jump_speed_kn=10.0)
    assert reasons(clean(obs, strict)) == {"position_jump": 1}


def test_jump_judged_per_vessel() -> None:
    """Two vessels far apart, interleaved in time, are not jumps of each other."""
    rows = _track([10.0, 10.01, 10.02], mmsi=SHIP_A) + [
        {**r, "lon": 40.0} for r in _track([10.0, 10.01, 10.02], mmsi=SHIP_B)
    ]
    assert clean(obs_table(rows)).quarantine.num_rows == 0


def test_output_sorted_by_mmsi_then_time() -> None:
    rows = _track([10.0, 10.01, 10.02], mmsi=SHIP_A)[::-1] + _track([1.0, 1.01], mmsi=SHIP_B)
    r = clean(obs_table(rows))
    keys = list(
        zip(r.positions["mmsi"].to_pylist(), r.positions["timestamp"].to_pylist(), strict=True)
    )
    assert keys == sorted(keys)


def test_static_only_reports_go_to_vessel_table_only() -> None:
    obs = obs_table(
        [
            {"has_position": False, "lat": None, "lon": None, "vessel_name": "ALPHA"},
            {"timestamp": T0 + timedelta(minutes=5)},
        ]
    )
    r = clean(obs)
    assert r.positions.num_rows == 1
    assert r.n_static_only == 1
    assert r.vessels["vessel_name"].to_pylist() == ["ALPHA"]
    assert_balanced(obs, r)


def test_static_only_with_non_vessel_mmsi_is_quarantined() -> None:
    obs = obs_table([{"mmsi": 2190001, "has_position": False, "lat": None, "lon": None}])
    r = clean(obs)
    assert reasons(r) == {"non_vessel_mmsi": 1}
    assert r.vessels.num_rows == 0


def test_vessel_series_keeps_draught_change_and_drops_repeats() -> None:
    rows = [
        {"timestamp": T0 + timedelta(minutes=i), "vessel_name": "ALPHA", "draught_m": d}
        for i, d in enumerate([5.0, 5.0, 5.0, 12.5, 12.5])
    ]
    r = clean(obs_table(rows))
    assert r.vessels["draught_m"].to_pylist() == [5.0, 12.5]
    assert r.vessels["timestamp"].to_pylist() == [T0, T0 + timedelta(minutes=3)]


def test_vessel_series_of_each_day_starts_with_that_days_first_report() -> None:
    """A static run across midnight (one reader batch) is whole on both days."""
    before = datetime(2022, 1, 3, 23, 58, tzinfo=UTC)
    rows = [
        {"timestamp": before + timedelta(minutes=i), "vessel_name": "ALPHA", "draught_m": 5.0}
        for i in range(5)  # 23:58 .. 00:02
    ]
    r = clean(obs_table(rows))
    assert r.vessels["timestamp"].to_pylist() == [before, datetime(2022, 1, 4, tzinfo=UTC)]
    assert r.vessels["vessel_name"].to_pylist() == ["ALPHA", "ALPHA"]


def test_vessel_series_merges_class_b_static_parts() -> None:
    """Class B sends its name (24A) and its call sign (24B) separately."""
    rows = [
        {"has_position": False, "lat": None, "lon": None, "vessel_name": "BRAVO"},
        {
            "has_position": False,
            "lat": None,
            "lon": None,
            "callsign": "XY12",
            "timestamp": T0 + timedelta(minutes=1),
        },
    ]
    r = clean(obs_table(rows))
    last = r.vessels.to_pylist()[-1]
    assert (last["vessel_name"], last["callsign"]) == ("BRAVO", "XY12")


def test_rows_go_to_their_own_day_and_each_day_is_resolved_alone() -> None:
    rows = [
        {"timestamp": datetime(2022, 1, 3, 23, 59, 59, tzinfo=UTC)},
        {"timestamp": datetime(2022, 1, 4, 0, 0, 1, tzinfo=UTC)},
    ]
    r = clean(obs_table(rows))
    days = {t.date().isoformat() for t in r.positions["timestamp"].to_pylist()}
    assert days == {"2022-01-03", "2022-01-04"}


def test_quarantine_keeps_provenance() -> None:
    r = clean(obs_table([{"mmsi": 1}]))
    q = r.quarantine.to_pylist()[0]
    assert (q["source_file"], q["row_number"], q["mmsi"]) == ("hand-built", 1, 1)
    assert pc.all(pc.is_valid(r.quarantine["detail"])).as_py()
