"""Each suspicion feature on a tiny hand-built meeting named after what it covers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_scoring import (
    MMSI_A,
    MMSI_B,
    T0,
    day_of_pings,
    event_tracks_for,
    pings,
    rendezvous_frame,
    rendezvous_row,
    static_report,
    vessels_frame,
)

from stswatch.pipeline.scoring.features import (
    DETAIL_COLUMNS,
    FEATURE_COLUMNS,
    compute_features,
    haversine_m,
)
from stswatch.pipeline.scoring.solar import night_share, solar_elevation_deg

H = pd.Timedelta(hours=1)


def features(rv=None, positions=None, vessels=None, **kw) -> pd.Series:
    rv = rendezvous_frame() if rv is None else rv
    positions = day_of_pings() if positions is None else positions
    return compute_features(rv, positions, vessels, **kw).iloc[0]


def test_clean_meeting_of_two_tankers_raises_no_flag():
    f = features()
    assert f["dark_before_max_h"] == 0 and f["dark_after_max_h"] == 0
    assert f["n_vessels_dark"] == 0 and f["n_switched_at_sea"] == 0 and f["partner_gap_h"] == 0
    assert f["draught_change_max_m"] == 0 and f["opposite_draught_change"] == 0
    assert f["n_missing_imo"] == 0 and f["n_missing_name"] == 0 and f["n_invalid_imo"] == 0
    assert f["n_registry_of_concern"] == 0 and f["n_class_b_large"] == 0
    assert f["n_flag_mismatch"] == 0 and f["identity_changes_max"] == 0
    assert f["tanker_with_small_or_unknown"] == 0
    assert f["reporting_ratio_min"] == pytest.approx(1.0, rel=0.1)
    assert f["mean_sog_max_kn"] == pytest.approx(0.5)
    assert f["heading_alignment"] == pytest.approx(1.0)


def test_empty_rendezvous_gives_empty_frame_with_all_columns():
    out = compute_features(rendezvous_frame().iloc[:0], day_of_pings(), None)
    assert out.empty
    assert set(FEATURE_COLUMNS) | set(DETAIL_COLUMNS) <= set(out.columns)


# ---------------------------------------------------------------- cargo


def test_opposite_draught_change_without_port_call_is_cargo_moving():
    rv = rendezvous_frame(
        rendezvous_row(
            draught_before_m_a=9.0,
            draught_after_m_a=11.4,
            draught_before_m_b=14.0,
            draught_after_m_b=11.6,
        )
    )
    f = features(rv)
    assert f["draught_change_m_a"] == pytest.approx(2.4)
    assert f["draught_change_m_b"] == pytest.approx(-2.4)
    assert f["draught_change_max_m"] == pytest.approx(2.4)
    assert f["opposite_draught_change"] == 1


def test_draught_change_read_from_static_reports_when_detector_has_none():
    rv = rendezvous_frame(rendezvous_row(draught_before_m_a=None, draught_after_m_a=None))
    vessels = vessels_frame(
        static_report(MMSI_A, T0 - 6 * H, draught_m=9.0),
        static_report(MMSI_A, T0 - 30 * H, draught_m=5.0),  # older: ignored
        static_report(MMSI_A, T0 + 6 * H, draught_m=10.5),
    )
    f = features(rv, vessels=vessels)
    assert f["draught_change_m_a"] == pytest.approx(1.5)
    assert f["draught_change_max_m"] == pytest.approx(1.5)


def test_draught_updated_hours_after_the_meeting_counts_not_the_stale_day_repeat():
    # the store repeats the old draught at the next day's first report; the crew
    # enters the new draught a few minutes later: the settled value is the one
    rv = rendezvous_frame(rendezvous_row(draught_before_m_a=10.2, draught_after_m_a=10.2))
    vessels = vessels_frame(
        static_report(MMSI_A, T0 - 12 * H, draught_m=10.2),
        static_report(MMSI_A, T0 + 12 * H, draught_m=10.2),  # day-boundary repeat
        static_report(MMSI_A, T0 + 12.1 * H, draught_m=12.6),
    )
    f = features(rv, vessels=vessels)
    assert f["draught_change_m_a"] == pytest.approx(2.4)


def test_draught_change_after_a_port_call_elsewhere_is_not_cargo_at_sea():
    rv = rendezvous_frame(rendezvous_row(draught_before_m_a=9.0, draught_after_m_a=11.4))
    vessels = vessels_frame(
        static_report(MMSI_A, T0 - 20 * H, draught_m=9.0),
        static_report(MMSI_A, T0 + 6 * H, draught_m=11.4),
    )
    # vessel A sat still 50 km away for 6 h before the meeting: a port call
    far = pings(MMSI_A, T0 - 12 * H, T0 - 6 * H, lat=10.45, lon=0.0, sog_kn=0.1)
    near = pings(MMSI_A, T0 - 5 * H, T0 + 16 * H)
    positions = pd.concat([far, near, pings(MMSI_B, T0 - 12 * H, T0 + 16 * H)], ignore_index=True)
    f = features(rv, positions, vessels)
    assert f["port_call_a"] == 1 and f["port_call_b"] == 0
    assert f["draught_change_max_m"] == 0


def test_small_draught_change_is_noise():
    rv = rendezvous_frame(rendezvous_row(draught_after_m_a=12.2, draught_after_m_b=11.8))
    f = features(rv)
    assert f["draught_change_max_m"] == 0 and f["opposite_draught_change"] == 0


# ---------------------------------------------------------------- going dark


def test_gap_before_meeting_is_attributed_to_the_silent_vessel_and_side():
    silent_b = pd.concat(
        [
            pings(MMSI_B, T0 - 12 * H, T0 - 9 * H),  # last ping 9 h before the meeting
            pings(MMSI_B, T0, T0 + 16 * H),
        ]
    )
    positions = pd.concat([pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), silent_b], ignore_index=True)
    f = features(positions=positions)
    assert f["gap_before_h_b"] == pytest.approx(9.0)
    assert f["gap_before_h_a"] == 0
    assert f["gap_after_h_a"] == 0 and f["gap_after_h_b"] == 0
    assert f["dark_before_max_h"] == pytest.approx(9.0) and f["n_vessels_dark"] == 1
    # going dark is its own feature: it must not read as a reporting-rate drop
    assert f["reporting_ratio_b"] == pytest.approx(1.0, rel=0.1)


def test_gap_after_meeting_is_attributed_to_the_after_side():
    silent_a = pd.concat(
        [pings(MMSI_A, T0 - 12 * H, T0 + 4 * H), pings(MMSI_A, T0 + 12 * H, T0 + 16 * H)]
    )
    positions = pd.concat([silent_a, pings(MMSI_B, T0 - 12 * H, T0 + 16 * H)], ignore_index=True)
    f = features(positions=positions)
    assert f["gap_after_h_a"] == pytest.approx(8.0)
    assert f["gap_before_h_a"] == 0 and f["gap_after_h_b"] == 0


def test_detector_linked_gaps_take_precedence_and_short_gaps_do_not_count():
    rv = rendezvous_frame(rendezvous_row(gap_after_h_a=7.5, gap_before_h_b=3.0))
    f = features(rv)
    assert f["dark_after_max_h"] == pytest.approx(7.5)
    assert f["gap_before_h_b"] == 0  # 3 h is a reception hole, not going dark


def test_reporting_rate_drop_during_the_meeting():
    throttled_b = pd.concat(
        [
            pings(MMSI_B, T0 - 12 * H, T0 - 0.5 * H),
            pings(MMSI_B, T0, T0 + 4 * H, every_min=60),
            pings(MMSI_B, T0 + 4.5 * H, T0 + 16 * H),
        ]
    )
    positions = pd.concat([pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), throttled_b], ignore_index=True)
    f = features(positions=positions)
    assert f["reporting_ratio_a"] == pytest.approx(1.0, rel=0.1)
    assert f["reporting_ratio_b"] < 0.3
    assert f["reporting_ratio_min"] == f["reporting_ratio_b"]


# ---------------------------------------------------------------- identity


def test_registry_of_concern_from_mid():
    rv = rendezvous_frame(rendezvous_row(mmsi_b=511_000_009, callsign_b="T8AB2"))  # 511 = Palau
    positions = pd.concat(
        [pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), pings(511_000_009, T0 - 12 * H, T0 + 16 * H)]
    )
    f = features(rv, positions)
    assert f["mid_b"] == 511 and f["registry_of_concern_b"] == 1
    assert f["mid_a"] == 235 and f["registry_of_concern_a"] == 0
    assert f["n_registry_of_concern"] == 1
    # Palau's own call sign (T8): no flag mismatch on top
    assert f["n_flag_mismatch"] == 0


def test_missing_imo_and_name():
    rv = rendezvous_frame(rendezvous_row(imo_b=None, vessel_name_b="  ", imo_a=0))
    f = features(rv)
    assert f["n_missing_imo"] == 2
    assert f["missing_name_b"] == 1 and f["missing_name_a"] == 0


def test_class_b_transponder_on_a_large_ship():
    positions = pd.concat(
        [
            pings(MMSI_A, T0 - 12 * H, T0 + 16 * H, transceiver_class="B"),
            pings(MMSI_B, T0 - 12 * H, T0 + 16 * H),
        ]
    )
    f = features(positions=positions)
    assert f["class_b_large_a"] == 1 and f["class_b_large_b"] == 0
    small = rendezvous_frame(rendezvous_row(length_m_a=30.0))
    assert features(small, positions)["n_class_b_large"] == 0


def test_tanker_meeting_small_or_unknown_vessel_and_size_mismatch():
    rv = rendezvous_frame(rendezvous_row(ship_type_b=None, length_m_b=50.0))
    f = features(rv)
    assert f["tanker_with_small_or_unknown"] == 1 and f["min_length_m"] == 50
    assert f["length_ratio"] == pytest.approx(5.0)


def test_identity_changes_counted_from_static_reports():
    vessels = vessels_frame(
        static_report(MMSI_A, T0 - 10 * H, vessel_name="NORTH STAR", callsign="CALLA"),
        static_report(MMSI_A, T0 - 5 * H, vessel_name="north star ", callsign="CALLA"),  # same
        static_report(MMSI_A, T0 + 5 * H, vessel_name="OCEAN GRACE", callsign="V7XYZ"),
        static_report(MMSI_B, T0, vessel_name="EAST WIND"),
    )
    f = features(vessels=vessels)
    assert f["identity_changes_a"] == 2  # one rename + one callsign change
    assert f["identity_changes_b"] == 0
    assert f["identity_changes_max"] == 2


# ---------------------------------------------------------------- location and time


def test_night_share_at_the_events_own_longitude():
    noon = rendezvous_frame(rendezvous_row())
    assert features(noon)["night_share"] == 0
    midnight = rendezvous_frame(
        rendezvous_row(start_time=T0 - 12 * H, end_time=T0 - 8 * H)
    )  # 00:00-04:00 UTC at lon 0
    assert features(midnight)["night_share"] == 1
    # noon UTC is local midnight on the other side of the world
    antipode = rendezvous_frame(rendezvous_row(mean_lon=179.0))
    assert features(antipode)["night_share"] == 1


def test_night_share_of_an_event_across_sunset_is_partial():
    # equinox-ish at the equator, lon 0: sunset ~18:07 UTC; 16:00-20:00 is ~half night
    share = night_share(
        np.array(["2026-03-20T16:00"], dtype="datetime64[ms]"),
        np.array(["2026-03-20T20:00"], dtype="datetime64[ms]"),
        np.array([0.0]),
        np.array([0.0]),
    )
    assert 0.4 < share[0] < 0.6


def test_solar_elevation_known_values():
    # June solstice noon at the Tropic of Cancer, Greenwich meridian: sun near zenith
    elev = solar_elevation_deg(np.array(["2026-06-21T12:00"], dtype="datetime64[ms]"), 23.44, 0.0)
    assert elev[0] > 88


def test_recurrence_counts_other_meetings_within_20_km_including_history():
    rows = [
        rendezvous_row(event_id="e1", mean_lat=10.0, mean_lon=0.0),
        rendezvous_row(event_id="e2", mean_lat=10.05, mean_lon=0.05),  # ~7.8 km away
        rendezvous_row(event_id="e3", mean_lat=11.0, mean_lon=0.0),  # ~111 km away
    ]
    rv = rendezvous_frame(*rows)
    history = pd.DataFrame(
        {
            "event_id": ["old1", "e1", "old2"],  # e1 again (a re-run) must not count twice
            "mean_lat": [10.1, 10.0, 40.0],
            "mean_lon": [0.0, 0.0, 0.0],
        }
    )
    out = compute_features(rv, day_of_pings(), None, history=history)
    assert out["recurrence_count"].tolist() == [2, 2, 0]
    assert compute_features(rv, day_of_pings(), None)["recurrence_count"].tolist() == [1, 1, 0]


def test_recurrence_across_the_antimeridian():
    rv = rendezvous_frame(
        rendezvous_row(event_id="w", mean_lon=179.95),
        rendezvous_row(event_id="e", mean_lon=-179.95),
    )
    assert compute_features(rv, None, None)["recurrence_count"].tolist() == [1, 1]
    assert haversine_m(10, 179.95, 10, -179.95) < 12_000


# ---------------------------------------------------------------- kinematics


def test_separation_stability_from_event_tracks():
    rv = rendezvous_frame()
    steady = features(rv, event_tracks=event_tracks_for(rv, [80.0] * 12))
    drifting = features(rv, event_tracks=event_tracks_for(rv, [80, 150, 300, 450] * 3))
    assert steady["separation_std_m"] == pytest.approx(0.0, abs=1.0)
    assert drifting["separation_std_m"] > 100


def test_heading_alignment_parallel_versus_crossing():
    crossing = pd.concat(
        [
            pings(MMSI_A, T0 - 12 * H, T0 + 16 * H, heading_deg=0.0),
            pings(MMSI_B, T0 - 12 * H, T0 + 16 * H, heading_deg=90.0),
        ]
    )
    assert features(positions=crossing)["heading_alignment"] == pytest.approx(0.0, abs=1e-6)
    antiparallel = pd.concat(
        [
            pings(MMSI_A, T0 - 12 * H, T0 + 16 * H, heading_deg=350.0),
            pings(MMSI_B, T0 - 12 * H, T0 + 16 * H, heading_deg=170.0),
        ]
    )
    assert features(positions=antiparallel)["heading_alignment"] == pytest.approx(1.0)


def test_missing_pings_give_nan_not_an_error():
    f = features(positions=pings(MMSI_A, T0, T0 + 4 * H).iloc[:0])
    assert np.isnan(f["mean_sog_max_kn"]) and np.isnan(f["reporting_ratio_min"])
