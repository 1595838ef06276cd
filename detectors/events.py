"""Event identity and the attributes analysts read: ids, vessel identity, draught, raw tracks.

Ids are content hashes, never counters: a backfill over a month and the daily
run that saw the same meeting must name it identically (GFW's ``add_id``), so
the id depends only on the ordered pair and the grid start time.

Identity and draught come from the vessel table, a *time series* of static
reports: identity is the last value reported at or before the event start
(falling back to the first one after it, since Class B ships send their name
rarely), draught is the last report before the start and the first after the
end: a change across a meeting with no port call in between is cargo moving.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Identity fields copied per vessel (suffix ``_a``/``_b``) onto each event.
IDENTITY_FIELDS = ("vessel_name", "imo", "callsign", "ship_type", "length_m")

#: Identity fields that are numbers (float64 with NaN when never reported).
_NUMERIC_IDENTITY = frozenset({"imo", "ship_type", "length_m"})

#: Columns of :func:`event_tracks`.
EVENT_TRACK_COLUMNS = ("event_id", "mmsi", "timestamp", "lat", "lon")

#: ``kind`` of a row of the ranked event frame: two vessels seen together, or
#: a loitering vessel and a partner whose AIS was off alongside it.
RENDEZVOUS_KIND = "rendezvous"
DARK_RENDEZVOUS_KIND = "dark_rendezvous"
EVENT_KINDS = (RENDEZVOUS_KIND, DARK_RENDEZVOUS_KIND)

#: Columns every row of the event frame carries (issue 14), with their value
#: on an ordinary rendezvous: dark-transfer geometry is NaN, no shared silence,
#: no STS area known.
PARTNER_COLUMNS = ("partner_last_fix_distance_m", "partner_first_fix_distance_m", "partner_gap_h")
STS_AREA_COLUMNS = ("sts_area_name", "sts_area_source")


def with_event_columns(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with the issue-14 columns added where absent, at their ordinary values.

    ``kind`` = "rendezvous", ``dark_mmsi`` null (nullable Int64), partner
    distances and gap NaN, ``shared_silence_h`` 0.0, ``sts_area_name`` and
    ``sts_area_source`` None. Existing columns are left as they are.
    """
    out = events.copy()
    n = len(out)
    if "kind" not in out.columns:
        out["kind"] = pd.Series([RENDEZVOUS_KIND] * n, index=out.index, dtype=object)
    if "dark_mmsi" not in out.columns:
        out["dark_mmsi"] = pd.Series(pd.array([pd.NA] * n, dtype="Int64"), index=out.index)
    for col in PARTNER_COLUMNS:
        if col not in out.columns:
            out[col] = np.full(n, np.nan)
    if "shared_silence_h" not in out.columns:
        out["shared_silence_h"] = np.zeros(n)
    for col in STS_AREA_COLUMNS:
        if col not in out.columns:
            out[col] = pd.Series([None] * n, index=out.index, dtype=object)
    return out


def event_ids(
    mmsi_a: npt.ArrayLike,
    mmsi_b: npt.ArrayLike,
    start_time: pd.Series | npt.ArrayLike,
    *,
    kind: str = "rendezvous",
) -> npt.NDArray[np.object_]:
    """Stable 16-hex-character ids from (kind, mmsi_a, mmsi_b, start time in epoch ms).

    ``start_time`` is on the resampling grid, so reruns and backfills reproduce
    it exactly. ``kind`` keeps a loitering event of one vessel from ever
    colliding with a rendezvous id. A Python loop over *events* (not pings) is
    fine: a national day has at most thousands.
    """
    a = np.asarray(mmsi_a, dtype=np.int64)
    b = np.asarray(mmsi_b, dtype=np.int64)
    start = pd.Series(start_time)
    if isinstance(start.dtype, pd.DatetimeTZDtype):
        start = start.dt.tz_convert("UTC").dt.tz_localize(None)
    start_ms = start.to_numpy(dtype="datetime64[ms]").view(np.int64)
    out = np.empty(a.size, dtype=object)
    for n, (x, y, t) in enumerate(zip(a.tolist(), b.tolist(), start_ms.tolist(), strict=True)):
        out[n] = hashlib.sha1(f"{kind}:{x}:{y}:{t}".encode()).hexdigest()[:16]
    return out


def _asof(
    left: pd.DataFrame,
    left_mmsi: str,
    left_time: str,
    right: pd.DataFrame,
    value: str,
    direction: str,
    *,
    allow_exact_matches: bool = True,
) -> pd.Series:
    """Per left row, the nearest non-null ``right[value]`` of the same mmsi in time.

    Integer columns come back as float64 (NaN = never reported): Arrow turns an
    int column with nulls into float64 anyway, so the result's dtype no longer
    depends on whether the window happened to hold a missing report.
    """
    dtype = right[value].dtype
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        dtype = np.dtype(np.float64)
    r = right.loc[right[value].notna(), ["mmsi", "timestamp", value]]
    if r.empty or left.empty:
        return pd.Series(np.full(len(left), np.nan), index=left.index).astype(dtype)
    r = r.sort_values("timestamp", kind="stable")  # a no-op when presorted
    r["mmsi"] = r["mmsi"].astype(np.int64)
    lf = pd.DataFrame(
        {
            "mmsi": left[left_mmsi].astype(np.int64).to_numpy(),
            "timestamp": left[left_time].astype(r["timestamp"].dtype).to_numpy(),
            "_row": np.arange(len(left)),
        }
    ).sort_values("timestamp", kind="stable")
    merged = pd.merge_asof(
        lf,
        r,
        on="timestamp",
        by="mmsi",
        direction=direction,  # type: ignore[arg-type]
        allow_exact_matches=allow_exact_matches,
    ).sort_values("_row")
    values = merged[value]
    if dtype == np.float64:
        values = values.astype(np.float64)
    return pd.Series(values.to_numpy(), index=left.index).astype(dtype)


def add_identity(events: pd.DataFrame, vessels: pd.DataFrame) -> pd.DataFrame:
    """Add identity (``vessel_name_a`` ... ``length_m_b``) and draught before/after per vessel.

    ``events`` needs ``mmsi_a``, ``mmsi_b``, ``start_time``, ``end_time``;
    ``vessels`` follows VESSEL_SCHEMA (a time series of static reports).
    Missing fields stay null: an absent IMO is itself a signal for scoring.
    """
    out = events.copy()
    have = vessels is not None and len(vessels) > 0 and len(events) > 0
    if have:
        # Only the static reports of vessels that met anyone, sorted once: a
        # national day has millions of reports and a handful of events.
        involved = np.union1d(events["mmsi_a"].to_numpy(), events["mmsi_b"].to_numpy())
        vessels = vessels.loc[vessels["mmsi"].isin(involved)]
        vessels = vessels.sort_values("timestamp", kind="stable")
    for side in ("a", "b"):
        key = f"mmsi_{side}"
        for name in IDENTITY_FIELDS:
            col = f"{name}_{side}"
            if not have or name not in vessels.columns:
                numeric = name in _NUMERIC_IDENTITY
                out[col] = pd.Series(
                    np.full(len(out), np.nan) if numeric else [None] * len(out),
                    index=out.index,
                    dtype=np.float64 if numeric else object,
                )
                continue
            before = _asof(out, key, "start_time", vessels, name, "backward")
            after = _asof(out, key, "start_time", vessels, name, "forward")
            out[col] = before.where(before.notna(), after)
        for col, time_col, direction in (
            (f"draught_before_m_{side}", "start_time", "backward"),
            (f"draught_after_m_{side}", "end_time", "forward"),
        ):
            if not have or "draught_m" not in vessels.columns:
                out[col] = np.full(len(out), np.nan, dtype=np.float32)
                continue
            out[col] = _asof(out, key, time_col, vessels, "draught_m", direction).astype(np.float32)
    return out


def event_tracks(events: pd.DataFrame, positions: pd.DataFrame) -> pd.DataFrame:
    """Raw pings of both vessels between each event's start and end (inclusive).

    These become the ``kind: "track"`` LineStrings of the GeoJSON: the real
    reported positions, not the resampled grid, so analysts see what was sent.
    Columns :data:`EVENT_TRACK_COLUMNS`, sorted by (event_id, mmsi, timestamp).
    """
    if events.empty or positions.empty:
        return pd.DataFrame(
            {
                "event_id": pd.Series([], dtype=object),
                "mmsi": pd.Series([], dtype=np.int32),
                "timestamp": pd.Series([], dtype="datetime64[ms, UTC]"),
                "lat": pd.Series([], dtype=np.float64),
                "lon": pd.Series([], dtype=np.float64),
            }
        )
    sides = pd.concat(
        [
            events[["event_id", f"mmsi_{s}", "start_time", "end_time"]].rename(
                columns={f"mmsi_{s}": "mmsi"}
            )
            for s in ("a", "b")
        ],
        ignore_index=True,
    )
    sides["mmsi"] = sides["mmsi"].astype(np.int64)
    wanted = positions["mmsi"].isin(sides["mmsi"].unique())
    pings = positions.loc[wanted, ["mmsi", "timestamp", "lat", "lon"]].copy()
    pings["mmsi"] = pings["mmsi"].astype(np.int64)
    merged = pings.merge(sides, on="mmsi", how="inner")
    ts = merged["timestamp"]
    inside = (ts >= merged["start_time"].astype(ts.dtype)) & (
        ts <= merged["end_time"].astype(ts.dtype)
    )
    tracks = merged.loc[inside, list(EVENT_TRACK_COLUMNS)]
    tracks = tracks.sort_values(["event_id", "mmsi", "timestamp"], kind="stable")
    tracks["mmsi"] = tracks["mmsi"].astype(np.int32)
    return tracks.reset_index(drop=True)
