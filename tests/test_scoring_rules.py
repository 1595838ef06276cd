"""The rule-based yardstick: a transparent count of red flags."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers_scoring import day_of_pings, rendezvous_frame, rendezvous_row

from stswatch.pipeline.scoring.features import compute_features
from stswatch.pipeline.scoring.rules import RED_FLAGS, red_flags, rule_score


def test_clean_meeting_at_a_busy_lightering_spot_scores_zero():
    rows = [rendezvous_row(event_id=f"e{i}", mean_lat=10 + i * 0.01) for i in range(3)]
    rows = [{**r, "min_distance_to_port_m": 20_000.0} for r in rows]  # near port, recurring
    f = compute_features(rendezvous_frame(*rows), day_of_pings(), None)
    assert rule_score(f).tolist() == [0.0, 0.0, 0.0]


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
        "dark_before": {"gap_before_max_h": 9.0},
        "dark_after": {"gap_after_max_h": 7.0},
        "reporting_drop": {"reporting_ratio_min": 0.2},
        "remote": {"distance_to_port_m": 200_000.0},
        "one_off_spot": {"recurrence_count": 0.0},
        "night": {"night_share": 0.9},
        "cargo_moved": {"opposite_draught_change": 1.0},
        "missing_identity": {"n_missing_imo": 1.0},
        "flag_of_convenience": {"n_flag_of_convenience": 1.0},
        "class_b_large": {"n_class_b_large": 1.0},
        "odd_pair": {"tanker_with_small_or_unknown": 1.0},
        "identity_changes": {"identity_changes_max": 2.0},
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
                "gap_before_max_h",
                "gap_after_max_h",
                "reporting_ratio_min",
                "distance_to_port_m",
                "recurrence_count",
                "night_share",
                "opposite_draught_change",
                "n_missing_imo",
                "n_missing_name",
                "n_flag_of_convenience",
                "n_class_b_large",
                "tanker_with_small_or_unknown",
                "identity_changes_max",
            )
        }
    )
    assert rule_score(f).iloc[0] == 0
