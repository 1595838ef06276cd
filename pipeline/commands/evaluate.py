"""``stswatch evaluate [--model DIR] [--ablation]``: the model against the red-flag count.

Rebuilds the evaluation sets from the plan recorded in the model card
(regions and seeds never used in training): the held-out set, where both
classes are placed alike so location cannot separate them (the single-feature
ROC-AUC of every location/context column is printed to show it); the shifted
set (another region, satellite-like sparse reporting); and the reversed set
(illicit transfers inshore and in lightering zones, legitimate ones far
offshore). For each: PR-AUC, ROC-AUC, Brier score, ties and a reliability
table for the model and the rule-based score side by side. The drop-one-group
ablation is read from the card (computed by ``stswatch train`` from the same
plan), or recomputed with ``--ablation`` (rebuilds the training set too).
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
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="recompute the drop-one-group ablation (rebuilds the training set; ~1 min)",
    )


def _print_location_check(data) -> None:
    from stswatch.pipeline.scoring.columns import CONTEXT_FEATURES
    from stswatch.pipeline.scoring.evaluation import single_feature_auc

    print("  location/context alone on this set (ROC-AUC, 0.5 = no information):")
    for name, auc in single_feature_auc(data, CONTEXT_FEATURES).items():
        print(f"    {name:<26} {auc:.3f}")


def run(args: argparse.Namespace) -> int:
    from stswatch.pipeline.commands._common import fail
    from stswatch.pipeline.config import DEFAULT_CONFIG
    from stswatch.pipeline.scoring.evaluation import (
        SET_TITLES,
        format_ablation,
        format_report,
        group_ablation,
    )
    from stswatch.pipeline.scoring.persistence import (
        ModelLoadError,
        load_model,
        model_dir_default,
        read_card,
    )
    from stswatch.pipeline.scoring.rules import rule_score
    from stswatch.pipeline.scoring.training import build_set, plan_from_card

    if args.workers < 1:
        return fail("--workers must be >= 1")
    model_dir = args.model or model_dir_default()
    try:
        model = load_model(model_dir)
        card = read_card(model_dir)
    except ModelLoadError as exc:
        return fail(str(exc))
    plan = plan_from_card(card)
    print(f"model {model.version} ({model_dir})")
    print(f"trained on {', '.join(plan.train_regions)}\n")
    sets = {}
    for split, title in SET_TITLES.items():
        data = build_set(split, plan, DEFAULT_CONFIG, workers=args.workers)
        sets[split] = data
        region_list = ", ".join(data.meta["regions"])
        if len(data.labels) == 0:
            print(f"{title} ({region_list}): no events detected\n")
            continue
        proba = model.predict_proba(data.matrix)[:, 1]
        rules = rule_score(data.features, DEFAULT_CONFIG.scoring, DEFAULT_CONFIG.gaps).to_numpy()
        print(format_report(f"{title} ({region_list})", data.labels, proba, rules))
        if split == "test":
            _print_location_check(data)
        print()
    if args.store is not None:
        from stswatch.pipeline.scoring.verdict_learning import report_on_verdicts

        print(report_on_verdicts(args.store, model, card, plan, workers=max(1, args.workers)))
        print()
    if args.ablation:
        train = build_set("train", plan, DEFAULT_CONFIG, workers=args.workers)
        ablation = group_ablation(train, sets, plan)
        source = "recomputed"
    else:
        ablation = (card.get("honesty_checks") or {}).get("ablation_pr_auc") or {}
        source = "from the model card"
    if ablation:
        print(f"drop-one-group ablation, PR-AUC ({source}):")
        print(format_ablation(ablation))
    return 0
