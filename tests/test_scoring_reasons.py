"""Reasons: the model's strongest contributions, worded with the event's own values."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers_scoring import (
    MMSI_A,
    T0,
    day_of_pings,
    fitted_model,
    pings,
    rendezvous_frame,
    rendezvous_row,
)

from stswatch.pipeline.scoring import score_features
from stswatch.pipeline.scoring.features import FEATURE_COLUMNS, compute_features
from stswatch.pipeline.scoring.reasons import explain, word_feature

H = pd.Timedelta(hours=1)


def _features(**overrides) -> pd.DataFrame:
    return compute_features(rendezvous_frame(rendezvous_row(**overrides)), day_of_pings(), None)


def test_gap_is_worded_with_hours_side_and_vessel():
    silent_b = pd.concat(
        [pings(477_000_002, T0 - 12 * H, T0 - 9 * H), pings(477_000_002, T0, T0 + 16 * H)]
    )
    positions = pd.concat([pings(MMSI_A, T0 - 12 * H, T0 + 16 * H), silent_b])
    f = compute_features(rendezvous_frame(), positions, None).iloc[0]
    assert word_feature("gap_before_max_h", f) == "AIS dark 9 h before meeting (vessel 2)"


def test_draught_and_flag_wording():
    f = _features(
        draught_before_m_a=9.0, draught_after_m_a=11.4, mmsi_b=511_000_009, imo_b=None
    ).iloc[0]
    assert word_feature("draught_change_max_m", f) == "draught +2.4 m without port call (vessel 1)"
    assert word_feature("n_flag_of_convenience", f) == "no IMO; MID 511 (Palau) (vessel 2)"
    assert word_feature("n_missing_imo", f) == "no IMO (vessel 2)"
    assert word_feature("length_ratio", f) == "similar sizes: 250 m and 250 m"
    small = _features(length_m_b=60.0).iloc[0]
    assert word_feature("length_ratio", small) == "size mismatch: 250 m and 60 m"


def test_explain_keeps_the_strongest_positive_contributions_in_order():
    f = _features(draught_before_m_a=9.0, draught_after_m_a=11.4)
    contributions = np.zeros((1, len(FEATURE_COLUMNS)))
    contributions[0, FEATURE_COLUMNS.index("night_share")] = 0.6
    contributions[0, FEATURE_COLUMNS.index("draught_change_max_m")] = 1.5
    contributions[0, FEATURE_COLUMNS.index("recurrence_count")] = -2.0  # pushes down: not a reason
    contributions[0, FEATURE_COLUMNS.index("duration_h")] = 0.1  # too weak to mention
    reasons = explain(f, contributions, FEATURE_COLUMNS)
    assert reasons == [
        ["draught +2.4 m without port call (vessel 1)", "0% of the meeting in darkness"]
    ]


def test_scored_reasons_come_from_the_model_not_a_template():
    model = fitted_model(n=600)
    quiet = _features(min_distance_to_port_m=20_000.0)
    dark = quiet.assign(gap_before_max_h=14.0, gap_before_h_b=14.0)
    out = score_features(pd.concat([quiet, dark], ignore_index=True), model)
    assert out["score"].iloc[1] > out["score"].iloc[0]
    assert "AIS dark 14 h before meeting (vessel 2)" in out["reasons"].iloc[1]
    assert not any("AIS dark" in r for r in out["reasons"].iloc[0])
    assert (out["model_version"] == "test-1").all()


def test_capped_distance_is_worded_as_none_known_not_as_a_measurement() -> None:
    from stswatch.pipeline.scoring.reasons import WORDING

    word = WORDING["distance_to_anchorage_m"]
    assert word({"distance_to_anchorage_m": 1_000_000.0}) == "no anchorage within 1000 km"
    assert word({"distance_to_anchorage_m": 25_400.0}) == "25 km from the nearest anchorage"
    assert WORDING["distance_to_port_m"]({"distance_to_port_m": 8_200.0}) == (
        "8.2 km from the nearest port"
    )
