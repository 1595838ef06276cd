"""Rendezvous detector on tiny hand-built tracks (the cases of GFW's encounter tests, and
the weaknesses stswatch fixes: both speeds, merge before duration, port rule on every tick)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_tracks import OFFSHORE, at, drifting, meeting, offset, positions, steaming

from stswatch.detectors.events import event_ids
from stswatch.detectors.rendezvous import detect_rendezvous, find_rendezvous
from stswatch.detectors.tracks import resample_tracks
from stswatch.pipeline.config import Config

CFG = Config()
#: 4 km off the Landes beach (Bay of Biscay), > 50 km from any listed port.
NEAR_COAST = (44.05, -1.4)
#: Off Freeport, Texas: 10 km from the coast, 21 km from the nearest listed port.
OFF_FREEPORT = (29.04, -95.0)


def rendezvous(pos: pd.DataFrame, cfg: Config = CFG) -> pd.DataFrame:
    return detect_rendezvous(resample_tracks(pos, cfg.tracks), cfg)


def test_simple_encounter_is_one_event_with_its_attributes() -> None:
    ev = rendezvous(meeting(412000002, 412000001, at(1), 3.0, *OFFSHORE, separation_m=200))
    assert len(ev) == 1
    e = ev.iloc[0]
    assert (e["mmsi_a"], e["mmsi_b"]) == (412000001, 412000002)
    assert e["start_time"] == at(1) and e["end_time"] == at(4)
    assert e["duration_h"] == pytest.approx(3.0)
    assert e["n_ticks"] == 19
    assert e["min_distance_m"] == pytest.approx(200.0, abs=1.0)
    assert e["median_distance_m"] == pytest.approx(200.0, abs=1.0)
    assert e["mean_lat"] == pytest.approx(OFFSHORE[0], abs=1e-3)
    assert e["mean_lon"] == pytest.approx(OFFSHORE[1], abs=1e-2)
    assert e["min_distance_to_coast_m"] > 100_000
    assert e["min_distance_to_port_m"] > 100_000
    assert e["event_id"] == event_ids([412000001], [412000002], [at(1)])[0]
    assert len(e["event_id"]) == 16


def test_too_short_meeting_gives_none() -> None:
    assert rendezvous(meeting(412000001, 412000002, at(1), 1.5, *OFFSHORE)).empty


def test_too_far_apart_gives_none() -> None:
    assert rendezvous(meeting(412000001, 412000002, at(1), 4, *OFFSHORE, separation_m=800)).empty


def test_fast_separation_gives_none() -> None:
    # Two ships pass each other at 10 kn on reciprocal courses: close for minutes only.
    lat, lon = OFFSHORE
    west_start = offset(lat, lon, north_m=150, east_m=-18_520)
    east_start = offset(lat, lon, east_m=18_520)
    a = steaming(412000001, at(0), 2.0, *west_start, sog_kn=10.0, heading="east")
    b = steaming(412000002, at(0), 2.0, *east_start, sog_kn=10.0, heading="east")
    b["lon"] = 2 * lon - b["lon"]  # mirror: b heads west
    assert rendezvous(positions(a, b)).empty


def test_only_one_vessel_slow_gives_none() -> None:
    # B stays within 300 m but reports 6 kn (circling a drifting A): not a transfer.
    pos = meeting(412000001, 412000002, at(1), 4.0, *OFFSHORE, separation_m=300)
    pos.loc[pos["mmsi"] == 412000002, "sog_kn"] = np.float32(6.0)
    assert rendezvous(pos).empty
    pos.loc[pos["mmsi"] == 412000002, "sog_kn"] = np.float32(1.5)
    assert len(rendezvous(pos)) == 1


def test_cluster_of_vessels_gives_every_pair() -> None:
    lat, lon = OFFSHORE
    spots = [(0, 0), (150, 0), (0, 150), (150, 150)]
    mmsis = [412000004, 412000001, 412000003, 412000002]
    pos = positions(
        *[
            drifting(m, at(0), 3.0, *offset(lat, lon, n, e))
            for m, (n, e) in zip(mmsis, spots, strict=True)
        ]
    )
    ev = rendezvous(pos)
    pairs = set(zip(ev["mmsi_a"], ev["mmsi_b"], strict=True))
    assert pairs == {(a, b) for a in sorted(mmsis) for b in sorted(mmsis) if a < b}
    assert ev["event_id"].is_unique


def test_antimeridian_encounter_is_found_with_mean_on_the_seam() -> None:
    a = drifting(412000001, at(0), 3.0, 2.0, 179.999)
    b = drifting(412000002, at(0), 3.0, 2.0, -179.999)
    ev = rendezvous(positions(a, b))
    assert len(ev) == 1
    assert ev.iloc[0]["min_distance_m"] == pytest.approx(222.4, abs=1.0)
    assert abs(abs(ev.iloc[0]["mean_lon"]) - 180.0) < 1e-6


def test_fragments_three_hours_apart_merge_before_the_duration_rule() -> None:
    lat, lon = OFFSHORE
    a = drifting(412000001, at(0), 6.0, lat, lon)
    far = offset(lat, lon, east_m=5_000)
    near = offset(lat, lon, east_m=200)
    b = positions(
        drifting(412000002, at(0), 1.5, *near),
        drifting(412000002, at(1.6), 2.8, *far, sog_kn=0.5),  # same hull, 5 km off
        drifting(412000002, at(4.5), 1.5, *near),
    )
    # The jump 200 m -> 5 km in 6 min is 27 kn: under the split speed, so one track.
    ev = rendezvous(positions(a, b))
    assert len(ev) == 1
    assert ev.iloc[0]["start_time"] == at(0) and ev.iloc[0]["end_time"] == at(6)
    assert ev.iloc[0]["duration_h"] == pytest.approx(6.0)
    # Each fragment alone (1.5 h) fails the 2 h rule: with a 2 h merge gap, nothing.
    strict = CFG.with_overrides(rendezvous={"max_merge_gap_h": 2.0})
    assert rendezvous(positions(a, b), strict).empty


def test_long_silence_is_not_interpolated_into_a_meeting() -> None:
    # Both ships report for 1 h, go silent 3 h, report 1 h: no tick in the gap.
    # (With the default 12 h, a shared silence this short is bridged as a
    # reception hole: see test_detect_reception_holes.py. Here it may not be.)
    lat, lon = OFFSHORE
    pos = positions(
        meeting(412000001, 412000002, at(0), 1.0, lat, lon),
        meeting(412000001, 412000002, at(4), 1.0, lat, lon),
    )
    cfg = CFG.with_overrides(
        rendezvous={"max_merge_gap_h": 1.0, "min_duration_h": 1.5, "max_shared_silence_h": 1.0}
    )
    assert rendezvous(pos, cfg).empty
    cands = find_rendezvous(
        resample_tracks(pos, cfg.tracks), cfg.rendezvous, resample_interval_min=10
    )
    assert cands.events.empty


def test_event_near_the_coast_is_dropped_even_far_from_ports() -> None:
    pos = meeting(412000001, 412000002, at(1), 3.0, *NEAR_COAST)
    resampled = resample_tracks(pos, CFG.tracks)
    before = find_rendezvous(resampled, CFG.rendezvous, resample_interval_min=10)
    assert len(before.events) == 1  # the meeting itself is there...
    assert rendezvous(pos).empty  # ...but 4 km off a beach is not a covert transfer


def test_port_rule_holds_along_the_whole_event_not_its_mean() -> None:
    # The pair drifts from the open sea to 4 km off the beach: its mean is
    # offshore enough, but the last ticks are not.
    lat, lon = NEAR_COAST
    start = offset(lat, lon, east_m=-12_000)
    a = drifting(412000001, at(0), 4.0, *start, drift_east_m_per_h=3_000)
    b = drifting(412000002, at(0), 4.0, *offset(*start, east_m=200), drift_east_m_per_h=3_000)
    cfg = CFG
    cands = find_rendezvous(
        resample_tracks(positions(a, b), cfg.tracks), cfg.rendezvous, resample_interval_min=10
    )
    assert len(cands.events) == 1
    assert rendezvous(positions(a, b)).empty


def test_anchorage_crowd_gives_none() -> None:
    # Off Freeport, Texas: 10 km from the coast and 21 km from the port, so only
    # the anchorage rule can reject the crowd. (A crowd sitting still together
    # 500 km out in the ocean is no port anchorage but an STS area, where the
    # meetings are reported: see test_detect_sts_areas.py.)
    pytest.importorskip("stswatch.detectors.anchorages")
    lat, lon = OFF_FREEPORT
    crowd = [
        drifting(
            412000010 + k, at(0), 6.0, *offset(lat, lon, 120 * (k % 3), 120 * (k // 3)), sog_kn=0.1
        )
        for k in range(6)
    ]
    pos = positions(*crowd)
    cands = find_rendezvous(
        resample_tracks(pos, CFG.tracks), CFG.rendezvous, resample_interval_min=10
    )
    assert len(cands.events) == 15  # all pairs are close and slow...
    assert rendezvous(pos).empty  # ...but six ships sitting still together is an anchorage


def test_pair_order_does_not_depend_on_input_order() -> None:
    pos = meeting(412000009, 412000001, at(1), 3.0, *OFFSHORE)
    ev1 = rendezvous(pos)
    ev2 = rendezvous(pos.sample(frac=1.0, random_state=1))
    pd.testing.assert_frame_equal(ev1, ev2)
