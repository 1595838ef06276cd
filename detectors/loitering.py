"""Loitering: one vessel drifting slowly far offshore for hours.

A rendezvous needs both ships to transmit. When the partner is dark, all that
is left on AIS is one ship idling at sea for hours, far from any port,
anchorage or coast where idling is routine (GFW publishes the same signal as
"loitering events"). The rules mirror the rendezvous detector so the two can be
read side by side:

* a tick counts when the vessel's ``sog_kn <= cfg.loitering.max_speed_kn``
  (unknown speed never counts);
* runs of slow ticks of one vessel are merged across silences of at most
  ``cfg.loitering.max_merge_gap_h`` *before* the duration rule, so a run split
  by a reception hole or a short re-positioning is one event;
* an event lasts ``end_time - start_time >= cfg.loitering.min_duration_h``;
* every tick of the event is at least ``cfg.port_filter`` thresholds from the
  coast and the nearest listed port (and from learned anchorages when given):
  an idle ship 3 km off a harbour is waiting for a berth, not loitering.

Vectorised: one sort, diffs and cumulative sums over the tick arrays; the
reference distances are computed only for slow ticks of long-enough runs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from stswatch.detectors.anchorages import distance_to_anchorage_m
from stswatch.detectors.events import event_ids
from stswatch.detectors.tracks import ms_to_timestamps, timestamps_to_ms
from stswatch.geo.coast import distance_to_coast_m
from stswatch.geo.ports import distance_to_port_m
from stswatch.pipeline.config import Config

LOITERING_COLUMNS = [
    "event_id",
    "mmsi",
    "start_time",
    "end_time",
    "duration_h",
    "mean_lat",
    "mean_lon",
    "min_distance_to_coast_m",
    "min_distance_to_port_m",
    "mean_sog_kn",
]

_MS_PER_H = 3_600_000


def empty_loitering() -> pd.DataFrame:
    """A zero-row loitering frame with the output dtypes."""
    return pd.DataFrame(
        {
            "event_id": pd.Series([], dtype=object),
            "mmsi": pd.Series([], dtype="int32"),
            "start_time": pd.Series([], dtype="datetime64[ms, UTC]"),
            "end_time": pd.Series([], dtype="datetime64[ms, UTC]"),
            **{c: pd.Series([], dtype="float64") for c in LOITERING_COLUMNS[4:]},
        }
    )


class _SlowTicks(NamedTuple):
    """Slow resampled ticks in (mmsi, timestamp) order, as parallel arrays."""

    mmsi: npt.NDArray[np.int64]
    t_ms: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    sog: npt.NDArray[np.float64]
    segment: npt.NDArray[np.int64]


class _Runs(NamedTuple):
    """Runs of slow ticks merged across short silences: ``ev`` is each tick's run,
    ``starts``/``ends`` each run's first/last tick; ``long_enough`` the duration rule."""

    ev: npt.NDArray[np.intp]
    starts: npt.NDArray[np.intp]
    ends: npt.NDArray[np.intp]
    duration_h: npt.NDArray[np.float64]
    long_enough: npt.NDArray[np.bool_]


def detect_loitering(
    resampled: pd.DataFrame, cfg: Config, *, anchorages: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Loitering events over the resampled track frame, sorted by (start_time, mmsi).

    ``resampled`` follows docs/ARCHITECTURE.md (mmsi, timestamp on the grid,
    lat, lon, sog_kn, segment, interpolated). ``anchorages`` (learned, see
    :func:`stswatch.detectors.anchorages.learn_anchorages`) adds the anchorage rule when
    given. ``event_id`` is a stable hash of (mmsi, start_time), so reruns and
    backfills name an event identically. ``mean_lon`` is a circular mean, safe
    across the antimeridian.

    Steps: slow ticks in order -> runs merged across short silences ->
    duration rule -> distance rules (coast, port, anchorage) -> per-event means.
    """
    lc = cfg.loitering
    slow = _slow_ticks(resampled, lc.max_speed_kn)
    runs = None if slow is None else _runs(slow, lc.max_merge_gap_h, lc.min_duration_h)
    if slow is None or runs is None:
        return empty_loitering()
    long_enough = runs.long_enough
    keep_tick = long_enough[runs.ev]
    ev_k = np.cumsum(long_enough)[runs.ev[keep_tick]] - 1  # event index among long ones
    n_ev = int(long_enough.sum())
    lat_k, lon_k = slow.lat[keep_tick], slow.lon[keep_tick]
    far, min_coast, min_port = _far_offshore(ev_k, lat_k, lon_k, n_ev, cfg, anchorages)
    if not far.any():
        return empty_loitering()
    mean_lat, mean_lon, mean_sog = _event_means(ev_k, lat_k, lon_k, slow.sog[keep_tick], n_ev)
    ev_mmsi = slow.mmsi[runs.starts][long_enough][far]
    start_ms = slow.t_ms[runs.starts][long_enough][far]
    end_ms = slow.t_ms[runs.ends][long_enough][far]
    out = pd.DataFrame(
        {
            "event_id": event_ids(
                ev_mmsi, ev_mmsi, start_ms.astype("datetime64[ms]"), kind="loitering"
            ),
            "mmsi": ev_mmsi.astype(np.int32),
            "start_time": ms_to_timestamps(start_ms),
            "end_time": ms_to_timestamps(end_ms),
            "duration_h": runs.duration_h[long_enough][far],
            "mean_lat": mean_lat[far],
            "mean_lon": mean_lon[far],
            "min_distance_to_coast_m": min_coast[far],
            "min_distance_to_port_m": min_port[far],
            "mean_sog_kn": mean_sog[far],
        }
    )
    out = out.sort_values(["start_time", "mmsi"], kind="stable").reset_index(drop=True)
    return out[LOITERING_COLUMNS]


def _slow_ticks(resampled: pd.DataFrame, max_speed_kn: float) -> _SlowTicks | None:
    """Ticks with ``sog_kn <= max_speed_kn`` in (mmsi, timestamp) order; None if fewer than 2."""
    sog_all = resampled["sog_kn"].to_numpy(dtype=np.float64, na_value=np.nan)
    slow = np.flatnonzero(sog_all <= max_speed_kn)  # NaN compares False
    if slow.size < 2:
        return None
    mmsi = resampled["mmsi"].to_numpy()[slow].astype(np.int64, copy=False)
    t_ms = timestamps_to_ms(resampled["timestamp"])[slow]
    rows = slow
    # Resampled tracks come sorted by (mmsi, timestamp): check in one pass and
    # sort only when they are not (a two-key lexsort costs seconds at 10 M ticks).
    same = mmsi[1:] == mmsi[:-1]
    if not np.all((mmsi[1:] > mmsi[:-1]) | (same & (t_ms[1:] >= t_ms[:-1]))):
        order = np.lexsort((t_ms, mmsi))
        mmsi, t_ms = mmsi[order], t_ms[order]
        rows = slow[order]
    del same
    return _SlowTicks(
        mmsi=mmsi,
        t_ms=t_ms,
        lat=resampled["lat"].to_numpy(np.float64)[rows],
        lon=resampled["lon"].to_numpy(np.float64)[rows],
        sog=sog_all[rows],
        segment=resampled["segment"].to_numpy(np.int64)[rows],
    )


def _runs(slow: _SlowTicks, max_merge_gap_h: float, min_duration_h: float) -> _Runs | None:
    """Runs of slow ticks and the duration rule; None when no run is long enough.

    A new run where the vessel or track segment changes, or the silence
    between slow ticks exceeds the merge gap.
    """
    mmsi, t_ms, segment = slow.mmsi, slow.t_ms, slow.segment
    new = np.ones(mmsi.size, dtype=bool)
    new[1:] = (
        (mmsi[1:] != mmsi[:-1])
        | (segment[1:] != segment[:-1])  # a new segment may be another ship on this MMSI
        | (np.diff(t_ms) > max_merge_gap_h * _MS_PER_H + 1e-6)
    )
    ev = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], mmsi.size) - 1
    duration_h = (t_ms[ends] - t_ms[starts]) / _MS_PER_H
    long_enough = duration_h >= min_duration_h - 1e-9
    if not long_enough.any():
        return None
    return _Runs(ev, starts, ends, duration_h, long_enough)


def _event_means(
    ev_k: np.ndarray, lat_k: np.ndarray, lon_k: np.ndarray, sog_k: np.ndarray, n_ev: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean latitude, circular mean longitude and mean speed of each event's ticks."""
    counts = np.bincount(ev_k, minlength=n_ev)
    mean_lat = np.bincount(ev_k, weights=lat_k, minlength=n_ev) / counts
    rad = np.radians(lon_k)
    mean_lon = np.degrees(
        np.arctan2(
            np.bincount(ev_k, weights=np.sin(rad), minlength=n_ev),
            np.bincount(ev_k, weights=np.cos(rad), minlength=n_ev),
        )
    )
    mean_sog = np.bincount(ev_k, weights=sog_k, minlength=n_ev) / counts
    return mean_lat, mean_lon, mean_sog


def _far_offshore(
    ev_k: np.ndarray,
    lat_k: np.ndarray,
    lon_k: np.ndarray,
    n_ev: int,
    cfg: Config,
    anchorages: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events whose every tick is far enough from coast, port (and anchorage), and their
    minimum coast and port distances (port: NaN for events already near the coast).

    Cheapest rule first: most slow runs are ships moored in port, which the
    coast raster drops; the KD-tree port query then sees far fewer ticks.
    """
    pf = cfg.port_filter
    min_coast = _group_min(ev_k, distance_to_coast_m(lat_k, lon_k), n_ev)
    far = ~(min_coast < pf.min_distance_to_coast_m)
    min_port = np.full(n_ev, np.nan)
    sel = far[ev_k]
    min_port_far = _group_min(ev_k[sel], distance_to_port_m(lat_k[sel], lon_k[sel]), n_ev)
    min_port[far] = min_port_far[far]
    far &= ~(min_port_far < pf.min_distance_to_port_m)
    if anchorages is not None and len(anchorages) and far.any():
        sel = far[ev_k]
        anch = _group_min(
            ev_k[sel], distance_to_anchorage_m(lat_k[sel], lon_k[sel], anchorages), n_ev
        )
        far &= ~(anch < pf.min_distance_to_anchorage_m)
    return far, min_coast, min_port


def _group_min(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-group minimum, NaN (unknown) treated as +inf so it never drops an event."""
    out = np.full(n, np.inf)
    np.minimum.at(out, group, np.where(np.isnan(values), np.inf, values))
    return out


def drop_explained_by_rendezvous(loitering: pd.DataFrame, rendezvous: pd.DataFrame) -> pd.DataFrame:
    """Loitering events that no rendezvous of the same vessel overlaps in time.

    Both ships of a meeting are, each on its own, slow far offshore: every
    rendezvous also shows up as two loitering events. Those add nothing for an
    analyst; the loitering that matters is the one with *no* visible partner.
    Overlap means ``loiter.start <= rdv.end`` and ``rdv.start <= loiter.end``.
    A merge on MMSI (events, not pings: thousands a day at most).
    """
    if loitering.empty or rendezvous is None or rendezvous.empty:
        return loitering
    sides = pd.concat(
        [
            rendezvous[["mmsi_a", "start_time", "end_time"]].rename(columns={"mmsi_a": "mmsi"}),
            rendezvous[["mmsi_b", "start_time", "end_time"]].rename(columns={"mmsi_b": "mmsi"}),
        ],
        ignore_index=True,
    ).rename(columns={"start_time": "r_start", "end_time": "r_end"})
    sides["mmsi"] = sides["mmsi"].astype(np.int64)
    left = loitering[["event_id", "mmsi", "start_time", "end_time"]].assign(
        mmsi=loitering["mmsi"].astype(np.int64)
    )
    pairs = left.merge(sides, on="mmsi", how="inner")
    overlap = (pairs["start_time"] <= pairs["r_end"]) & (pairs["r_start"] <= pairs["end_time"])
    explained = set(pairs.loc[overlap, "event_id"])
    return loitering[~loitering["event_id"].isin(explained)].reset_index(drop=True)
