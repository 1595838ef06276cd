"""One writer at a time: waits are announced, timeouts are one clear error, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from stswatch.pipeline.storage import Store
from stswatch.pipeline.store_lock import StoreBusyError, holds, store_lock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from stswatch.pipeline.store_lock import store_lock
    with store_lock({root!r}, purpose="stswatch ingest (test)"):
        print("held", flush=True)
        time.sleep({seconds})
    """
)


def hold_lock(root: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=str(root), seconds=seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_times_out_with_one_clear_line(tmp_path: Path, capsys) -> None:
    holder = hold_lock(tmp_path, 30)
    try:
        with (
            pytest.raises(StoreBusyError) as err,
            store_lock(tmp_path, timeout_s=0.3, purpose="test"),
        ):
            pytest.fail("got the lock while another process held it")
    finally:
        holder.kill()
        holder.wait()
    message = str(err.value)
    assert "\n" not in message
    assert f"pid {holder.pid}" in message and "stswatch ingest (test)" in message
    assert "--lock-timeout-s" in message
    waiting = capsys.readouterr().err
    assert "waiting for the write lock" in waiting and f"pid {holder.pid}" in waiting


def test_second_writer_waits_then_proceeds(tmp_path: Path, capsys) -> None:
    holder = hold_lock(tmp_path, 1.0)
    start = time.monotonic()
    with store_lock(tmp_path, timeout_s=30):
        waited = time.monotonic() - start
    holder.wait()
    assert 0.3 < waited < 10
    assert "waiting for the write lock" in capsys.readouterr().err


def test_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 60)
    holder.kill()  # SIGKILL: no cleanup code runs
    holder.wait()
    with store_lock(tmp_path, timeout_s=1):
        pass


def test_lock_is_reentrant_in_a_thread_but_excludes_other_threads(tmp_path: Path) -> None:
    got_it = threading.Event()
    with store_lock(tmp_path, timeout_s=1):
        with store_lock(tmp_path, timeout_s=1):  # ingest_files inside stswatch run
            assert holds(tmp_path)

        def other() -> None:
            with store_lock(tmp_path, timeout_s=5, on_wait=None):
                got_it.set()

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)
        assert not got_it.is_set()  # a Prefect task thread waits like another process
    thread.join()
    assert got_it.is_set()
    assert not holds(tmp_path)


MERGER = textwrap.dedent(
    """
    import sys
    from datetime import date
    import pyarrow as pa
    from stswatch.pipeline.storage import Store

    store = Store({root!r}, lock_timeout_s=60)
    for i in range({n}):
        with store.transaction() as txn:  # read-merge-write of one day
            stored = store.read_day("rendezvous", date(2022, 1, 3))
            new = pa.Table.from_pylist(
                [dict(event_id="{tag}-%d" % i, mmsi_a=1, mmsi_b=2,
                      start_time=pa.scalar(0, pa.timestamp("ms", tz="UTC")).as_py(),
                      end_time=pa.scalar(0, pa.timestamp("ms", tz="UTC")).as_py())],
                schema=stored.schema,
            )
            txn.write("rendezvous", date(2022, 1, 3), pa.concat_tables([stored, new]))
    """
)


def test_concurrent_read_merge_write_loses_nothing(tmp_path: Path) -> None:
    """Two processes appending to the same day 30 times each: all 60 rows survive."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MERGER.format(root=str(tmp_path), n=30, tag=tag)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    ids = Store(tmp_path).read_day("rendezvous", date(2022, 1, 3))["event_id"].to_pylist()
    assert sorted(ids) == sorted([f"{t}-{i}" for t in "ab" for i in range(30)])


def test_reading_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "none")
    assert store.read("positions", date(2022, 1, 3)).num_rows == 0
    assert not (tmp_path / "none").exists()
