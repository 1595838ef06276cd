"""Features of a rendezvous that separate illicit transfers from legitimate ones.

One row per rendezvous event, computed from the detector's event frame plus the
clean pings and the static-report time series around it. Pure: frames in,
frame out, no I/O. Units are in every column name.

Why these features (public reporting on sanctions-evasion STS transfers, e.g.
the UN Panel of Experts on DPRK, US Treasury/State 2020 and 2024 advisories,
Windward and Kpler write-ups):

* **kinematics** - a transfer needs hours alongside and a steady stand-off;
  passing traffic and anchorage neighbours drift apart.
* **location** - legitimate lightering concentrates in a few recurring zones near
  oil ports; illicit meetings pick remote spots and the dark of night.
* **going dark** - switching AIS off before/after the meeting, or throttling it
  during, is the most-cited evasion behaviour.
* **cargo** - one ship deeper and the other lighter after the meeting with no
  port call in between is cargo that moved at sea.
* **identity** - missing IMO/name, flags of convenience, Class B kits on large
  hulls, tankers meeting small or unidentified craft, changing names/callsigns.

Model features are symmetric in the pair (``mmsi_a`` < ``mmsi_b`` is an arbitrary
order); per-vessel ``_a``/``_b`` detail columns are kept for the reasons text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import BallTree

from stswatch.pipeline.config import GapConfig, ScoringConfig
from stswatch.pipeline.scoring.flags import is_flag_of_convenience, mid_of
from stswatch.pipeline.scoring.frames import (
    EARTH_RADIUS_M,
    HOUR_MS,
    epoch_ms,
    haversine_m,
    num_col,
    side_col,
)
from stswatch.pipeline.scoring.legs import (
    VesselIndex,
    circular_mean_deg,
    draught_reports,
    identity_changes,
    is_tanker,
    largest_gap_h,
    missing_imo,
    missing_name,
    stationary_elsewhere_h,
)
from stswatch.pipeline.scoring.solar import night_share

SIDES = ("a", "b")

#: Columns the model sees, in this order. Grouped by concept.
KINEMATIC_FEATURES = (
    "duration_h",
    "min_distance_m",
    "median_distance_m",
    "separation_std_m",
    "mean_sog_max_kn",
    "heading_alignment",
)
LOCATION_FEATURES = (
    "distance_to_coast_m",
    "distance_to_port_m",
    "distance_to_anchorage_m",
    "recurrence_count",
    "night_share",
)
DARK_FEATURES = ("gap_before_max_h", "gap_after_max_h", "reporting_ratio_min")
CARGO_FEATURES = ("draught_change_max_m", "opposite_draught_change")
IDENTITY_FEATURES = (
    "n_missing_imo",
    "n_missing_name",
    "n_flag_of_convenience",
    "n_class_b_large",
    "n_tankers",
    "tanker_with_small_or_unknown",
    "length_ratio",
    "identity_changes_max",
)
FEATURE_COLUMNS: tuple[str, ...] = (
    KINEMATIC_FEATURES + LOCATION_FEATURES + DARK_FEATURES + CARGO_FEATURES + IDENTITY_FEATURES
)

#: Per-vessel values behind the symmetric features, used to word the reasons.
DETAIL_COLUMNS: tuple[str, ...] = tuple(
    f"{name}_{side}"
    for name in (
        "mean_sog_kn",
        "gap_before_h",
        "gap_after_h",
        "reporting_ratio",
        "draught_change_m",
        "port_call",
        "missing_imo",
        "missing_name",
        "mid",
        "flag_of_convenience",
        "class_b_large",
        "ship_type",
        "length_m",
        "identity_changes",
    )
    for side in SIDES
)

#: Where and when, carried along for recurrence across sets and for the reasons.
CONTEXT_COLUMNS: tuple[str, ...] = ("mean_lat", "mean_lon")


# --------------------------------------------------------------------------- kinematics


def separation_std_m(rendezvous: pd.DataFrame, tracks: pd.DataFrame | None) -> np.ndarray:
    """Standard deviation of the pair's distance over the event's shared ticks.

    Two hulls moored alongside keep a near-constant stand-off (std of tens of
    metres); vessels that just happen to drift near each other do not.
    ``tracks`` is either per-event tracks (with ``event_id``) or the detector's
    resampled grid (``mmsi``, ``timestamp``, ``lat``, ``lon``), where both
    vessels share tick times.
    """
    out = np.full(len(rendezvous), np.nan)
    if tracks is None or tracks.empty or rendezvous.empty:
        return out
    legs = rendezvous[["event_id", "mmsi_a", "mmsi_b", "start_time", "end_time"]].reset_index(
        drop=True
    )
    cols = ["mmsi", "timestamp", "lat", "lon"]
    sides = []
    for side in SIDES:
        if "event_id" in tracks.columns:
            part = tracks[["event_id", *cols]].merge(legs, on="event_id")
            part = part[part["mmsi"] == part[f"mmsi_{side}"]]
        else:
            part = tracks[cols].merge(legs, left_on="mmsi", right_on=f"mmsi_{side}")
            ts = part["timestamp"]
            part = part[(ts >= part["start_time"]) & (ts <= part["end_time"])]
        sides.append(part[["event_id", "timestamp", "lat", "lon"]])
    both = sides[0].merge(sides[1], on=["event_id", "timestamp"], suffixes=("_1", "_2"))
    if both.empty:
        return out
    both["d"] = haversine_m(both["lat_1"], both["lon_1"], both["lat_2"], both["lon_2"])
    std = both.groupby("event_id")["d"].std(ddof=0)
    return legs["event_id"].map(std).to_numpy(dtype=np.float64, na_value=np.nan)


def heading_alignment(heading_a_deg: np.ndarray, heading_b_deg: np.ndarray) -> np.ndarray:
    """|cos| of the angle between the two vessels' headings (1 = parallel/antiparallel).

    Ships lashed together for a transfer lie parallel and swing together with
    wind and current; unrelated neighbours point anywhere.
    """
    return np.abs(np.cos(np.radians(np.asarray(heading_a_deg) - np.asarray(heading_b_deg))))


# --------------------------------------------------------------------------- location


def recurrence_count(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    event_ids: np.ndarray,
    history: pd.DataFrame | None,
    radius_m: float,
) -> np.ndarray:
    """How many *other* rendezvous (this batch plus ``history``) lie within ``radius_m``.

    Recurring meeting spots are mostly designated lightering/bunkering areas;
    a one-off meeting in open ocean is the illicit pattern. History events with
    the same ``event_id`` as a batch event (a re-run) are counted once.
    """
    n = len(lat_deg)
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    pts = pd.DataFrame({"event_id": event_ids, "mean_lat": lat_deg, "mean_lon": lon_deg})
    if history is not None and not history.empty:
        hist = history[["event_id", "mean_lat", "mean_lon"]]
        hist = hist[~hist["event_id"].isin(set(event_ids))]
        pts = pd.concat([pts, hist], ignore_index=True)
    pts = pts.dropna(subset=["mean_lat", "mean_lon"]).drop_duplicates("event_id")
    tree = BallTree(np.radians(pts[["mean_lat", "mean_lon"]].to_numpy()), metric="haversine")
    query = np.radians(np.column_stack([lat_deg, lon_deg]).astype(np.float64))
    ok = np.isfinite(query).all(axis=1)
    counts = np.zeros(n, dtype=np.float64)
    if ok.any():
        found = tree.query_radius(query[ok], r=radius_m / EARTH_RADIUS_M, count_only=True)
        counts[ok] = np.maximum(found - 1, 0)  # minus the event itself
    return counts


# --------------------------------------------------------------------------- assembly


def compute_features(
    rendezvous: pd.DataFrame,
    positions: pd.DataFrame | None,
    vessels: pd.DataFrame | None,
    *,
    event_tracks: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    cfg: ScoringConfig | None = None,
    gap_cfg: GapConfig | None = None,
) -> pd.DataFrame:
    """Feature frame for ``rendezvous`` (same row order), model columns then detail columns.

    ``positions``: the clean pings of the detection window (POSITION_SCHEMA
    columns); ``vessels``: static reports (VESSEL_SCHEMA); ``event_tracks``:
    gridded tracks (the detector's resampled frame, or per-event tracks with
    ``event_id`` on a shared time grid); ``history``: past rendezvous
    (``event_id``, ``mean_lat``, ``mean_lon``) for recurrence. Missing inputs
    give NaN for the features they feed, never an error: the model handles NaN.
    """
    cfg = cfg or ScoringConfig()
    gap_cfg = gap_cfg or GapConfig()
    n = len(rendezvous)
    rv = rendezvous.reset_index(drop=True)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["event_id"] = rv["event_id"].to_numpy() if "event_id" in rv.columns else np.arange(n)
    if n == 0:
        for c in FEATURE_COLUMNS + DETAIL_COLUMNS + CONTEXT_COLUMNS:
            out[c] = pd.Series(dtype=np.float64)
        return out

    start_ms = epoch_ms(rv["start_time"]).astype(np.float64)
    end_ms = epoch_ms(rv["end_time"]).astype(np.float64)
    lat, lon = num_col(rv, "mean_lat"), num_col(rv, "mean_lon")
    duration_h = num_col(rv, "duration_h")
    duration_h = np.where(np.isfinite(duration_h), duration_h, (end_ms - start_ms) / HOUR_MS)

    # kinematics
    out["duration_h"] = duration_h
    out["min_distance_m"] = num_col(rv, "min_distance_m")
    out["median_distance_m"] = num_col(rv, "median_distance_m")
    out["separation_std_m"] = separation_std_m(rv, event_tracks)

    # location
    for name in ("coast", "port", "anchorage"):
        # inf = nothing of that kind known anywhere: very far, not an invalid input
        out[f"distance_to_{name}_m"] = np.fmin(
            num_col(rv, f"min_distance_to_{name}_m"), cfg.max_feature_distance_m
        )
    out["recurrence_count"] = recurrence_count(
        lat, lon, out["event_id"].to_numpy(), history, cfg.recurrence_radius_m
    )
    out["night_share"] = night_share(
        start_ms.astype(np.int64).astype("datetime64[ms]"),
        end_ms.astype(np.int64).astype("datetime64[ms]"),
        lat,
        lon,
    )

    # per-vessel legs
    index = VesselIndex(
        positions if positions is not None else pd.DataFrame(),
        np.r_[rv["mmsi_a"].to_numpy(), rv["mmsi_b"].to_numpy()],
    )
    id_changes = identity_changes(vessels)
    link_ms = gap_cfg.link_window_h * HOUR_MS
    headings = {}
    for side in SIDES:
        mmsi = rv[f"mmsi_{side}"].to_numpy(dtype=np.int64)
        sog = np.full(n, np.nan)
        heading = np.full(n, np.nan)
        ratio = np.full(n, np.nan)
        gap_b = np.full(n, np.nan)
        gap_a = np.full(n, np.nan)
        class_b = np.zeros(n, dtype=bool)
        d_before, t_before, d_after, t_after = draught_reports(
            vessels, mmsi, start_ms, end_ms, link_ms
        )
        # the store's reports give the settled value; the detector's columns fill in
        d_before = np.where(np.isfinite(d_before), d_before, side_col(rv, "draught_before_m", side))
        d_after = np.where(np.isfinite(d_after), d_after, side_col(rv, "draught_after_m", side))
        port_call = np.zeros(n, dtype=bool)
        for i in range(n):
            v = index.get(mmsi[i])
            if v is None:
                continue
            t = v["t"]
            i0 = np.searchsorted(t, start_ms[i], "left")
            i1 = np.searchsorted(t, end_ms[i], "right")
            if i1 > i0:
                sog[i] = (
                    np.nanmean(v["sog"][i0:i1]) if np.isfinite(v["sog"][i0:i1]).any() else np.nan
                )
                hd = v["heading"][i0:i1]
                hd = hd if np.isfinite(hd).any() else v["cog"][i0:i1]
                heading[i] = circular_mean_deg(hd)
                class_b[i] = bool(v["class_b"].mean() > 0.5)
                # usual rate over the time the vessel was transmitting at all:
                # gaps of min_gap_h+ are going dark (a feature of their own),
                # not a lower usual rate
                steps_h = np.diff(t) / HOUR_MS
                covered_h = steps_h[steps_h < gap_cfg.min_gap_h].sum()
                dur = max(duration_h[i], 1e-6)
                if covered_h > 0:
                    usual = len(t) / covered_h
                    ratio[i] = ((i1 - i0) / dur) / usual
            gap_b[i] = largest_gap_h(t, start_ms[i] - link_ms, start_ms[i])
            gap_a[i] = largest_gap_h(t, end_ms[i], end_ms[i] + link_ms)
            lo = t_before[i] if np.isfinite(t_before[i]) else start_ms[i] - link_ms
            hi = t_after[i] if np.isfinite(t_after[i]) else end_ms[i] + link_ms
            port_call[i] = (
                stationary_elsewhere_h(
                    v, lo, hi, start_ms[i], end_ms[i], lat[i], lon[i], cfg.min_port_call_distance_m
                )
                >= cfg.min_port_call_h
            )
        # gaps: the detector's linked gaps are the contract; our own look-up fills in
        det_gap_b = side_col(rv, "gap_before_h", side)
        det_gap_a = side_col(rv, "gap_after_h", side)
        gap_b = np.where(np.isfinite(det_gap_b), det_gap_b, gap_b)
        gap_a = np.where(np.isfinite(det_gap_a), det_gap_a, gap_a)
        # only gaps of at least min_gap_h count as going dark (reception holes are shorter)
        gap_b = np.where(gap_b >= gap_cfg.min_gap_h, gap_b, 0.0)
        gap_a = np.where(gap_a >= gap_cfg.min_gap_h, gap_a, 0.0)

        change = d_after - d_before
        length = side_col(rv, "length_m", side)
        ship_type = side_col(rv, "ship_type", side)
        if f"transceiver_class_{side}" in rv.columns:
            class_b |= (rv[f"transceiver_class_{side}"].astype("string") == "B").to_numpy(
                dtype=bool, na_value=False
            )
        out[f"mean_sog_kn_{side}"] = sog
        headings[side] = heading
        out[f"gap_before_h_{side}"] = gap_b
        out[f"gap_after_h_{side}"] = gap_a
        out[f"reporting_ratio_{side}"] = ratio
        out[f"draught_change_m_{side}"] = change
        out[f"port_call_{side}"] = port_call.astype(np.float64)
        out[f"missing_imo_{side}"] = missing_imo(side_col(rv, "imo", side)).astype(np.float64)
        out[f"missing_name_{side}"] = missing_name(rv, side).astype(np.float64)
        out[f"mid_{side}"] = mid_of(mmsi).astype(np.float64)
        out[f"flag_of_convenience_{side}"] = is_flag_of_convenience(mmsi).astype(np.float64)
        out[f"class_b_large_{side}"] = (class_b & (length >= cfg.large_ship_length_m)).astype(
            np.float64
        )
        out[f"ship_type_{side}"] = ship_type
        out[f"length_m_{side}"] = length
        out[f"identity_changes_{side}"] = (
            pd.Series(mmsi).map(id_changes).fillna(0.0).to_numpy(dtype=np.float64)
        )

    out["mean_sog_max_kn"] = np.fmax(out["mean_sog_kn_a"], out["mean_sog_kn_b"])
    out["heading_alignment"] = heading_alignment(headings["a"], headings["b"])

    # going dark
    out["gap_before_max_h"] = np.fmax(out["gap_before_h_a"], out["gap_before_h_b"])
    out["gap_after_max_h"] = np.fmax(out["gap_after_h_a"], out["gap_after_h_b"])
    out["reporting_ratio_min"] = np.fmin(out["reporting_ratio_a"], out["reporting_ratio_b"])

    # cargo: a change explained by a port call does not count
    eff = {
        s: np.where(out[f"port_call_{s}"] > 0, 0.0, out[f"draught_change_m_{s}"].to_numpy())
        for s in SIDES
    }
    big = {s: np.abs(np.nan_to_num(eff[s])) >= cfg.min_draught_change_m for s in SIDES}
    out["draught_change_max_m"] = np.fmax(
        np.abs(np.nan_to_num(eff["a"])) * big["a"], np.abs(np.nan_to_num(eff["b"])) * big["b"]
    )
    out["opposite_draught_change"] = (
        big["a"] & big["b"] & (np.sign(np.nan_to_num(eff["a"])) != np.sign(np.nan_to_num(eff["b"])))
    ).astype(np.float64)

    # identity
    out["n_missing_imo"] = out["missing_imo_a"] + out["missing_imo_b"]
    out["n_missing_name"] = out["missing_name_a"] + out["missing_name_b"]
    out["n_flag_of_convenience"] = out["flag_of_convenience_a"] + out["flag_of_convenience_b"]
    out["n_class_b_large"] = out["class_b_large_a"] + out["class_b_large_b"]
    tanker = {s: is_tanker(out[f"ship_type_{s}"].to_numpy()) for s in SIDES}
    small_unknown = {
        s: ~(out[f"ship_type_{s}"].to_numpy() > 0)
        | ~(out[f"length_m_{s}"].to_numpy() >= cfg.large_ship_length_m)
        for s in SIDES
    }
    out["n_tankers"] = tanker["a"].astype(np.float64) + tanker["b"]
    out["tanker_with_small_or_unknown"] = (
        (tanker["a"] & small_unknown["b"]) | (tanker["b"] & small_unknown["a"])
    ).astype(np.float64)
    la, lb = out["length_m_a"].to_numpy(), out["length_m_b"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_len = np.fmax(la, lb) / np.fmin(la, lb)
    out["length_ratio"] = np.where((la > 0) & (lb > 0), ratio_len, np.nan)
    out["identity_changes_max"] = np.fmax(out["identity_changes_a"], out["identity_changes_b"])

    out["mean_lat"], out["mean_lon"] = lat, lon
    return out[["event_id", *FEATURE_COLUMNS, *DETAIL_COLUMNS, *CONTEXT_COLUMNS]]


def features_from_result(
    result: object,
    vessels: pd.DataFrame | None,
    *,
    history: pd.DataFrame | None = None,
    cfg: object | None = None,
) -> pd.DataFrame:
    """:func:`compute_features` over a ``DetectionResult`` (duck-typed: any object with
    ``rendezvous``, ``positions`` and ``event_tracks`` frames) and a full ``Config``."""
    from stswatch.pipeline.config import Config

    cfg = cfg if isinstance(cfg, Config) else Config()
    tracks = getattr(result, "resampled", None)
    if tracks is None or tracks.empty:
        tracks = getattr(result, "event_tracks", None)
    return compute_features(
        result.rendezvous,  # type: ignore[attr-defined]
        getattr(result, "positions", None),
        vessels,
        event_tracks=tracks,
        history=history,
        cfg=cfg.scoring,
        gap_cfg=cfg.gaps,
    )
