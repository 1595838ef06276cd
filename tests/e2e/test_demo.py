"""``stswatch demo``, the README's main job, on a fresh Prefect home with no server."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from e2e.helpers import VENV_BIN, offline_env

pytestmark = pytest.mark.e2e


def test_demo_runs_day_flow_without_server_and_writes_geojson(tmp_path: Path) -> None:
    env = offline_env(tmp_path / "fresh-prefect-home")  # no PREFECT_API_URL: ephemeral mode
    proc = subprocess.run(
        [str(VENV_BIN / "stswatch"), "demo", "--home", str(tmp_path / "demo")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
        start_new_session=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ephemeral mode" in proc.stdout
    assert re.search(r"rows in: \*\*[\d,]+\*\*, accepted: \*\*[\d,]+\*\*", proc.stdout)
    match = re.search(r"^GeoJSON: (.+\.geojson)$", proc.stdout, re.MULTILINE)
    assert match, proc.stdout
    geojson = json.loads(Path(match.group(1)).read_text())
    kinds = {f["properties"]["kind"] for f in geojson["features"]}
    assert "rendezvous" in kinds  # the simulated day holds illicit meetings
    assert (tmp_path / "demo" / "store" / "positions").is_dir()
