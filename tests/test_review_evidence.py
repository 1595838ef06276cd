"""What verdicts and watchlist hits do to a score, and how much a verdict weighs in training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_scoring import synthetic_features

from stswatch.pipeline.config import ReviewConfig
from stswatch.pipeline.scoring.features import FEATURE_COLUMNS
from stswatch.pipeline.scoring.model import SuspicionModel, as_feature_matrix
from stswatch.pipeline.scoring.real_labels import real_label_weight
from stswatch.pipeline.scoring.review_evidence import apply_review_evidence

CFG = ReviewConfig()
T0 = pd.Timestamp("2024-03-05T12:00Z")
SPOT = (29.0, -89.5)


def events(*scores: float, start: pd.Timestamp = T0, hits: list | None = None) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame(
        {
            "event_id": [f"new{i}" for i in range(n)],
            "start_time": [start] * n,
            "mean_lat": [SPOT[0]] * n,
            "mean_lon": [SPOT[1]] * n,
            "score": list(scores),
            "reasons": [["AIS off 8 h"] for _ in range(n)],
            "watchlist_hits": [hits or [] for _ in range(n)],
        }
    )


def verdicts(*rows: tuple[str, float, pd.Timestamp]) -> pd.DataFrame:
    """(verdict, km north of the spot, event start) per earlier reviewed meeting."""
    return pd.DataFrame(
        {
            "event_id": [f"old{i}" for i in range(len(rows))],
            "verdict": [r[0] for r in rows],
            "mean_lat": [SPOT[0] + r[1] / 111.2 for r in rows],
            "mean_lon": [SPOT[1]] * len(rows),
            "event_start": [r[2] for r in rows],
        }
    )


def odds(p: float) -> float:
    return p / (1 - p)


def test_legitimate_transfers_confirmed_at_a_spot_lower_later_meetings_there() -> None:
    before = T0 - pd.Timedelta(days=3)
    one = apply_review_evidence(events(0.6), verdicts(("legitimate", 2.0, before)), CFG)
    assert odds(one["score"].iloc[0]) == pytest.approx(odds(0.6) * 0.5)
    assert one["model_score"].iloc[0] == 0.6
    assert "analysts confirmed 1 legitimate transfer(s) within 20 km" in one["reasons"].iloc[0][-1]
    many = verdicts(*[("legitimate", 1.0, before)] * 6)
    floor = apply_review_evidence(events(0.6), many, CFG)
    assert odds(floor["score"].iloc[0]) == pytest.approx(odds(0.6) * 0.25)  # never below x0.25


def test_strong_evidence_still_ranks_high_at_a_confirmed_spot() -> None:
    many = verdicts(*[("legitimate", 1.0, T0 - pd.Timedelta(days=1))] * 6)
    out = apply_review_evidence(events(0.97), many, CFG)
    assert out["score"].iloc[0] > 0.85


def test_only_earlier_nearby_decided_verdicts_count() -> None:
    later = T0 + pd.Timedelta(days=1)
    earlier = T0 - pd.Timedelta(days=1)
    labels = verdicts(
        ("legitimate", 1.0, later),  # after this meeting: a re-run must not see it
        ("legitimate", 35.0, earlier),  # 35 km away: another spot
        ("unsure", 1.0, earlier),  # no decision
        ("illicit", 1.0, earlier),  # does not raise the spot's factor above 1
    )
    out = apply_review_evidence(events(0.4), labels, CFG)
    assert out["score"].iloc[0] == 0.4
    assert (out["n_legitimate_nearby"].iloc[0], out["n_illicit_nearby"].iloc[0]) == (0, 1)


def test_watchlist_hits_multiply_the_odds_per_listed_vessel() -> None:
    exact = {"vessel": "vessel 1", "strength": "exact", "match": "imo", "list": "L",
             "listed_imo": 9187654, "listed_name": "X", "matched": "9187654"}  # fmt: skip
    name = {"vessel": "vessel 2", "strength": "name only", "match": "name", "list": "L",
            "listed_name": "Y", "matched": "Y"}  # fmt: skip
    one = apply_review_evidence(events(0.2, hits=[exact]), verdicts(), CFG)
    assert odds(one["score"].iloc[0]) == pytest.approx(odds(0.2) * 8)
    both = apply_review_evidence(events(0.2, hits=[exact, name]), verdicts(), CFG)
    assert odds(both["score"].iloc[0]) == pytest.approx(odds(0.2) * 16)
    assert both["reasons"].iloc[0][0].endswith("(odds x8)")  # strongest evidence first
    assert both["reasons"].iloc[0][1].endswith("(odds x2)")


def test_a_verdict_weighs_five_simulated_events_until_half_the_simulation() -> None:
    assert real_label_weight(400, 10, CFG) == 5.0
    assert real_label_weight(400, 100, CFG) == pytest.approx(2.0)  # 100 x 2 = half of 400
    assert real_label_weight(400, 0, CFG) == 0.0


def test_weighted_rows_pull_the_model_and_no_weights_is_the_plain_fit() -> None:
    features, y = synthetic_features(400, seed=3)
    X = as_feature_matrix(features, FEATURE_COLUMNS)
    plain = SuspicionModel(n_folds=2, max_iter=30, random_state=0).fit(X, y)
    again = SuspicionModel(n_folds=2, max_iter=30, random_state=0).fit(X, y, sample_weight=None)
    np.testing.assert_array_equal(plain.predict_proba(X), again.predict_proba(X))
    # analysts say the 20 highest-scored "illicit" rows were legitimate, with weight
    top = np.argsort(-plain.predict_proba(X)[:, 1])[:20]
    y2 = y.copy()
    y2[top] = 0
    w = np.ones(len(y))
    w[top] = 5.0
    light = SuspicionModel(n_folds=2, max_iter=30, random_state=0).fit(X, y2)
    heavy = SuspicionModel(n_folds=2, max_iter=30, random_state=0).fit(X, y2, sample_weight=w)
    assert heavy.predict_proba(X)[top, 1].mean() < light.predict_proba(X)[top, 1].mean()
