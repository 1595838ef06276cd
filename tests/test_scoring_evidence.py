"""The evidence indicators of issue 14, each on a tiny hand-built case named after it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_scoring import (
    MMSI_A,
    MMSI_B,
    T0,
    pings,
    rendezvous_frame,
    rendezvous_row,
    static_report,
    vessels_frame,
)

from stswatch.pipeline.scoring.callsigns import callsign_country, same_flag_state
from stswatch.pipeline.scoring.features import compute_features
from stswatch.pipeline.scoring.identity import identity_change_log, imo_check_digit_ok

H = pd.Timedelta(hours=1)
#: Open Atlantic, ~1,000 km from any coast: a switch at sea here is offshore.
SEA = {"lat": 20.0, "lon": -40.0}


def _at_sea(**overrides) -> pd.DataFrame:
    return rendezvous_frame(rendezvous_row(mean_lat=SEA["lat"], mean_lon=SEA["lon"], **overrides))


def _pings(mmsi: int, start, end, **kw) -> pd.DataFrame:
    return pings(mmsi, start, end, **{**SEA, **kw})


def _both_in_view() -> pd.DataFrame:
    """Both vessels reporting without a break from 12 h before to 12 h after the meeting."""
    return pd.concat(
        [_pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), _pings(MMSI_B, T0 - 12 * H, T0 + 16 * H)]
    )


def _features(rv, positions, vessels=None) -> pd.Series:
    return compute_features(rv, positions, vessels).iloc[0]


# ---------------------------------------------------------------- AIS switched on/off at sea


def test_track_switched_on_at_sea_next_to_the_meeting_counts_as_ais_off():
    # A reports all window; B's first fix ever is 40 min before the meeting, beside it
    positions = pd.concat(
        [_pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), _pings(MMSI_B, T0 - 0.7 * H, T0 + 16 * H)]
    )
    f = _features(_at_sea(), positions)
    assert f["switched_on_h_b"] == pytest.approx(11.3, abs=0.01)
    assert f["n_switched_at_sea"] == 1 and f["n_vessels_dark"] == 1
    assert f["dark_before_max_h"] == pytest.approx(11.3, abs=0.01)  # a lower bound, not 0 h
    assert f["gap_before_h_b"] == 0  # no gap: the silence has no observed start


def test_track_switched_off_at_sea_after_the_meeting_counts_as_ais_off():
    positions = pd.concat(
        [_pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), _pings(MMSI_B, T0 - 12 * H, T0 + 5 * H)]
    )
    f = _features(_at_sea(), positions)
    assert f["switched_off_h_b"] == pytest.approx(11.0, abs=0.01)
    assert f["dark_after_max_h"] == pytest.approx(11.0, abs=0.01)


def test_track_starting_with_the_window_read_is_not_switched_on():
    # both tracks start with the data: nothing is known before, so nothing is counted
    positions = pd.concat(
        [_pings(MMSI_A, T0 - 0.5 * H, T0 + 16 * H), _pings(MMSI_B, T0 - 0.5 * H, T0 + 16 * H)]
    )
    f = _features(_at_sea(), positions)
    assert f["n_switched_at_sea"] == 0 and f["dark_before_max_h"] == 0


def test_track_starting_far_from_the_meeting_is_not_switched_on_next_to_it():
    far_b = _pings(MMSI_B, T0 - 3 * H, T0 - 3 * H, lat=SEA["lat"] + 1.0)  # 111 km north
    positions = pd.concat(
        [
            _pings(MMSI_A, T0 - 12 * H, T0 + 16 * H),
            far_b,
            _pings(MMSI_B, T0, T0 + 16 * H),
        ]
    )
    assert _features(_at_sea(), positions)["n_switched_at_sea"] == 0


def test_track_starting_inshore_is_a_ship_leaving_harbour_not_a_switch_at_sea():
    # the meeting 27 km off Galveston; B's track starts 5 km off the beach, 28 km from it
    near_coast = {"lat": 29.25, "lon": -94.75}
    rv = rendezvous_frame(rendezvous_row(mean_lat=29.0, mean_lon=-94.75))
    positions = pd.concat(
        [
            pings(MMSI_A, T0 - 12 * H, T0 + 16 * H, lat=29.0, lon=-94.75),
            pings(MMSI_B, T0 - 1 * H, T0 - 1 * H, **near_coast),
            pings(MMSI_B, T0, T0 + 16 * H, lat=29.0, lon=-94.75),
        ]
    )
    assert _features(rv, positions)["n_switched_at_sea"] == 0


# ---------------------------------------------------------------- dark partner, shared silence


def test_dark_partner_silence_counts_as_one_vessel_dark():
    rv = _at_sea(
        kind="dark_rendezvous",
        dark_mmsi=MMSI_B,
        partner_gap_h=10.5,
        min_distance_m=np.nan,
        median_distance_m=np.nan,
    )
    positions = pd.concat(
        [
            _pings(MMSI_A, T0 - 12 * H, T0 + 16 * H),
            _pings(MMSI_B, T0 - 12 * H, T0 - 2 * H),  # silent across the meeting
            _pings(MMSI_B, T0 + 6 * H, T0 + 16 * H),
        ]
    )
    f = _features(rv, positions)
    assert f["partner_gap_h"] == 10.5 and f["dark_side"] == "b"
    assert f["n_vessels_dark"] == 1
    assert f["reporting_ratio_b"] == 0  # no fix at all alongside
    assert np.isnan(f["min_distance_m"])


def test_ordinary_rendezvous_has_no_partner_silence():
    positions = _both_in_view()
    f = _features(_at_sea(partner_gap_h=np.nan), positions)
    assert f["partner_gap_h"] == 0 and f["kind"] == "rendezvous"


def test_shared_silence_is_context_not_going_dark():
    rv = _at_sea(shared_silence_h=8.1, gap_before_h_a=0.0, gap_before_h_b=0.0)
    positions = _both_in_view()
    f = _features(rv, positions)
    assert f["shared_silence_h"] == 8.1
    assert f["n_vessels_dark"] == 0 and f["dark_before_max_h"] == 0


def test_one_sided_gap_still_counts_as_dark():
    rv = _at_sea(gap_before_h_b=7.9, shared_silence_h=0.0)
    positions = _both_in_view()
    f = _features(rv, positions)
    assert f["dark_before_max_h"] == pytest.approx(7.9) and f["n_vessels_dark"] == 1


# ---------------------------------------------------------------- identity


def test_imo_failing_its_check_digit_is_invalid_not_missing():
    assert imo_check_digit_ok(np.array([9_074_729, 9_100_009, 9_100_001])).tolist() == [
        True,
        True,
        False,
    ]
    positions = _both_in_view()
    f = _features(_at_sea(imo_b=9_200_002, imo_a=None), positions)
    assert f["invalid_imo_b"] == 1 and f["missing_imo_b"] == 0
    assert f["invalid_imo_a"] == 0 and f["missing_imo_a"] == 1
    assert f["n_invalid_imo"] == 1 and f["n_missing_imo"] == 1


def test_call_sign_of_another_country_than_the_mmsi_is_a_flag_mismatch():
    positions = _both_in_view()
    f = _features(_at_sea(callsign_a="D5AB7"), positions)  # Liberia's series on a UK MMSI
    assert f["callsign_country_a"] == "LR" and f["flag_mismatch_a"] == 1
    assert f["n_flag_mismatch"] == 1
    unknown = _features(_at_sea(callsign_a="QQQ1", callsign_b=None), positions)
    assert unknown["n_flag_mismatch"] == 0  # unknown is not evidence


def test_territories_share_their_states_call_sign_series():
    assert callsign_country("ZB2AB") == "GB"
    assert same_flag_state("GB", "GI") and same_flag_state("CN", "HK")
    assert same_flag_state("LR", "PA") is False and same_flag_state(None, "PA") is None
    assert callsign_country("3DA12") == "SZ" and callsign_country("3DN12") == "FJ"


def test_reported_flag_column_is_preferred_over_the_call_sign():
    positions = _both_in_view()
    f = _features(_at_sea(flag_a="PA", flag_b="HK"), positions)
    assert f["flag_mismatch_a"] == 1 and f["flag_mismatch_b"] == 0


def test_unallocated_mid_is_a_registry_of_concern():
    positions = pd.concat(
        [_pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), _pings(200_123_456, T0 - 12 * H, T0 + 16 * H)]
    )
    f = _features(_at_sea(mmsi_b=200_123_456, callsign_b=None), positions)
    assert f["registry_of_concern_b"] == 1 and f["registry_of_concern_a"] == 0


def test_identity_change_log_ignores_null_reports_and_case():
    vessels = vessels_frame(
        static_report(MMSI_A, T0 - 10 * H, vessel_name="NORTH STAR", callsign="GBTT1"),
        static_report(MMSI_A, T0 - 5 * H, vessel_name=None, callsign="GBTT1"),  # Class B gap
        static_report(MMSI_A, T0 - 4 * H, vessel_name="north star ", callsign="GBTT1"),
        static_report(MMSI_A, T0 + 6 * H, vessel_name="OCEAN GRACE", callsign="GBZZ9"),
    )
    log = identity_change_log(vessels)
    assert log[["field", "old", "new"]].values.tolist() == [
        ["vessel_name", "NORTH STAR", "OCEAN GRACE"],
        ["callsign", "GBTT1", "GBZZ9"],
    ]


# ---------------------------------------------------------------- cargo and size


def test_small_ship_that_got_deeper_is_a_small_receiver():
    positions = _both_in_view()
    rv = _at_sea(
        length_m_b=68.0,
        draught_before_m_a=14.0,
        draught_after_m_a=12.2,
        draught_before_m_b=3.9,
        draught_after_m_b=5.6,
    )
    f = _features(rv, positions)
    assert f["receiver_side"] == "b" and f["receiver_length_m"] == 68
    assert f["small_receiver"] == 1


def test_small_bunker_tanker_supplying_a_large_ship_is_not_a_small_receiver():
    positions = _both_in_view()
    rv = _at_sea(
        length_m_b=90.0,
        draught_before_m_a=12.0,
        draught_after_m_a=12.4,
        draught_before_m_b=6.5,
        draught_after_m_b=5.1,
    )
    f = _features(rv, positions)
    assert f["receiver_side"] == "a" and f["small_receiver"] == 0


def test_both_ships_deeper_by_the_same_amount_count_the_smaller_hull_either_way():
    """A tie must not be broken by the arbitrary mmsi_a < mmsi_b order."""
    positions = _both_in_view()
    draughts = dict(
        draught_before_m_a=6.0, draught_after_m_a=7.5, draught_before_m_b=6.0, draught_after_m_b=7.5
    )
    one = _features(_at_sea(length_m_a=250.0, length_m_b=70.0, **draughts), positions)
    two = _features(_at_sea(length_m_a=70.0, length_m_b=250.0, **draughts), positions)
    assert one["receiver_length_m"] == two["receiver_length_m"] == 70
    assert one["small_receiver"] == two["small_receiver"] == 1


def test_receiver_unknown_without_draught_change():
    positions = _both_in_view()
    f = _features(_at_sea(length_m_b=60.0), positions)
    assert f["receiver_side"] is None and np.isnan(f["small_receiver"])


# ---------------------------------------------------------------- real data


def test_call_signs_agree_with_the_mmsi_country_on_real_carrier_vessels(shared_data):
    """GFW's 1,124 transshipment vessels: the ITU table must rarely cry mismatch."""
    from stswatch.pipeline.scoring.flags import mmsi_country

    v = pd.read_csv(shared_data / "events" / "gfw_transshipment-vessels.csv")
    v = v[v["mmsi"].notna() & v["callsign"].notna()]
    countries = mmsi_country(v["mmsi"].astype("int64").to_numpy())
    same = [
        same_flag_state(m, callsign_country(c))
        for m, c in zip(countries, v["callsign"], strict=True)
    ]
    known = [s for s in same if s is not None]
    assert len(known) >= 0.95 * len(v)  # the table knows nearly every real call sign
    assert sum(1 for s in known if s is False) <= 0.05 * len(known)  # measured: 3.1 %


def test_shared_silence_is_not_a_drop_in_the_reporting_rate():
    # both silent 8 h mid-meeting (a reception hole): heard all the rest of the time
    def heard(mmsi: int) -> pd.DataFrame:
        return pd.concat(
            [_pings(mmsi, T0 - 12 * H, T0 + 2 * H), _pings(mmsi, T0 + 10 * H, T0 + 24 * H)]
        )

    rv = _at_sea(end_time=T0 + 12 * H, duration_h=12.0, shared_silence_h=8.0)
    f = _features(rv, pd.concat([heard(MMSI_A), heard(MMSI_B)]))
    assert f["reporting_ratio_min"] == pytest.approx(1.0, rel=0.15)
