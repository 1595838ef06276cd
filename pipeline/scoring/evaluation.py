"""Metrics that say whether the suspicion score is worth more than a checklist.

PR-AUC (average precision) is the headline: illicit events are rare and the
analyst reads the top of the ranking, so precision at high recall matters more
than ROC-AUC. The Brier score and the reliability table check calibration: a
score of 0.8 should be right about 80% of the time; the tie count checks that
scores still rank (a pile of events at 1.0 tells an analyst nothing about
which to open first). Every metric is printed for the model *and* for the
rule-based red-flag count on the same events.

The honesty checks (:func:`honesty_checks`) ask what the result rests on:
single-feature ROC-AUC on the held-out set (location features near 0.5 prove
that the set does not reward learning location) and a drop-one-group
ablation (PR-AUC of a model retrained without each indicator group, and of
one retrained *with* the location/context columns added).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

#: Reliability bins (equal width on the probability scale).
N_BINS = 5
#: Scores are shown to analysts with three decimals: ties are counted at that precision.
TIE_DECIMALS = 3
#: Evaluation sets in report order, with their titles.
SET_TITLES = {
    "test": "held-out set, location decoupled",
    "shifted": "shifted set, sparse reporting",
    "reversed": "reversed set, illicit inshore/in zones, legitimate far offshore",
}


@dataclass(frozen=True)
class Metrics:
    """Scores of one ranking on one labelled set."""

    n_events: int
    n_positive: int
    pr_auc: float
    roc_auc: float
    brier: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n_events": self.n_events,
            "n_positive": self.n_positive,
            "pr_auc": round(self.pr_auc, 4),
            "roc_auc": round(self.roc_auc, 4),
            "brier": round(self.brier, 4),
        }


def metrics(y_true: np.ndarray, score: np.ndarray) -> Metrics:
    """PR-AUC, ROC-AUC and Brier of a 0..1 score (NaN where a set has one class)."""
    y = np.asarray(y_true).astype(int)
    s = np.clip(np.asarray(score, dtype=np.float64), 0.0, 1.0)
    both = 0 < y.sum() < len(y)
    return Metrics(
        n_events=len(y),
        n_positive=int(y.sum()),
        pr_auc=float(average_precision_score(y, s)) if both else float("nan"),
        roc_auc=float(roc_auc_score(y, s)) if both else float("nan"),
        brier=float(brier_score_loss(y, s, pos_label=1)) if len(y) else float("nan"),
    )


def reliability_table(y_true: np.ndarray, score: np.ndarray, n_bins: int = N_BINS) -> pd.DataFrame:
    """Per score bin: events, mean predicted probability, observed illicit share."""
    y = np.asarray(y_true).astype(float)
    s = np.clip(np.asarray(score, dtype=np.float64), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(s, edges[1:-1], right=False), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = idx == b
        rows.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "n": int(sel.sum()),
                "mean_score": float(s[sel].mean()) if sel.any() else float("nan"),
                "observed": float(y[sel].mean()) if sel.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def tie_counts(score: np.ndarray, decimals: int = TIE_DECIMALS) -> dict[str, int]:
    """How much a score piles up: events sharing their shown value with another event.

    ``tied``: events whose score (at ``decimals``) is shared; ``largest_tie``:
    the biggest group; ``at_top``: events shown as 1.000; ``distinct``: values.
    """
    s = np.round(np.asarray(score, dtype=np.float64), decimals)
    if s.size == 0:
        return {"n_events": 0, "distinct": 0, "tied": 0, "largest_tie": 0, "at_top": 0}
    _, counts = np.unique(s, return_counts=True)
    return {
        "n_events": int(s.size),
        "distinct": int(counts.size),
        "tied": int(counts[counts > 1].sum()),
        "largest_tie": int(counts.max()),
        "at_top": int((s >= 1.0).sum()),
    }


def single_feature_auc(data: Any, columns: tuple[str, ...] | list[str]) -> dict[str, float]:
    """ROC-AUC of each column alone (either direction: max(auc, 1 - auc)); NaN as the median."""
    y = np.asarray(data.labels)
    if not 0 < y.sum() < len(y):
        return {}
    out = {}
    for c in columns:
        x = pd.to_numeric(data.features[c], errors="coerce").astype(float)
        x = x.fillna(x.median() if x.notna().any() else 0.0).to_numpy()
        auc = float(roc_auc_score(y, x))
        out[c] = round(max(auc, 1.0 - auc), 3)
    return out


def group_ablation(train: Any, evaluation: dict[str, Any], plan: Any) -> dict[str, dict]:
    """PR-AUC on each evaluation set of models retrained without each feature group.

    Rows: ``all features`` (the shipped configuration), ``without <group>``
    for each of :data:`~.columns.FEATURE_GROUPS`, and ``with location/context
    added`` (the context columns as extra inputs): if location carried the
    label, adding it would raise PR-AUC; dropping an evidence group that the
    model relies on lowers it.
    """
    from stswatch.pipeline.scoring.columns import CONTEXT_FEATURES, FEATURE_COLUMNS, FEATURE_GROUPS
    from stswatch.pipeline.scoring.model import as_feature_matrix
    from stswatch.pipeline.scoring.training import fit_model

    variants: dict[str, tuple[str, ...]] = {"all features": FEATURE_COLUMNS}
    for group, cols in FEATURE_GROUPS.items():
        variants[f"without {group}"] = tuple(c for c in FEATURE_COLUMNS if c not in cols)
    variants["with location/context added"] = FEATURE_COLUMNS + CONTEXT_FEATURES
    out: dict[str, dict] = {}
    for name, cols in variants.items():
        model = fit_model(train, plan, columns=cols)
        row = {}
        for split, data in evaluation.items():
            if len(data.labels):
                proba = model.predict_proba(as_feature_matrix(data.features, cols))[:, 1]
                row[split] = round(metrics(data.labels, proba).pr_auc, 4)
        out[name] = row
    return out


def set_metrics(model: Any, data: Any, cfg: Any = None) -> dict:
    """Model and rule-based metrics, ties and reliability on one labelled set (card and CLI)."""
    from stswatch.pipeline.config import DEFAULT_CONFIG
    from stswatch.pipeline.scoring.rules import rule_score

    cfg = cfg or DEFAULT_CONFIG
    if len(data.labels) == 0:
        return {"model": None, "rules": None}
    proba = model.predict_proba(data.matrix)[:, 1]
    rules = rule_score(data.features, cfg.scoring, cfg.gaps).to_numpy()
    return {
        "model": metrics(data.labels, proba).as_dict(),
        "rules": metrics(data.labels, rules).as_dict(),
        "ties": {"model": tie_counts(proba), "rules": tie_counts(rules)},
        "reliability_model": reliability_table(data.labels, proba).round(3).to_dict("records"),
    }


def honesty_checks(model: Any, sets: dict[str, Any], plan: Any, cfg: Any = None) -> dict:
    """What the result rests on: single features on the held-out set, and the group ablation."""
    from stswatch.pipeline.scoring.columns import CONTEXT_FEATURES, FEATURE_COLUMNS

    test = sets["test"]
    single = single_feature_auc(test, FEATURE_COLUMNS)
    evaluation = {k: v for k, v in sets.items() if k != "train"}
    return {
        "location_single_feature_roc_auc_test": single_feature_auc(test, CONTEXT_FEATURES),
        "single_feature_roc_auc_test_top": dict(sorted(single.items(), key=lambda kv: -kv[1])[:6]),
        "ablation_pr_auc": group_ablation(sets["train"], evaluation, plan),
    }


def _fmt(x: float) -> str:
    return "   n/a" if not np.isfinite(x) else f"{x:6.3f}"


def format_report(name: str, y_true: np.ndarray, model_score: np.ndarray, rule: np.ndarray) -> str:
    """Side-by-side text block: metrics, ties and reliability of the model vs the rules."""
    m, r = metrics(y_true, model_score), metrics(y_true, rule)
    tm_ties, tr_ties = tie_counts(model_score), tie_counts(rule)
    lines = [
        f"{name}: {m.n_events} events, {m.n_positive} illicit",
        f"  {'metric':<10} {'model':>8} {'rules':>8}",
        f"  {'PR-AUC':<10} {_fmt(m.pr_auc):>8} {_fmt(r.pr_auc):>8}",
        f"  {'ROC-AUC':<10} {_fmt(m.roc_auc):>8} {_fmt(r.roc_auc):>8}",
        f"  {'Brier':<10} {_fmt(m.brier):>8} {_fmt(r.brier):>8}",
        f"  {'tied':<10} {tm_ties['tied']:>8} {tr_ties['tied']:>8}   "
        f"(events sharing a 3-decimal score; largest tie {tm_ties['largest_tie']} / "
        f"{tr_ties['largest_tie']}; at 1.000: {tm_ties['at_top']} / {tr_ties['at_top']})",
        "  reliability (score bin: n, mean score -> observed illicit share)",
        f"  {'bin':<9} {'model':>26}   {'rules':>26}",
    ]
    tm, tr = reliability_table(y_true, model_score), reliability_table(y_true, rule)
    for (_, a), (_, b) in zip(tm.iterrows(), tr.iterrows(), strict=True):
        lines.append(
            f"  {a['bin']:<9} {a['n']:>5} {_fmt(a['mean_score'])} -> {_fmt(a['observed'])}"
            f"   {b['n']:>5} {_fmt(b['mean_score'])} -> {_fmt(b['observed'])}"
        )
    return "\n".join(lines)


def format_ablation(ablation: dict[str, dict]) -> str:
    """The ablation table: one row per variant, PR-AUC per evaluation set."""
    splits = list(next(iter(ablation.values())).keys()) if ablation else []
    lines = [f"  {'model':<30} " + " ".join(f"{s:>9}" for s in splits)]
    for name, row in ablation.items():
        lines.append(
            f"  {name:<30} " + " ".join(f"{row.get(s, float('nan')):>9.3f}" for s in splits)
        )
    return "\n".join(lines)
