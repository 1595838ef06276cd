"""One Prefect test harness for the whole session, plus simulated input days.

Starting a ``prefect_test_harness`` costs ~11 s on 2 cores, so the flow test
files import the session-scoped :func:`prefect_harness` fixture from here
(pure logic is tested without Prefect). Prefect runs offline with a
temporary home: no telemetry, no user profile touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

#: A fixed, past window: the flows refuse future dates, tests must not drift.
SIM_START = date(2024, 3, 4)


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary Prefect API and database shared by every flow test."""
    from prefect.settings import PREFECT_HOME, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    home = tmp_path_factory.mktemp("prefect-home")
    with (
        temporary_settings({PREFECT_HOME: str(home)}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield


def simulate_days(out_dir: Path, start: date, n_days: int, *, seed: int) -> list[Path]:
    """Write ``n_days`` small simulated MarineCadastre days (``AIS_YYYY_MM_DD.csv``).

    Skips the calling test with a clear reason until the simulator exists.
    """
    sim = pytest.importorskip(
        "stswatch.pipeline.simulator", reason="stswatch.pipeline.simulator not available"
    )
    if not hasattr(sim, "simulate") or not hasattr(sim, "SimulationConfig"):
        pytest.skip("stswatch.pipeline.simulator.simulate/SimulationConfig not available yet")
    from stswatch.flows.demo_data import simulate_small_days

    return simulate_small_days(out_dir, start, n_days, seed=seed, lean=True)


def day_files(folder: Path, start: date, n_days: int) -> list[Path]:
    """The expected publisher-named files of a window (for assertions)."""
    return [folder / f"AIS_{(start + timedelta(days=i)):%Y_%m_%d}.csv" for i in range(n_days)]
