"""The GeoPackage opens in QGIS as analysts see it: one styled layer per kind.

A simulated day goes through the real ``stswatch run``; QGIS (Debian's
``python3-qgis``, headless) then adds each layer of the GeoPackage the way
"Add Vector Layer" does, so the style stored in the file's ``layer_styles``
is what QGIS applies. For every feature the style's data-defined colour and
size are evaluated as QGIS does when drawing, and must equal the feature's
simplestyle properties (the colours geojson.io shows); events are drawn most
suspicious on top, gaps dashed, and the rendered map is kept beside the test's
output for people to look at.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from stswatch.pipeline.cli import main

pytestmark = pytest.mark.e2e

SYSTEM_PYTHON = Path("/usr/bin/python3")
SCRIPT = Path(__file__).with_name("qgis_open_layers.py")


def _qgis_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import qgis.core"],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    return probe.returncode == 0


def test_geopackage_layers_open_styled_in_qgis(tmp_path: Path) -> None:
    if not _qgis_available():
        pytest.skip("QGIS's Python bindings not installed (/usr/bin/python3; apt python3-qgis)")
    from stswatch.flows.demo_data import simulate_small_days

    csvs = simulate_small_days(tmp_path / "in", date(2024, 6, 3), 1, seed=7)
    out = tmp_path / "out" / "day.geojson"
    argv = ["run", *map(str, csvs), "--store", str(tmp_path / "store"), "--out", str(out)]
    assert main([*argv, "--cards", "0", "--no-progress"]) == 0
    doc = json.loads(out.read_text())
    kinds = {f["properties"]["kind"] for f in doc["features"]}
    assert {"rendezvous", "track"} <= kinds

    png = tmp_path / "out" / "qgis.png"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [str(SYSTEM_PYTHON), str(SCRIPT), str(out.with_suffix(".gpkg")), str(png)],
        capture_output=True,
        text=True,
        env={**env, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    layers = seen["layers"]
    for kind in kinds:
        layer = layers[kind]
        n_features = sum(f["properties"]["kind"] == kind for f in doc["features"])
        assert layer["valid"] and layer["features"] == n_features, (kind, layer)
        assert layer["renderer"] == "singleSymbol", (kind, layer)
        assert layer["colours_wrong"] == [] and layer["sizes_wrong"] == [], (kind, layer)
        if kind in ("rendezvous", "dark_rendezvous", "loitering"):
            assert layer["symbol_layer"] == "SimpleMarker"
            assert layer["data_defined"] == ["fillColor", "size"]
        else:
            assert layer["symbol_layer"] == "SimpleLine"
            assert layer["data_defined"] == ["outlineColor", "outlineWidth"]
    for kind in kinds & {"rendezvous", "dark_rendezvous"}:
        assert layers[kind]["order_by"].startswith('"score" ASC'), layers[kind]
    assert layers["track"]["pen_style"] == 1
    if "gap" in kinds:
        assert layers["gap"]["pen_style"] == 2  # dashed
    assert seen["painted"] > 100, seen  # the map shows something
    assert png.stat().st_size > 5_000
