"""The spine: ingest → detect → score → publish, as plain library calls.

Both front ends call these functions: the CLI (``stswatch run`` / ``detect``)
directly, so it never pays a Prefect server's start-up, and the Prefect flows
per day, as task bodies. Keeping one implementation is what makes a CLI run,
a daily flow run and a backfill produce the same events with the same ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from stswatch.pipeline.config import DEFAULT_CONFIG, Config
from stswatch.pipeline.watchlist import Watchlist

#: Columns of the "top events" table shown in run summaries and artifacts.
TOP_EVENT_COLUMNS = (
    "score",
    "kind",
    "event_id",
    "mmsi_a",
    "vessel_name_a",
    "mmsi_b",
    "vessel_name_b",
    "dark_mmsi",
    "start_time",
    "end_time",
    "duration_h",
    "mean_lat",
    "mean_lon",
    "reasons",
    "watchlist_hits",
    "verdict",
    "reviewed_by",
    "reviewed_at",
    "card",
)


@dataclass
class PublishResult:
    """What one detect+score+publish step produced."""

    geojson_path: Path
    start: date
    end: date
    n_rendezvous: int
    n_loitering: int
    n_gaps: int
    scored: pd.DataFrame = field(repr=False)
    top_events: pd.DataFrame = field(repr=False)
    #: Dark transfers (``kind`` "dark_rendezvous"), ranked with the rendezvous.
    n_dark_rendezvous: int = 0
    #: events per verdict and ``unreviewed``; the analyst's backlog at a glance
    reviewed: dict[str, int] = field(default_factory=dict)
    #: unreviewed events above ReviewConfig.review_queue_min_score, most suspicious first
    review_queue: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    n_cards: int = 0

    def summary_markdown(self) -> str:
        """A short Markdown report (Prefect artifact, CLI summary)."""
        period = str(self.start) if self.start == self.end else f"{self.start} to {self.end}"
        lines = [
            f"### stswatch events, {period}",
            "",
            f"- rendezvous: **{self.n_rendezvous}**",
            f"- dark transfers (partner's AIS off): **{self.n_dark_rendezvous}**",
            f"- loitering: {self.n_loitering}",
            f"- AIS gaps: {self.n_gaps}",
            f"- GeoJSON: `{self.geojson_path}`",
        ]
        if self.n_cards:
            lines.append(f"- evidence cards: {self.n_cards} in `{self.geojson_path.stem}_cards/`")
        if self.reviewed:
            done = sum(v for k, v in self.reviewed.items() if k != "unreviewed")
            lines.append(
                f"- reviewed: {done}, unreviewed: {self.reviewed.get('unreviewed', 0)} "
                f"(review queue: {len(self.review_queue)})"
            )
        if not self.top_events.empty:
            lines += ["", "| score | event | vessels | start (UTC) | hours | verdict | reasons |"]
            lines += ["|---:|---|---|---|---:|---|---|"]
            for row in self.top_events.to_dict("records"):
                dark = row.get("dark_mmsi")
                marks = {
                    side: " (AIS off)" if not pd.isna(dark) and dark == row[f"mmsi_{side}"] else ""
                    for side in ("a", "b")
                }
                vessels = (
                    f"{row['mmsi_a']} {_text(row.get('vessel_name_a'))}{marks['a']} / "
                    f"{row['mmsi_b']} {_text(row.get('vessel_name_b'))}{marks['b']}"
                )
                reasons = "; ".join(row.get("reasons") or [])
                lines.append(
                    f"| {row['score']:.2f} | {row['event_id']} | {vessels.strip()} | "
                    f"{pd.Timestamp(row['start_time']):%Y-%m-%d %H:%M} | "
                    f"{row['duration_h']:.1f} | {_text(row.get('verdict'))} | {reasons} |"
                )
        return "\n".join(lines)


def _text(value: object) -> str:
    """A name for a table cell: missing values (None, NaN, pd.NA) print as blank."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def top_events(scored: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The n most suspicious rendezvous, with the columns analysts scan first."""
    if scored.empty:
        return pd.DataFrame(columns=list(TOP_EVENT_COLUMNS))
    from stswatch.pipeline.analyst import rank_events

    cols = [c for c in TOP_EVENT_COLUMNS if c in scored.columns]
    return rank_events(scored).head(n)[cols].reset_index(drop=True)


def gaps_to_publish(gaps: pd.DataFrame, scored: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Gaps worth a map feature: linked to a rendezvous, or starting offshore.

    A gap that starts near the coast is usually a terrestrial reception hole;
    one that starts far offshore, or sits next to a meeting, is "going dark".
    """
    if gaps.empty:
        return gaps
    keep = pd.Series(False, index=gaps.index)
    if "start_distance_to_coast_m" in gaps.columns:
        offshore = gaps["start_distance_to_coast_m"].to_numpy(dtype=float)
        keep |= offshore >= cfg.port_filter.min_distance_to_coast_m
    if not scored.empty and "gap_ids" in scored.columns:
        linked = {g for ids in scored["gap_ids"] if ids is not None for g in ids}
        keep |= gaps["gap_id"].isin(linked)
    return gaps[keep]


def detect_and_publish(
    store_root: Path,
    start: date,
    end: date,
    out_path: Path,
    *,
    cfg: Config = DEFAULT_CONFIG,
    model: object | None = None,
    top_n: int = 10,
    watchlist: Watchlist | None = None,
    cards_top_n: int | None = None,
) -> PublishResult:
    """Detect and score every event starting in [start, end]; write one GeoJSON.

    Beside it: evidence cards of the ``cards_top_n`` most suspicious events
    (default ``cfg.output.cards_top_n``). Events are screened against
    ``watchlist`` and carry the store's verdicts.
    """
    from stswatch.pipeline.analyst import publish_events, review_counts, review_queue
    from stswatch.pipeline.cards.pool import card_pool
    from stswatch.pipeline.detection import detect_range
    from stswatch.pipeline.event_history import read_history, record_rendezvous
    from stswatch.pipeline.scoring import score_events
    from stswatch.pipeline.storage import Store

    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    store_root = Path(store_root)
    # Detection reads under a snapshot and only the event history is written
    # (under the write lock, in record_rendezvous): the days of a backfill
    # are published in parallel, and they only wait for each other's
    # (millisecond) commits, not for each other's detection.
    store = Store(store_root, lock_timeout_s=cfg.store.lock_timeout_s)
    n_cards = cfg.output.cards_top_n if cards_top_n is None else cards_top_n
    # card workers start now and are ready when detection and scoring are done
    with card_pool(cfg.output.card_workers, n_cards) as pool:
        result = detect_range(store_root, start, end, cfg)
        history = read_history(store, start, cfg.scoring.recurrence_lookback_days)
        scored = score_events(result, result.vessels, history=history, model=model)
        record_rendezvous(store, result.rendezvous, start, end)
        published = publish_events(
            scored,
            result,
            store_root,
            Path(out_path),
            watchlist=watchlist,
            cfg=cfg,
            cards_top_n=n_cards,
            pool=pool,
        )
    scored = published.scored
    dark = scored["kind"].eq("dark_rendezvous").to_numpy() if "kind" in scored else False
    return PublishResult(
        geojson_path=published.path,
        start=start,
        end=end,
        n_rendezvous=int(len(scored) - np.sum(dark)),
        n_dark_rendezvous=int(np.sum(dark)),
        n_loitering=len(result.loitering),
        n_gaps=len(published.gaps),
        scored=scored,
        top_events=top_events(scored, top_n),
        reviewed=review_counts(scored),
        review_queue=review_queue(
            scored, cfg.review.review_queue_min_score, cfg.review.review_queue_max_rows
        ),
        n_cards=published.n_cards,
    )


@dataclass
class RunResult:
    """``stswatch run``: what was ingested and what was published."""

    ingest: object  # stswatch.pipeline.ingest.IngestReport
    publish: PublishResult | None


def run_files(
    files: Sequence[Path],
    store_root: Path,
    out_path: Path,
    *,
    cfg: Config = DEFAULT_CONFIG,
    progress: bool = False,
    top_n: int = 10,
    model: object | None = None,
    watchlist: Watchlist | None = None,
    cards_top_n: int | None = None,
) -> RunResult:
    """Ingest files, then detect/score/publish over every UTC day they cover.

    Everything the run needs (model, reference data, writable store and output
    folder) is checked before the first partition is written
    (:func:`~stswatch.pipeline.preflight.preflight`): a run that cannot finish
    changes nothing and raises :class:`~stswatch.pipeline.preflight.PreflightError`.
    """
    from stswatch.pipeline.export import write_geojson
    from stswatch.pipeline.ingest import ingest_files
    from stswatch.pipeline.preflight import check_output_path, preflight
    from stswatch.pipeline.storage import Store

    ready = preflight(
        store_root=Path(store_root), out_dir=check_output_path(Path(out_path)), model=model
    )
    store = Store(Path(store_root), lock_timeout_s=cfg.store.lock_timeout_s)
    # The whole run holds the write lock: what it publishes is exactly what
    # it ingested, whatever other writers are waiting.
    with store.write_lock("stswatch run"):
        report = ingest_files(
            [Path(f) for f in files], Path(store_root), cfg=cfg, progress=progress
        )
        days = report.days_covered
        if not days:
            empty = pd.DataFrame()
            write_geojson(Path(out_path), empty, empty, empty, empty)
            return RunResult(ingest=report, publish=None)
        publish = detect_and_publish(
            Path(store_root),
            days[0],
            days[-1],
            Path(out_path),
            cfg=cfg,
            model=ready.model,
            top_n=top_n,
            watchlist=watchlist,
            cards_top_n=cards_top_n,
        )
    return RunResult(ingest=report, publish=publish)
