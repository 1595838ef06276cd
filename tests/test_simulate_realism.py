"""Realism: ships at sea, real reporting rates, dirty rows counted, scoring signals present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_simulate import small_simulation

from stswatch.pipeline.simulator import SimulationConfig, simulate
from stswatch.pipeline.simulator.landmask import is_land as banded_is_land
from stswatch.pipeline.simulator.vessels import FOC_MIDS, imo_is_valid


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


def test_every_imo_has_a_valid_check_digit():
    imos = small_simulation().positions["imo"].dropna().unique()
    assert len(imos) > 50 and all(imo_is_valid(int(i)) for i in imos)


def _vessel_view(data, mmsi: int) -> pd.DataFrame:
    return data.positions[data.positions["mmsi"] == mmsi].sort_values("timestamp")


@pytest.fixture(scope="module")
def many_transfers():
    """Enough transfers of each class to compare distributions (4 days, 2 regions)."""
    return [
        simulate(
            SimulationConfig(
                seed=s,
                region=r,
                n_days=4,
                n_background_vessels=30,
                n_illicit_rendezvous=12,
                n_legit_transfers=12,
                n_anchorage_crowds=0,
                n_passing=0,
                n_convoys=0,
                n_pair_trawls=0,
                n_short_meetings=0,
                n_loitering_dark_partner=0,
                dirty_row_fraction=0.0,
            )
        )
        for s, r in ((21, "gulf_of_mexico"), (22, "gulf_of_oman"))
    ]


def _event_features(data) -> pd.DataFrame:
    rows = []
    for r in data.truth.itertuples():
        for m in (r.mmsi_a, r.mmsi_b):
            v = _vessel_view(data, int(m))
            before = v[v["timestamp"] < r.start_time]
            after = v[v["timestamp"] > r.end_time]
            gap_before = before["timestamp"].diff().dt.total_seconds().max() / 3600
            gap_after = after["timestamp"].diff().dt.total_seconds().max() / 3600
            d0 = before["draught_m"].dropna()
            d1 = after["draught_m"].dropna()
            rows.append(
                {
                    "illicit": bool(r.is_illicit),
                    "length_m": v["length_m"].iloc[0],
                    "has_imo": v["imo"].notna().all(),
                    "renamed": v["vessel_name"].astype(str).nunique() > 1,
                    "foc": int(m) // 1_000_000 in FOC_MIDS,
                    "dark": max(np.nan_to_num(gap_before), np.nan_to_num(gap_after)) >= 6,
                    "draught_change_m": (d1.iloc[-1] - d0.iloc[0]) if len(d0) and len(d1) else 0.0,
                    "local_hour": (r.start_time.hour + r.lon / 15) % 24,
                    "odd_or_clean": ("odd=" in r.notes) or ("clean-looking" in r.notes),
                }
            )
    return pd.DataFrame(rows)


def test_legit_and_illicit_differ_the_way_public_reporting_says(many_transfers):
    f = pd.concat([_event_features(d) for d in many_transfers], ignore_index=True)
    ill, leg = f[f["illicit"]], f[~f["illicit"]]
    assert leg["length_m"].median() > ill["length_m"].median() + 50
    assert leg["has_imo"].mean() > ill["has_imo"].mean() + 0.2
    assert ill["dark"].mean() > 0.3 > leg["dark"].mean()
    assert ill["foc"].mean() > leg["foc"].mean()
    assert ill["renamed"].any() and not leg["renamed"].any()
    night = lambda h: (h >= 19) | (h < 5)  # noqa: E731
    assert night(ill["local_hour"]).mean() > night(leg["local_hour"]).mean()
    assert (ill["draught_change_m"].abs() > 0.5).mean() > 0.4  # cargo moved, no port call
    assert (leg["draught_change_m"] < -1).any() and (leg["draught_change_m"] > 1).any()


def test_classes_overlap_so_no_single_feature_wins(many_transfers):
    f = pd.concat([_event_features(d) for d in many_transfers], ignore_index=True)
    assert f.groupby("illicit")["odd_or_clean"].any().all()  # odd legit and clean illicit
    ill, leg = f[f["illicit"]], f[~f["illicit"]]
    assert ill["has_imo"].any() and not ill["dark"].all()
    assert leg["foc"].any() or (~leg["has_imo"]).any() or leg["dark"].any()


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="gulf_of_mexico"):
        SimulationConfig(region="atlantis")
    with pytest.raises(ValueError):
        SimulationConfig(n_convoys=-1)
    with pytest.raises(ValueError):
        SimulationConfig(dirty_row_fraction=1.5)
