"""Process management for the end-to-end tests: real servers on loopback, always cleaned up.

Every process is started in its own process group (``start_new_session``)
and stopped by group (SIGTERM, then SIGKILL), so a Prefect server's uvicorn
children or a Dask worker's nanny never outlive a test, even on failure.
One Prefect server is shared by the e2e tests of a pytest process
(:func:`shared_prefect_server`): each start costs 10-25 s on 2 cores.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def offline_env(prefect_home: Path, **extra: str) -> dict[str, str]:
    """Environment for child processes: offline Prefect, a private home, venv on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_HOME=str(prefect_home),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Proc:
    """A child process in its own group, with its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, n_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM the whole group, then SIGKILL what is left."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout_s)
        # children may linger after the leader exited: kill the group regardless
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


def start(
    name: str,
    cmd: list[str],
    env: Mapping[str, str],
    log_dir: Path,
    cwd: Path | None = None,
    preexec_user: str | None = None,
) -> Proc:
    """Start ``cmd`` in a new session (its own process group), output to a log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    if preexec_user:
        cmd = ["runuser", "-u", preexec_user, "--", *cmd]
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            cmd,
            env=dict(env),
            cwd=str(cwd or REPO),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Proc(name, popen, log_path)


def wait_until(check, timeout_s: float, what: str, proc: Proc | None = None) -> None:
    """Poll ``check()`` until true; fail with the process log when it never is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited while waiting for {what}:\n{proc.log_tail()}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.5)
    tail = proc.log_tail() if proc else ""
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}\n{tail}")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as r:
        return 200 <= r.status < 300


def wait_port(host: str, port: int, timeout_s: float, what: str, proc: Proc | None) -> None:
    def check() -> bool:
        with socket.create_connection((host, port), timeout=1):
            return True

    wait_until(check, timeout_s, what, proc)


@dataclass
class PrefectServer:
    """A real ``prefect server start`` on a free loopback port."""

    proc: Proc
    port: int
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Flush what this process still owes the server, then stop it.

        Prefect ships logs and events from background workers; stopping the
        server first leaves them retrying at interpreter exit (a minute of
        "Error logging to API").
        """
        drain_prefect_workers()
        self.proc.stop()

    @contextlib.contextmanager
    def client_settings(self) -> Iterator[None]:
        """Point this process's Prefect client at the server, with a private home.

        Prefect's log and event workers are process-wide singletons bound to
        the API they were created for: they are drained on the way in and out,
        otherwise events (which record task runs) would go to a server used
        earlier in this process.
        """
        from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

        drain_prefect_workers()
        try:
            with temporary_settings({PREFECT_API_URL: self.api_url, PREFECT_HOME: str(self.home)}):
                yield
                drain_prefect_workers()
        finally:
            drain_prefect_workers()

    def client_env(self, **extra: str) -> dict[str, str]:
        """Environment for processes that talk to this server."""
        return offline_env(self.home, PREFECT_API_URL=self.api_url, **extra)


def start_prefect_server(
    workdir: Path, *, database_url: str | None = None, timeout_s: float = 120.0
) -> PrefectServer:
    """Start a Prefect server with a private home (and SQLite unless ``database_url``)."""
    port = free_port()
    home = workdir / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    extra = {
        # the UI asks this URL for the API; it defaults to port 4200 otherwise
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }
    if database_url:
        extra["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    env = offline_env(home, **extra)
    cmd = [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
    proc = start("prefect-server", cmd, env, workdir / "logs", cwd=workdir)
    server = PrefectServer(proc, port, home, extra)
    try:
        wait_until(lambda: http_ok(f"{server.api_url}/health"), timeout_s, "Prefect API", proc)
    except BaseException:
        proc.stop()
        raise
    return server


def drain_prefect_workers(timeout_s: float = 10.0) -> None:
    """Send queued Prefect logs and events now (no-op when Prefect is not imported)."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=timeout_s)


_SHARED: dict[str, object] = {}


@contextlib.contextmanager
def shared_prefect_server() -> Iterator[PrefectServer]:
    """One server per pytest process, stopped when the last user releases it."""
    if "server" not in _SHARED:
        workdir = Path(tempfile.mkdtemp(prefix="stswatch-e2e-prefect-"))
        _SHARED["server"] = start_prefect_server(workdir)
        _SHARED["workdir"] = workdir
        _SHARED["users"] = 0
    _SHARED["users"] = int(_SHARED["users"]) + 1  # type: ignore[call-overload]
    server = _SHARED["server"]
    assert isinstance(server, PrefectServer)
    try:
        yield server
    finally:
        _SHARED["users"] = int(_SHARED["users"]) - 1  # type: ignore[call-overload]
        if _SHARED["users"] == 0:
            server.stop()
            shutil.rmtree(str(_SHARED["workdir"]), ignore_errors=True)
            _SHARED.clear()


def run_python(code: str, env: Mapping[str, str], timeout_s: float = 300.0) -> str:
    """Run a Python snippet in a child process (own group), return its output or fail."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(env),
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        start_new_session=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout
