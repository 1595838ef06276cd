"""The Prefect server on PostgreSQL (what to use when scaling out), with a small backfill.

Uses Debian's PostgreSQL binaries when installed (CI installs the
``postgresql`` package through ``.ci/install-system``): a throw-away cluster
is initialised in a temporary folder and started on a free loopback port,
as the ``postgres`` system user when the tests run as root (PostgreSQL
refuses to run as root). Skips with a clear message otherwise.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flows_harness import SIM_START, simulate_days

from e2e.helpers import free_port, start, start_prefect_server, wait_until

pytestmark = pytest.mark.e2e


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip(
            "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin; apt package postgresql)"
        )
    return Path(found[-1]).parent


def run_as() -> str | None:
    """The user PostgreSQL runs as: ourselves, or ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and no 'postgres' user to run PostgreSQL as")
    if shutil.which("runuser") is None:
        pytest.skip("running as root and runuser is not available")
    return "postgres"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bin_dir, user = postgres_bin(), run_as()
    # not under pytest's tmp dir: its parents are private to root
    work = Path(tempfile.mkdtemp(prefix="stswatch-pg-"))
    data, sock = work / "data", work / "sock"
    data.mkdir()
    sock.mkdir()
    if user:
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        for p in (work, data, sock):
            os.chown(p, uid, gid)
    prefix = ["runuser", "-u", user, "--"] if user else []
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "prefect", "--auth=trust",
         "--encoding=UTF8", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    pg = start(
        "postgres",
        [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sock),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        env, work / "logs",
        cwd=work, preexec_user=user,
    )  # fmt: skip
    try:

        def ready() -> bool:
            r = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
            )
            return r.returncode == 0

        wait_until(ready, 60, "PostgreSQL", pg)
        yield f"postgresql+asyncpg://prefect@127.0.0.1:{port}/postgres"
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def test_prefect_server_on_postgres_runs_a_backfill(postgres_url: str, tmp_path: Path) -> None:
    from stswatch.flows.backfill import backfill_flow

    input_dir = tmp_path / "input"
    simulate_days(input_dir, SIM_START, 2, seed=8)
    server = start_prefect_server(tmp_path / "server", database_url=postgres_url)
    try:
        with server.client_settings():
            state = backfill_flow(
                SIM_START, SIM_START + timedelta(days=1), source="local",
                store=str(tmp_path / "store"), out_dir=str(tmp_path / "out"),
                input_dir=str(input_dir), return_state=True,
            )  # fmt: skip
            assert state.is_completed(), state.message
            assert len(list((tmp_path / "out").glob("rendezvous-*.geojson"))) == 2
        # the runs are recorded in PostgreSQL (task runs arrive as events, a moment later)
        counts: dict[str, int] = {}

        def recorded() -> bool:
            counts.update(asyncio.run(count_runs(postgres_url)))
            return counts["task_run"] >= 4  # prepare + publish per day (+ nested acquire/ingest)

        wait_until(recorded, 60, "task runs in PostgreSQL", server.proc)
        assert counts["flow_run"] == 1
        assert not list(server.home.glob("*.db"))  # no SQLite database was used
    finally:
        server.stop()


async def count_runs(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return {
            t: int(await conn.fetchval(f"select count(*) from {t}"))
            for t in ("flow_run", "task_run")
        }
    finally:
        await conn.close()
