"""The rule-based yardstick: a transparent count of red flags."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers_scoring import T0, day_of_pings, rendezvous_frame, rendezvous_row

from stswatch.pipeline.scoring.features import compute_features
from stswatch.pipeline.scoring.rules import RED_FLAGS, red_flags, rule_score

H = pd.Timedelta(hours=1)


def test_clean_meeting_scores_zero_wherever_it_is():
    # a busy lightering spot near port, and a one-off meeting 900 km out at night:
    # location and time are context, not red flags (issue 14)
    rows = [rendezvous_row(event_id=f"e{i}", mean_lat=10 + i * 0.01) for i in range(3)]
    rows = [{**r, "min_distance_to_port_m": 20_000.0} for r in rows]
    remote = rendezvous_row(
        event_id="far", mean_lat=30.0, min_distance_to_port_m=900_000.0,
        start_time=T0 - 12 * H, end_time=T0 - 8 * H,
    )  # fmt: skip
    f = compute_features(rendezvous_frame(*rows, remote), day_of_pings(), None)
    assert rule_score(f).tolist() == [0.0, 0.0, 0.0, 0.0]


def test_each_red_flag_adds_one_share():
    clean = compute_features(
        rendezvous_frame(
            rendezvous_row(min_distance_to_port_m=20_000.0),
            rendezvous_row(event_id="e2", mean_lat=10.01, min_distance_to_port_m=20_000.0),
        ),
        day_of_pings(),
        None,
    ).iloc[[0]]
    base = rule_score(clean).iloc[0]
    assert base == 0
    changes = {
        "dark_before": {"dark_before_max_h": 9.0},
        "dark_after": {"dark_after_max_h": 7.0},
        "dark_partner": {"partner_gap_h": 9.5},
        "reporting_drop": {"reporting_ratio_min": 0.2},
        "cargo_moved": {"opposite_draught_change": 1.0},
        "small_receiver": {"small_receiver": 1.0},
        "missing_identity": {"n_missing_imo": 1.0},
        "invalid_imo": {"n_invalid_imo": 1.0},
        "identity_changes": {"identity_changes_max": 2.0},
        "flag_mismatch": {"n_flag_mismatch": 1.0},
        "registry_of_concern": {"n_registry_of_concern": 1.0},
        "class_b_large": {"n_class_b_large": 1.0},
        "odd_pair": {"tanker_with_small_or_unknown": 1.0},
    }
    assert set(changes) == set(RED_FLAGS)
    for flag, values in changes.items():
        one = clean.assign(**values)
        assert red_flags(one).iloc[0].sum() == 1 and red_flags(one).iloc[0][flag], flag
        assert rule_score(one).iloc[0] == pytest.approx(1 / len(RED_FLAGS))
    everything = clean.assign(**{k: v for d in changes.values() for k, v in d.items()})
    assert rule_score(everything).iloc[0] == pytest.approx(1.0)


def test_unknown_values_raise_no_flag():
    f = pd.DataFrame(
        {
            name: [float("nan")]
            for name in (
                "dark_before_max_h",
                "dark_after_max_h",
                "partner_gap_h",
                "reporting_ratio_min",
                "opposite_draught_change",
                "small_receiver",
                "n_missing_imo",
                "n_missing_name",
                "n_invalid_imo",
                "identity_changes_max",
                "n_flag_mismatch",
                "n_registry_of_concern",
                "n_class_b_large",
                "tanker_with_small_or_unknown",
            )
        }
    )
    assert rule_score(f).iloc[0] == 0
