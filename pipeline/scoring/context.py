"""Where and when a meeting happened: context for the analyst, not evidence.

Distances to coast, port and learned anchorage, how often meetings recur at
the spot, the share of the meeting in darkness, the STS / lightering area it
lies in, and any reception hole shared by both vessels. Public reporting
says legitimate transfers "happen all the time", anywhere, and that illicit
ones moved into zones and other states' territorial waters: none of these
tells the classes apart, so none is a model input (issue 14). They are
computed for the reasons text and the export, and ``stswatch evaluate``
checks that adding them to the model changes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import BallTree

from stswatch.pipeline.config import ScoringConfig
from stswatch.pipeline.scoring.frames import EARTH_RADIUS_M, num_col
from stswatch.pipeline.scoring.solar import night_share


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


def context_features(
    rv: pd.DataFrame,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    history: pd.DataFrame | None,
    cfg: ScoringConfig,
) -> dict[str, np.ndarray]:
    """Every context column of :data:`~.columns.CONTEXT_FEATURES` (plus area name/source)."""
    n = len(rv)
    lat, lon = num_col(rv, "mean_lat"), num_col(rv, "mean_lon")
    out: dict[str, np.ndarray] = {}
    for name in ("coast", "port", "anchorage"):
        # inf = nothing of that kind known anywhere: very far, not an invalid input
        out[f"distance_to_{name}_m"] = np.fmin(
            num_col(rv, f"min_distance_to_{name}_m"), cfg.max_feature_distance_m
        )
    ids = rv["event_id"].to_numpy() if "event_id" in rv.columns else np.arange(n)
    out["recurrence_count"] = recurrence_count(lat, lon, ids, history, cfg.recurrence_radius_m)
    out["night_share"] = night_share(
        start_ms.astype(np.int64).astype("datetime64[ms]"),
        end_ms.astype(np.int64).astype("datetime64[ms]"),
        lat,
        lon,
    )
    source = (
        rv["sts_area_source"].astype(object).where(rv["sts_area_source"].notna(), None)
        if "sts_area_source" in rv.columns
        else pd.Series([None] * n, index=rv.index, dtype=object)
    )
    name = (
        rv["sts_area_name"].astype(object).where(rv["sts_area_name"].notna(), None)
        if "sts_area_name" in rv.columns
        else pd.Series([None] * n, index=rv.index, dtype=object)
    )
    out["in_sts_area"] = source.notna().to_numpy(dtype=np.float64)
    out["sts_area_name"] = name.to_numpy(dtype=object)
    out["sts_area_source"] = source.to_numpy(dtype=object)
    out["shared_silence_h"] = np.nan_to_num(num_col(rv, "shared_silence_h"), nan=0.0)
    out["mean_lat"], out["mean_lon"] = lat, lon
    return out
