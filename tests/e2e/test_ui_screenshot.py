"""The Prefect UI renders the backfill's custom-run form with date pickers.

Headless Chromium (Debian package ``chromium``) loads the local UI's
``/deployments/deployment/<id>/run`` page against a real server; the test
reads the rendered DOM and keeps a screenshot for people to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.helpers import PrefectServer, shared_prefect_server

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    "--virtual-time-budget=15000",
]


@pytest.fixture(scope="session")  # released at session end: one server for all modules
def server() -> Iterator[PrefectServer]:
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed (/usr/bin/chromium; apt package chromium)")
    with shared_prefect_server() as s:
        yield s


def chromium(args: list[str], profile: Path, timeout_s: float = 120) -> str:
    shutil.rmtree(profile, ignore_errors=True)
    proc = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        start_new_session=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_backfill_run_form_shows_date_pickers_and_source_dropdown(
    server: PrefectServer, tmp_path: Path
) -> None:
    from stswatch.flows.deployments import build_deployments
    from stswatch.flows.settings import FlowSettings

    settings = FlowSettings.from_env(
        {"STSWATCH_STORE": str(tmp_path / "store"), "STSWATCH_OUT_DIR": str(tmp_path / "out")}
    )
    with server.client_settings():
        backfill = build_deployments(settings)[1]
        deployment_id = backfill.apply()  # the form needs no running `serve`
    url = f"{server.ui_url}/deployments/deployment/{deployment_id}/run"

    dom = chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert "Can't connect to Server API" not in dom
    assert dom.count('type="date"') >= 2  # start_date and end_date pickers
    assert "start_date" in dom and "end_date" in dom
    assert "marinecadastre" in dom  # the source dropdown's default
    assert "first UTC day" in dom  # descriptions shown under the fields

    shot = tmp_path / "backfill-form.png"
    chromium([f"--screenshot={shot}", url], tmp_path / "profile-shot")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
