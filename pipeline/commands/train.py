"""``stswatch train [--seed S] [--out data/model]``: rebuild the suspicion model from simulation.

The same seed always gives the same simulated days, the same detections, the
same model and the same bytes on disk (checked by ``sha256`` in the card), so
the shipped model can be reproduced and audited by anyone.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=42, help="training seed (default: 42)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            "where to write suspicion.skops and model_card.json (default: STSWATCH_MODEL_DIR, "
            "else data/model in a source checkout; an installed package's model is read-only)"
        ),
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes simulating in parallel (default: 2)"
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="DIR",
        help="also learn from the analysts' verdicts in this store (illicit/legitimate; "
        "unsure ignored); without verdicts the model is the simulation-only one",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        metavar="N",
        help="simulated windows per training region (default: the shipped plan's)",
    )


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from stswatch.pipeline.commands._common import fail
    from stswatch.pipeline.scoring.persistence import (
        DEFAULT_MODEL_DIR,
        is_source_checkout,
        model_dir_default,
    )
    from stswatch.pipeline.scoring.training import TrainingPlan, train_and_save

    if args.workers < 1:
        return fail("--workers must be >= 1")
    plan = replace(TrainingPlan(), seed=args.seed)
    if args.days is not None:
        if args.days < 1:
            return fail("--days must be >= 1")
        plan = replace(plan, days_per_region_train=args.days)
    out = args.out or model_dir_default()
    if out == DEFAULT_MODEL_DIR and not is_source_checkout():
        return fail(
            f"the shipped model in {out} is part of the installed package; "
            "write a new one with --out DIR and use it with STSWATCH_MODEL_DIR=DIR"
        )
    real = None
    if args.store is not None:
        from stswatch.pipeline.scoring.verdict_learning import store_labelled_set

        if not (args.store / "labels").is_dir():
            return fail(f"{args.store} has no verdicts (no labels/ folder): see `stswatch review`")
        real = store_labelled_set(args.store, progress=print)
        m = real.meta
        print(
            f"analysts' verdicts: {m['n_illicit']} illicit, {m['n_legitimate']} legitimate used; "
            f"{m['n_unsure_ignored']} unsure ignored; {m['n_not_found']} no longer detected"
        )
        if not len(real.labels):
            print("no usable verdicts: training on the simulation only")
            real = None
    result = train_and_save(plan, out, progress=print, workers=args.workers, real=real)
    card = result.card
    print(f"model {card['model_version']} written to {out} (sha256 {card['sha256'][:16]}...)")
    for name in ("test", "shifted", "reversed"):
        m = card["metrics"][name]
        if m["model"] is None:
            print(f"  {name}: no events")
            continue
        print(
            f"  {name:<8} PR-AUC {m['model']['pr_auc']:.3f} (rules {m['rules']['pr_auc']:.3f})  "
            f"Brier {m['model']['brier']:.3f} (rules {m['rules']['brier']:.3f})"
        )
    return 0
