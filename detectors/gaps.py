"""AIS gaps ("going dark") and their link to rendezvous.

A transfer partner that switches its transponder off shortly before or after a
meeting is one of the strongest signals analysts use; GFW's ``pipe-gaps``
flags silences of 6 h or more. Here a gap is two *consecutive* clean fixes of
one vessel at least ``GapConfig.min_gap_h`` apart, described by its two ends
(last fix before, first fix after), the straight-line distance between them and
the implied speed: 2 kn over 10 h means the ship waited somewhere; 12 kn means
it just sailed out of receiver range.

Data-window edges: a silence before a vessel's first fix or after its last fix
in the frame is *not* a gap, because its length is unknown (the vessel may have
been reporting just outside the window). So gaps are only ever reported with
both ends observed, and the caller widens the window (stswatch.pipeline.detection reads
neighbouring days) to see gaps that cross its edges.

Everything is vectorised: a sortedness check (one stable sort only when the
frame is not already in (mmsi, time) order), ``np.diff`` and boolean masks for
detection; ``searchsorted`` over (mmsi, time) keys for linking, so linking is
O((events + gaps) log gaps), never events x gaps.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from stswatch.detectors.events import event_ids
from stswatch.detectors.tracks import sort_positions
from stswatch.geo.coast import distance_to_coast_m
from stswatch.geo.distance import METRES_PER_NM, haversine_m
from stswatch.pipeline.config import GapConfig

GAP_COLUMNS = [
    "gap_id",
    "mmsi",
    "start_time",
    "end_time",
    "duration_h",
    "start_lat",
    "start_lon",
    "end_lat",
    "end_lon",
    "distance_m",
    "implied_speed_kn",
    "start_distance_to_coast_m",
]

LINK_COLUMNS = ["gap_before_h_a", "gap_after_h_a", "gap_before_h_b", "gap_after_h_b", "gap_ids"]

_TS = "datetime64[ms, UTC]"


def _utc_ms(values: pd.Series | np.ndarray) -> npt.NDArray[np.int64]:
    """Epoch milliseconds of tz-aware or naive-UTC timestamps."""
    s = pd.Series(values)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ms]").view(np.int64)


def _to_ts(ms: npt.NDArray[np.int64]) -> pd.Series:
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True)).astype(_TS)


def empty_gaps() -> pd.DataFrame:
    """A zero-row gap frame with the output dtypes."""
    return pd.DataFrame(
        {
            "gap_id": pd.Series([], dtype=object),
            "mmsi": pd.Series([], dtype="int32"),
            "start_time": pd.Series([], dtype=_TS),
            "end_time": pd.Series([], dtype=_TS),
            **{c: pd.Series([], dtype="float64") for c in GAP_COLUMNS[4:]},
        }
    )


def detect_gaps(positions: pd.DataFrame, cfg: GapConfig) -> pd.DataFrame:
    """Gaps of at least ``cfg.min_gap_h`` between consecutive fixes of each vessel.

    ``positions`` holds clean fixes (POSITION_SCHEMA columns; only mmsi,
    timestamp, lat, lon are read), in any order. Returns one row per gap,
    sorted by (mmsi, start_time), with a stable ``gap_id`` hashed from the
    vessel and the time of the last fix before the silence.
    """
    if positions.empty:
        return empty_gaps()
    # The store (and resampling) keep pings sorted by (mmsi, timestamp):
    # sort_positions checks that in one linear pass and sorts only when needed,
    # instead of a two-key lexsort of every ping (seconds at 10 M pings).
    order, t_ms = sort_positions(positions)
    mmsi_col = positions["mmsi"]
    # int32/int64 columns are viewed, not copied (80 MB per copy at 10 M pings).
    mmsi = (
        mmsi_col.to_numpy()
        if mmsi_col.dtype in (np.int32, np.int64)
        else mmsi_col.to_numpy(np.int64)
    )
    lat = positions["lat"].to_numpy(np.float64)
    lon = positions["lon"].to_numpy(np.float64)
    if order is not None:
        mmsi, t_ms, lat, lon = mmsi[order], t_ms[order], lat[order], lon[order]

    dt_ms = np.diff(t_ms)
    is_gap = (mmsi[1:] == mmsi[:-1]) & (dt_ms >= cfg.min_gap_h * 3_600_000.0)
    i = np.nonzero(is_gap)[0]
    if i.size == 0:
        return empty_gaps()
    j = i + 1
    mmsi = mmsi.astype(np.int64, copy=False)
    duration_h = dt_ms[i] / 3_600_000.0
    distance_m = haversine_m(lat[i], lon[i], lat[j], lon[j])
    out = pd.DataFrame(
        {
            "gap_id": event_ids(mmsi[i], mmsi[i], t_ms[i].astype("datetime64[ms]"), kind="gap"),
            "mmsi": mmsi[i].astype(np.int32),
            "start_time": _to_ts(t_ms[i]),
            "end_time": _to_ts(t_ms[j]),
            "duration_h": duration_h,
            "start_lat": lat[i],
            "start_lon": lon[i],
            "end_lat": lat[j],
            "end_lon": lon[j],
            "distance_m": distance_m,
            "implied_speed_kn": distance_m / METRES_PER_NM / duration_h,
            "start_distance_to_coast_m": distance_to_coast_m(lat[i], lon[i]),
        }
    )
    return out[GAP_COLUMNS]


def _window_ranges(
    keys: npt.NDArray[np.int64], lo_keys: npt.NDArray[np.int64], hi_keys: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """[start, stop) index range of the sorted ``keys`` lying in [lo, hi], per query."""
    return np.searchsorted(keys, lo_keys, side="left"), np.searchsorted(keys, hi_keys, side="right")


def _ramp(lens: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """[0..l0-1, 0..l1-1, ...] without a Python loop."""
    total = int(lens.sum())
    offsets = np.repeat(np.cumsum(lens) - lens, lens)
    return np.arange(total) - offsets


def shared_hours(
    linked: pd.DataFrame, silences: pd.DataFrame, max_distance_m: float
) -> npt.NDArray[np.float64]:
    """Hours of each linked gap that the partner spent silent *with* it (a reception hole).

    ``linked`` has one row per linked gap: ``partner`` (the other vessel of
    the event), ``start_ms``/``end_ms`` and the gap's end positions
    (``start_lat``...). A silence of the partner counts when it overlaps in
    time and both fell silent *and* both reappeared within ``max_distance_m``
    of each other: two ships sitting together out of receiver range. Two
    ships that went dark in different places and met afterwards do not
    share their silences. A vessel's silences never overlap each other, so
    the overlaps add up. A merge on the partner's MMSI: gaps, not pings.
    """
    out = np.zeros(len(linked))
    if linked.empty or silences is None or silences.empty:
        return out
    other = pd.DataFrame(
        {
            "partner": silences["mmsi"].to_numpy(np.int64),
            "o_start": _utc_ms(silences["start_time"]),
            "o_end": _utc_ms(silences["end_time"]),
            "o_start_lat": silences["start_lat"].to_numpy(np.float64),
            "o_start_lon": silences["start_lon"].to_numpy(np.float64),
            "o_end_lat": silences["end_lat"].to_numpy(np.float64),
            "o_end_lon": silences["end_lon"].to_numpy(np.float64),
        }
    )
    cand = linked.assign(_row=np.arange(len(linked))).merge(other, on="partner", how="inner")
    overlap_ms = np.minimum(cand["end_ms"], cand["o_end"]) - np.maximum(
        cand["start_ms"], cand["o_start"]
    )
    together = (
        (overlap_ms > 0)
        & (
            haversine_m(
                cand["start_lat"], cand["start_lon"], cand["o_start_lat"], cand["o_start_lon"]
            )
            <= max_distance_m
        )
        & (
            haversine_m(cand["end_lat"], cand["end_lon"], cand["o_end_lat"], cand["o_end_lon"])
            <= max_distance_m
        )
    ).to_numpy()
    np.add.at(out, cand["_row"].to_numpy()[together], overlap_ms.to_numpy()[together] / 3_600_000.0)
    return out


class _GapTimes(NamedTuple):
    """The gaps' vessels, start and end (epoch ms) and ids, as arrays."""

    mmsi: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    gap_id: npt.NDArray[np.object_]

    @classmethod
    def of(cls, gaps: pd.DataFrame) -> _GapTimes:
        if len(gaps):
            return cls(
                gaps["mmsi"].to_numpy(np.int64),
                _utc_ms(gaps["start_time"]),
                _utc_ms(gaps["end_time"]),
                gaps["gap_id"].to_numpy(object),
            )
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, np.zeros(0, dtype=object))


class _VesselTimeKeys:
    """Keys (vessel code, seconds since t0) packed in one int64, for ``searchsorted`` windows.

    Codes number the distinct vessels of the gaps and events (< 2^30), the
    time span is < 2^33 s (272 years).
    """

    def __init__(
        self,
        gaps: _GapTimes,
        ev_mmsi: dict[str, npt.NDArray[np.int64]],
        times: list[npt.NDArray[np.int64]],
    ):
        n_g, n = gaps.mmsi.size, ev_mmsi["a"].size
        _, codes = np.unique(
            np.concatenate([gaps.mmsi, ev_mmsi["a"], ev_mmsi["b"]]), return_inverse=True
        )
        codes = codes.astype(np.int64)
        self.gap_code = codes[:n_g]
        self.event_code = {"a": codes[n_g : n_g + n], "b": codes[n_g + n :]}
        all_t = np.concatenate(times)
        self.t0 = int(all_t.min()) if all_t.size else 0

    def __call__(
        self, m: npt.NDArray[np.int64], t_ms: npt.NDArray[np.int64], ceil: bool
    ) -> npt.NDArray[np.int64]:
        sec = (t_ms - self.t0 + (999 if ceil else 0)) // 1000
        return (m << 33) + sec


#: One linked-gap group: (event of each link, vessel side, "before"/"after", gap rows).
_Links = tuple[npt.NDArray[np.intp], str, str, npt.NDArray[np.intp]]


def link_gaps(
    rendezvous: pd.DataFrame,
    gaps: pd.DataFrame,
    cfg: GapConfig,
    *,
    silences: pd.DataFrame | None = None,
    tolerance_min: float = 0.0,
) -> pd.DataFrame:
    """Attach each vessel's gaps around each rendezvous, counting only one-sided silence.

    For every event (``mmsi_a``, ``mmsi_b``, ``start_time``, ``end_time``) and
    each vessel: ``gap_before_h_*`` is the longest gap of that vessel that
    *ended* within ``cfg.link_window_h`` before the event start, and
    ``gap_after_h_*`` the longest that *started* within ``link_window_h`` after
    the event end (0.0 when none), each minus the hours the partner was
    silent together with it (:func:`shared_hours` over ``silences``, default
    ``gaps``; pass the shorter silences too, so a 5 h shared hole inside a 7 h
    gap is not dark evidence). A silence shared by two ships sitting together
    is a reception hole; only a one-sided one is going dark. ``gap_ids`` lists
    every linked gap id (before/after, vessel a then b). ``tolerance_min``
    widens both windows into the event: event times lie on the resampling
    grid, where a fix up to half an interval late still makes the first tick
    (a vessel back from silence at 09:04 is "at" the 09:00 start). Returns a
    copy of ``rendezvous`` with these columns added (replaced if present);
    row order is unchanged.

    Steps: gaps in the windows of each event, side and direction
    (:func:`_linked_gaps`) -> their one-sided hours (:func:`_one_sided_hours`)
    -> the longest per event, side and direction.
    """
    out = rendezvous.copy()
    n = len(out)
    if n == 0:
        for col in LINK_COLUMNS[:-1]:
            out[col] = pd.Series([], dtype="float64")
        out["gap_ids"] = pd.Series([], dtype=object)
        return out
    window_ms = round(cfg.link_window_h * 3_600_000.0)
    tolerance_ms = round(tolerance_min * 60_000.0)
    ev_start = _utc_ms(out["start_time"]) + tolerance_ms
    ev_end = _utc_ms(out["end_time"]) - tolerance_ms
    ev_mmsi = {side: out[f"mmsi_{side}"].to_numpy(np.int64) for side in ("a", "b")}
    g = _GapTimes.of(gaps)
    parts, ids_per_event = _linked_gaps(g, ev_mmsi, ev_start, ev_end, window_ms)
    one_sided = _one_sided_hours(
        parts, g, gaps, ev_mmsi, gaps if silences is None else silences, cfg
    )
    offset = 0
    for ev, side, which, _ in parts:
        values = np.zeros(n)
        np.maximum.at(values, ev, np.clip(one_sided[offset : offset + ev.size], 0.0, None))
        offset += ev.size
        out[f"gap_{which}_h_{side}"] = values
    out["gap_ids"] = pd.Series(ids_per_event, index=out.index, dtype=object)
    return out


def _linked_gaps(
    g: _GapTimes,
    ev_mmsi: dict[str, npt.NDArray[np.int64]],
    ev_start: npt.NDArray[np.int64],
    ev_end: npt.NDArray[np.int64],
    window_ms: int,
) -> tuple[list[_Links], list[list[str]]]:
    """Gaps that ended in the window before each event or started in the window after it.

    One group per vessel side and direction (a before, a after, b before, b
    after), plus each event's linked gap ids in that order.
    """
    n = ev_start.size
    keys = _VesselTimeKeys(g, ev_mmsi, [g.start, g.end, ev_start - window_ms, ev_end + window_ms])
    by_end = np.lexsort((g.end, keys.gap_code))
    by_start = np.lexsort((g.start, keys.gap_code))
    end_keys = keys(keys.gap_code[by_end], g.end[by_end], ceil=False)
    start_keys = keys(keys.gap_code[by_start], g.start[by_start], ceil=False)
    ids_per_event: list[list[str]] = [[] for _ in range(n)]
    # one row per (event, side, before/after, linked gap)
    parts: list[_Links] = []
    for side in ("a", "b"):
        m = keys.event_code[side]
        b_lo, b_hi = _window_ranges(
            end_keys, keys(m, ev_start - window_ms, ceil=True), keys(m, ev_start, ceil=False)
        )
        a_lo, a_hi = _window_ranges(
            start_keys, keys(m, ev_end, ceil=True), keys(m, ev_end + window_ms, ceil=False)
        )
        for which, lo, hi, order in (
            ("before", b_lo, b_hi, by_end),
            ("after", a_lo, a_hi, by_start),
        ):
            lens = hi - lo
            events = np.repeat(np.arange(n), lens)
            parts.append((events, side, which, order[np.repeat(lo, lens) + _ramp(lens)]))
            for e in np.nonzero(lens > 0)[0]:  # loop over linked events only
                ids_per_event[e].extend(g.gap_id[order[lo[e] : hi[e]]].tolist())
    return parts, ids_per_event


def _one_sided_hours(
    parts: list[_Links],
    g: _GapTimes,
    gaps: pd.DataFrame,
    ev_mmsi: dict[str, npt.NDArray[np.int64]],
    silences: pd.DataFrame,
    cfg: GapConfig,
) -> npt.NDArray[np.float64]:
    """Hours of each linked gap (in ``parts`` order) minus those the partner shared."""
    rows = np.concatenate([p[3] for p in parts])
    partner = np.concatenate([ev_mmsi["b" if side == "a" else "a"][ev] for ev, side, _, _ in parts])
    linked = pd.DataFrame(
        {
            "partner": partner,
            "start_ms": g.start[rows],
            "end_ms": g.end[rows],
            **{c: gaps[c].to_numpy(np.float64)[rows] for c in GAP_COLUMNS[5:9]},
        }
    )
    return (g.end[rows] - g.start[rows]) / 3_600_000.0 - shared_hours(
        linked, silences, cfg.max_shared_silence_distance_m
    )
