"""Metrics that say whether the suspicion score is worth more than a checklist.

PR-AUC (average precision) is the headline: illicit events are rare and the
analyst reads the top of the ranking, so precision at high recall matters more
than ROC-AUC. The Brier score and the reliability table check calibration: a
score of 0.8 should be right about 80% of the time. Every metric is printed
for the model *and* for the rule-based red-flag count on the same events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

#: Reliability bins (equal width on the probability scale).
N_BINS = 5


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


def _fmt(x: float) -> str:
    return "   n/a" if not np.isfinite(x) else f"{x:6.3f}"


def format_report(name: str, y_true: np.ndarray, model_score: np.ndarray, rule: np.ndarray) -> str:
    """Side-by-side text block: metrics and reliability of the model vs the rules."""
    m, r = metrics(y_true, model_score), metrics(y_true, rule)
    lines = [
        f"{name}: {m.n_events} events, {m.n_positive} illicit",
        f"  {'metric':<10} {'model':>8} {'rules':>8}",
        f"  {'PR-AUC':<10} {_fmt(m.pr_auc):>8} {_fmt(r.pr_auc):>8}",
        f"  {'ROC-AUC':<10} {_fmt(m.roc_auc):>8} {_fmt(r.roc_auc):>8}",
        f"  {'Brier':<10} {_fmt(m.brier):>8} {_fmt(r.brier):>8}",
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
