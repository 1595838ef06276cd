"""Scale-out and rerun identity: a real Dask scheduler and worker, and incremental runs.

(b) A backfill whose days run on a Dask cluster (separate ``dask scheduler`` /
``dask worker`` processes on 127.0.0.1) gives the same event ids and the same
store bytes as the same backfill on local threads.
(c) Day-by-day incremental runs give the same event ids and store bytes as
one backfill over the same days.
All flows report to one real Prefect server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flows_harness import SIM_START, simulate_days

from e2e.helpers import (
    VENV_BIN,
    PrefectServer,
    free_port,
    shared_prefect_server,
    start,
    wait_port,
    wait_until,
)

pytestmark = pytest.mark.e2e

DAYS = [SIM_START + timedelta(days=i) for i in range(3)]


@pytest.fixture(scope="session")  # released at session end: one server for all modules
def server() -> Iterator[PrefectServer]:
    with shared_prefect_server() as s:
        yield s


@pytest.fixture(scope="module")
def input_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("input")
    simulate_days(folder, SIM_START, len(DAYS), seed=21)
    return folder


@pytest.fixture(scope="module")
def dask_cluster(
    server: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """``dask scheduler`` + one ``dask worker`` as separate processes; yields (address, log)."""
    logs = tmp_path_factory.mktemp("dask-logs")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = server.client_env()  # workers report their task runs to the same Prefect API
    dask = str(VENV_BIN / "dask")
    scheduler = start(
        "dask-scheduler",
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env,
        logs,
    )
    worker = None
    try:
        wait_port("127.0.0.1", port, 60, "Dask scheduler", scheduler)
        worker = start(
            "dask-worker",
            [dask, "worker", address, "--nworkers", "1", "--nthreads", "2", "--no-dashboard",
             "--host", "127.0.0.1", "--name", "e2e-worker"],
            env,
            logs,
        )  # fmt: skip

        def worker_joined() -> bool:
            from distributed import Client

            with Client(address, timeout=5) as client:
                return len(client.scheduler_info()["workers"]) >= 1

        wait_until(worker_joined, 90, "Dask worker to join", worker)
        yield address, worker.log_path
    finally:
        if worker is not None:
            worker.stop()
        scheduler.stop()


def run_flow(server: PrefectServer, flow: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a flow in this process, reporting to the real server; return its final state."""
    with server.client_settings():
        return flow(*args, return_state=True, **kwargs)


def event_ids(out: Path) -> dict[str, list[str]]:
    """Rendezvous event ids per published day."""
    result = {}
    for path in sorted(out.glob("rendezvous-*.geojson")):
        features = json.loads(path.read_text())["features"]
        result[path.name] = sorted(
            f["properties"]["event_id"]
            for f in features
            if f["properties"].get("kind") == "rendezvous"
        )
    return result


def store_bytes(store: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*.parquet"))
        if "_downloads" not in p.parts
    }


@pytest.fixture(scope="module")
def local_backfill(
    server: PrefectServer, input_days: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    from stswatch.flows.backfill import backfill_flow

    work = tmp_path_factory.mktemp("local")
    store, out = work / "store", work / "out"
    state = run_flow(
        server, backfill_flow, DAYS[0], DAYS[-1], source="local", store=str(store),
        out_dir=str(out), input_dir=str(input_days), max_concurrency=2,
    )  # fmt: skip
    assert state.is_completed(), state.message
    assert state.result()["done"] == [str(d) for d in DAYS]
    return store, out


def check_dask_backfill_equals_local_backfill(
    server: PrefectServer,
    dask_cluster: tuple[str, Path],
    input_days: Path,
    local_backfill: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    from stswatch.flows.backfill import backfill_flow

    address, worker_log = dask_cluster
    store, out = tmp_path / "store", tmp_path / "out"
    state = run_flow(
        server, backfill_flow, DAYS[0], DAYS[-1], source="local", store=str(store),
        out_dir=str(out), input_dir=str(input_days), max_concurrency=2, dask_address=address,
    )  # fmt: skip
    assert state.is_completed(), state.message
    # the days really ran in the worker process, not here
    assert "publish-day" in worker_log.read_text(errors="replace")
    local_store, local_out = local_backfill
    assert sum(map(len, event_ids(local_out).values())) >= 1  # a comparison with substance
    assert event_ids(out) == event_ids(local_out)
    assert len(event_ids(out)) == len(DAYS)
    assert store_bytes(store) == store_bytes(local_store)


def check_incremental_days_equal_one_backfill(
    server: PrefectServer, input_days: Path, local_backfill: tuple[Path, Path], tmp_path: Path
) -> None:
    from stswatch.flows.day import day_flow

    store, out = tmp_path / "store", tmp_path / "out"
    for day in DAYS:  # as the daily deployment would, one day after the other
        state = run_flow(
            server, day_flow, day, source="local", store=str(store), out_dir=str(out),
            input_dir=str(input_days),
        )  # fmt: skip
        assert state.is_completed(), state.message
    local_store, local_out = local_backfill
    assert event_ids(out) == event_ids(local_out)
    assert store_bytes(store) == store_bytes(local_store)


def test_dask_and_incremental_runs_equal_local_backfill(
    server: PrefectServer,
    dask_cluster: tuple[str, Path],
    input_days: Path,
    local_backfill: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """One test so that ``pytest -n 2`` cannot split it and start everything twice."""
    check_dask_backfill_equals_local_backfill(
        server, dask_cluster, input_days, local_backfill, tmp_path / "dask"
    )
    check_incremental_days_equal_one_backfill(
        server, input_days, local_backfill, tmp_path / "incremental"
    )
