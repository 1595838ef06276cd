"""``stswatch evaluate [--model DIR]``: the model against the red-flag count, held-out and shifted.

Rebuilds the held-out set (regions and seeds never used in training) and the
shifted set (another region, satellite-like sparse reporting) from the plan
recorded in the model card, and prints PR-AUC, ROC-AUC, Brier score and a
reliability table for the model and the rule-based score side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="DIR",
        help="model directory with suspicion.skops + model_card.json (default: data/model)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes simulating in parallel (default: 2)"
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="DIR",
        help="also report on the analysts' verdicts in this store (counts, cross-validated)",
    )


def run(args: argparse.Namespace) -> int:
    from stswatch.pipeline.commands._common import fail
    from stswatch.pipeline.config import DEFAULT_CONFIG
    from stswatch.pipeline.scoring.evaluation import format_report
    from stswatch.pipeline.scoring.persistence import (
        ModelLoadError,
        load_model,
        model_dir_default,
        read_card,
    )
    from stswatch.pipeline.scoring.rules import rule_score
    from stswatch.pipeline.scoring.training import build_set, plan_from_card

    model_dir = args.model or model_dir_default()
    try:
        model = load_model(model_dir)
        card = read_card(model_dir)
    except ModelLoadError as exc:
        return fail(str(exc))
    plan = plan_from_card(card)
    print(f"model {model.version} ({model_dir})")
    print(
        f"trained on {', '.join(plan.train_regions)}; held-out {', '.join(plan.test_regions)}; "
        f"shifted {', '.join(plan.shifted_regions)} with sparse (satellite-like) reporting\n"
    )
    for split, title in (("test", "held-out set"), ("shifted", "shifted set")):
        data = build_set(split, plan, DEFAULT_CONFIG, workers=max(1, args.workers))
        if len(data.labels) == 0:
            print(f"{title}: no events detected\n")
            continue
        proba = model.predict_proba(data.matrix)[:, 1]
        rules = rule_score(data.features, DEFAULT_CONFIG.scoring, DEFAULT_CONFIG.gaps).to_numpy()
        region_list = ", ".join(data.meta["regions"])
        print(format_report(f"{title} ({region_list})", data.labels, proba, rules))
        print()
    if args.store is not None:
        from stswatch.pipeline.scoring.verdict_learning import report_on_verdicts

        print(report_on_verdicts(args.store, model, card, plan, workers=max(1, args.workers)))
        print()
    checks = card.get("honesty_checks") or {}
    if checks:
        print("how much rests on single features (from the model card, held-out set):")
        for name, auc in (checks.get("single_feature_roc_auc_test_top") or {}).items():
            print(f"  {name:<28} ROC-AUC alone {auc:.3f}")
        for split, m in (checks.get("model_without_location_features") or {}).items():
            print(
                f"  model without location features, {split}: PR-AUC {m['pr_auc']:.3f}, "
                f"Brier {m['brier']:.3f}"
            )
    return 0
