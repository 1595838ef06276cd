"""Invariants of the scoring features, checked on generated meetings (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers_scoring import MMSI_A, MMSI_B, T0, pings, rendezvous_frame, rendezvous_row
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.pipeline.scoring.features import FEATURE_COLUMNS, compute_features
from stswatch.pipeline.scoring.solar import night_share

H = pd.Timedelta(hours=1)
#: Swapped with the vessel's role. Not the call sign: like the MMSI's MID, it is
#: the flag the radio licence was issued by, so it stays with its MMSI.
SIDE_FIELDS = (
    "vessel_name",
    "imo",
    "ship_type",
    "length_m",
    "draught_before_m",
    "draught_after_m",
    "gap_before_h",
    "gap_after_h",
)

maybe_draught = st.one_of(st.none(), st.floats(2.0, 22.0))
side = st.fixed_dictionaries(
    {
        "imo": st.one_of(st.none(), st.integers(1_000_000, 9_999_999)),
        "vessel_name": st.sampled_from([None, "", "NORTH STAR", "EAST WIND"]),
        "ship_type": st.sampled_from([None, 0, 30, 70, 80, 84]),
        "length_m": st.one_of(st.none(), st.floats(20.0, 400.0)),
        "draught_before_m": maybe_draught,
        "draught_after_m": maybe_draught,
        "gap_before_h": st.one_of(st.none(), st.floats(0.0, 30.0)),
        "gap_after_h": st.one_of(st.none(), st.floats(0.0, 30.0)),
    }
)


@settings(max_examples=25, deadline=None)
@given(a=side, b=side, silent_h=st.floats(0.0, 11.0), heading_b=st.floats(0.0, 359.0))
def test_model_features_do_not_depend_on_which_vessel_is_a(a, b, silent_h, heading_b):
    """mmsi_a < mmsi_b is an arbitrary order: swapping the vessels' roles (identity,
    draught, gaps and pings) must leave every model feature unchanged."""
    row = rendezvous_row(
        **{f"{k}_a": v for k, v in a.items()}, **{f"{k}_b": v for k, v in b.items()}
    )
    swapped = dict(row)
    for name in SIDE_FIELDS:
        swapped[f"{name}_a"], swapped[f"{name}_b"] = row[f"{name}_b"], row[f"{name}_a"]
    pa_ = pings(MMSI_A, T0 - 12 * H, T0 + 16 * H)
    pb = pd.concat(
        [
            pings(MMSI_B, T0 - 12 * H, T0 - silent_h * H, heading_deg=heading_b),
            pings(MMSI_B, T0, T0 + 16 * H, heading_deg=heading_b),
        ]
    )
    # swapping roles = vessel A gets B's pings and vice versa
    pa_sw = pb.assign(mmsi=MMSI_A)
    pb_sw = pa_.assign(mmsi=MMSI_B)
    f1 = compute_features(rendezvous_frame(row), pd.concat([pa_, pb]), None)
    f2 = compute_features(rendezvous_frame(swapped), pd.concat([pa_sw, pb_sw]), None)
    np.testing.assert_allclose(
        f1[list(FEATURE_COLUMNS)].to_numpy(float),
        f2[list(FEATURE_COLUMNS)].to_numpy(float),
        rtol=1e-9,
    )


@settings(max_examples=40, deadline=None)
@given(
    start_min=st.integers(0, 365 * 24 * 60),
    hours=st.floats(0.2, 48.0),
    lat=st.floats(-66.0, 66.0),
    lon=st.floats(-180.0, 180.0),
)
def test_night_share_is_always_a_share(start_min, hours, lat, lon):
    start = np.datetime64("2026-01-01T00:00", "ms") + np.timedelta64(start_min, "m")
    end = start + np.timedelta64(int(hours * 3_600_000), "ms")
    share = night_share(np.array([start]), np.array([end]), np.array([lat]), np.array([lon]))[0]
    assert 0.0 <= share <= 1.0


@settings(max_examples=25, deadline=None)
@given(
    start_min=st.integers(0, 365 * 24 * 60),
    days=st.integers(1, 3),
    lat=st.floats(-0.9, 0.9),
    lon=st.floats(-180.0, 180.0),
)
def test_whole_days_at_the_equator_are_half_night(start_min, days, lat, lon):
    start = np.datetime64("2026-01-01T00:00", "ms") + np.timedelta64(start_min, "m")
    end = start + np.timedelta64(days, "D")
    share = night_share(np.array([start]), np.array([end]), np.array([lat]), np.array([lon]))[0]
    assert 0.45 < share < 0.55
