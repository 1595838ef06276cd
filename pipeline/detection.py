"""Store-level detection: read a window of days, run the pure detectors, enrich events.

Two entry points share one core:

* :func:`detect_frames` works on in-memory frames (the simulator, the scorer's
  training and the tests call it);
* :func:`detect_range` reads ``[start - 1 day, end + 1 day]`` from the store and
  calls :func:`detect_frames`, keeping only events whose *start* lies in
  ``[start, end]``. The extra day on each side makes events across midnight
  whole; keeping by start makes a daily run, a backfill and a range run agree
  on which run reports an event, and the grid-based ids make them agree on its
  name.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from stswatch.detectors.anchorages import distance_to_anchorage_m, learn_anchorages
from stswatch.detectors.dark_transfers import find_dark_transfers
from stswatch.detectors.events import (
    STS_AREA_COLUMNS,
    add_identity,
    event_tracks,
    with_event_columns,
)
from stswatch.detectors.gaps import detect_gaps, link_gaps
from stswatch.detectors.loitering import detect_loitering, drop_explained_by_rendezvous
from stswatch.detectors.rendezvous import (
    RendezvousCandidates,
    apply_port_filter,
    find_rendezvous,
)
from stswatch.detectors.sts_context import split_anchorages, sts_context
from stswatch.detectors.tracks import resample_tracks
from stswatch.geo.sts_areas import StsAreas
from stswatch.pipeline.config import DEFAULT_CONFIG, Config

log = logging.getLogger(__name__)

#: Columns detection needs from the positions table (the rest stays on disk).
POSITION_COLUMNS = (
    "mmsi",
    "timestamp",
    "lat",
    "lon",
    "sog_kn",
    "cog_deg",
    "heading_deg",
    "nav_status",
    "transceiver_class",
)


@dataclass
class DetectionResult:
    """Everything detection found for a window (see docs/ARCHITECTURE.md).

    ``rendezvous``: the ONE frame of ranked events, one row per event,
    ``mmsi_a < mmsi_b``, sorted by (start_time, mmsi_a, mmsi_b); ``kind`` tells
    a rendezvous (both vessels seen together) from a ``dark_rendezvous`` (a
    loitering vessel and a partner whose AIS was off). ``loitering`` /
    ``gaps``: the sibling
    detectors' frames (empty when those modules are absent). ``event_tracks``:
    raw pings of both vessels during each rendezvous (event_id, mmsi, timestamp,
    lat, lon). ``positions``: the clean pings of the whole window read
    (including the neighbouring days: features such as "dark before the
    meeting" need the context). ``resampled``: the gridded tracks, for
    features that want regular sampling. ``vessels``: the static reports of
    the same window (identity and draught series), so the scorer need not read
    them again.
    """

    rendezvous: pd.DataFrame
    loitering: pd.DataFrame
    gaps: pd.DataFrame
    event_tracks: pd.DataFrame
    positions: pd.DataFrame
    resampled: pd.DataFrame = field(default_factory=pd.DataFrame)
    vessels: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Wall-clock seconds per stage (resample, rendezvous, anchorages, ...), for
    #: benchmarks and run artifacts.
    timings_s: dict[str, float] = field(default_factory=dict)
    #: CPU seconds (all threads of this process) per stage: on a shared machine
    #: wall-clock timings also measure the neighbours' load.
    cpu_timings_s: dict[str, float] = field(default_factory=dict)


def _as_utc(value: datetime | date | pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time(), tzinfo=UTC)
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _keep_by_start(
    frame: pd.DataFrame, column: str, keep_start: pd.Timestamp | None, keep_end: pd.Timestamp | None
) -> pd.DataFrame:
    if frame.empty or column not in frame.columns:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    ts = frame[column]
    if keep_start is not None:
        mask &= (ts >= keep_start).to_numpy()
    if keep_end is not None:
        mask &= (ts < keep_end).to_numpy()
    return frame.loc[mask].reset_index(drop=True)


def _add_gap_columns(
    events: pd.DataFrame, gaps: pd.DataFrame, silences: pd.DataFrame, cfg: Config
) -> pd.DataFrame:
    """Link AIS gaps of either vessel around each event (one-sided hours, see link_gaps)."""
    if not events.empty and gaps is not None:
        return link_gaps(
            events,
            gaps,
            cfg.gaps,
            silences=silences,
            tolerance_min=cfg.tracks.resample_interval_min / 2.0,
        )
    out = events.copy()
    for col in ("gap_before_h_a", "gap_before_h_b", "gap_after_h_a", "gap_after_h_b"):
        if col not in out.columns:
            out[col] = pd.Series(np.full(len(out), np.nan), index=out.index)
    return out


def _with_partner_gap_ids(events: pd.DataFrame) -> pd.DataFrame:
    """A dark transfer's own partner silence joins its linked gaps (published with it)."""
    if events.empty or "partner_gap_id" not in events.columns:
        return events
    out = events.copy()
    ids = out["gap_ids"].tolist()
    for i, gap_id in enumerate(out["partner_gap_id"].tolist()):
        if isinstance(gap_id, str) and gap_id not in ids[i]:
            ids[i] = [gap_id, *ids[i]]
    out["gap_ids"] = pd.Series(ids, index=out.index, dtype=object)
    return out


def _add_sts_context(frame: pd.DataFrame, listed: StsAreas, learned: StsAreas) -> pd.DataFrame:
    """``sts_area_name`` / ``sts_area_source`` at each event's (mean) position."""
    out = frame.copy()
    if out.empty:
        for col in STS_AREA_COLUMNS:
            out[col] = pd.Series([], dtype=object)
        return out
    names, sources = sts_context(out["mean_lat"], out["mean_lon"], listed, learned)
    out["sts_area_name"] = pd.Series(names, index=out.index, dtype=object)
    out["sts_area_source"] = pd.Series(sources, index=out.index, dtype=object)
    return out


def _combine(rendezvous: pd.DataFrame, dark: pd.DataFrame) -> pd.DataFrame:
    """Rendezvous and dark transfers as one frame (issue-14 columns everywhere), sorted."""
    rendezvous = with_event_columns(rendezvous)
    if dark.empty:
        events = rendezvous
    else:
        events = pd.concat([rendezvous, with_event_columns(dark)], ignore_index=True)
        for col in ("mmsi_a", "mmsi_b", "n_ticks"):
            events[col] = events[col].astype(np.int32)
        events["dark_mmsi"] = events["dark_mmsi"].astype("Int64")
    return events.sort_values(["start_time", "mmsi_a", "mmsi_b"], kind="stable").reset_index(
        drop=True
    )


class _StageClock:
    """Wall-clock and CPU seconds per detection stage (``DetectionResult.timings_s``)."""

    def __init__(self) -> None:
        self.wall_s: dict[str, float] = {}
        self.cpu_s: dict[str, float] = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        """Record the time since the previous lap as stage ``name``."""
        now, cpu_now = time.perf_counter(), time.process_time()
        self.wall_s[name] = now - self._wall
        self.cpu_s[name] = cpu_now - self._cpu
        self._wall, self._cpu = now, cpu_now


def detect_frames(
    positions: pd.DataFrame,
    vessels: pd.DataFrame | None,
    cfg: Config = DEFAULT_CONFIG,
    *,
    keep_start: datetime | date | pd.Timestamp | None = None,
    keep_end: datetime | date | pd.Timestamp | None = None,
    sts_areas: StsAreas | None = None,
) -> DetectionResult:
    """Run every detector over in-memory frames and enrich the events.

    ``positions`` follows POSITION_SCHEMA (at least mmsi, timestamp, lat, lon,
    sog_kn); ``vessels`` follows VESSEL_SCHEMA or is None. Events (rendezvous,
    dark transfers, loitering, gaps) are kept when their start time lies in
    the half-open interval ``[keep_start, keep_end)``; a ``date`` means its UTC
    midnight. Either bound may be None (unbounded). ``sts_areas``: the listed
    STS areas in force (None: :func:`stswatch.pipeline.sts_areas.load_sts_areas`
    of ``cfg.sts_areas``, i.e. the shipped reference plus the config's files).
    """
    k0, k1 = _as_utc(keep_start), _as_utc(keep_end)
    if sts_areas is None:
        from stswatch.pipeline.sts_areas import load_sts_areas

        sts_areas = load_sts_areas(cfg.sts_areas)
    clock = _StageClock()
    resampled = resample_tracks(positions, cfg.tracks)
    clock.lap("resample")
    candidates, window_meetings = _meeting_candidates(resampled, cfg, k0, k1)
    clock.lap("rendezvous")
    anchorages, learned_areas = _anchorages(resampled, sts_areas, cfg)
    clock.lap("anchorages")
    rendezvous = apply_port_filter(candidates, cfg.port_filter, anchorages)
    clock.lap("port_filter")
    silences, gaps_window = _silences_and_gaps(positions, cfg)
    clock.lap("gaps")
    loitering = detect_loitering(resampled, cfg, anchorages=anchorages)
    # Both ships of a meeting are each slow offshore: keep only the loitering
    # with no visible partner (the one that may meet a dark vessel).
    loitering = drop_explained_by_rendezvous(loitering, window_meetings)
    clock.lap("loitering")
    dark, loitering = _dark_transfers(loitering, silences, anchorages, cfg, k0, k1)
    clock.lap("dark_transfers")
    events = _combine(rendezvous, dark)
    events = add_identity(events, vessels if vessels is not None else pd.DataFrame())
    clock.lap("identity")
    events = _with_partner_gap_ids(_add_gap_columns(events, gaps_window, silences, cfg))
    events = _add_sts_context(events, sts_areas, learned_areas)
    loitering = _add_sts_context(loitering, sts_areas, learned_areas)
    gaps = _published_gaps(gaps_window, silences, dark, k0, k1)
    clock.lap("link")
    tracks = event_tracks(events, positions)
    clock.lap("event_tracks")
    log.debug("detect_frames timings: %s", clock.wall_s)
    return DetectionResult(
        rendezvous=events,
        loitering=loitering,
        gaps=gaps,
        event_tracks=tracks,
        positions=positions,
        resampled=resampled,
        vessels=vessels if vessels is not None else pd.DataFrame(),
        timings_s=clock.wall_s,
        cpu_timings_s=clock.cpu_s,
    )


def _meeting_candidates(
    resampled: pd.DataFrame, cfg: Config, k0: pd.Timestamp | None, k1: pd.Timestamp | None
) -> tuple[RendezvousCandidates, pd.DataFrame]:
    """Rendezvous candidates starting in ``[k0, k1)``, and every meeting in the window read.

    The latter come before the keep and port rules: a vessel in one of them is
    not loitering alone, whichever day the meeting started on.
    """
    candidates = find_rendezvous(
        resampled, cfg.rendezvous, resample_interval_min=cfg.tracks.resample_interval_min
    )
    window_meetings = candidates.events
    if k0 is not None or k1 is not None:
        events = _keep_by_start(candidates.events, "start_time", k0, k1)
        ticks = candidates.ticks[candidates.ticks["event_id"].isin(events["event_id"])]
        candidates = RendezvousCandidates(events, ticks)
    return candidates, window_meetings


def _anchorages(
    resampled: pd.DataFrame, sts_areas: StsAreas, cfg: Config
) -> tuple[pd.DataFrame, StsAreas]:
    """Port anchorages and learned STS areas of the window (see ``split_anchorages``).

    Anchorages are learned from the gridded tracks rather than the raw pings:
    the same stationary vessel-hours (held ticks keep sparse fixes), a third
    of the rows on a national day, and already sorted by (mmsi, timestamp).
    Learned even without meeting candidates: the loitering detector needs
    them too (a ship waiting at an anchorage is not loitering offshore).
    Only port anchorages keep meetings away: offshore crowds and crowds in
    listed areas are STS areas, where transfers are reported with context.
    """
    return split_anchorages(
        learn_anchorages(resampled, cfg.port_filter), sts_areas, cfg.sts_areas, cfg.port_filter
    )


def _silences_and_gaps(positions: pd.DataFrame, cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Silences down to the dark-transfer threshold, and the gaps among them.

    Only silences of at least ``min_gap_h`` are "gaps" (published, linked as
    going dark); the shorter ones serve dark transfers and shared silences.
    """
    silences = detect_gaps(
        positions,
        replace(cfg.gaps, min_gap_h=min(cfg.gaps.min_gap_h, cfg.dark_transfers.min_partner_gap_h)),
    )
    gaps_window = silences[silences["duration_h"] >= cfg.gaps.min_gap_h - 1e-9].reset_index(
        drop=True
    )
    return silences, gaps_window


def _dark_transfers(
    loitering: pd.DataFrame,
    silences: pd.DataFrame,
    anchorages: pd.DataFrame,
    cfg: Config,
    k0: pd.Timestamp | None,
    k1: pd.Timestamp | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dark transfers and the loitering left over, both kept by start.

    The loitering paired with a dark transfer is told as the dark transfer it
    belongs to, so it leaves the loitering frame.
    """
    dark = find_dark_transfers(
        loitering,
        silences,
        cfg.dark_transfers,
        resample_interval_min=cfg.tracks.resample_interval_min,
    )
    if not dark.empty:
        dark["min_distance_to_anchorage_m"] = distance_to_anchorage_m(
            dark["mean_lat"].to_numpy(), dark["mean_lon"].to_numpy(), anchorages
        )
        loitering = loitering[~loitering["event_id"].isin(dark["loitering_event_id"])]
    dark = _keep_by_start(dark, "start_time", k0, k1)
    loitering = _keep_by_start(loitering.reset_index(drop=True), "start_time", k0, k1)
    return dark, loitering


def _published_gaps(
    gaps_window: pd.DataFrame,
    silences: pd.DataFrame,
    dark: pd.DataFrame,
    k0: pd.Timestamp | None,
    k1: pd.Timestamp | None,
) -> pd.DataFrame:
    """The long gaps starting in the window, plus each kept dark transfer's own partner
    silence (whenever it started), sorted by (mmsi, start_time)."""
    gaps = pd.concat(
        [
            _keep_by_start(gaps_window, "start_time", k0, k1),
            silences[silences["gap_id"].isin(dark["partner_gap_id"])],
        ]
    )
    gaps = gaps.drop_duplicates("gap_id").sort_values(["mmsi", "start_time"], kind="stable")
    return gaps.reset_index(drop=True)


def _read_window(store: Any, lo: date, hi: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Positions (detection columns) and vessels of store days ``lo``..``hi``.

    Read under one snapshot of the store: an ingest committing meanwhile is
    seen whole or not at all, never positions of one version of a day with
    vessels of another.
    """
    with store.snapshot():
        return _read_tables(store, lo, hi)


def _read_tables(store: Any, lo: date, hi: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    pos_table = store.read("positions", lo, hi)
    columns = [c for c in POSITION_COLUMNS if c in pos_table.column_names]
    # self_destruct frees each Arrow column as it is converted: without it a
    # 3-day national window is held twice (Arrow + pandas) at the peak.
    positions = pos_table.select(columns).to_pandas(self_destruct=True, split_blocks=True)
    del pos_table
    # Hand the decoding buffers back to the OS (mimalloc keeps them otherwise:
    # ~0.5 GB at 10 M rows that detection could use).
    pa.default_memory_pool().release_unused()
    vessels = store.read("vessels", lo, hi).to_pandas()
    return positions, vessels


def detect_range(
    store_root: Path | str, start: date, end: date, cfg: Config = DEFAULT_CONFIG
) -> DetectionResult:
    """Detect over store days ``start``..``end`` (inclusive), reading one extra day each side.

    Only events starting within ``[start, end]`` are returned, so running day by
    day and running the whole range give the same events with the same ids.
    When a kept rendezvous may still be running at the end of what was read
    (its last close tick within ``max_merge_gap_h`` + ``max_shared_silence_h``
    of it: it may resume after a reception hole), the next store day
    is read too and detection repeated, up to ``cfg.rendezvous.max_lookahead_h``
    past the range, so a 40-hour lightering gets the same end time from a
    daily run as from a backfill.
    """
    from stswatch.pipeline.storage import Store

    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    store = Store(Path(store_root), lock_timeout_s=cfg.store.lock_timeout_s)
    lo, hi = start - timedelta(days=1), end + timedelta(days=1)
    stored = store.days("positions")
    last_stored = max(stored) if stored else hi
    # Last day whose data may be read: the range's end plus the look-ahead.
    range_end = pd.Timestamp(end + timedelta(days=1), tz="UTC")
    lookahead = pd.Timedelta(hours=cfg.rendezvous.max_lookahead_h)
    max_hi = (range_end + lookahead - pd.Timedelta(milliseconds=1)).date()
    # a meeting may resume after a merge gap plus a shared silence (reception hole)
    margin = pd.Timedelta(
        hours=cfg.rendezvous.max_merge_gap_h + cfg.rendezvous.max_shared_silence_h
    ) + pd.Timedelta(minutes=cfg.tracks.resample_interval_min)
    while True:
        positions, vessels = _read_window(store, lo, hi)
        result = detect_frames(
            positions, vessels, cfg, keep_start=start, keep_end=end + timedelta(days=1)
        )
        read_end = pd.Timestamp(hi + timedelta(days=1), tz="UTC")
        ends = result.rendezvous["end_time"]
        if ends.empty or not (ends >= read_end - margin).any():
            return result
        if hi >= last_stored or hi >= max_hi:
            return result
        log.info("a rendezvous runs past %s: reading %s too", hi, hi + timedelta(days=1))
        hi += timedelta(days=1)
        del positions, vessels, result
