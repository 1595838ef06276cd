"""``stswatch evaluate [--model DIR] [--ablation]``: the model against the red-flag count.

Rebuilds the evaluation sets from the plan recorded in the model card
(regions and seeds never used in training): the held-out set, where both
classes are placed alike so location cannot separate them (the single-feature
ROC-AUC of every location/context column is printed to show it); the shifted
set (another region, satellite-like sparse reporting); and the reversed set
(illicit transfers inshore and in lightering zones, legitimate ones far
offshore). For each: PR-AUC, ROC-AUC, Brier score, ties and a reliability
table for the model and the rule-based score side by side. ``--real FILE...``
also scores real AIS files (no labels: the score and reasons per event, to
read against what is known about them). The drop-one-group
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
        "--real",
        type=Path,
        nargs="+",
        default=None,
        metavar="FILE",
        help=(
            "also score real AIS files (any format stswatch reads; no labels): each event's "
            "score and reasons, e.g. the GFW encounter fixture"
        ),
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


def score_real_files(paths: list[Path], model) -> list[str]:
    """Ingest (in memory), detect and score real files: one line per event, reasons below."""
    import pyarrow as pa

    from stswatch.pipeline.cleaning import clean
    from stswatch.pipeline.detection import detect_frames
    from stswatch.pipeline.readers import read_any
    from stswatch.pipeline.scoring import score_events

    tables = [b.observations for p in paths for b in read_any(p)]
    cleaned = clean(pa.concat_tables(tables))
    result = detect_frames(cleaned.positions.to_pandas(), cleaned.vessels.to_pandas())
    scored = score_events(result, result.vessels, model=model)
    lines = [f"real AIS ({', '.join(p.name for p in paths)}): {len(scored)} events, no labels"]
    for r in scored.sort_values("score", ascending=False).itertuples():
        lines.append(
            f"  {r.score:.3f} {getattr(r, 'kind', 'rendezvous')} {r.mmsi_a}-{r.mmsi_b} "
            f"{r.start_time:%Y-%m-%d %H:%M}-{r.end_time:%H:%M} UTC, {r.duration_h:.1f} h"
        )
        lines.extend(f"      {reason}" for reason in r.reasons)
    return lines


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
    if args.real:
        missing = [p for p in args.real if not p.is_file()]
        if missing:
            return fail(f"no such file: {missing[0]}")
        print("\n".join(score_real_files(list(args.real), model)))
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
