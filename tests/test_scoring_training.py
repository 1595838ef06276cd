"""Training data: truth matching, disjoint sets, and the reproducible `stswatch train`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from stswatch.pipeline.cli import build_parser
from stswatch.pipeline.scoring.training import TrainingPlan, match_truth, plan_from_card

T = pd.Timestamp("2024-01-15T00:00Z")
H = pd.Timedelta(hours=1)


def _truth(*rows):
    return pd.DataFrame(
        rows, columns=["mmsi_a", "mmsi_b", "start_time", "end_time", "is_rendezvous", "is_illicit"]
    ).astype({"mmsi_a": "Int64", "mmsi_b": "Int64", "is_illicit": "boolean"})


def _detected(*rows):
    return pd.DataFrame(rows, columns=["mmsi_a", "mmsi_b", "start_time", "end_time"])


def test_detection_is_labelled_by_its_pair_and_an_overlapping_time():
    truth = _truth(
        (100, 200, T, T + 6 * H, True, True),  # illicit
        (300, 400, T, T + 6 * H, True, False),  # legitimate lightering
        (500, None, T, T + 6 * H, False, None),  # anchorage crowd: no pair
    )
    detected = _detected(
        (100, 200, T + 1 * H, T + 5 * H),  # matches the illicit one
        (300, 400, T + 2 * H, T + 3 * H),  # matches the legitimate one
        (100, 200, T + 20 * H, T + 24 * H),  # same pair, another day: no match
        (700, 900, T, T + 3 * H),  # a decoy the detector let through
    )
    labels, matched = match_truth(detected, truth)
    assert labels.tolist() == [1, 0, 0, 0]
    assert matched.tolist() == [True, True, False, False]


def test_wrong_partner_of_a_vessel_in_an_illicit_transfer_is_still_illicit():
    # a dark pairing that picked vessel 900 instead of the real (dark) partner 200:
    # vessel 100 was transferring illicitly at the time, so the event's evidence is illicit
    truth = _truth((100, 200, T, T + 6 * H, False, True), (300, 400, T, T + 6 * H, True, False))
    detected = _detected((100, 900, T + 1 * H, T + 5 * H), (300, 901, T + 1 * H, T + 5 * H))
    labels, matched = match_truth(detected, truth)
    assert labels.tolist() == [1, 0] and matched.tolist() == [False, False]


def test_pair_order_does_not_matter_for_matching():
    truth = _truth((200, 100, T, T + 6 * H, True, True))
    labels, _ = match_truth(_detected((100, 200, T, T + 2 * H)), truth)
    assert labels.tolist() == [1]


def test_train_test_and_shifted_sets_share_no_seed_and_no_region():
    plan = TrainingPlan()
    jobs = {split: plan.jobs(split) for split in ("train", "test", "shifted")}
    seeds = {split: {s for s, _, _ in j} for split, j in jobs.items()}
    regions = {split: {r for _, r, _ in j} for split, j in jobs.items()}
    for a, b in (("train", "test"), ("train", "shifted"), ("test", "shifted")):
        assert not seeds[a] & seeds[b], (a, b)
        assert not regions[a] & regions[b], (a, b)
    assert all(sparse for _, _, sparse in jobs["shifted"])
    assert not any(sparse for _, _, sparse in jobs["train"] + jobs["test"])


def test_plan_round_trips_through_the_card_json():
    from dataclasses import asdict

    plan = TrainingPlan(seed=7, train_regions=("fiji",))
    card = json.loads(json.dumps({"training": {"plan": asdict(plan)}}))
    assert plan_from_card(card) == plan


def test_cli_exposes_train_and_evaluate():
    args = build_parser().parse_args(["train", "--seed", "5", "--out", "m"])
    assert args.seed == 5 and str(args.out) == "m"
    args = build_parser().parse_args(["evaluate", "--model", "m"])
    assert str(args.model) == "m"


TINY = TrainingPlan(
    seed=3,
    train_regions=("gulf_of_mexico",),
    test_regions=("west_africa",),
    shifted_regions=("malacca",),
    days_per_region_train=2,
    days_per_region_test=1,
    days_per_region_shifted=1,
    n_background_vessels=10,
    n_illicit_rendezvous=4,
    n_legit_transfers=4,
    n_days=1,
)


@pytest.mark.e2e
def test_training_twice_from_the_same_seed_gives_identical_bytes(tmp_path, capsys):
    """Simulator -> cleaner -> detector -> features -> model, twice: same file, same card."""
    from stswatch.pipeline.scoring.persistence import CARD_FILE, MODEL_FILE, load_model
    from stswatch.pipeline.scoring.training import train_and_save

    one = train_and_save(TINY, tmp_path / "one", workers=1)
    train_and_save(TINY, tmp_path / "two", workers=2)
    assert (tmp_path / "one" / MODEL_FILE).read_bytes() == (
        tmp_path / "two" / MODEL_FILE
    ).read_bytes()
    assert (tmp_path / "one" / CARD_FILE).read_bytes() == (
        tmp_path / "two" / CARD_FILE
    ).read_bytes()
    assert one.train.meta["n_events"] > 0 and 0 < one.train.labels.sum() < len(one.train.labels)
    model = load_model(tmp_path / "one")
    np.testing.assert_array_equal(
        model.predict_proba(one.test.matrix), one.model.predict_proba(one.test.matrix)
    )
    # `stswatch evaluate` rebuilds the held-out and shifted sets from the card's plan
    from stswatch.pipeline.cli import main

    capsys.readouterr()
    assert main(["evaluate", "--model", str(tmp_path / "one"), "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "held-out set, location decoupled (west_africa)" in text
    assert "shifted set, sparse reporting (malacca)" in text and "reversed set" in text
    assert text.count("PR-AUC") >= 3 and "reliability" in text and "tied" in text
    assert "location/context alone on this set" in text
    assert "drop-one-group ablation" in text and "without identity" in text
