"""Realism: ships at sea, real reporting rates, dirty rows counted, valid identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_simulate import small_simulation

from stswatch.pipeline.simulator import SimulationConfig, simulate
from stswatch.pipeline.simulator.landmask import is_land as banded_is_land
from stswatch.pipeline.simulator.vessels import imo_is_valid


@pytest.fixture(scope="module")
def globe():
    """global_land_mask itself (its import inflates the 930 MB mask: once per module)."""
    from global_land_mask import globe

    return globe


def valid_rows(positions: pd.DataFrame) -> pd.DataFrame:
    return positions[positions["lat"].between(-90, 90) & positions["lon"].between(-180, 180)]


@pytest.mark.parametrize("region", ["gulf_of_mexico", "fiji"])
def test_no_position_on_land(globe, region):
    rows = valid_rows(small_simulation(region=region).positions)
    sample = rows.sample(n=min(30_000, len(rows)), random_state=0)
    on_land = globe.is_land(sample["lat"].to_numpy(), sample["lon"].to_numpy())
    assert not on_land.any(), sample[on_land].head()


def test_banded_land_mask_answers_like_global_land_mask(globe):
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-80, 80, 200_000), rng.uniform(-180, 180, 200_000)
    assert (banded_is_land(lat, lon) == globe.is_land(lat, lon)).all()


def test_antimeridian_tracks_cross_continuously():
    clean = small_simulation(region="fiji", dirty_row_fraction=0.0)  # no deliberate glitches
    pos = clean.positions.sort_values(["mmsi", "timestamp"])
    assert (pos["lon"] > 179).any() and (pos["lon"] < -179).any()
    same = pos["mmsi"].to_numpy()[1:] == pos["mmsi"].to_numpy()[:-1]
    lon = pos["lon"].to_numpy()
    dt_s = np.diff(pos["timestamp"].astype("int64").to_numpy()) / 1e3
    # consecutive reports (not across a deliberate dark period) on both sides of 180°
    crossing = same & (dt_s < 600) & (np.sign(lon[1:]) != np.sign(lon[:-1]))
    crossing &= np.abs(lon[1:]) > 179
    assert crossing.any()
    dlon = np.abs((lon[1:] - lon[:-1] + 180) % 360 - 180)[crossing]
    assert (dlon < 0.2).all()  # a minute's steaming, not a jump across the globe


def test_report_intervals_look_like_marinecadastre():
    data = small_simulation()
    pos = valid_rows(data.positions).sort_values(["mmsi", "timestamp"])
    dt = pos.groupby("mmsi")["timestamp"].diff().dt.total_seconds()
    per_vessel = dt.groupby(pos["mmsi"]).median()
    cls = pos.groupby("mmsi")["transceiver_class"].first()
    a = per_vessel[cls == "A"]
    assert 55 <= a.median() <= 65  # ~1 min, as the downsampled archive
    assert 160 <= per_vessel[cls == "B"].median() <= 200  # ~3 min
    assert (per_vessel.between(15 * 60, 45 * 60)).any()  # satellite-like vessels exist


def test_satellite_like_switch_makes_every_vessel_sparse():
    data = simulate(
        SimulationConfig(
            seed=2,
            n_background_vessels=20,
            satellite_like=True,
            n_anchorage_crowds=0,
            n_passing=0,
            n_convoys=0,
            n_pair_trawls=0,
            n_short_meetings=0,
        )
    )
    pos = valid_rows(data.positions).sort_values(["mmsi", "timestamp"])
    med = pos.groupby("mmsi")["timestamp"].diff().dt.total_seconds().groupby(pos["mmsi"]).median()
    assert (med > 10 * 60).all()
    assert data.truth["is_rendezvous"].sum() == 8


def test_dirty_rows_are_counted():
    data = small_simulation()
    pos, counts = data.positions, data.dirty_counts
    assert counts["sentinel"] == int(((pos["lat"] == 91) & (pos["lon"] == 181)).sum()) > 0
    bad = (
        (pos["mmsi"] < 100_000_000)
        | (pos["mmsi"] > 999_999_999)
        | (pos["mmsi"] // 1_000_000 == 999)
    )
    bad |= pos["mmsi"].isin([111111111, 123456789]) | (pos["mmsi"] // 10_000_000 == 99)
    assert counts["bad_mmsi"] == int(bad.sum()) > 0
    assert counts["duplicate"] == int(pos.duplicated().sum()) > 0
    assert counts["glitch"] > 0
    assert sum(counts.values()) == pytest.approx(0.005 * len(pos), rel=0.1)


def test_every_imo_has_a_valid_check_digit_unless_a_tactic_broke_it():
    data = small_simulation()
    bad_imo = {
        int(m)
        for r in data.truth.itertuples()
        for side, m in (("a", r.mmsi_a), ("b", r.mmsi_b))
        if pd.notna(m) and f"{side}:bad_imo" in r.notes
    }
    pos = data.positions[data.positions["imo"].notna()]
    ok = pos.drop_duplicates("mmsi")
    assert len(ok) > 50
    for mmsi, imo in zip(ok["mmsi"], ok["imo"], strict=True):
        assert imo_is_valid(int(imo)) or int(mmsi) in bad_imo, mmsi


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="gulf_of_mexico"):
        SimulationConfig(region="atlantis")
    with pytest.raises(ValueError):
        SimulationConfig(n_convoys=-1)
    with pytest.raises(ValueError):
        SimulationConfig(dirty_row_fraction=1.5)
