"""The truth file agrees with the positions: what it labels is what the rows show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_simulate import SMALL, pair_during, small_simulation

from stswatch.pipeline.config import Config
from stswatch.pipeline.simulator import TRUTH_COLUMNS, SimulationConfig
from stswatch.pipeline.simulator.geometry import distance_to_coast_m, haversine_m

PORT_RULES = Config().port_filter
REGIONS = ["gulf_of_mexico", "fiji"]  # fiji straddles the antimeridian


def inner(pair: pd.DataFrame) -> pd.DataFrame:
    """Drop the first/last rows of a window, where B's nearest report may lie outside it."""
    return pair.iloc[2:-2]


@pytest.mark.parametrize("region", REGIONS)
def test_scenario_counts_as_configured(region):
    data = small_simulation(region=region)
    expected = {k: v for k, v in SimulationConfig(**SMALL).scenario_counts.items() if v}
    assert data.unplaced == {}
    assert data.truth["kind"].value_counts().to_dict() == expected
    assert tuple(data.truth.columns) == TRUTH_COLUMNS
    assert data.truth["truth_id"].is_unique


@pytest.mark.parametrize("region", REGIONS)
def test_true_rendezvous_are_close_and_slow_for_their_whole_window(region):
    data = small_simulation(region=region)
    true = data.truth[data.truth["is_rendezvous"]]
    assert len(true) == 8
    for r in true.itertuples():
        assert r.mmsi_a < r.mmsi_b
        assert r.duration_h >= 3.0  # comfortably above the 2 h rule
        pair = inner(pair_during(data.positions, r.mmsi_a, r.mmsi_b, r.start_time, r.end_time))
        assert len(pair) >= 5, r.truth_id
        assert pair["separation_m"].max() < 500.0, r.truth_id
        assert pair["sog_a"].max() < 2.0 and pair["sog_b"].max() < 2.0, r.truth_id


def test_transfers_are_where_a_detector_may_report_them():
    # issue 14: both classes in zones, offshore and near coasts (the old test required
    # illicit meetings >= 30 km out and legitimate ones in zones: the coupling it fixed)
    data = small_simulation()
    true = data.truth[data.truth["is_rendezvous"]]
    coast = distance_to_coast_m(true["lat"].to_numpy(), true["lon"].to_numpy())
    assert (coast > PORT_RULES.min_distance_to_coast_m + 5_000).all()
    where = true["notes"].str.extract(r"where=(\w+)")[0]
    assert set(where) <= {"zone", "offshore", "coastal"}
    in_zone = true["zone"].notna()
    assert (where[in_zone] == "zone").all() and (where[~in_zone] != "zone").all()


def test_decoys_break_exactly_one_rendezvous_rule():
    data = small_simulation()
    t = data.truth
    for r in t[t["kind"] == "pair_trawl"].itertuples():
        pair = inner(pair_during(data.positions, r.mmsi_a, r.mmsi_b, r.start_time, r.end_time))
        # close... (median: a sparse partner's interpolation cuts the trawl's corners)
        assert pair["separation_m"].median() < 500.0
        assert pair["sog_a"].min() > 2.0 and pair["sog_b"].min() > 2.0  # ...but above 2 kn
    for r in t[t["kind"] == "convoy"].itertuples():
        pair = inner(pair_during(data.positions, r.mmsi_a, r.mmsi_b, r.start_time, r.end_time))
        assert pair["separation_m"].max() < 500.0 and pair["sog_a"].min() > 6.0
    checked = 0
    for r in t[t["kind"] == "short_meeting"].itertuples():
        assert r.duration_h < 1.5
        pair = inner(pair_during(data.positions, r.mmsi_a, r.mmsi_b, r.start_time, r.end_time))
        if len(pair):  # a sparse partner may report only once in so short a window
            assert pair["separation_m"].max() < 500.0
            checked += 1
    assert checked
    passed = 0
    for r in t[t["kind"] == "passing"].itertuples():
        pair = pair_during(
            data.positions, r.mmsi_a, r.mmsi_b, r.start_time, r.end_time, strict=False
        )
        if len(pair):  # a sparse (satellite-like) ship may not report in a 20-min crossing
            assert pair["separation_m"].min() < 600.0 and pair["sog_a"].min() > 8.0
            passed += 1
    assert passed
    assert t.loc[~t["is_rendezvous"], "kind"].ne("legit_transfer").all()
    labelled = t["kind"].isin(["loitering_dark_partner", "dark_transfer"])
    assert t.loc[~t["is_rendezvous"] & ~labelled, "is_illicit"].isna().all()
    assert t.loc[t["kind"] == "dark_transfer", "is_illicit"].notna().all()


def test_anchorage_crowd_is_near_a_port_still_and_tempting():
    data = small_simulation()
    crowd = data.truth[data.truth["kind"] == "anchorage_crowd"].iloc[0]
    members = [int(m) for m in crowd["mmsis"].split(";")]
    assert len(members) >= 6
    pos = data.positions[data.positions["mmsi"].isin(members)]
    still = pos[pos["sog_kn"] < 0.5].groupby("mmsi")[["lat", "lon"]].median()
    assert len(still) == len(members)
    from stswatch.geo.ports import distance_to_port_m

    assert (
        distance_to_port_m(still["lat"], still["lon"]) < PORT_RULES.min_distance_to_port_m
    ).all()
    lat, lon = still["lat"].to_numpy(), still["lon"].to_numpy()
    d = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    assert (d[np.triu_indices(len(lat), 1)] < 500.0).any()
