"""Evidence the model cannot learn from simulation: watchlist hits and analysts' verdicts at a spot.

Both enter as a documented **likelihood-ratio update of the calibrated
probability** (Bayes' rule on the odds), applied after the model:

    odds(score) = odds(model_score) x LR_watchlist x LR_spot

* ``LR_watchlist``: per vessel, its strongest hit: an exact IMO/MMSI match
  multiplies the odds by ``ReviewConfig.watchlist_exact_likelihood_ratio``
  (8), a name-only match by ``watchlist_name_likelihood_ratio`` (2); both
  vessels listed multiply both factors. Several lists naming one vessel are
  one fact, not several, so they count once.
* ``LR_spot``: analysts' verdicts on *earlier* meetings (by event start) within
  ``spot_radius_m``: ``(1 + n_illicit) / (1 + n_legitimate)`` clipped to
  ``[min_legitimate_spot_factor, 1]``. A spot where transfers were confirmed
  legitimate (a lightering area nobody listed) makes later meetings there
  less suspicious; the floor keeps strong evidence of their own (a dark
  partner, a draught change without port call) able to rank them high
  anyway. Confirmed illicit meetings do not raise a spot's factor above 1:
  an illicit transfer implicates vessels, not the sea they met in.

Why not model features: a simulator that put listed vessels into illicit
meetings would only teach the model the rule we wrote into it (the answer
encoded in the data), and no simulated day has analysts' verdicts. The update
assumes the evidence is independent of the model's features given the class,
the usual naive-Bayes caveat; the factors are shown in the reasons so an
analyst can undo them in their head. ``model_score`` keeps the model's own
probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stswatch.geo.distance import haversine_m
from stswatch.pipeline.config import ReviewConfig
from stswatch.pipeline.screening import EXACT, hit_text, strongest_per_vessel

#: Probabilities are kept inside this margin before taking odds (an isotonic
#: calibration can return exactly 0 or 1).
_P_EPS = 1e-4


def spot_verdict_counts(
    events: pd.DataFrame, labels: pd.DataFrame, radius_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(legitimate, illicit) verdicts on earlier events within ``radius_m`` of each event.

    Causal by event time: only events that *started* before this one count, so
    re-running a day later does not score it against verdicts on meetings that
    happened after it; an event's own verdict never counts for itself.
    """
    n = len(events)
    legit, illicit = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    if n == 0 or labels.empty:
        return legit, illicit
    lab = labels[labels["verdict"].isin(("legitimate", "illicit"))]
    lab = lab.dropna(subset=["mean_lat", "mean_lon", "event_start"])
    if lab.empty:
        return legit, illicit
    starts = pd.to_datetime(events["start_time"], utc=True).to_numpy()
    lab_start = pd.to_datetime(lab["event_start"], utc=True).to_numpy()
    ids = events["event_id"].astype(str).to_numpy()
    lab_ids = lab["event_id"].astype(str).to_numpy()
    is_legit = (lab["verdict"] == "legitimate").to_numpy()
    lat, lon = events["mean_lat"].to_numpy(float), events["mean_lon"].to_numpy(float)
    for i in range(n):  # events x labels, small (a run's events, a store's verdicts)
        near = haversine_m(lat[i], lon[i], lab["mean_lat"].to_numpy(), lab["mean_lon"].to_numpy())
        count = (near <= radius_m) & (lab_start < starts[i]) & (lab_ids != ids[i])
        legit[i] = int(np.count_nonzero(count & is_legit))
        illicit[i] = int(np.count_nonzero(count & ~is_legit))
    return legit, illicit


def watchlist_factors(hits: Any, cfg: ReviewConfig) -> list[tuple[dict[str, Any], float]]:
    """Each listed vessel's strongest hit with its likelihood ratio (empty without hits)."""
    if not isinstance(hits, list) or not hits:
        return []
    out = []
    for vessel, strength in strongest_per_vessel(hits).items():
        hit = next(h for h in hits if h["vessel"] == vessel and h["strength"] == strength)
        exact = strength == EXACT
        ratio = (
            cfg.watchlist_exact_likelihood_ratio if exact else cfg.watchlist_name_likelihood_ratio
        )
        out.append((hit, ratio))
    return out


def watchlist_likelihood_ratio(hits: Any, cfg: ReviewConfig) -> float:
    """The product over the two vessels of their strongest hit's ratio (1 without hits)."""
    return float(np.prod([ratio for _, ratio in watchlist_factors(hits, cfg)]))


def spot_likelihood_ratio(n_legit: int, n_illicit: int, cfg: ReviewConfig) -> float:
    return float(np.clip((1 + n_illicit) / (1 + n_legit), cfg.min_legitimate_spot_factor, 1.0))


def _update(p: float, ratio: float) -> float:
    q = min(max(p, _P_EPS), 1 - _P_EPS)
    odds = q / (1 - q) * ratio
    return odds / (1 + odds)


def apply_review_evidence(
    scored: pd.DataFrame, labels: pd.DataFrame, cfg: ReviewConfig
) -> pd.DataFrame:
    """``score`` updated by watchlist hits and verdicts at the spot; reasons say so.

    Adds ``model_score`` (the model's calibrated probability, unchanged) and
    ``n_legitimate_nearby`` / ``n_illicit_nearby``. Events without either kind
    of evidence keep their score exactly.
    """
    out = scored.copy()
    if out.empty:
        for col in ("model_score", "n_legitimate_nearby", "n_illicit_nearby"):
            out[col] = pd.Series(dtype=float)
        return out
    out["model_score"] = out["score"].astype(float)
    legit, illicit = spot_verdict_counts(out, labels, cfg.spot_radius_m)
    out["n_legitimate_nearby"] = legit
    out["n_illicit_nearby"] = illicit
    hits = out["watchlist_hits"] if "watchlist_hits" in out else pd.Series([[]] * len(out))
    scores, reasons = [], []
    for i, (p, event_hits, row_reasons) in enumerate(
        zip(out["model_score"], hits, out["reasons"], strict=True)
    ):
        factors = watchlist_factors(event_hits, cfg)
        lr_watch = float(np.prod([ratio for _, ratio in factors]))
        lr_spot = spot_likelihood_ratio(int(legit[i]), int(illicit[i]), cfg)
        words = list(row_reasons) if isinstance(row_reasons, list | tuple | np.ndarray) else []
        words = [f"{hit_text(h)} (odds x{ratio:g})" for h, ratio in factors] + words
        if lr_spot != 1.0:
            words.append(
                f"analysts confirmed {legit[i]} legitimate transfer(s) within "
                f"{cfg.spot_radius_m / 1000:.0f} km before (odds x{lr_spot:.2g})"
            )
        ratio = lr_watch * lr_spot
        scores.append(float(p) if ratio == 1.0 else _update(float(p), ratio))
        reasons.append(words)
    out["score"] = np.asarray(scores, dtype=np.float64)
    out["reasons"] = pd.Series(reasons, index=out.index, dtype=object)
    return out
