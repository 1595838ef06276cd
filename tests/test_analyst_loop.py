"""The analyst loop end to end: run a day, edit the GeoJSON, import, re-run, retrain, evaluate.

Everything goes through the real CLI except the retraining, which uses a tiny
training plan through the same library call ``stswatch train --store`` makes
(the shipped plan takes minutes); ``stswatch evaluate --store`` then reads that
plan from the new model's card.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from test_scoring_training import TINY  # the small plan with both classes in every set

from stswatch.pipeline.cli import main
from stswatch.pipeline.simulator import SimulationConfig, simulate, write_marinecadastre

DAY = date(2024, 5, 14)
RANKED = ("rendezvous", "dark_rendezvous")


def _ranked(doc: dict) -> list[dict]:
    return [f["properties"] for f in doc["features"] if f["properties"]["kind"] in RANKED]


def _truth_verdicts(doc: dict, truth: pd.DataFrame) -> dict[str, str]:
    """What a careful analyst would conclude: the simulator's truth for each pair."""
    out = {}
    for p in _ranked(doc):
        pair = {p["mmsi_a"], p["mmsi_b"]}
        pairs = zip(truth["mmsi_a"], truth["mmsi_b"].fillna(0), strict=True)
        rows = truth[[{int(a), int(b)} == pair for a, b in pairs]]
        flag = rows["is_illicit"].dropna()
        out[p["event_id"]] = (
            "unsure" if flag.empty else "illicit" if bool(flag.iloc[0]) else "legitimate"
        )
    return out


@pytest.mark.e2e
def test_verdicts_survive_a_rerun_and_teach_the_model(tmp_path: Path, capsys) -> None:
    sim = simulate(
        SimulationConfig(
            seed=31, start_date=DAY, n_days=1, region="gulf_of_mexico", target_rows=20_000,
            n_illicit_rendezvous=5, n_legit_transfers=5, n_dark_transfers=1,
        )
    )  # fmt: skip
    files = [p for p in map(Path, write_marinecadastre(sim, tmp_path / "in")) if "AIS_" in p.name]
    store, out = tmp_path / "store", tmp_path / "out" / "day.geojson"
    run = ["run", *map(str, files), "--store", str(store), "--out", str(out), "--no-progress"]
    assert main(run) == 0
    doc = json.loads(out.read_text())
    verdicts = _truth_verdicts(doc, sim.truth)
    assert sum(v == "illicit" for v in verdicts.values()) >= 2
    assert sum(v == "legitimate" for v in verdicts.values()) >= 2

    # the analyst edits a copy in QGIS: verdict and note on every ranked event
    for feature in doc["features"]:
        p = feature["properties"]
        if p["kind"] in RANKED:
            p["verdict"], p["note"] = verdicts[p["event_id"]].capitalize(), "checked"
    edited = tmp_path / "edited.geojson"
    edited.write_text(json.dumps(doc))
    imp = ["review", "import", str(edited), "--store", str(store), "--reviewer", "ana"]
    assert main(imp) == 0
    assert f"{len(verdicts)} verdict(s) recorded" in capsys.readouterr().out

    # the day again: same event ids, the verdicts carried into GeoJSON and cards
    assert main(run) == 0
    again = json.loads(out.read_text())
    for p in _ranked(again):
        assert p["verdict"] == verdicts[p["event_id"]]
        assert p["reviewed_by"] == "ana" and p["reviewed_at"] and p["note"] == "checked"
    top = _ranked(again)[0]
    card_md = (out.parent / top["card"]).with_suffix(".md").read_text()
    assert f"**Verdict: {verdicts[top['event_id']]}** by ana" in card_md

    # retrain with the verdicts (what `stswatch train --store` does, on a tiny plan)
    from stswatch.pipeline.scoring.training import train_and_save
    from stswatch.pipeline.scoring.verdict_learning import store_labelled_set

    real = store_labelled_set(store)
    n_used = sum(v != "unsure" for v in verdicts.values())
    assert real.meta["n_used"] == n_used and real.meta["n_not_found"] == 0
    model_dir = tmp_path / "model"
    run_ = train_and_save(TINY, model_dir, workers=1, real=real)
    used = run_.card["training"]["analysts_verdicts"]
    assert used["n_used"] == n_used and 0 < used["weight_per_verdict"] <= 5.0
    assert run_.test.meta["n_events"] > 0  # the held-out set is still the simulated one

    capsys.readouterr()
    evaluate = ["evaluate", "--model", str(model_dir), "--store", str(store), "--workers", "1"]
    assert main(evaluate) == 0
    text = capsys.readouterr().out
    assert f"{n_used - real.meta['n_legitimate']} illicit and {real.meta['n_legitimate']}" in text
    assert f"in-sample: it was trained with {n_used} of them" in text
    assert "cross-validated on the verdicts" in text
    assert text.count("PR-AUC") >= 4  # simulated sets and the verdicts, side by side
