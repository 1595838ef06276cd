"""Learning from analysts' verdicts: real events' features, and metrics on them.

**Where the feature vectors come from.** They are *recomputed from the
store's days*, through the same path a publish step takes (detect the day
with its neighbours, read the causal history, compute features), not stored
with the event history. Reasons: features change meaning when the scoring
code changes (issue 14 replaced most of them), and a stored vector from an
older version would train the new model on columns that no longer mean what
they say; recomputing always gives the vector the current code would score
at run time. The cost is one detection per labelled day (seconds each), and
the store must still hold those days: a verdict whose event is no longer
detected (data removed, detector changed) is counted and skipped, never
guessed.

Labels: ``illicit`` = 1, ``legitimate`` = 0; ``unsure`` is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from stswatch.pipeline.config import DEFAULT_CONFIG, Config
from stswatch.pipeline.scoring.training import LabelledSet

LEARNED_VERDICTS = ("illicit", "legitimate")


def store_labelled_set(
    store_root: Path | str, cfg: Config = DEFAULT_CONFIG, progress: Callable | None = None
) -> LabelledSet:
    """Features and labels of every event an analyst called illicit or legitimate."""
    from stswatch.pipeline.detection import detect_range
    from stswatch.pipeline.event_history import read_history
    from stswatch.pipeline.scoring.features import features_from_result
    from stswatch.pipeline.storage import Store
    from stswatch.pipeline.verdicts import latest_verdicts

    say = progress or (lambda _msg: None)
    latest = latest_verdicts(store_root)
    used = latest[latest["verdict"].isin(LEARNED_VERDICTS)]
    by_day: dict[date, list[str]] = {}
    for event_id, start in zip(used["event_id"], used["event_start"], strict=True):
        by_day.setdefault(pd.Timestamp(start).date(), []).append(str(event_id))
    store = Store(store_root)
    frames = []
    for day in sorted(by_day):
        say(f"  recomputing features of {len(by_day[day])} reviewed event(s) on {day}")
        result = detect_range(store.root, day, day, cfg)
        history = read_history(store, day, cfg.scoring.recurrence_lookback_days)
        features = features_from_result(result, result.vessels, history=history, cfg=cfg)
        ids = result.rendezvous["event_id"].astype(str).to_numpy()
        wanted = np.isin(ids, by_day[day])
        frames.append(features[wanted].assign(event_id=ids[wanted]))
    features = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    verdict = used.set_index("event_id")["verdict"]
    labels = (
        (features["event_id"].map(verdict) == "illicit").to_numpy(int)
        if len(features)
        else np.zeros(0, int)
    )
    meta = {
        "store": str(Path(store_root).absolute()),
        "n_verdicts": len(latest),
        "n_unsure_ignored": int((latest["verdict"] == "unsure").sum()),
        "n_used": len(labels),
        "n_illicit": int(labels.sum()),
        "n_legitimate": int(len(labels) - labels.sum()),
        "n_not_found": int(len(used) - len(labels)),
        "days": [str(d) for d in sorted(by_day)],
    }
    return LabelledSet(features.reset_index(drop=True), labels, meta)


def cross_validated_on_verdicts(
    simulated: LabelledSet,
    real: LabelledSet,
    plan: object,
    cfg: Config = DEFAULT_CONFIG,
    *,
    max_folds: int = 5,
) -> tuple[np.ndarray, int] | None:
    """Out-of-fold probabilities for the analysts' labels, and the number of folds.

    Each fold's model is trained on the simulated training set plus the
    *other* folds' verdicts (weighted as in ``stswatch train --store``) and
    scores the held-out fold's events, so no verdict is ever scored by a
    model that saw it. None when there are fewer than two verdicts of each
    kind (nothing to cross-validate).
    """
    from sklearn.model_selection import StratifiedKFold

    from stswatch.pipeline.scoring.real_labels import real_label_weights
    from stswatch.pipeline.scoring.training import fit_model

    y = real.labels
    n_min = int(min(y.sum(), len(y) - y.sum())) if len(y) else 0
    if n_min < 2:
        return None
    folds = min(max_folds, n_min)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=plan.seed)
    out = np.full(len(y), np.nan)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        part = LabelledSet(
            real.features.iloc[train_idx].reset_index(drop=True), y[train_idx], real.meta
        )
        weights = real_label_weights(simulated, part, cfg.review)
        model = fit_model(simulated, plan, extra=part, sample_weight=weights)
        held = LabelledSet(real.features.iloc[test_idx].reset_index(drop=True), y[test_idx])
        out[test_idx] = model.predict_proba(held.matrix)[:, 1]
    return out, folds


def report_on_verdicts(
    store_root: Path | str, model: object, card: dict, plan: object, *, workers: int = 2
) -> str:
    """``stswatch evaluate --store``: the analysts' labels, counted and cross-validated.

    Three blocks: the counts; the model being evaluated on every verdict (an
    in-sample figure when it was trained with them, said so); and
    cross-validated figures of the simulated training set plus verdicts, beside
    the rule-based score on the same events.
    """
    from stswatch.pipeline.scoring.evaluation import format_report
    from stswatch.pipeline.scoring.rules import rule_score
    from stswatch.pipeline.scoring.training import build_set

    cfg = DEFAULT_CONFIG
    real = store_labelled_set(store_root, cfg)
    m = real.meta
    lines = [
        f"analysts' verdicts in {m['store']}: {m['n_verdicts']} reviewed events; "
        f"{m['n_illicit']} illicit and {m['n_legitimate']} legitimate used, "
        f"{m['n_unsure_ignored']} unsure ignored, {m['n_not_found']} no longer detected",
    ]
    if not len(real.labels):
        return "\n".join([*lines, "  nothing to evaluate on"])
    rules = rule_score(real.features, cfg.scoring, cfg.gaps).to_numpy()
    trained_with = (card.get("training") or {}).get("analysts_verdicts")
    label = "this model on every verdict" + (
        f" (in-sample: it was trained with {trained_with['n_used']} of them)"
        if trained_with
        else " (not trained on them)"
    )
    proba = model.predict_proba(real.matrix)[:, 1]
    lines += ["", format_report(label, real.labels, proba, rules)]
    simulated = build_set("train", plan, cfg, workers=workers)
    cv = cross_validated_on_verdicts(simulated, real, plan, cfg)
    if cv is None:
        lines += ["", "cross-validation needs at least 2 illicit and 2 legitimate verdicts"]
    else:
        oof, folds = cv
        title = f"{folds}-fold cross-validated on the verdicts (simulation + other folds)"
        lines += ["", format_report(title, real.labels, oof, rules)]
    return "\n".join(lines)
