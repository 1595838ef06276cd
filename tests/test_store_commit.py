"""Whole commits: a day's tables change together, whatever moment a writer dies at."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from stswatch.pipeline.schemas import (
    POSITION_SCHEMA,
    QUARANTINE_SCHEMA,
    TIMESTAMP_TYPE,
    VESSEL_SCHEMA,
)
from stswatch.pipeline.storage import Store
from stswatch.pipeline.store_commit import FAULT_ENV, pending_journals
from stswatch.pipeline.verify import check_store

DAY = date(2022, 1, 3)
TABLES = ("positions", "vessels", "quarantine")


def version_tables(version: int, n_rows: int = 5) -> dict[str, pa.Table]:
    """Three tables of one day whose mmsi values say which version wrote them."""
    mmsi = pa.array(np.arange(n_rows) + version * 1_000_000, pa.int64())
    start = int(datetime(2022, 1, 3, tzinfo=UTC).timestamp() * 1000)
    ts = pa.array(start + np.arange(n_rows) * 100, pa.int64()).cast(TIMESTAMP_TYPE)
    return {
        "positions": _full(POSITION_SCHEMA, mmsi, ts),
        "vessels": _full(VESSEL_SCHEMA, mmsi, ts),
        "quarantine": _full(QUARANTINE_SCHEMA, mmsi, ts),
    }


def _full(schema: pa.Schema, mmsi: pa.Array, ts: pa.Array) -> pa.Table:
    n = len(mmsi)
    given = {
        "mmsi": mmsi,
        "timestamp": ts,
        "lat": pa.array(np.full(n, 1.0)),
        "lon": pa.array(np.full(n, 2.0)),
        "reason": pa.array(["parse_error"] * n),
        "source_file": pa.array(["x.csv"] * n),
        "row_number": mmsi,
    }
    columns = [given.get(f.name, pa.nulls(n, f.type)).cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import date
    sys.path.insert(0, {tests!r})
    from test_store_commit import version_tables
    from stswatch.pipeline import store_format
    from stswatch.pipeline.storage import Store

    store_format.ROW_GROUP_ROWS = 1_000  # several row groups from few rows: a kill mid-file
    tables = version_tables({version}, n_rows={n_rows})
    with Store({root!r}).transaction() as txn:
        for name, table in tables.items():
            txn.write(name, date(2022, 1, 3), table)
    """
)


def run_writer(root: Path, version: int, kill_at: int | None, n_rows: int = 5):
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if kill_at is not None:
        env[FAULT_ENV] = str(kill_at)
    code = WRITER.format(
        tests=str(Path(__file__).parent), version=version, root=str(root), n_rows=n_rows
    )
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False)


def write_version(root: Path, version: int, n_rows: int = 5) -> None:
    with Store(root).transaction() as txn:
        for name, table in version_tables(version, n_rows).items():
            txn.write(name, DAY, table)


def versions_seen(store: Store) -> set[int]:
    with store.snapshot():
        return {store.read_day(t, DAY)["mmsi"][0].as_py() // 1_000_000 for t in TABLES}


def test_a_day_commits_whole_at_every_kill_point(tmp_path: Path) -> None:
    """kill -9 at each step of a three-table commit: every table old, or every table new."""
    outcomes = []
    for kill_at in range(1, 60):
        root = tmp_path / f"k{kill_at}"
        write_version(root, 1, n_rows=3_000)
        proc = run_writer(root, version=2, kill_at=kill_at, n_rows=3_000)
        store = Store(root)
        # what an outside reader (no lock) sees right after the kill: never a
        # partial file or a duplicate, whatever the step
        for table in TABLES:
            assert ds.dataset(root / table, partitioning="hive").count_rows() == 3_000
        seen = versions_seen(store)  # a stswatch reader finishes a decided commit first
        assert len(seen) == 1, f"kill at step {kill_at}: tables of versions {seen}"
        assert not pending_journals(root)
        assert check_store(store).clean, check_store(store).summary()
        outcomes.append(seen.pop())
        # the next writer removes what the killed one left behind
        write_version(root, 3)
        assert versions_seen(store) == {3}
        leftovers = [p for p in root.rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == []
        assert not (root / "_stswatch" / "writers").exists() or not any(
            (root / "_stswatch" / "writers").iterdir()
        )
        if proc.returncode == 0:
            print(f"{kill_at - 1} kill points")
            break
        assert proc.returncode == -9, proc.stderr.decode()
    else:
        pytest.fail("the writer never got past its last kill point")
    # both outcomes happened: kills before the journal keep the old day, after it the new
    assert outcomes[0] == 1 and outcomes[-1] == 2
    assert len(outcomes) >= 8  # 3 tables + mid-file + 2 manifests/registry + journal + renames


def test_failure_before_commit_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    write_version(tmp_path, 1)
    before = {t: store.path(t, DAY).read_bytes() for t in TABLES}
    tables = version_tables(2)
    with pytest.raises(RuntimeError, match="simulated"), store.transaction() as txn:
        txn.write("positions", DAY, tables["positions"])
        txn.write("vessels", DAY, tables["vessels"])
        raise RuntimeError("simulated failure between two tables")
    assert {t: store.path(t, DAY).read_bytes() for t in TABLES} == before
    assert [p for p in tmp_path.rglob("*.tmp")] == []


def test_manifest_records_each_committed_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    write_version(tmp_path, 1)
    manifest = store.manifest(DAY)
    assert manifest is not None
    assert sorted(manifest.tables) == sorted(TABLES)
    from blake3 import blake3

    for table in TABLES:
        data = store.path(table, DAY).read_bytes()
        assert manifest.tables[table].bytes == len(data)
        assert manifest.tables[table].blake3 == blake3(data).hexdigest()
        assert manifest.tables[table].rows == 5


LOOPING_WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_store_commit import write_version
    for version in range(2, {last} + 1):
        write_version({root!r}, version, n_rows=2_000)
    """
)


def test_a_reader_never_sees_two_versions_of_a_day(tmp_path: Path) -> None:
    """Reads under a snapshot while another process commits new versions of the day."""
    write_version(tmp_path, 1, n_rows=2_000)
    code = LOOPING_WRITER.format(tests=str(Path(__file__).parent), root=str(tmp_path), last=40)
    writer = subprocess.Popen([sys.executable, "-c", code])
    store = Store(tmp_path)
    seen: set[int] = set()
    try:
        while writer.poll() is None:
            versions = versions_seen(store)
            assert len(versions) == 1, f"a read mixed versions {versions}"
            seen |= versions
    finally:
        writer.wait(timeout=300)
    assert writer.returncode == 0
    assert versions_seen(store) == {40}
    assert len(seen) > 1  # the reads did overlap the commits
