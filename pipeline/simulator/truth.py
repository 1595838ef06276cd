"""The truth table: one row per labelled scenario instance.

``is_rendezvous`` says whether a correct detector (500 m / 2 h / < 2 kn on
both vessels / away from port) must report the pair in that window;
``is_illicit`` is the scoring label (null for decoys that are not transfers).
``mmsi_a < mmsi_b`` as in the detector's output, so matching is a join on the
pair plus a time overlap. ``mmsis`` lists every vessel involved (an
anchorage crowd has many); ``notes`` records what each scenario did to each
vessel (``a:dark_before=9.2h``, ``b:renamed``, ``odd=night``...) to explain a
score without being a feature.
"""

from __future__ import annotations

import pandas as pd

TRUTH_COLUMNS = (
    "truth_id",
    "kind",
    "mmsi_a",
    "mmsi_b",
    "mmsis",
    "start_time",
    "end_time",
    "duration_h",
    "lat",
    "lon",
    "is_rendezvous",
    "is_illicit",
    "region",
    "zone",
    "notes",
)


def truth_frame(rows: list[dict], window_start: pd.Timestamp, region: str) -> pd.DataFrame:
    """Typed truth frame sorted by start time, with stable ids ``T0001``..."""
    df = pd.DataFrame(
        rows,
        columns=[
            "kind",
            "mmsi_a",
            "mmsi_b",
            "mmsis",
            "start_s",
            "end_s",
            "lat",
            "lon",
            "is_rendezvous",
            "is_illicit",
            "zone",
            "notes",
        ],
    )
    start = window_start.as_unit("ms")
    df["start_time"] = start + pd.to_timedelta(df["start_s"].astype(float).round(), unit="s")
    df["end_time"] = start + pd.to_timedelta(df["end_s"].astype(float).round(), unit="s")
    df["duration_h"] = ((df["end_s"] - df["start_s"]) / 3600.0).astype(float).round(3)
    df = df.sort_values(["start_time", "kind", "mmsis"], kind="stable").reset_index(drop=True)
    df["truth_id"] = [f"T{i + 1:04d}" for i in range(len(df))]
    df["region"] = region
    df["mmsi_a"] = pd.array(df["mmsi_a"], dtype="Int64")
    df["mmsi_b"] = pd.array(df["mmsi_b"], dtype="Int64")
    df["is_rendezvous"] = df["is_rendezvous"].astype(bool)
    df["is_illicit"] = pd.array(df["is_illicit"], dtype="boolean")
    df["lat"] = df["lat"].astype(float).round(5)
    df["lon"] = df["lon"].astype(float).round(5)
    df["start_time"] = df["start_time"].dt.as_unit("ms")
    df["end_time"] = df["end_time"].dt.as_unit("ms")
    return df[list(TRUTH_COLUMNS)]
