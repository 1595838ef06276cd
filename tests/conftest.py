"""Project-wide pytest configuration.

Shared real AIS samples live beside the project (``../shared/data``) and are
never copied into it; tests that need them take the ``shared_data`` fixture,
which skips with a clear message when the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Prefect must never phone home or touch a user's real Prefect home in tests.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Where the shared samples are: $STSWATCH_SHARED_DATA or ../shared/data."""
    env = os.environ.get("STSWATCH_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(
            f"shared AIS samples not found at {path} "
            "(set STSWATCH_SHARED_DATA or place shared/ beside the repo)"
        )
    return path
