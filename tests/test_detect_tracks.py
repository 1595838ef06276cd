"""Track segmentation and resampling onto the global 10-minute UTC grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_tracks import DAY, _frame, at, drifting, positions, steaming
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.detectors.tracks import resample_tracks
from stswatch.geo.distance import wrap_lon
from stswatch.pipeline.config import TrackConfig

CFG = TrackConfig()


def fixes(mmsi: int, times_h: list[float], lats, lons, sogs=None) -> pd.DataFrame:
    ts = pd.DatetimeIndex([at(h) for h in times_h])
    n = len(times_h)
    sog = np.full(n, 1.0) if sogs is None else np.asarray(sogs, dtype=float)
    return _frame(mmsi, ts, np.asarray(lats, float), np.asarray(lons, float), sog)


def test_output_follows_the_documented_frame() -> None:
    out = resample_tracks(drifting(211000001, at(0), 1.0, 10.0, 10.0), CFG)
    assert list(out.columns) == [
        "mmsi",
        "timestamp",
        "lat",
        "lon",
        "sog_kn",
        "segment",
        "interpolated",
    ]
    assert str(out["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert out["mmsi"].dtype == np.int32 and out["sog_kn"].dtype == np.float32
    assert out["segment"].dtype == np.int32 and out["interpolated"].dtype == bool


def test_ticks_lie_on_a_global_grid_so_days_and_runs_align() -> None:
    out = resample_tracks(fixes(211000001, [0.05, 0.95], [1.0, 1.1], [1.0, 1.0]), CFG)
    minutes = out["timestamp"].dt.minute.to_numpy()
    assert set(minutes) <= {0, 10, 20, 30, 40, 50}
    assert (out["timestamp"].dt.second == 0).all()
    # 00:03 -> held at 00:00, then 00:10..00:50 interpolated, 00:57 held at 01:00.
    assert out["timestamp"].tolist() == [at(h / 6) for h in range(7)]


def test_interpolates_linearly_between_fixes() -> None:
    out = resample_tracks(fixes(211000001, [0.0, 1.0], [10.0, 10.6], [0.0, 0.0], [2, 4]), CFG)
    row = out[out["timestamp"] == at(0.5)].iloc[0]
    assert row["lat"] == pytest.approx(10.3)
    assert row["sog_kn"] == pytest.approx(3.0)
    assert bool(row["interpolated"]) is True
    assert not out.loc[out["timestamp"] == at(0.0), "interpolated"].iloc[0]


def test_interpolates_across_the_antimeridian_the_short_way() -> None:
    out = resample_tracks(fixes(211000001, [0.0, 1.0], [0.0, 0.0], [179.95, -179.95]), CFG)
    mid = out[out["timestamp"] == at(0.5)].iloc[0]
    assert abs(abs(mid["lon"]) - 180.0) < 1e-9
    assert ((out["lon"] >= -180) & (out["lon"] < 180)).all()
    assert (np.abs(out["lon"]) > 179.9).all()


def test_three_hour_silence_is_not_bridged() -> None:
    track = fixes(211000001, [0.0, 0.5, 3.5, 4.0], [5.0] * 4, [5.0, 5.001, 5.002, 5.003])
    out = resample_tracks(track, CFG)
    inside_gap = (out["timestamp"] > at(0.5)) & (out["timestamp"] < at(3.5))
    assert not inside_gap.any()
    assert out["segment"].nunique() == 2


def test_short_gap_is_interpolated() -> None:
    track = fixes(211000001, [0.0, 0.9], [5.0, 5.0], [5.0, 5.01])
    out = resample_tracks(track, CFG)
    assert len(out) == 6 and out["segment"].nunique() == 1
    assert out["interpolated"].sum() == 5  # 00:10..00:50; 00:00 is the fix itself


def test_implausible_jump_splits_the_segment() -> None:
    # 1° of latitude (60 nm) in 6 minutes is 600 kn: two transmitters, one MMSI.
    track = fixes(211000001, [0.0, 0.1, 0.2, 0.3], [5.0, 5.0, 6.0, 6.0], [5.0] * 4)
    out = resample_tracks(track, CFG)
    assert out["segment"].nunique() == 2
    assert not ((out["lat"] > 5.0) & (out["lat"] < 6.0)).any()  # never drawn across the jump


def test_missing_sog_falls_back_to_implied_speed() -> None:
    track = steaming(211000001, at(0), 1.0, 0.0, 0.0, sog_kn=10.0)
    track["sog_kn"] = np.float32(np.nan)
    out = resample_tracks(track, CFG)
    assert out["sog_kn"].to_numpy() == pytest.approx(10.0, rel=0.01)


def test_unsorted_multi_vessel_input_is_sorted_and_kept_apart() -> None:
    a = drifting(211000002, at(0), 1.0, 1.0, 1.0)
    b = drifting(211000001, at(0.5), 1.0, 2.0, 2.0)
    shuffled = positions(a, b).sample(frac=1.0, random_state=3)
    out = resample_tracks(shuffled, CFG)
    assert out["mmsi"].is_monotonic_increasing
    for mmsi, lat in ((211000001, 2.0), (211000002, 1.0)):
        sub = out[out["mmsi"] == mmsi]
        assert sub["timestamp"].is_monotonic_increasing and (sub["lat"] == lat).all()
        assert sub["timestamp"].is_unique


def test_track_across_midnight_is_one_segment_on_both_days() -> None:
    out = resample_tracks(drifting(211000001, at(23), 2.0, 1.0, 1.0), CFG)
    assert out["segment"].nunique() == 1
    assert out["timestamp"].min() == at(23) and out["timestamp"].max() == at(25)


def test_empty_input_gives_empty_frame() -> None:
    empty = drifting(211000001, DAY, 0.0, 0.0, 0.0).iloc[0:0]
    out = resample_tracks(empty, CFG)
    assert out.empty and "interpolated" in out.columns


fix_lists = st.lists(
    st.tuples(
        st.integers(0, 3),  # vessel
        st.integers(0, 6 * 3600),  # seconds into the day
        st.floats(-0.05, 0.05),  # lat offset
        st.floats(-0.05, 0.05),  # lon offset
        st.one_of(st.none(), st.floats(0, 30)),  # sog (None = not reported)
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(fix_lists, st.floats(-60, 60), st.floats(-180, 180, exclude_max=True))
def test_property_ticks_stay_on_grid_within_segments_and_between_fixes(fx, lat0, lon0) -> None:
    frame = _frame(
        0,
        pd.DatetimeIndex([DAY + pd.Timedelta(seconds=f[1]) for f in fx]),
        np.array([lat0 + f[2] for f in fx]),
        np.array([float(wrap_lon(lon0 + f[3])) for f in fx]),
        np.array([np.nan if f[4] is None else f[4] for f in fx]),
    )
    frame["mmsi"] = np.array([211000000 + f[0] for f in fx], dtype=np.int32)
    out = resample_tracks(frame, CFG)
    ms = out["timestamp"].astype("int64").to_numpy()
    assert np.all(ms % (CFG.resample_interval_min * 60_000) == 0)
    assert not out.duplicated(["mmsi", "timestamp"]).any()
    assert ((out["lon"] >= -180) & (out["lon"] < 180)).all()
    half = pd.Timedelta(minutes=CFG.resample_interval_min / 2)
    for mmsi, sub in out.groupby("mmsi"):
        fixes_v = frame[frame["mmsi"] == mmsi]
        assert sub["timestamp"].min() >= fixes_v["timestamp"].min() - half
        assert sub["timestamp"].max() <= fixes_v["timestamp"].max() + half
        assert sub["lat"].between(fixes_v["lat"].min() - 1e-9, fixes_v["lat"].max() + 1e-9).all()


def test_repeated_timestamp_gives_one_tick_not_two() -> None:
    track = fixes(211000001, [0.0, 0.0, 0.5], [5.0, 5.001, 5.0], [5.0, 5.0, 5.0])
    out = resample_tracks(track, CFG)
    assert out["timestamp"].is_unique
    assert out["timestamp"].tolist() == [at(h / 6) for h in range(4)]
