"""A real Prefect server, ``stswatch serve`` against it, and a backfill from the form.

The backfill is started exactly as the UI's custom-run form does: through
``create_flow_run_from_deployment`` with JSON parameters (dates as
``YYYY-MM-DD`` strings), then the run is awaited and its outputs checked on
disk and through the artifacts API.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flows_harness import SIM_START, simulate_days

from e2e.helpers import (
    VENV_BIN,
    PrefectServer,
    Proc,
    free_port,
    shared_prefect_server,
    start,
    wait_until,
)

pytestmark = pytest.mark.e2e

DAY2 = SIM_START + timedelta(days=1)


@dataclass
class Served:
    server: PrefectServer
    proc: Proc
    store: Path
    out_dir: Path
    input_dir: Path
    http_port: int


def api(server: PrefectServer, fn) -> Any:
    """Run ``await fn(client)`` against ``server`` through ``get_client``."""
    from prefect.client.orchestration import get_client

    async def go() -> Any:
        async with get_client() as client:
            return await fn(client)

    with server.client_settings():
        return asyncio.run(go())


@pytest.fixture(scope="session")  # released at session end: one server for all modules
def server() -> Iterator[PrefectServer]:
    with shared_prefect_server() as s:
        yield s


@pytest.fixture(scope="module")
def served(server: PrefectServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("serve")
    input_dir = work / "input"
    simulate_days(input_dir, SIM_START, 2, seed=5)
    store, out_dir = work / "store", work / "out"
    cmd = [str(VENV_BIN / "stswatch"), "serve", "--store", str(store), "--out-dir", str(out_dir)]
    http_port = free_port()
    cmd += ["--source", "local", "--input-dir", str(input_dir), "--http-port", str(http_port)]
    # from a folder outside the repository: runs load the flows by module path
    proc = start("stswatch-serve", cmd, server.client_env(), work / "logs", cwd=work)
    try:

        async def both_registered(client) -> bool:
            names = {d.name for d in await client.read_deployments()}
            return {"daily", "backfill"} <= names

        wait_until(lambda: api(server, both_registered), 90, "deployments to register", proc)
        yield Served(server, proc, store, out_dir, input_dir, http_port)
    finally:
        proc.stop()


def wait_for_run(server: PrefectServer, run_id, proc: Proc, timeout_s: float = 240) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = api(server, lambda c: c.read_flow_run(run_id))
        if run.state is not None and run.state.is_final():
            return run
        if not proc.alive():
            raise RuntimeError(f"stswatch serve exited:\n{proc.log_tail()}")
        time.sleep(1.0)
    raise TimeoutError(f"flow run not finished after {timeout_s} s:\n{proc.log_tail()}")


def check_daily_schedule_and_typed_backfill_form(served: Served) -> None:
    daily = api(served.server, lambda c: c.read_deployment_by_name("stswatch-daily/daily"))
    crons = [(s.schedule.cron, s.schedule.timezone) for s in daily.schedules]
    assert crons == [("0 6 * * *", "UTC")]
    backfill = api(served.server, lambda c: c.read_deployment_by_name("stswatch-backfill/backfill"))
    assert backfill.schedules == []
    props = backfill.parameter_openapi_schema["properties"]
    assert props["start_date"]["format"] == "date"
    assert props["end_date"]["format"] == "date"
    assert set(props["source"]["enum"]) == {"marinecadastre", "dma", "local"}
    assert props["start_date"]["description"]  # the form shows it under the field
    assert set(backfill.parameter_openapi_schema["required"]) == {"start_date", "end_date"}
    # the operator's folders are the form's defaults
    assert backfill.parameters["store"] == str(served.store)
    assert backfill.parameters["source"] == "local"


def check_two_day_backfill_from_form(served: Served) -> None:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    backfill = api(served.server, lambda c: c.read_deployment_by_name("stswatch-backfill/backfill"))
    form = {"start_date": SIM_START.isoformat(), "end_date": DAY2.isoformat()}
    run = api(
        served.server, lambda c: c.create_flow_run_from_deployment(backfill.id, parameters=form)
    )
    run = wait_for_run(served.server, run.id, served.proc)
    assert run.state.is_completed(), f"{run.state}\n{served.proc.log_tail()}"

    for day in (SIM_START, DAY2):
        assert (served.store / "positions" / f"date={day}").is_dir()
        geojson = json.loads((served.out_dir / f"rendezvous-{day}.geojson").read_text())
        assert geojson["type"] == "FeatureCollection"

    artifacts = api(
        served.server,
        lambda c: c.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        ),
    )
    by_key = {a.key: a for a in artifacts if a.key}
    assert by_key["stswatch-backfill-progress"].data == 100
    assert by_key["stswatch-top-rendezvous"].type == "table"
    summary = by_key["stswatch-run-summary"].data
    assert "days processed: **2**" in summary and "quarantined" in summary
    assert str(served.out_dir / f"rendezvous-{DAY2}.geojson") in summary
    # links go to the output folder `serve` publishes over HTTP (browsers block file://)
    base = f"http://127.0.0.1:{served.http_port}"
    link = by_key[f"stswatch-geojson-{SIM_START}"].data
    assert f"{base}/rendezvous-{SIM_START}.geojson" in link
    with urllib.request.urlopen(f"{base}/rendezvous-{SIM_START}.geojson") as resp:
        assert json.loads(resp.read())["type"] == "FeatureCollection"
    queue = by_key["stswatch-review-queue"].data
    assert "Review queue" in queue and "unreviewed" in queue
    for card in re.findall(r"\[card\]\((http[^)]+)\)", queue):
        with urllib.request.urlopen(card) as resp:
            assert resp.read()[:8] == b"\x89PNG\r\n\x1a\n"


def check_end_before_start_fails_with_clear_message(served: Served) -> None:
    backfill = api(served.server, lambda c: c.read_deployment_by_name("stswatch-backfill/backfill"))
    form = {"start_date": DAY2.isoformat(), "end_date": SIM_START.isoformat()}
    run = api(
        served.server, lambda c: c.create_flow_run_from_deployment(backfill.id, parameters=form)
    )
    run = wait_for_run(served.server, run.id, served.proc)
    assert run.state.is_failed()
    assert "is before start_date" in (run.state.message or "")


def test_serve_registers_deployments_and_runs_backfill_from_the_form(served: Served) -> None:
    """One test, not three: under ``pytest -n 2`` separate tests of this module could
    land on both workers, each paying for its own server and ``serve`` (~60 s)."""
    check_daily_schedule_and_typed_backfill_form(served)
    check_end_before_start_fails_with_clear_message(served)
    check_two_day_backfill_from_form(served)
