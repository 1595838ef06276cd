"""Issue 14: the simulator must not encode the answer.

Location, size, time and reporting are drawn alike for both classes; the
evasion tactics are applied to a share of each class at their stated rates;
dark transfers put a silent partner beside a loitering ship.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from stswatch.pipeline.simulator import SimulationConfig, simulate
from stswatch.pipeline.simulator.geometry import distance_to_coast_m
from stswatch.pipeline.simulator.profiles import TACTIC_RATES, draw_tactics, transfer_pair


def transfers_only(**config) -> SimulationConfig:
    """A simulation of transfers alone: no decoys, no dirty rows, a token background."""
    no_decoys = dict.fromkeys(
        ("n_anchorage_crowds", "n_passing", "n_convoys", "n_pair_trawls", "n_short_meetings"), 0
    )
    base = {"n_background_vessels": 5, "n_loitering_dark_partner": 0, "dirty_row_fraction": 0.0}
    return SimulationConfig(**{**no_decoys, **base, **config})


@pytest.fixture(scope="module")
def many_transfers() -> pd.DataFrame:
    """Truth rows of ~180 transfers of each class over three regions (no decoys)."""
    rows = []
    for seed, region in ((21, "gulf_of_mexico"), (22, "gulf_of_oman"), (23, "west_africa")):
        data = simulate(
            transfers_only(
                seed=seed,
                region=region,
                start_date=date(2024, 3, 1),
                n_days=6,
                n_background_vessels=10,
                n_illicit_rendezvous=30,
                n_legit_transfers=30,
                n_dark_transfers=6,
            )
        )
        t = data.truth.copy()
        lengths = data.positions.drop_duplicates("mmsi").set_index("mmsi")["length_m"]
        t["min_length_m"] = np.fmin(t["mmsi_a"].map(lengths), t["mmsi_b"].map(lengths))
        rows.append(t)
    t = pd.concat(rows, ignore_index=True)
    t["illicit"] = t["is_illicit"].astype(bool)
    t["coast_m"] = distance_to_coast_m(t["lat"].to_numpy(), t["lon"].to_numpy())
    t["where"] = t["notes"].str.extract(r"where=(\w+)")[0]
    return t


def test_tactics_are_drawn_at_their_rates_for_both_classes():
    rng = np.random.default_rng(0)
    n = 4000
    for illicit in (True, False):
        counts = dict.fromkeys(TACTIC_RATES, 0)
        for _ in range(n):
            for name in draw_tactics(rng, illicit):
                counts[name] += 1
        shares = {k: v / n for k, v in counts.items()}
        for name, (p_illicit, p_legit) in TACTIC_RATES.items():
            # bundles raise the illicit marginals over the weights (3 tactics on average)
            if illicit:
                assert p_illicit * 0.9 <= shares[name] <= p_illicit * 1.6, (name, shares[name])
            else:
                assert 0.0 < shares[name] <= p_legit * 1.5 + 0.01, (name, shares[name])


#: How each tactic shows in the truth notes.
NOTE_OF = {
    **{name: name for name in TACTIC_RATES},
    "ais_off": "dark_(?:before|after)=",
    "switch_at_sea": "switched_(?:on|off)_at_sea",
}


def test_tactics_are_applied_to_a_share_of_both_classes(many_transfers):
    t = many_transfers[many_transfers["kind"] != "dark_transfer"]
    shows = pd.DataFrame({name: t["notes"].str.contains(pat) for name, pat in NOTE_OF.items()})
    any_tactic = shows.any(axis=1)
    assert any_tactic[t["illicit"]].mean() > 0.85
    assert 0.08 < any_tactic[~t["illicit"]].mean() < 0.4  # real data is noisy
    assert shows[~t["illicit"]].any().sum() >= 4  # several different tactics among the legit
    for name in ("ais_off", "no_imo", "registry_of_concern", "small_receiver", "renamed"):
        assert shows.loc[t["illicit"], name].mean() > 2 * shows.loc[~t["illicit"], name].mean()


def test_location_is_decoupled_from_the_label(many_transfers):
    t = many_transfers[many_transfers["kind"] != "dark_transfer"]
    ill, leg = t[t["illicit"]], t[~t["illicit"]]
    # the same mix of places for both classes...
    for where in ("zone", "offshore", "coastal"):
        assert abs((ill["where"] == where).mean() - (leg["where"] == where).mean()) < 0.12, where
    # ...so the distance-to-coast distributions overlap: no threshold separates them
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(t["illicit"], t["coast_m"])
    assert 0.4 < auc < 0.6
    # illicit transfers also happen inside zones and 12-20 km off a coast
    assert (ill["zone"].notna()).sum() >= 10
    assert ((ill["coast_m"] >= 11_000) & (ill["coast_m"] <= 21_000)).sum() >= 10
    # legitimate ones also far offshore
    assert (leg["coast_m"] > 30_000).sum() >= 10 and (leg["zone"].isna()).sum() >= 10


def test_size_and_duration_are_drawn_alike_except_the_small_receiver(many_transfers):
    t = many_transfers[many_transfers["kind"] != "dark_transfer"]
    plain = t[~t["notes"].str.contains("small_receiver|class_b_large")]
    ill, leg = plain[plain["illicit"]], plain[~plain["illicit"]]
    assert abs(ill["min_length_m"].median() - leg["min_length_m"].median()) < 30
    assert abs(ill["duration_h"].median() - leg["duration_h"].median()) < 1.5


def test_some_illicit_transfers_look_clean(many_transfers):
    ill = many_transfers[many_transfers["illicit"] & (many_transfers["kind"] != "dark_transfer")]
    clean = ill["notes"].str.contains("clean-looking").mean()
    assert 0.0 < clean < 0.15


def test_dark_transfer_partner_is_silent_from_approach_to_departure():
    data = simulate(
        transfers_only(
            seed=7, n_days=2, n_illicit_rendezvous=0, n_legit_transfers=0, n_dark_transfers=2
        )
    )
    for r in data.truth.itertuples():
        dark = int(r.notes.split("dark=")[1].split(";")[0])
        other = int(r.mmsi_a if r.mmsi_b == dark else r.mmsi_b)
        p = data.positions
        during = (p["timestamp"] >= r.start_time) & (p["timestamp"] <= r.end_time)
        assert not (during & (p["mmsi"] == dark)).any()  # silent alongside
        assert (during & (p["mmsi"] == other)).sum() > 60  # the loiterer reports
        assert r.is_rendezvous is False or not r.is_rendezvous


def test_transfer_pairs_share_flags_and_pair_types_across_classes():
    rng = np.random.default_rng(1)
    taken: set[int] = set()
    types = {True: set(), False: set()}
    for illicit in (True, False) * 200:
        _a, _b, plan = transfer_pair(rng, taken, (636, 538, 352), illicit=illicit)
        types[illicit].add(plan.pair_type)
    assert types[True] == types[False] == {"lightering", "bunkering", "product"}


def test_transfer_durations_match_published_gfw_encounters(many_transfers, shared_data):
    """Real data beats simulated: durations are calibrated on GFW's 11,681 encounters."""
    events = pd.read_csv(shared_data / "events" / "gfw_encounter-events_2012-2017.csv")
    real = events["duration_hr"]
    sim = many_transfers.loc[many_transfers["kind"] != "dark_transfer", "duration_h"]
    assert abs(sim.median() - real.median()) / real.median() < 0.2  # GFW: 7.3 h
    # the bulk of real encounters lies in the simulated 3-24 h range
    assert real.between(3, 24).mean() > 0.6
    assert sim.between(3, 24).all()
