"""Dark transfers: a loitering vessel and a partner whose AIS was off alongside it.

A transfer whose partner keeps its transponder off leaves two separate traces
on AIS: one ship idling far offshore for hours (a loitering event) and,
nearby, another ship's silence that starts and ends close to it. Comparisons
with observer records found a two-vessel rule (GFW's 500 m / 2 h) matching
~30 % of real transshipments and a loitering rule ~81 %: the one-sided case
is the common one. This module links the two traces.

A loitering vessel L and a silence (AIS gap) of another vessel P pair when

* P's last fix before and first fix after the silence both lie within
  ``max_partner_fix_distance_m`` of L's loitering position;
* the silence leaves time to have stopped alongside: sailing in from the last
  fix and out to the first at ``partner_speed_kn`` leaves a window of at
  least ``min_duration_h`` that also falls inside L's loitering.

A ship crossing a reception hole near L at transit speed fails the first
test (its fixes either side of hours of silence lie tens of km apart) or the
second; a loiterer with no such partner stays a loitering event. Each silence
pairs with at most one loiterer: the one its fixes lie closest to (in + out
distance), so a partner arriving in a crowd of waiting tankers is reported
once.

*Two vessels that both go silent after converging* are handled by the
rendezvous detector, not here: if they are seen close and slow on both sides
of a shared silence, that is a reception hole inside one meeting
(``shared_silence_h``, :mod:`stswatch.detectors.rendezvous`). If neither is
seen alongside the other at all, no loitering remains to anchor the pair, and
two silences that merely start and end near each other are also what two
ships crossing a reception hole together look like; stswatch does not report
them (their gaps are still published, with their implied speeds).

Rows come out in the ranked event frame's layout (``kind`` =
"dark_rendezvous", see docs/ARCHITECTURE.md). Near-linear: one KD-tree over
the loitering positions, one ball query per silence.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from stswatch.detectors.events import DARK_RENDEZVOUS_KIND, event_ids
from stswatch.detectors.tracks import ms_to_timestamps, timestamps_to_ms
from stswatch.geo.distance import METRES_PER_NM, haversine_m
from stswatch.geo.ports import m_to_chord, unit_vectors
from stswatch.pipeline.config import DarkTransferConfig

_MS_PER_H = 3_600_000

#: Columns of :func:`find_dark_transfers` (the event frame's own, before identity and gaps).
DARK_TRANSFER_COLUMNS = (
    "event_id",
    "kind",
    "mmsi_a",
    "mmsi_b",
    "dark_mmsi",
    "start_time",
    "end_time",
    "duration_h",
    "n_ticks",
    "min_distance_m",
    "median_distance_m",
    "mean_lat",
    "mean_lon",
    "shared_silence_h",
    "partner_last_fix_distance_m",
    "partner_first_fix_distance_m",
    "partner_gap_h",
    "partner_gap_id",
    "loitering_event_id",
    "min_distance_to_coast_m",
    "min_distance_to_port_m",
)


def empty_dark_transfers() -> pd.DataFrame:
    """A zero-row frame with the output dtypes."""
    ts = pd.Series([], dtype="datetime64[ms, UTC]")
    out = {c: pd.Series([], dtype=np.float64) for c in DARK_TRANSFER_COLUMNS}
    out.update(
        event_id=pd.Series([], dtype=object),
        kind=pd.Series([], dtype=object),
        mmsi_a=pd.Series([], dtype=np.int32),
        mmsi_b=pd.Series([], dtype=np.int32),
        dark_mmsi=pd.Series(pd.array([], dtype="Int64")),
        start_time=ts,
        end_time=ts.copy(),
        n_ticks=pd.Series([], dtype=np.int32),
        partner_gap_id=pd.Series([], dtype=object),
        loitering_event_id=pd.Series([], dtype=object),
    )
    return pd.DataFrame(out)[list(DARK_TRANSFER_COLUMNS)]


def _candidates(
    loitering: pd.DataFrame, gaps: pd.DataFrame, radius_m: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(gap row, loitering row) pairs whose gap *starts* within ``radius_m`` of the loitering."""
    tree = cKDTree(
        unit_vectors(loitering["mean_lat"].to_numpy(np.float64), loitering["mean_lon"].to_numpy())
    )
    hits = tree.query_ball_point(
        unit_vectors(gaps["start_lat"].to_numpy(np.float64), gaps["start_lon"].to_numpy()),
        r=float(m_to_chord(radius_m)),
    )
    lens = np.fromiter((len(h) for h in hits), dtype=np.intp, count=len(hits))
    g = np.repeat(np.arange(len(gaps)), lens)
    lo = np.fromiter((j for h in hits for j in h), dtype=np.intp, count=int(lens.sum()))
    return g, lo


def find_dark_transfers(
    loitering: pd.DataFrame,
    gaps: pd.DataFrame,
    cfg: DarkTransferConfig,
    *,
    resample_interval_min: int,
) -> pd.DataFrame:
    """Pairs of a loitering vessel and a silent partner, one row per partner silence.

    ``loitering``: :func:`stswatch.detectors.loitering.detect_loitering` output
    (loiterers with a *visible* partner already removed); ``gaps``:
    :func:`stswatch.detectors.gaps.detect_gaps` output (silences of at least
    ``cfg.min_partner_gap_h`` are considered). ``start_time``/``end_time`` are
    the plausible alongside window (silence minus the legs in and out,
    within the loitering), narrowed to the resampling grid so ids are stable;
    ``mean_lat``/``mean_lon`` the loitering position; distances between the
    hulls are unknown (NaN). Sorted by (start_time, mmsi_a, mmsi_b).
    """
    if loitering.empty or gaps.empty:
        return empty_dark_transfers()
    gaps = gaps[gaps["duration_h"] >= cfg.min_partner_gap_h - 1e-9].reset_index(drop=True)
    if gaps.empty:
        return empty_dark_transfers()
    g, lo = _candidates(loitering, gaps, cfg.max_partner_fix_distance_m)
    partner = gaps["mmsi"].to_numpy(np.int64)[g]
    loiterer = loitering["mmsi"].to_numpy(np.int64)[lo]
    keep = partner != loiterer
    g, lo, partner, loiterer = g[keep], lo[keep], partner[keep], loiterer[keep]
    l_lat = loitering["mean_lat"].to_numpy(np.float64)[lo]
    l_lon = loitering["mean_lon"].to_numpy(np.float64)[lo]
    d_in = haversine_m(
        gaps["start_lat"].to_numpy()[g], gaps["start_lon"].to_numpy()[g], l_lat, l_lon
    )
    d_out = haversine_m(l_lat, l_lon, gaps["end_lat"].to_numpy()[g], gaps["end_lon"].to_numpy()[g])
    speed_m_per_ms = cfg.partner_speed_kn * METRES_PER_NM / _MS_PER_H
    window_lo = np.maximum(
        timestamps_to_ms(gaps["start_time"])[g] + d_in / speed_m_per_ms,
        timestamps_to_ms(loitering["start_time"])[lo],
    )
    window_hi = np.minimum(
        timestamps_to_ms(gaps["end_time"])[g] - d_out / speed_m_per_ms,
        timestamps_to_ms(loitering["end_time"])[lo],
    )
    fits = (d_out <= cfg.max_partner_fix_distance_m) & (
        window_hi - window_lo >= cfg.min_duration_h * _MS_PER_H - 1e-6
    )
    if not fits.any():
        return empty_dark_transfers()
    cand = pd.DataFrame(
        {
            "g": g[fits],
            "lo": lo[fits],
            "partner": partner[fits],
            "loiterer": loiterer[fits],
            "d_in": d_in[fits],
            "d_out": d_out[fits],
            "w_lo": window_lo[fits],
            "w_hi": window_hi[fits],
            "loiter_id": loitering["event_id"].to_numpy(object)[lo[fits]],
        }
    )
    # one loiterer per silence: the one its fixes lie closest to
    cand["reach_m"] = cand["d_in"] + cand["d_out"]
    cand = cand.sort_values(["g", "reach_m", "loiter_id"], kind="stable").drop_duplicates("g")
    return _rows(cand, loitering, gaps, resample_interval_min)


def _rows(
    cand: pd.DataFrame, loitering: pd.DataFrame, gaps: pd.DataFrame, resample_interval_min: int
) -> pd.DataFrame:
    """Event-frame rows of the chosen (silence, loiterer) pairs."""
    interval_ms = int(resample_interval_min) * 60_000
    # narrowed to the grid: the window stays inside the silence (no partner fix
    # falls in it) and its start is a grid tick, so ids are stable
    start_ms = (np.ceil(cand["w_lo"].to_numpy() / interval_ms) * interval_ms).astype(np.int64)
    end_ms = (np.floor(cand["w_hi"].to_numpy() / interval_ms) * interval_ms).astype(np.int64)
    partner = cand["partner"].to_numpy(np.int64)
    loiterer = cand["loiterer"].to_numpy(np.int64)
    mmsi_a, mmsi_b = np.minimum(partner, loiterer), np.maximum(partner, loiterer)
    start_time = ms_to_timestamps(start_ms)
    lo = cand["lo"].to_numpy()
    g = cand["g"].to_numpy()
    n = len(cand)
    out = pd.DataFrame(
        {
            "event_id": event_ids(mmsi_a, mmsi_b, start_time, kind=DARK_RENDEZVOUS_KIND),
            "kind": np.full(n, DARK_RENDEZVOUS_KIND, dtype=object),
            "mmsi_a": mmsi_a.astype(np.int32),
            "mmsi_b": mmsi_b.astype(np.int32),
            "dark_mmsi": pd.array(partner, dtype="Int64"),
            "start_time": start_time,
            "end_time": ms_to_timestamps(end_ms),
            "duration_h": (end_ms - start_ms) / _MS_PER_H,
            "n_ticks": np.zeros(n, dtype=np.int32),  # never seen together
            "min_distance_m": np.full(n, np.nan),
            "median_distance_m": np.full(n, np.nan),
            "mean_lat": loitering["mean_lat"].to_numpy(np.float64)[lo],
            "mean_lon": loitering["mean_lon"].to_numpy(np.float64)[lo],
            "shared_silence_h": np.zeros(n),
            "partner_last_fix_distance_m": cand["d_in"].to_numpy(),
            "partner_first_fix_distance_m": cand["d_out"].to_numpy(),
            "partner_gap_h": gaps["duration_h"].to_numpy(np.float64)[g],
            "partner_gap_id": gaps["gap_id"].to_numpy(object)[g],
            "loitering_event_id": cand["loiter_id"].to_numpy(object),
            "min_distance_to_coast_m": loitering["min_distance_to_coast_m"].to_numpy(np.float64)[
                lo
            ],
            "min_distance_to_port_m": loitering["min_distance_to_port_m"].to_numpy(np.float64)[lo],
        }
    )
    out = out.sort_values(["start_time", "mmsi_a", "mmsi_b"], kind="stable")
    return out.reset_index(drop=True)[list(DARK_TRANSFER_COLUMNS)]
