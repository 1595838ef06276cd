"""Analysts' verdicts as training rows: how much one real label weighs against the simulation.

Weighting (``ReviewConfig``): each verdict on a real event weighs
``real_label_weight`` (5) simulated events, because real labels are scarce
and are the only ones drawn from the sea itself; but all of them together
never weigh more than ``max_real_label_share`` (0.5) of the simulated
training set, so a few hundred verdicts from one area or one analyst cannot
drown the behaviours only the simulator covers:

    w = min(real_label_weight, max_real_label_share * n_simulated / n_real)

Simulated rows weigh 1. ``unsure`` verdicts never get here (no label), and
real rows only ever join the *training* set: the held-out and shifted sets
stay purely simulated, so their figures remain comparable across models.
"""

from __future__ import annotations

import numpy as np

from stswatch.pipeline.config import ReviewConfig
from stswatch.pipeline.scoring.training import LabelledSet


def real_label_weight(n_simulated: int, n_real: int, cfg: ReviewConfig) -> float:
    """The weight of one analyst's verdict (see the module docstring)."""
    if n_real == 0:
        return 0.0
    return float(min(cfg.real_label_weight, cfg.max_real_label_share * n_simulated / n_real))


def real_label_weights(simulated: LabelledSet, real: LabelledSet, cfg: ReviewConfig) -> np.ndarray:
    """Sample weights of ``LabelledSet.concat(simulated, real)``: 1 per simulated row, then w."""
    w = real_label_weight(len(simulated.labels), len(real.labels), cfg)
    return np.concatenate([np.ones(len(simulated.labels)), np.full(len(real.labels), w)])
