"""The store through the real command line: two writers, kill -9, a flipped byte, verify."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from helpers_ingest import MC_HEADER, mc_row

from stswatch.pipeline import store_format
from stswatch.pipeline.cli import main
from stswatch.pipeline.storage import Store
from stswatch.pipeline.store_commit import FAULT_ENV

DAYS = (date(2022, 1, 3), date(2022, 1, 4))
TABLES = ("positions", "vessels", "quarantine")


def day_file(path: Path, first_mmsi: int, n_vessels: int, pings: int = 20) -> Path:
    """A MarineCadastre file over two UTC days: positions, static data, a few bad rows."""
    lines = [MC_HEADER]
    for v in range(n_vessels):
        mmsi = first_mmsi + v
        for p in range(pings):
            day = 3 + p % 2
            lines.append(
                mc_row(
                    mmsi=mmsi,
                    time=f"2022-01-0{day}T{10 + p // 120:02d}:{p // 2 % 60:02d}:{v % 60:02d}",
                    lat=10.0 + v * 0.01,
                    lon=20.0 + p * 0.001,
                    name=f"SHIP {mmsi}",
                    draft=str(5.0 + p // 10),
                )
            )
        lines.append(mc_row(mmsi=123, time=f"2022-01-03T09:{v % 60:02d}:00"))  # invalid MMSI
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stswatch", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def data_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for t in TABLES
        for p in sorted((root / t).glob("date=*/part-0.parquet"))
    }


# ------------------------------------------------------------- two writers
def test_two_ingest_processes_into_one_day_keep_both_files(tmp_path: Path) -> None:
    a = day_file(tmp_path / "a.csv", 366_000_000, 1_500)  # 30k rows each
    b = day_file(tmp_path / "b.csv", 367_000_000, 1_500)
    store = tmp_path / "store"
    first = subprocess.Popen(
        [sys.executable, "-m", "stswatch", "ingest", str(a), "--store", str(store)],
        stderr=subprocess.PIPE,
        text=True,
    )
    import time

    time.sleep(0.1)
    second = cli("ingest", str(b), "--store", str(store))
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second.stderr
    s = Store(store)
    for day in DAYS:
        mmsi = set(s.read_day("positions", day)["mmsi"].to_pylist())
        assert {m // 1_000_000 for m in mmsi} == {366, 367}
        assert len(mmsi) == 3_000
    assert s.read("positions", DAYS[0], DAYS[1]).num_rows == 60_000
    assert main(["verify", "--store", str(store)]) == 0


def test_second_writer_gives_up_after_the_timeout_in_one_line(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from stswatch.pipeline.store_lock import store_lock
                with store_lock({str(tmp_path / "store")!r}, purpose="stswatch ingest"):
                    print("held", flush=True)
                    time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        a = day_file(tmp_path / "a.csv", 366_000_000, 10)
        proc = cli("ingest", str(a), "--store", str(tmp_path / "store"), "--lock-timeout-s", "0.5")
        env = cli(
            "ingest",
            str(a),
            "--store",
            str(tmp_path / "store"),
            env={"STSWATCH_LOCK_TIMEOUT_S": "0"},
        )
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2 and env.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("stswatch: waiting for the write lock")
    assert lines[-1].startswith("stswatch: error: the store") and "gave up after 0.5 s" in lines[-1]
    assert f"pid {holder.pid} (stswatch ingest)" in lines[-1]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "store" / "positions").exists()


# ------------------------------------------------------------- kill -9
KILLED_INGEST = textwrap.dedent(
    """
    import sys
    from stswatch.pipeline import store_format
    from stswatch.pipeline.cli import main
    store_format.ROW_GROUP_ROWS = 500  # several row groups: a kill inside a file too
    sys.exit(main(["ingest", sys.argv[1], "--store", sys.argv[2]]))
    """
)


@pytest.fixture(scope="module")
def kill_setup(tmp_path_factory) -> dict:
    """Inputs, and the store before and after the second ingest (data files)."""
    tmp = tmp_path_factory.mktemp("kill")
    a = day_file(tmp / "a.csv", 366_000_000, 100, pings=30)
    b = day_file(tmp / "b.csv", 367_000_000, 100, pings=30)
    old = tmp / "old"
    new = tmp / "new"
    with mock.patch.object(store_format, "ROW_GROUP_ROWS", 500):  # as the killed writer
        assert main(["ingest", str(a), "--store", str(old)]) == 0
        shutil.copytree(old, new)
        assert main(["ingest", str(b), "--store", str(new)]) == 0
    return {"b": b, "old": old, "old_files": data_files(old), "new_files": data_files(new)}


def _killed_ingest(setup: dict, work: Path, kill_at: int) -> int:
    shutil.copytree(setup["old"], work)
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_INGEST, str(setup["b"]), str(work)],
        env={**os.environ, FAULT_ENV: str(kill_at)},
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode


#: Every kill point of this ingest: six files staged, a row group inside a
#: file, two manifests and the registry staged, the journal written and
#: decided, eleven renames, the journal removed.
KILL_POINTS = 23


@pytest.mark.parametrize("kill_at", range(1, KILL_POINTS + 2))
def test_ingest_killed_at_any_step_leaves_every_day_whole(
    kill_setup: dict, tmp_path: Path, kill_at: int
) -> None:
    work = tmp_path / "work"
    code = _killed_ingest(kill_setup, work, kill_at)
    if kill_at > KILL_POINTS:  # asked to die after its last step: the ingest completes
        assert code == 0, "the ingest has more kill points than KILL_POINTS: update it"
        assert data_files(work) == kill_setup["new_files"]
        return
    assert code == -9, f"the ingest ended before kill point {kill_at} (update KILL_POINTS)"
    Store(work).read_day("positions", DAYS[0])  # any stswatch reader finishes a decided commit
    files = data_files(work)
    old, new = kill_setup["old_files"], kill_setup["new_files"]
    versions = {"old" if files.get(k) == old.get(k) else "new" if files.get(k) == new.get(k)
                else f"neither: {k}" for k in set(old) | set(new)}  # fmt: skip
    assert len(versions) == 1, f"kill at step {kill_at}: the store mixes {versions}"
    assert main(["verify", "--store", str(work)]) == 0
    # the next writer cleans up and succeeds
    with mock.patch.object(store_format, "ROW_GROUP_ROWS", 500):
        assert main(["ingest", str(kill_setup["b"]), "--store", str(work)]) == 0
    assert data_files(work) == new
    assert not [p for p in work.rglob("*.tmp")]


# ------------------------------------------------------------- damage
@pytest.fixture
def damaged(tmp_path: Path) -> dict:
    a = day_file(tmp_path / "a.csv", 366_000_000, 200)
    store = tmp_path / "store"
    assert main(["ingest", str(a), "--store", str(store)]) == 0
    good = data_files(store)
    path = Store(store).path("positions", DAYS[0])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04  # one bit, inside a data page
    path.write_bytes(data)
    return {"a": a, "store": store, "good": good, "path": path, "tmp": tmp_path}


def test_flipped_bit_stops_ingest_and_detect_before_they_write(damaged: dict, capsys) -> None:
    store, tmp = damaged["store"], damaged["tmp"]
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    b = day_file(tmp / "b.csv", 367_000_000, 10)
    assert main(["ingest", str(b), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "damaged store file" in err and "positions/date=2022-01-03/part-0.parquet" in err
    assert err.count("\n") == 1
    out = tmp / "out.geojson"
    assert main(["detect", "--store", str(store), "--start", "2022-01-03", "--out", str(out)]) == 2
    assert "positions/date=2022-01-03/part-0.parquet" in capsys.readouterr().err
    assert not out.exists()
    after = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    assert after == before  # not one file written (vessels included)


def test_verify_finds_the_flipped_bit_and_repair_rederives_the_day(damaged: dict, capsys) -> None:
    store = damaged["store"]
    assert main(["verify", "--store", str(store)]) == 1
    out = capsys.readouterr().out
    assert "positions/date=2022-01-03/part-0.parquet" in out and "PROBLEMS FOUND" in out
    assert main(["verify", "--store", str(store), "--repair"]) == 0
    out = capsys.readouterr().out
    assert "re-derived" in out and "byte-identical to the committed files" in out
    assert data_files(store) == damaged["good"]
    assert main(["verify", "--store", str(store)]) == 0


def test_repair_says_when_the_input_is_gone(damaged: dict, capsys) -> None:
    damaged["a"].unlink()
    assert main(["verify", "--store", str(damaged["store"]), "--repair"]) == 1
    out = capsys.readouterr().out
    assert "not repaired: 2022-01-03: input" in out and "is no longer at" in out
    assert "positions/date=2022-01-03/part-0.parquet" in out
