"""``stswatch serve`` refuses bad settings before contacting Prefect."""

from __future__ import annotations

import pytest

from stswatch.pipeline.cli import main


def test_serve_local_source_without_input_dir_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.delenv("STSWATCH_INPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    code = main(["serve", "--source", "local"])
    assert code == 2
    assert "--source local needs --input-dir" in capsys.readouterr().err


def test_serve_non_integer_lookback_env_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("STSWATCH_LOOKBACK_DAYS", "seven")
    monkeypatch.chdir(tmp_path)
    assert main(["serve"]) == 2
    assert "STSWATCH_LOOKBACK_DAYS must be an integer" in capsys.readouterr().err


def test_serve_dask_address_without_scheme_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--dask-address", "127.0.0.1:8786"]) == 2
    assert "needs a scheme, e.g. tcp://" in capsys.readouterr().err
