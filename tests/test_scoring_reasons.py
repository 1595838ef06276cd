"""Reasons: the strongest evidence first, worded with the event's own numbers; location last."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers_scoring import (
    MMSI_A,
    MMSI_B,
    T0,
    day_of_pings,
    fitted_model,
    pings,
    rendezvous_frame,
    rendezvous_row,
    static_report,
    vessels_frame,
)

from stswatch.pipeline.scoring import score_features
from stswatch.pipeline.scoring.features import FEATURE_COLUMNS, compute_features
from stswatch.pipeline.scoring.reasons import (
    INDICATOR_GROUPS,
    NO_EVIDENCE,
    explain,
    word_feature,
)

H = pd.Timedelta(hours=1)


def _features(positions=None, vessels=None, **overrides) -> pd.DataFrame:
    rv = rendezvous_frame(rendezvous_row(**overrides))
    return compute_features(rv, day_of_pings() if positions is None else positions, vessels)


def _dark_features(
    gap_h: float, last_fix_m: float, first_fix_m: float, **overrides
) -> pd.DataFrame:
    """A dark rendezvous: vessel 2 (the partner) silent ``gap_h`` while vessel 1 loitered."""
    return _features(
        kind="dark_rendezvous",
        dark_mmsi=MMSI_B,
        partner_gap_h=gap_h,
        partner_last_fix_distance_m=last_fix_m,
        partner_first_fix_distance_m=first_fix_m,
        min_distance_m=np.nan,  # never seen together
        median_distance_m=np.nan,
        **overrides,
    )


def test_gap_is_worded_with_hours_side_and_where_the_vessel_reappeared():
    # vessel 2 silent 7.9 h, then reappears 18 km north of the meeting
    silent_b = pd.concat(
        [
            pings(MMSI_B, T0 - 12 * H, T0 - 9 * H),
            pings(MMSI_B, T0 - 9 * H + 7.9 * H, T0 - 9 * H + 7.9 * H, lat=10.0 + 18_000 / 111_195),
            pings(MMSI_B, T0, T0 + 16 * H),
        ]
    )
    positions = pd.concat([pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), silent_b])
    f = compute_features(rendezvous_frame(), positions, None).iloc[0]
    assert (
        word_feature("dark_before_max_h", f)
        == "vessel 2 AIS off 7.9 h before, reappeared 18 km away"
    )


def test_draught_and_registry_wording_carry_the_numbers():
    f = _features(
        draught_before_m_b=9.0, draught_after_m_b=11.1, mmsi_b=613_000_009, callsign_b="TJAB2"
    ).iloc[0]
    assert word_feature("draught_change_max_m", f) == "vessel 2 draught +2.1 m, no port call"
    assert word_feature("n_registry_of_concern", f) == (
        "vessel 2 flag Cameroon (MID 613): registry of concern"
    )
    small = _features(length_m_b=60.0).iloc[0]
    assert word_feature("length_ratio", small) == "size mismatch: 250 m and 60 m"


def test_name_change_is_worded_with_old_and_new_name_and_timing():
    vessels = vessels_frame(
        static_report(MMSI_B, T0 - 10 * H, vessel_name="EAST WIND", callsign="VRAB2"),
        static_report(MMSI_B, T0 + 5 * H, vessel_name="SEA DREAM", callsign="VRAB2"),
    )
    f = _features(vessels=vessels).iloc[0]  # the meeting ends at T0 + 4 h
    assert word_feature("identity_changes_max", f) == (
        "vessel 2 name changed from EAST WIND to SEA DREAM 1 h after"
    )


def test_flag_mismatch_names_both_countries():
    f = _features(callsign_a="3FAB2").iloc[0]  # Panama call sign on a UK MMSI
    assert word_feature("n_flag_mismatch", f) == (
        "vessel 1 call sign 3FAB2 is Panama's, its MMSI is United Kingdom's (MID 235)"
    )


def test_dark_partner_is_worded_with_its_silence_and_fix_distances():
    f = _dark_features(9.3, 12_400.0, 18_100.0).iloc[0]
    assert f["dark_side"] == "b" and f["partner_gap_h"] == 9.3
    assert word_feature("partner_gap_h", f) == (
        "vessel 2 (the partner) AIS off 9.3 h while the other loitered: "
        "last fix 12 km away, first fix after 18 km away"
    )


def test_strongest_evidence_leads_and_kinematics_follow_it():
    f = _features(draught_before_m_b=9.0, draught_after_m_b=11.1)
    contributions = np.zeros((1, len(FEATURE_COLUMNS)))
    contributions[0, FEATURE_COLUMNS.index("duration_h")] = 2.5  # strongest, but kinematic
    contributions[0, FEATURE_COLUMNS.index("draught_change_max_m")] = 1.5
    contributions[0, FEATURE_COLUMNS.index("n_missing_imo")] = -2.0  # pushes down: not a reason
    contributions[0, FEATURE_COLUMNS.index("min_length_m")] = 0.1  # too weak to mention
    reasons = explain(f, contributions, FEATURE_COLUMNS)[0]
    assert reasons[:2] == ["vessel 2 draught +2.1 m, no port call", "meeting lasted 4.0 h"]
    assert reasons[-1].startswith("context: ")
    assert len(reasons) == 3


def test_location_is_context_never_a_reason():
    f = _features(min_distance_to_coast_m=14_000.0, sts_area_name="Lome STS area")
    f["sts_area_source"] = "listed"
    reasons = explain(f, np.zeros((1, len(FEATURE_COLUMNS))), FEATURE_COLUMNS)[0]
    assert reasons[0] == NO_EVIDENCE
    assert reasons[-1] == (
        "context: in Lome STS area (listed STS area), no other meeting recorded within 20 km, "
        "14 km off the coast"
    )
    assert not any("coast" in r or "STS area" in r for r in reasons[:-1])


def test_scored_reasons_come_from_the_model_not_a_template():
    model = fitted_model(n=600)
    quiet = _features()
    dark = quiet.assign(dark_before_max_h=14.0, gap_before_h_b=14.0, n_vessels_dark=1.0)
    out = score_features(pd.concat([quiet, dark], ignore_index=True), model)
    assert out["score"].iloc[1] > out["score"].iloc[0]
    assert out["reasons"].iloc[1][0].startswith("vessel 2 AIS off 14.0 h before")
    assert not any("AIS off" in r for r in out["reasons"].iloc[0])
    assert (out["model_version"] == "test-1").all()


def test_an_unmeasured_feature_is_never_a_reason():
    f = _features(draught_before_m_a=None, draught_after_m_a=None)
    f["draught_before_m_b"] = f["draught_after_m_b"] = np.nan
    f["draught_change_max_m"] = np.nan
    contributions = np.zeros((1, len(FEATURE_COLUMNS)))
    contributions[0, FEATURE_COLUMNS.index("draught_change_max_m")] = 2.0
    reasons = explain(f, contributions, FEATURE_COLUMNS)[0]
    assert not any("draught" in r for r in reasons)


def test_each_strong_kind_of_evidence_gets_a_reason_before_a_second_of_another():
    # A dark partner raises n_vessels_dark and partner_gap_h together: ablated one at a
    # time each looks weak, while three identity/size features are louder one by one.
    f = _dark_features(8.3, 2_200.0, 10_100.0, length_m_b=64.0, callsign_a="3FAB2")
    f["n_vessels_dark"] = 1.0
    contributions = np.zeros((1, len(FEATURE_COLUMNS)))
    for name, value in {
        "n_vessels_dark": 0.28,
        "partner_gap_h": 0.05,
        "n_flag_mismatch": 1.0,
        "length_ratio": 0.7,
        "min_length_m": 0.6,
    }.items():
        contributions[0, FEATURE_COLUMNS.index(name)] = value
    names = list(FEATURE_COLUMNS)
    groups = np.array([[2.0, 1.0, 0.0, 1.2]])  # ais_off, identity, cargo, size
    assert INDICATOR_GROUPS == ("ais_off", "identity", "cargo", "size")

    one_by_one = explain(f, contributions, names)[0]
    assert not any("AIS off" in r for r in one_by_one)  # crowded out without the groups

    reasons = explain(f, contributions, names, group_contributions=groups)[0]
    assert reasons[0].startswith("vessel 2 (the partner) AIS off 8.3 h while the other loitered")
    assert reasons[1] == "size mismatch: 250 m and 64 m"
    assert reasons[2].startswith("vessel 1 call sign 3FAB2 is Panama's")
    assert reasons[3].startswith("context: ")


def test_scored_dark_transfer_says_the_partner_kept_ais_off():
    model = fitted_model(n=600)
    quiet = _features()
    dark = _dark_features(9.0, 3_000.0, 6_000.0)
    dark["n_vessels_dark"] = 1.0
    out = score_features(pd.concat([quiet, dark], ignore_index=True), model)
    assert any("(the partner) AIS off 9.0 h" in r for r in out["reasons"].iloc[1])


def test_a_dark_partners_silent_rate_is_worded_as_its_silence():
    f = _dark_features(5.2, 4_000.0, np.nan).iloc[0].copy()
    f["reporting_ratio_b"], f["reporting_ratio_a"] = 0.0, 1.0
    assert word_feature("reporting_ratio_min", f) == (
        "vessel 2 (the partner) AIS off 5.2 h while the other loitered: last fix 4.0 km away"
    )
