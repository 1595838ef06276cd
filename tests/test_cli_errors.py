"""A run that cannot finish says so in one line, exits 2 and changes nothing.

Each case is a way a user's first run goes wrong (no model, a tampered model,
a broken installation's reference data, an output path that cannot be
written, days the store does not hold); each asserts the message, the exit
code and that no store partition (or GeoJSON) was written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_ingest import mc_row, write_mc_csv

from stswatch import __version__
from stswatch.pipeline.cli import main
from stswatch.pipeline.scoring.persistence import DEFAULT_MODEL_DIR, MODEL_FILE


@pytest.fixture
def day_csv(tmp_path: Path) -> Path:
    rows = [mc_row(time=f"2022-01-03T{h:02d}:00:00", lon=20 + h / 100) for h in range(6)]
    return write_mc_csv(tmp_path / "AIS_2022_01_03.csv", rows)


def partitions(store: Path) -> list[Path]:
    return sorted(store.rglob("*.parquet")) if store.exists() else []


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def test_missing_model_stops_run_before_ingest(day_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STSWATCH_MODEL_DIR", str(tmp_path / "no-model"))
    store = tmp_path / "store"
    code, err = run_cli(
        ["run", str(day_csv), "--store", str(store), "--out", str(tmp_path / "o.geojson")], capsys
    )
    assert code == 2
    assert err.startswith("stswatch: error: no suspicion model at ")
    assert "STSWATCH_MODEL_DIR" in err and err.count("\n") == 1
    assert partitions(store) == [] and not (tmp_path / "o.geojson").exists()


def test_tampered_model_stops_run_before_ingest(day_csv, tmp_path, monkeypatch, capsys):
    model_dir = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model_dir)
    data = bytearray((model_dir / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_dir / MODEL_FILE).write_bytes(bytes(data))
    monkeypatch.setenv("STSWATCH_MODEL_DIR", str(model_dir))
    store = tmp_path / "store"
    code, err = run_cli(
        ["run", str(day_csv), "--store", str(store), "--out", str(tmp_path / "o.geojson")], capsys
    )
    assert code == 2 and "does not match its model card" in err
    assert partitions(store) == []


def test_broken_reference_data_stops_run_before_ingest(day_csv, tmp_path, monkeypatch, capsys):
    import stswatch.geo.ports

    def broken() -> None:
        raise FileNotFoundError("port_registry.parquet")

    monkeypatch.setattr(stswatch.geo.ports, "load_ports", broken)
    store = tmp_path / "store"
    code, err = run_cli(
        ["run", str(day_csv), "--store", str(store), "--out", str(tmp_path / "o.geojson")], capsys
    )
    assert code == 2
    assert "reference data unavailable: port lists" in err and "port_registry.parquet" in err
    assert partitions(store) == []


def test_output_path_that_is_a_folder_stops_run_before_ingest(day_csv, tmp_path, capsys):
    store, out = tmp_path / "store", tmp_path / "out"
    out.mkdir()
    code, err = run_cli(["run", str(day_csv), "--store", str(store), "--out", str(out)], capsys)
    assert code == 2 and f"--out {out} is a folder" in err
    assert partitions(store) == []


def test_output_folder_that_cannot_exist_stops_run_before_ingest(day_csv, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be\n")
    store = tmp_path / "store"
    code, err = run_cli(
        ["run", str(day_csv), "--store", str(store), "--out", str(blocker / "o.geojson")], capsys
    )
    assert code == 2 and f"output folder {blocker} is not a folder" in err
    assert partitions(store) == []


def test_detect_on_days_the_store_lacks_exits_2_without_output(day_csv, tmp_path, capsys):
    store, out = tmp_path / "store", tmp_path / "o.geojson"
    assert main(["ingest", str(day_csv), "--store", str(store), "--no-progress"]) == 0
    capsys.readouterr()
    before = {p: p.read_bytes() for p in partitions(store)}
    code, err = run_cli(
        ["detect", "--store", str(store), "--start", "2023-05-01", "--end", "2023-05-02",
         "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 2
    assert "holds no positions for 2023-05-01..2023-05-02 (2 days)" in err
    assert "it holds 2022-01-03" in err
    assert not out.exists()
    assert {p: p.read_bytes() for p in partitions(store)} == before


def test_detect_warns_about_missing_days_but_publishes_the_held_ones(day_csv, tmp_path, capsys):
    store, out = tmp_path / "store", tmp_path / "o.geojson"
    assert main(["ingest", str(day_csv), "--store", str(store), "--no-progress"]) == 0
    code, err = run_cli(
        ["detect", "--store", str(store), "--start", "2022-01-03", "--end", "2022-01-04",
         "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0 and out.exists()
    assert "warning: no positions stored for 2022-01-04" in err


def test_version_flag_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"stswatch {__version__}"


def test_unexpected_failure_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    from stswatch.pipeline.commands import evaluate

    def explode(args):
        raise RuntimeError("something deep broke\nsecond line")

    monkeypatch.setattr(evaluate, "run", explode)
    code, err = run_cli(["evaluate"], capsys)
    assert code == 2
    assert err == (
        "stswatch: error: RuntimeError: something deep broke (run with --debug for the traceback)\n"
    )
    with pytest.raises(RuntimeError, match="something deep broke"):
        main(["evaluate", "--debug"])


def test_run_writes_no_progress_carriage_returns_into_a_log_file(day_csv, tmp_path):
    """stderr redirected to a file (a cron job's log) gets no tqdm bar."""
    log = tmp_path / "run.log"
    with log.open("w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "stswatch", "run", str(day_csv),
             "--store", str(tmp_path / "store"), "--out", str(tmp_path / "o.geojson")],
            stdout=fh, stderr=subprocess.STDOUT, env={**os.environ}, check=False,
        )  # fmt: skip
    assert proc.returncode == 0, log.read_text()
    assert "\r" not in log.read_text()
    assert "accepted" in log.read_text()
