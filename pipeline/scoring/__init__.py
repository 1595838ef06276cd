"""Suspicion scoring of rendezvous events (scikit-learn).

:func:`score_events` is what the spine calls: features per event
(:mod:`.features`), a calibrated probability from the shipped
:class:`~.model.SuspicionModel` (:mod:`.persistence` loads it safely), and the
top contributing factors in plain words (:mod:`.reasons`). The rule-based
yardstick lives in :mod:`.rules`; training and evaluation on simulated data in
:mod:`.training` and :mod:`.evaluation`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stswatch.pipeline.scoring.features import (
    FEATURE_COLUMNS,
    compute_features,
    features_from_result,
)
from stswatch.pipeline.scoring.model import SuspicionModel, as_feature_matrix
from stswatch.pipeline.scoring.persistence import ModelLoadError, load_default_model, load_model
from stswatch.pipeline.scoring.reasons import explain, indicator_group_columns
from stswatch.pipeline.scoring.rules import rule_score

__all__ = [
    "FEATURE_COLUMNS",
    "ModelLoadError",
    "SuspicionModel",
    "compute_features",
    "features_from_result",
    "load_model",
    "rule_score",
    "score_events",
    "score_features",
]

SCORE_COLUMNS = ("score", "reasons", "model_version")


def score_features(features: pd.DataFrame, model: SuspicionModel) -> pd.DataFrame:
    """``score``, ``reasons`` and ``model_version`` for a feature frame (same index)."""
    if features.empty:
        return pd.DataFrame(
            {
                "score": pd.Series(dtype=np.float64),
                "reasons": pd.Series(dtype=object),
                "model_version": pd.Series(dtype=object),
            },
            index=features.index,
        )
    columns = [str(c) for c in model.feature_names_in_]
    X = as_feature_matrix(features, columns)
    score = model.predict_proba(X)[:, -1]
    # each feature alone, then each indicator group: one model pass for both
    m = len(columns)
    effects = model.group_contributions(
        X, [[j] for j in range(m)] + indicator_group_columns(columns)
    )
    reasons = explain(features, effects[:, :m], columns, group_contributions=effects[:, m:])
    return pd.DataFrame(
        {
            "score": score.astype(np.float64),
            "reasons": pd.Series(reasons, index=features.index, dtype=object),
            "model_version": model.version,
        },
        index=features.index,
    )


def score_events(
    result: Any,
    vessels: pd.DataFrame | None,
    *,
    history: pd.DataFrame | None = None,
    model: SuspicionModel | str | Path | None = None,
    cfg: Any = None,
) -> pd.DataFrame:
    """The ranked event frame of ``result`` (``kind`` rendezvous and dark_rendezvous
    alike) plus ``score`` (calibrated probability of an illicit transfer, 0..1),
    ``reasons`` (plain words: the strongest evidence first, then one ``context:``
    line) and ``model_version``.

    ``vessels``: static reports (VESSEL_SCHEMA) of the window, for draught and
    identity history. ``history``: past rendezvous (``event_id``, ``mean_lat``,
    ``mean_lon``) so that recurring hotspots are recognised. ``model``: a fitted
    :class:`SuspicionModel` or a path to one; None loads the shipped model from
    ``data/model/`` (once, cached). An empty rendezvous frame returns an empty
    frame with the three columns added.
    """
    rendezvous = result.rendezvous.reset_index(drop=True)
    if rendezvous.empty:
        out = rendezvous.copy()
        out["score"] = pd.Series(dtype=np.float64)
        out["reasons"] = pd.Series(dtype=object)
        out["model_version"] = pd.Series(dtype=object)
        return out
    if model is None:
        model = load_default_model()
    elif isinstance(model, str | Path):
        model = load_default_model(model)
    features = features_from_result(result, vessels, history=history, cfg=cfg)
    scored = score_features(features, model)
    out = rendezvous.copy()
    for col in SCORE_COLUMNS:
        out[col] = scored[col].to_numpy()
    return out
