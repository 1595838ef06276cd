"""What a publish step adds for the analyst: watchlist hits, verdicts, the review-evidence score.

Called by :func:`stswatch.pipeline.spine.detect_and_publish` between scoring
and export, so the CLI and the Prefect flows show the same thing:

1. ``watchlist_hits`` per event (:func:`stswatch.pipeline.screening.screen_events`);
2. the score updated by watchlist hits and analysts' verdicts at the spot
   (:mod:`stswatch.pipeline.scoring.review_evidence`), ``model_score`` kept;
3. ``verdict``, ``note``, ``reviewed_by``, ``reviewed_at`` from the store's
   label log, so every later GeoJSON, card and artifact carries them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stswatch.pipeline.config import Config
from stswatch.pipeline.scoring.review_evidence import apply_review_evidence
from stswatch.pipeline.screening import screen_events
from stswatch.pipeline.verdicts import latest_verdicts, verdict_columns
from stswatch.pipeline.watchlist import Watchlist


def annotate_for_review(
    scored: pd.DataFrame,
    vessels: pd.DataFrame | None,
    store_root: Path,
    *,
    watchlist: Watchlist | None,
    cfg: Config,
) -> pd.DataFrame:
    """The scored events with hits, review evidence and verdict columns (same rows)."""
    out = scored.copy()
    out["watchlist_hits"] = screen_events(out, vessels, watchlist)
    labels = latest_verdicts(store_root)
    out = apply_review_evidence(out, labels, cfg.review)
    verdicts = verdict_columns(out, labels)
    for col in verdicts.columns:
        out[col] = verdicts[col]
    return out


def rank_events(scored: pd.DataFrame) -> pd.DataFrame:
    """Most suspicious first; ties by event id (the GeoJSON's and the cards' order)."""
    if scored.empty:
        return scored
    order = scored.sort_values(["score", "event_id"], ascending=[False, True], kind="stable")
    return order.reset_index(drop=True)


def review_counts(scored: pd.DataFrame) -> dict[str, int]:
    """Events per verdict, plus ``unreviewed`` (for summaries and artifacts)."""
    if scored.empty or "verdict" not in scored:
        return {"unreviewed": len(scored)}
    counts = scored["verdict"].fillna("unreviewed").value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def review_queue(scored: pd.DataFrame, min_score: float, max_rows: int) -> pd.DataFrame:
    """Unreviewed events scoring ``min_score`` or more, most suspicious first."""
    if scored.empty:
        return scored
    unreviewed = scored["verdict"].isna() if "verdict" in scored else True
    queue = scored[unreviewed & (scored["score"] >= min_score)]
    return rank_events(queue).head(max_rows)
