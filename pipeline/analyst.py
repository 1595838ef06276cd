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

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass
class Published:
    """What :func:`publish_events` wrote: the ranked events as exported, gaps, files."""

    scored: pd.DataFrame
    gaps: pd.DataFrame
    path: Path
    n_cards: int


def publish_events(
    scored: pd.DataFrame,
    result: Any,
    store_root: Path,
    out_path: Path,
    *,
    watchlist: Watchlist | None,
    cfg: Config,
    cards_top_n: int,
    pool: ProcessPoolExecutor | None = None,
) -> Published:
    """Annotate, rank, draw the cards and write the map files of one publish step.

    ``result`` is the step's ``DetectionResult``; the GeoJSON goes to
    ``out_path`` with the GeoPackage and the cards folder beside it. The cards
    are drawn on a background thread (feeding the card workers) while this
    thread builds and writes the map files: a card's path is known before it
    is drawn, and the step returns only once every card is written.
    """
    from concurrent.futures import ThreadPoolExecutor

    from stswatch.pipeline.cards.writer import card_paths, write_cards
    from stswatch.pipeline.export import write_map
    from stswatch.pipeline.map_output import (
        approach_tracks,
        event_map_properties,
        gap_map_properties,
        loitering_map_properties,
        nearest_ports,
    )
    from stswatch.pipeline.spine import gaps_to_publish
    from stswatch.pipeline.sts_areas import load_sts_areas

    scored = annotate_for_review(scored, result.vessels, store_root, watchlist=watchlist, cfg=cfg)
    scored = rank_events(scored)
    ports = nearest_ports(scored)
    out = cfg.output
    top = scored.head(max(cards_top_n, 0)).copy()  # the card thread's own frame
    expected = card_paths(out_path, top["event_id"])
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stswatch-cards") as thread:
        drawing = thread.submit(
            write_cards,
            top,
            result.positions,
            result.vessels,
            out_path,
            top_n=cards_top_n,
            workers=out.card_workers,
            window_h=out.card_window_h,
            dash_gap_h=cfg.tracks.max_interpolation_gap_h,
            min_gap_h=cfg.gaps.min_gap_h,
            ports=ports,
            pool=pool,
            areas=load_sts_areas(cfg.sts_areas),
        )
        if not scored.empty:
            card = scored["event_id"].map(expected).astype(object)
            scored["card"] = card.where(card.notna(), None)
        scored = event_map_properties(scored, result.loitering, ports, cfg.gaps.link_window_h)
        gaps = gap_map_properties(gaps_to_publish(result.gaps, scored, cfg), scored)
        tracks = approach_tracks(
            scored,
            result.positions,
            out.track_leg_h,
            split_gap_h=cfg.tracks.max_interpolation_gap_h,
        )
        loitering = loitering_map_properties(result.loitering)
        path = write_map(out_path, scored, tracks, loitering, gaps)
        cards = drawing.result()  # re-raises a card's failure
    if cards != expected:
        raise RuntimeError(f"cards written {sorted(cards)} differ from those linked")
    return Published(scored, gaps, path, len(cards))
