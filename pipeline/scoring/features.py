"""Features of a meeting that separate illicit transfers from legitimate ones.

One row per event of the detector's ranked frame, ordinary rendezvous and
dark rendezvous (partner's AIS off) alike, computed from the event row plus
the clean pings and the static-report series around it. Pure: frames in,
frame out, no I/O. Units are in every column name.

The columns and why each is (or is not) a model input are in
:mod:`.columns`; each indicator is measured in its own module:
:mod:`.darkness` (AIS off, switched on/off at sea), :mod:`.identity` (weak
or changing identity), :mod:`.callsigns` and :mod:`.flags` (flag evidence),
:mod:`.cargo` (draught, receiver), :mod:`.kinematics` and :mod:`.context`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stswatch.pipeline.config import GapConfig, ScoringConfig
from stswatch.pipeline.scoring.callsigns import callsign_country, flag_mismatch
from stswatch.pipeline.scoring.cargo import cargo_features, draught_legs
from stswatch.pipeline.scoring.columns import (
    CONTEXT_COLUMNS,
    CONTEXT_FEATURES,
    COUNTED_IDENTITY_FLAGS,
    DETAIL_COLUMNS,
    FEATURE_COLUMNS,
    FEATURE_GROUPS,
    LOCATION_FEATURES,
    SIDES,
)
from stswatch.pipeline.scoring.context import context_features, recurrence_count
from stswatch.pipeline.scoring.darkness import Window, legs_frame
from stswatch.pipeline.scoring.flags import is_registry_of_concern, mid_of, mmsi_country
from stswatch.pipeline.scoring.frames import HOUR_MS, epoch_ms, haversine_m, num_col, side_col
from stswatch.pipeline.scoring.identity import (
    count_changes,
    identity_change_log,
    invalid_imo,
    missing_imo,
    missing_name,
    nearest_change_text,
)
from stswatch.pipeline.scoring.kinematics import heading_alignment, separation_std_m
from stswatch.pipeline.scoring.legs import VesselIndex, is_tanker

__all__ = [
    "CONTEXT_COLUMNS",
    "CONTEXT_FEATURES",
    "DETAIL_COLUMNS",
    "FEATURE_COLUMNS",
    "FEATURE_GROUPS",
    "LOCATION_FEATURES",
    "compute_features",
    "features_from_result",
    "haversine_m",
    "recurrence_count",
]

DARK_KIND = "dark_rendezvous"


def _identity_side(
    rv: pd.DataFrame,
    side: str,
    log: pd.DataFrame,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    link_ms: float,
) -> dict[str, object]:
    """Identity detail columns of vessel ``side`` (see :mod:`.identity`)."""
    mmsi = rv[f"mmsi_{side}"].to_numpy(np.int64)
    imo = side_col(rv, "imo", side)
    callsign = (
        rv[f"callsign_{side}"].astype(object).where(rv[f"callsign_{side}"].notna(), None)
        if f"callsign_{side}" in rv.columns
        else pd.Series([None] * len(rv), index=rv.index, dtype=object)
    )
    # the reported flag: a vessel table's own column where one exists, else the call sign's
    if f"flag_{side}" in rv.columns:
        reported = rv[f"flag_{side}"].astype(object).where(rv[f"flag_{side}"].notna(), None)
    else:
        reported = callsign.map(callsign_country)
    name = rv[f"vessel_name_{side}"] if f"vessel_name_{side}" in rv.columns else None
    # a vessel that sent no static report at all in the window has an unknown
    # identity, not a missing one (a position-only feed, or no message 5 heard)
    heard = ~missing_name(rv, side) | callsign.notna().to_numpy() | np.isfinite(imo)
    for field in ("ship_type", "length_m"):
        heard |= np.isfinite(side_col(rv, field, side))
    return {
        "mmsi": mmsi.astype(np.float64),
        "imo": imo,
        "missing_imo": (missing_imo(imo) & heard).astype(np.float64),
        "invalid_imo": invalid_imo(imo).astype(np.float64),
        "missing_name": (missing_name(rv, side) & heard).astype(np.float64),
        "vessel_name": name.to_numpy(dtype=object) if name is not None else None,
        "mid": mid_of(mmsi).astype(np.float64),
        "callsign": callsign.to_numpy(dtype=object),
        "callsign_country": reported.to_numpy(dtype=object),
        "flag_mismatch": flag_mismatch(pd.Series(mmsi_country(mmsi)), reported),
        "registry_of_concern": is_registry_of_concern(mmsi).astype(np.float64),
        "ship_type": side_col(rv, "ship_type", side),
        "length_m": side_col(rv, "length_m", side),
        "identity_changes": count_changes(log, mmsi),
        "identity_change_text": np.array(
            nearest_change_text(log, mmsi, start_ms, end_ms, link_ms), dtype=object
        ),
    }


def _dark_partner(rv: pd.DataFrame) -> dict[str, np.ndarray]:
    """Kind, which vessel was dark, and the dark partner's silence and fix distances."""
    n = len(rv)
    kind = (
        rv["kind"].astype(object).fillna("rendezvous").to_numpy(dtype=object)
        if "kind" in rv.columns
        else np.full(n, "rendezvous", dtype=object)
    )
    dark = kind == DARK_KIND
    dark_mmsi = num_col(rv, "dark_mmsi")
    side = np.where(
        dark & (dark_mmsi == rv["mmsi_a"].to_numpy(np.float64)),
        "a",
        np.where(dark & (dark_mmsi == rv["mmsi_b"].to_numpy(np.float64)), "b", None),
    ).astype(object)
    return {
        "kind": kind,
        "dark_side": side,
        "partner_gap_h": np.where(dark, np.nan_to_num(num_col(rv, "partner_gap_h")), 0.0),
        "partner_last_fix_distance_m": num_col(rv, "partner_last_fix_distance_m"),
        "partner_first_fix_distance_m": num_col(rv, "partner_first_fix_distance_m"),
    }


#: Columns under construction: name -> one value per event.
Columns = dict[str, np.ndarray]


def _f(cols: Columns, name: str) -> np.ndarray:
    return np.asarray(cols[name], dtype=np.float64)


def _ais_off(cols: Columns, gap_cfg: GapConfig) -> Columns:
    """Symmetric AIS-off features from the per-vessel silences."""
    before = {
        s: np.fmax(_f(cols, f"gap_before_h_{s}"), _f(cols, f"switched_on_h_{s}")) for s in SIDES
    }
    after = {
        s: np.fmax(_f(cols, f"gap_after_h_{s}"), _f(cols, f"switched_off_h_{s}")) for s in SIDES
    }
    partner = _f(cols, "partner_gap_h")
    dark_n = np.zeros(len(partner))
    switched = np.zeros(len(partner))
    for s in SIDES:
        is_partner = (np.asarray(cols["dark_side"]) == s) & (partner >= gap_cfg.min_gap_h)
        dark_n += ((np.fmax(before[s], after[s]) >= gap_cfg.min_gap_h) | is_partner).astype(float)
        switched += (_f(cols, f"switched_on_h_{s}") > 0) | (_f(cols, f"switched_off_h_{s}") > 0)
    return {
        "dark_before_max_h": np.fmax(before["a"], before["b"]),
        "dark_after_max_h": np.fmax(after["a"], after["b"]),
        "n_vessels_dark": dark_n,
        "n_switched_at_sea": switched,
        "reporting_ratio_min": np.fmin(
            _f(cols, "reporting_ratio_a"), _f(cols, "reporting_ratio_b")
        ),
    }


def _identity_and_size(cols: Columns, cfg: ScoringConfig) -> Columns:
    """Symmetric identity and size features from the per-vessel columns."""
    out: Columns = {
        f"n_{name}": _f(cols, f"{name}_a") + _f(cols, f"{name}_b")
        for name in COUNTED_IDENTITY_FLAGS
    }
    out["identity_changes_max"] = np.fmax(
        _f(cols, "identity_changes_a"), _f(cols, "identity_changes_b")
    )
    la, lb = _f(cols, "length_m_a"), _f(cols, "length_m_b")
    known = (la > 0) & (lb > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["length_ratio"] = np.where(known, np.fmax(la, lb) / np.fmin(la, lb), np.nan)
    out["min_length_m"] = np.where(known, np.fmin(la, lb), np.nan)
    tanker = {s: is_tanker(_f(cols, f"ship_type_{s}")) for s in SIDES}
    small_unknown = {
        s: ~(_f(cols, f"ship_type_{s}") > 0)
        | ~(_f(cols, f"length_m_{s}") >= cfg.large_ship_length_m)
        for s in SIDES
    }
    out["tanker_with_small_or_unknown"] = (
        (tanker["a"] & small_unknown["b"]) | (tanker["b"] & small_unknown["a"])
    ).astype(np.float64)
    return out


def _empty(n_rows: int = 0) -> pd.DataFrame:
    cols = ["event_id", *FEATURE_COLUMNS, *CONTEXT_FEATURES, *DETAIL_COLUMNS, *CONTEXT_COLUMNS]
    return pd.DataFrame({c: pd.Series(dtype=np.float64) for c in cols})


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
    """Feature frame for ``rendezvous`` (same row order): model, context and detail columns.

    ``positions``: the clean pings of the detection window (POSITION_SCHEMA
    columns); ``vessels``: static reports (VESSEL_SCHEMA); ``event_tracks``:
    gridded tracks (the detector's resampled frame, or per-event tracks with
    ``event_id`` on a shared time grid); ``history``: past rendezvous
    (``event_id``, ``mean_lat``, ``mean_lon``) for recurrence. Missing inputs
    give NaN for the features they feed, never an error: the model handles NaN.
    """
    cfg = cfg or ScoringConfig()
    gap_cfg = gap_cfg or GapConfig()
    rv = rendezvous.reset_index(drop=True)
    n = len(rv)
    if n == 0:
        return _empty()
    start_ms = epoch_ms(rv["start_time"]).astype(np.float64)
    end_ms = epoch_ms(rv["end_time"]).astype(np.float64)
    duration_h = num_col(rv, "duration_h")
    duration_h = np.where(np.isfinite(duration_h), duration_h, (end_ms - start_ms) / HOUR_MS)
    link_ms = gap_cfg.link_window_h * HOUR_MS
    cols: Columns = {
        "event_id": rv["event_id"].to_numpy() if "event_id" in rv.columns else np.arange(n)
    }
    cols.update(_dark_partner(rv))
    log = identity_change_log(vessels)
    positions = positions if positions is not None else pd.DataFrame()
    index = VesselIndex(positions, np.r_[rv["mmsi_a"].to_numpy(), rv["mmsi_b"].to_numpy()])
    window = Window.of(positions)
    for side in SIDES:
        for key, values in _identity_side(rv, side, log, start_ms, end_ms, link_ms).items():
            cols[f"{key}_{side}"] = values
        legs = legs_frame(rv, side, index, window, start_ms, end_ms, duration_h, cfg, gap_cfg)
        for col in legs.columns:
            cols[f"{col}_{side}"] = legs[col].to_numpy()
        class_b = legs["class_b"].to_numpy() > 0
        if f"transceiver_class_{side}" in rv.columns:
            class_b |= (rv[f"transceiver_class_{side}"].astype("string") == "B").to_numpy(
                dtype=bool, na_value=False
            )
        cols[f"class_b_large_{side}"] = (
            class_b & (_f(cols, f"length_m_{side}") >= cfg.large_ship_length_m)
        ).astype(np.float64)
    cols.update(draught_legs(rv, vessels, index, start_ms, end_ms, link_ms, cfg))
    cols.update(cargo_features(cols, cfg))
    cols.update(
        duration_h=duration_h,
        min_distance_m=num_col(rv, "min_distance_m"),
        median_distance_m=num_col(rv, "median_distance_m"),
        separation_std_m=separation_std_m(rv, event_tracks),
        mean_sog_max_kn=np.fmax(_f(cols, "mean_sog_kn_a"), _f(cols, "mean_sog_kn_b")),
        heading_alignment=heading_alignment(cols["heading_deg_a"], cols["heading_deg_b"]),
    )
    cols.update(_ais_off(cols, gap_cfg))
    cols.update(_identity_and_size(cols, cfg))
    cols.update(context_features(rv, start_ms, end_ms, history, cfg))
    columns = ["event_id", *FEATURE_COLUMNS, *CONTEXT_FEATURES, *DETAIL_COLUMNS, *CONTEXT_COLUMNS]
    return pd.DataFrame({c: cols[c] for c in columns}, index=pd.RangeIndex(n))


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
