"""Two-vessel rendezvous: close and slow together for hours, away from port.

The reference is Global Fishing Watch's encounter pipeline (500 m, 2 h, < 2 kn,
fragments merged across < 4 h, >= 10 km from an anchorage). stswatch fixes its
known weaknesses:

* *both* vessels must be slow at every counted tick (GFW judges one speed);
* fragments of one pair are merged *before* the duration rule, and over the
  whole data window rather than per UTC day, so a meeting across midnight or
  split by a reception hole is one event, found once;
* a silence *shared* by both vessels (both fell silent together and came back
  still close and slow) is a reception hole, not an end: fragments merge across
  it up to ``max_shared_silence_h`` on top of ``max_merge_gap_h``, and the event
  reports it as ``shared_silence_h`` (GFW's own real test encounter has an 8 h
  shared silence mid-meeting and is one event);
* the away-from-port rule holds at *every* tick of the event for both ships
  (GFW tests only the mean position), against learned anchorages, a port list
  and the coastline (port lists miss small harbours).

Pipeline: slow ticks -> per-tick spatial-hash pair search (stswatch.geo.spatial_index)
-> close ticks of each ordered pair (``mmsi_a < mmsi_b``) -> fragments merged
when the silence between them is <= ``max_merge_gap_h`` -> duration rule ->
port filter. All vectorised; the only Python loop is over final events (ids).
"""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from stswatch.detectors.events import event_ids
from stswatch.detectors.tracks import ms_to_timestamps, timestamps_to_ms
from stswatch.geo.spatial_index import close_pairs
from stswatch.geo.sts_areas import StsAreas
from stswatch.pipeline.config import Config, PortFilterConfig, RendezvousConfig

log = logging.getLogger(__name__)

_MS_PER_H = 3_600_000

#: Columns of the per-tick frame of candidate events.
TICK_COLUMNS = ("event_id", "timestamp", "lat_a", "lon_a", "lat_b", "lon_b", "distance_m")


@dataclass(frozen=True)
class RendezvousCandidates:
    """Events that pass the distance, speed, merge and duration rules, before the port filter.

    ``events`` has one row per event (columns as in docs/ARCHITECTURE.md minus
    the port distances and identity); ``ticks`` holds, per event, every close
    tick with both vessels' positions (columns :data:`TICK_COLUMNS`), used to
    test the port rule along the whole event.
    """

    events: pd.DataFrame
    ticks: pd.DataFrame


def _empty_events() -> pd.DataFrame:
    ts = pd.Series([], dtype="datetime64[ms, UTC]")
    return pd.DataFrame(
        {
            "event_id": pd.Series([], dtype=object),
            "mmsi_a": pd.Series([], dtype=np.int32),
            "mmsi_b": pd.Series([], dtype=np.int32),
            "start_time": ts,
            "end_time": ts.copy(),
            "duration_h": pd.Series([], dtype=np.float64),
            "n_ticks": pd.Series([], dtype=np.int32),
            "min_distance_m": pd.Series([], dtype=np.float64),
            "median_distance_m": pd.Series([], dtype=np.float64),
            "mean_lat": pd.Series([], dtype=np.float64),
            "mean_lon": pd.Series([], dtype=np.float64),
            "shared_silence_h": pd.Series([], dtype=np.float64),
        }
    )


def _empty_ticks() -> pd.DataFrame:
    cols: dict[str, pd.Series] = {
        "event_id": pd.Series([], dtype=object),
        "timestamp": pd.Series([], dtype="datetime64[ms, UTC]"),
    }
    for c in TICK_COLUMNS[2:]:
        cols[c] = pd.Series([], dtype=np.float64)
    return pd.DataFrame(cols)


_Ints = npt.NDArray[np.int64]
_Floats = npt.NDArray[np.float64]


class _SlowTicks(NamedTuple):
    """Resampled ticks at which a vessel is slow enough to count (``tick``: grid index)."""

    tick: _Ints
    lat: _Floats
    lon: _Floats
    mmsi: _Ints


class _CloseTicks(NamedTuple):
    """Close ticks of two vessels (``a``/``b`` index the slow ticks; ``mmsi_a < mmsi_b``),
    sorted by (mmsi_a, mmsi_b, tick ``k``): each pair's close ticks in time order."""

    a: _Ints
    b: _Ints
    distance_m: _Floats
    k: _Ints
    mmsi_a: _Ints
    mmsi_b: _Ints


class _LongEvents(NamedTuple):
    """Merged events that pass the duration rule: ``keep_tick`` marks their close
    ticks, ``ev`` numbers the kept ticks' events 0..n-1, the rest is per event."""

    keep_tick: npt.NDArray[np.bool_]
    ev: _Ints
    start_k: _Ints
    end_k: _Ints
    duration_h: _Floats
    shared_silence_h: _Floats


def find_rendezvous(
    resampled: pd.DataFrame, cfg: RendezvousConfig, *, resample_interval_min: int
) -> RendezvousCandidates:
    """Close, slow, merged and long-enough pair events (no port filter yet).

    ``resampled`` is :func:`stswatch.detectors.tracks.resample_tracks` output. A tick
    counts when both vessels report ``sog_kn <= max_speed_kn`` (unknown speed
    never counts) and lie within ``max_distance_m``. ``duration_h`` is
    ``end_time - start_time`` of the merged event, gaps included.
    Steps: slow ticks -> close ticks of each ordered pair -> fragment starts
    (merge gap, reception holes) -> duration rule -> event and tick frames.
    """
    interval_ms = int(resample_interval_min) * 60_000
    slow = _slow_ticks(resampled, cfg.max_speed_kn, interval_ms)
    close = None if slow is None else _close_ticks_by_pair(slow, cfg)
    if slow is None or close is None:
        return RendezvousCandidates(_empty_events(), _empty_ticks())
    new, silence = _fragment_starts(resampled, close, cfg, interval_ms)
    events = _long_enough_events(new, silence, close.k, cfg.min_duration_h, interval_ms)
    if events is None:
        return RendezvousCandidates(_empty_events(), _empty_ticks())
    return _candidate_frames(slow, close, events, interval_ms)


def _slow_ticks(
    resampled: pd.DataFrame, max_speed_kn: float, interval_ms: int
) -> _SlowTicks | None:
    """The resampled ticks with ``sog_kn <= max_speed_kn``; None when fewer than two."""
    sog = resampled["sog_kn"].to_numpy(dtype=np.float32, na_value=np.nan)
    slow = np.flatnonzero(sog <= max_speed_kn)  # NaN compares False
    if slow.size < 2:
        return None
    t_ms = timestamps_to_ms(resampled["timestamp"])[slow]
    return _SlowTicks(
        tick=t_ms // interval_ms,
        lat=resampled["lat"].to_numpy(dtype=np.float64)[slow],
        lon=resampled["lon"].to_numpy(dtype=np.float64)[slow],
        mmsi=resampled["mmsi"].to_numpy(dtype=np.int64)[slow],
    )


def _close_ticks_by_pair(slow: _SlowTicks, cfg: RendezvousConfig) -> _CloseTicks | None:
    """Pairs of different vessels within ``max_distance_m`` at one tick; None when none."""
    mmsi, max_m, cell_m = slow.mmsi, cfg.max_distance_m, cfg.cell_size_m
    i, j, dist = close_pairs(
        slow.tick, slow.lat, slow.lon, max_distance_m=max_m, cell_size_m=cell_m
    )
    differ = mmsi[i] != mmsi[j]
    i, j, dist = i[differ], j[differ], dist[differ]
    if i.size == 0:
        return None
    swap = mmsi[i] > mmsi[j]
    a = np.where(swap, j, i)
    b = np.where(swap, i, j)
    ma, mb, k = mmsi[a], mmsi[b], slow.tick[a]
    order = np.lexsort((k, mb, ma))
    return _CloseTicks(a[order], b[order], dist[order], k[order], ma[order], mb[order])


def _fragment_starts(
    resampled: pd.DataFrame, close: _CloseTicks, cfg: RendezvousConfig, interval_ms: int
) -> tuple[npt.NDArray[np.bool_], _Floats]:
    """Which close ticks start a new event, and the shared silence bridged just before each.

    New event where the pair changes or the silence exceeds the merge gap,
    unless most of that silence is shared by both vessels (a reception hole).
    """
    ma, mb, k = close.mmsi_a, close.mmsi_b, close.k
    merge_ticks = cfg.max_merge_gap_h * _MS_PER_H / interval_ms
    shared_ticks = cfg.max_shared_silence_h * _MS_PER_H / interval_ms
    same_pair = (ma[1:] == ma[:-1]) & (mb[1:] == mb[:-1])
    dk = k[1:] - k[:-1]
    new = np.ones(k.size, dtype=bool)
    new[1:] = ~same_pair | (dk > merge_ticks + 1e-9)
    silence = np.zeros(k.size)
    hole = np.flatnonzero(
        same_pair & (dk > merge_ticks + 1e-9) & (dk <= merge_ticks + shared_ticks + 1e-9)
    )
    if hole.size:
        shared = shared_silence_ticks(
            resampled, ma[hole], mb[hole], k[hole], k[hole + 1], interval_ms
        )
        bridged = (dk[hole] - shared <= merge_ticks + 1e-9) & (shared <= shared_ticks + 1e-9)
        new[hole[bridged] + 1] = False
        silence[hole[bridged] + 1] = shared[bridged]
    return new, silence


def _long_enough_events(
    new: npt.NDArray[np.bool_], silence: _Floats, k: _Ints, min_duration_h: float, interval_ms: int
) -> _LongEvents | None:
    """Number the merged events and apply the duration rule; None when none is long enough."""
    ev = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], k.size) - 1
    start_k = k[starts]
    end_k = k[ends]
    duration_h = (end_k - start_k) * interval_ms / _MS_PER_H
    long_enough = duration_h >= min_duration_h - 1e-9
    if not long_enough.any():
        return None
    shared_h = np.bincount(ev, silence, minlength=starts.size) * interval_ms / _MS_PER_H
    keep_tick = long_enough[ev]
    kept = np.flatnonzero(long_enough)
    ev = np.searchsorted(kept, ev[keep_tick])  # renumber 0..n_events-1
    return _LongEvents(keep_tick, ev, start_k[kept], end_k[kept], duration_h[kept], shared_h[kept])


def _candidate_frames(
    slow: _SlowTicks, close: _CloseTicks, events: _LongEvents, interval_ms: int
) -> RendezvousCandidates:
    """One row per kept event (pair, times, distances, mean position) and one per close tick."""
    keep, ev = events.keep_tick, events.ev
    a, b, dist, k = close.a[keep], close.b[keep], close.distance_m[keep], close.k[keep]
    lat_a, lon_a, lat_b, lon_b = slow.lat[a], slow.lon[a], slow.lat[b], slow.lon[b]
    # Per-tick midpoint; longitude via unit vectors so the antimeridian averages right.
    mid_lat = 0.5 * (lat_a + lat_b)
    n_events = events.start_k.size
    counts = np.bincount(ev, minlength=n_events)
    rad_a, rad_b = np.radians(lon_a), np.radians(lon_b)
    sin_sum = np.bincount(ev, np.sin(rad_a) + np.sin(rad_b), minlength=n_events)
    cos_sum = np.bincount(ev, np.cos(rad_a) + np.cos(rad_b), minlength=n_events)
    mean_lon = np.degrees(np.arctan2(sin_sum, cos_sum))
    mean_lon = (mean_lon + 180.0) % 360.0 - 180.0
    mean_lat = np.bincount(ev, mid_lat, minlength=n_events) / counts
    grouped = pd.Series(dist).groupby(ev, sort=True)

    first_of_event = np.searchsorted(ev, np.arange(n_events))  # ev is non-decreasing
    ev_mmsi_a = slow.mmsi[a[first_of_event]]
    ev_mmsi_b = slow.mmsi[b[first_of_event]]
    start_time = ms_to_timestamps(events.start_k * interval_ms)
    ids = event_ids(ev_mmsi_a, ev_mmsi_b, start_time)
    frame = pd.DataFrame(
        {
            "event_id": ids,
            "mmsi_a": ev_mmsi_a.astype(np.int32),
            "mmsi_b": ev_mmsi_b.astype(np.int32),
            "start_time": start_time,
            "end_time": ms_to_timestamps(events.end_k * interval_ms),
            "duration_h": events.duration_h,
            "n_ticks": counts.astype(np.int32),
            "min_distance_m": grouped.min().to_numpy(),
            "median_distance_m": grouped.median().to_numpy(),
            "mean_lat": mean_lat,
            "mean_lon": mean_lon,
            "shared_silence_h": events.shared_silence_h,
        }
    )
    ticks = pd.DataFrame(
        {
            "event_id": ids[ev],
            "timestamp": ms_to_timestamps(k * interval_ms),
            "lat_a": lat_a,
            "lon_a": lon_a,
            "lat_b": lat_b,
            "lon_b": lon_b,
            "distance_m": dist,
        }
    )
    return RendezvousCandidates(frame, ticks)


def shared_silence_ticks(
    resampled: pd.DataFrame,
    mmsi_a: npt.NDArray[np.int64],
    mmsi_b: npt.NDArray[np.int64],
    k1: npt.NDArray[np.int64],
    k2: npt.NDArray[np.int64],
    interval_ms: int,
) -> npt.NDArray[np.float64]:
    """Grid ticks strictly between ``k1`` and ``k2`` at which *neither* vessel has a tick.

    A vessel has grid ticks only while it reports (the resampler never
    interpolates across a silence over an hour), so a tick missing from both
    tracks is a silence both shared. Each vessel's silence is taken from the
    ends of the interval: the missing ticks right after ``k1`` and right
    before ``k2`` (a hole in the middle of an otherwise observed stretch is
    not a reception hole around the meeting). Vectorised: one ``searchsorted``
    per vessel and end over (mmsi, tick) keys of the vessels involved only.
    """
    n_missing = (k2 - k1 - 1).astype(np.float64)
    involved = np.union1d(mmsi_a, mmsi_b)
    mmsi_all = resampled["mmsi"].to_numpy()
    rows = np.flatnonzero(np.isin(mmsi_all, involved))
    # resampled is sorted by (mmsi, timestamp), so these keys are sorted too
    keys = (mmsi_all[rows].astype(np.int64) << 32) | (
        timestamps_to_ms(resampled["timestamp"])[rows] // interval_ms
    )
    head, tail = [], []
    for m in (mmsi_a, mmsi_b):
        base = m.astype(np.int64) << 32
        nxt = np.searchsorted(keys, base | (k1 + 1), side="left")
        first_after = np.where(
            (nxt < keys.size) & ((keys[np.minimum(nxt, keys.size - 1)] >> 32) == m),
            keys[np.minimum(nxt, keys.size - 1)] & 0xFFFFFFFF,
            k2,
        )
        prv = np.searchsorted(keys, base | k2, side="left") - 1
        last_before = np.where(
            (prv >= 0) & ((keys[np.maximum(prv, 0)] >> 32) == m),
            keys[np.maximum(prv, 0)] & 0xFFFFFFFF,
            k1,
        )
        head.append(np.clip(np.minimum(first_after, k2) - k1 - 1, 0, None))
        tail.append(np.clip(k2 - np.maximum(last_before, k1) - 1, 0, None))
    shared = np.minimum(head[0], head[1]) + np.minimum(tail[0], tail[1])
    return np.minimum(shared.astype(np.float64), n_missing)


def _optional(module: str, name: str) -> Callable[..., np.ndarray] | None:
    """A reference-distance function from a sibling module, or None if it is not installed.

    Tolerant so that detection still runs (and says so) in a checkout where a
    reference-data module is missing; the missing distance is then NaN and
    that criterion cannot drop events.
    """
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _reference_distance(
    key: str,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    anchorages: pd.DataFrame | None,
) -> npt.NDArray[np.float64]:
    """Distance (m) of each point to the ``coast``, nearest listed ``port`` or learned
    ``anchorage``; NaN where the source is unavailable, +inf when no anchorage was learned."""
    if key == "anchorage":
        if anchorages is None or len(anchorages) == 0:
            return np.full(lat.size, np.inf)
        fn = _optional("stswatch.detectors.anchorages", "distance_to_anchorage_m")
        return (
            np.full(lat.size, np.nan)
            if fn is None
            else np.asarray(fn(lat, lon, anchorages), dtype=np.float64)
        )
    module, name = {
        "coast": ("stswatch.geo.coast", "distance_to_coast_m"),
        "port": ("stswatch.geo.ports", "distance_to_port_m"),
    }[key]
    fn = _optional(module, name)
    if fn is None:
        warnings.warn(
            f"{module}.{name} unavailable: the {key} distance rule is not applied",
            RuntimeWarning,
            stacklevel=3,
        )
        return np.full(lat.size, np.nan)
    return np.asarray(fn(lat, lon), dtype=np.float64)


def port_distances(
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    anchorages: pd.DataFrame | None,
) -> dict[str, npt.NDArray[np.float64]]:
    """Distances (m) of each point to coast, nearest listed port and learned anchorage.

    Keys ``coast``, ``port``, ``anchorage``; NaN where the source is unavailable
    (reference module missing), +inf for anchorages when none was learned.
    """
    return {k: _reference_distance(k, lat, lon, anchorages) for k in ("coast", "port", "anchorage")}


#: Criterion -> (output column, PortFilterConfig field). Anchorage first: learned
#: anchorage crowds are most of the candidates in busy waters, and the cheap
#: test removes them before the coast raster and the port tree are queried.
_PORT_RULES = (
    ("anchorage", "min_distance_to_anchorage_m"),
    ("port", "min_distance_to_port_m"),
    ("coast", "min_distance_to_coast_m"),
)


def apply_port_filter(
    candidates: RendezvousCandidates,
    cfg: PortFilterConfig,
    anchorages: pd.DataFrame | None,
) -> pd.DataFrame:
    """Events whose every tick, for both vessels, is far enough from coast, port and anchorage.

    Adds ``min_distance_to_coast_m``, ``min_distance_to_port_m`` and
    ``min_distance_to_anchorage_m`` (minima over the whole event, both ships;
    NaN when a reference source is unavailable, which never drops an event).
    Criteria are tested in turn, each only on the events still standing. The
    minima are reported for the events kept (NaN for events dropped earlier).
    """
    events = candidates.events.copy()
    ticks = candidates.ticks
    for _, col in _PORT_RULES:
        events[col] = np.full(len(events), np.nan)
    if events.empty:
        return events
    lat_all = np.concatenate([ticks["lat_a"].to_numpy(), ticks["lat_b"].to_numpy()])
    lon_all = np.concatenate([ticks["lon_a"].to_numpy(), ticks["lon_b"].to_numpy()])
    ev_codes = pd.Index(events["event_id"]).get_indexer(ticks["event_id"])
    ev_all = np.concatenate([ev_codes, ev_codes])
    n = len(events)
    keep = np.ones(n, dtype=bool)
    # One probe position per event and vessel (its first close tick): an event
    # failing there fails outright, so crowds in anchorages and ports are
    # dropped before their thousands of ticks are queried one by one.
    probe = np.concatenate([np.unique(ev_codes, return_index=True)[1]] * 2)
    probe[probe.size // 2 :] += ev_codes.size
    for key, col in _PORT_RULES:
        threshold = getattr(cfg, col)
        p = probe[keep[ev_all[probe]]]
        d_probe = _reference_distance(key, lat_all[p], lon_all[p], anchorages)
        keep[ev_all[p][d_probe < threshold]] = False
        if not keep.any():
            break
        sel = keep[ev_all]
        ev = ev_all[sel]
        d = _reference_distance(key, lat_all[sel], lon_all[sel], anchorages)
        unknown = np.isnan(d)
        mins = np.full(n, np.inf)
        np.minimum.at(mins, ev, np.where(unknown, np.inf, d))
        any_unknown = np.bincount(ev[unknown], minlength=n) > 0
        mins = np.where(any_unknown & np.isinf(mins), np.nan, mins)
        mins[~keep] = np.nan
        events[col] = mins
        keep &= ~(mins < threshold)  # NaN (unknown) never drops an event
        if not keep.any():
            break
    return events.loc[keep].reset_index(drop=True)


def detect_rendezvous(
    resampled: pd.DataFrame,
    cfg: Config,
    *,
    anchorages: pd.DataFrame | None = None,
    sts_areas: StsAreas | None = None,
) -> pd.DataFrame:
    """Rendezvous away from port, one row per event, sorted by (start_time, mmsi_a, mmsi_b).

    ``anchorages`` are the *port* anchorages of the data window; when None
    they are learned here from ``resampled`` itself (what a caller without raw
    pings has) and split like :func:`stswatch.pipeline.detection.detect_frames`
    does: offshore crowds and crowds inside ``sts_areas`` (default: the
    shipped reference) are STS areas, where meetings are kept. Use
    :func:`find_rendezvous` + :func:`apply_port_filter` to also get the
    per-tick positions.
    """
    candidates = find_rendezvous(
        resampled, cfg.rendezvous, resample_interval_min=cfg.tracks.resample_interval_min
    )
    if anchorages is None and not candidates.events.empty:
        from stswatch.detectors.anchorages import learn_anchorages
        from stswatch.detectors.sts_context import split_anchorages
        from stswatch.geo.sts_areas import listed_sts_areas

        anchorages, _ = split_anchorages(
            learn_anchorages(resampled, cfg.port_filter),
            listed_sts_areas() if sts_areas is None else sts_areas,
            cfg.sts_areas,
            cfg.port_filter,
        )
    events = apply_port_filter(candidates, cfg.port_filter, anchorages)
    return events.sort_values(["start_time", "mmsi_a", "mmsi_b"], kind="stable").reset_index(
        drop=True
    )
