"""The Parquet store: layout, atomic day writes, determinism, third-party readers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from stswatch.pipeline.schemas import POSITION_SCHEMA
from stswatch.pipeline.storage import Store

DAY = date(2022, 1, 3)


def positions(mmsis: list[int], minutes: list[int] | None = None) -> pa.Table:
    minutes = minutes or list(range(len(mmsis)))
    n = len(mmsis)
    return pa.Table.from_pylist(
        [
            {
                "mmsi": m,
                "timestamp": datetime(2022, 1, 3, 10, t, tzinfo=UTC),
                "lat": 10.0 + i,
                "lon": 20.0,
                "sog_kn": 1.0,
                "source": "simulated",
            }
            for i, (m, t) in enumerate(zip(mmsis, minutes, strict=True))
        ][:n],
        schema=POSITION_SCHEMA,
    )


def test_layout_is_hive_partitioned_zstd_and_sorted(tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = store.write_day("positions", DAY, positions([300000003, 300000001, 300000002]))
    assert path == tmp_path / "positions" / "date=2022-01-03" / "part-0.parquet"
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert store.read("positions", DAY)["mmsi"].to_pylist() == [300000001, 300000002, 300000003]
    assert store.days("positions") == [DAY]


def test_write_replaces_the_day(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_day("positions", DAY, positions([1, 2, 3]))
    store.write_day("positions", DAY, positions([7]))
    assert store.read("positions", DAY)["mmsi"].to_pylist() == [7]


def test_failure_during_write_leaves_previous_version_intact(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_day("positions", DAY, positions([1, 2, 3]))
    before = store.path("positions", DAY).read_bytes()

    def failing_batches():
        yield from positions([4, 5]).to_batches()
        raise OSError("disk full (simulated)")

    with pytest.raises(OSError, match="disk full"):
        store.write_day("positions", DAY, failing_batches(), presorted=True)
    assert store.path("positions", DAY).read_bytes() == before
    assert list(store.partition_dir("positions", DAY).iterdir()) == [store.path("positions", DAY)]


def test_crash_mid_write_leaves_previous_version_readable(tmp_path: Path) -> None:
    """A process killed mid-write (no cleanup runs) leaves only a hidden temp file."""
    store = Store(tmp_path)
    store.write_day("positions", DAY, positions([1, 2, 3]))
    before = store.path("positions", DAY).read_bytes()
    child = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from datetime import date
        from test_storage_store import positions
        from stswatch.pipeline.storage import Store

        def batches():
            yield from positions([4, 5]).to_batches()
            os._exit(9)  # killed: no exception handler, no finally

        Store({str(tmp_path)!r}).write_day("positions", date(2022, 1, 3), batches(), presorted=True)
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], check=False)
    assert proc.returncode == 9
    assert store.path("positions", DAY).read_bytes() == before
    leftovers = [p.name for p in store.partition_dir("positions", DAY).iterdir()]
    assert any(name.startswith(".") for name in leftovers)  # the abandoned temp file
    # Readers ignore it, and the next write removes it.
    assert ds.dataset(tmp_path / "positions", partitioning="hive").count_rows() == 3
    store.write_day("positions", DAY, positions([9]))
    assert [p.name for p in store.partition_dir("positions", DAY).iterdir()] == ["part-0.parquet"]


def test_writes_are_byte_deterministic(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    a.write_day("positions", DAY, positions([3, 1, 2]))
    b.write_day("positions", DAY, positions([3, 1, 2]))
    assert a.path("positions", DAY).read_bytes() == b.path("positions", DAY).read_bytes()


def test_batch_size_does_not_change_bytes(tmp_path: Path) -> None:
    table = positions(list(range(1, 50)))
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    a.write_day("positions", DAY, table.to_batches(max_chunksize=7), presorted=True)
    b.write_day("positions", DAY, table, presorted=True)
    assert a.path("positions", DAY).read_bytes() == b.path("positions", DAY).read_bytes()


def test_read_range_columns_and_filter(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_day("positions", date(2022, 1, 3), positions([1, 2]))
    store.write_day("positions", date(2022, 1, 5), positions([3]))
    got = store.read("positions", date(2022, 1, 1), date(2022, 1, 4), columns=["mmsi"])
    assert got.column_names == ["mmsi"]
    assert got["mmsi"].to_pylist() == [1, 2]
    assert store.read("positions", date(2022, 1, 3), date(2022, 1, 5)).num_rows == 3
    filtered = store.read("positions", DAY, filter=pc.field("mmsi") == 2)
    assert filtered["mmsi"].to_pylist() == [2]
    empty = store.read("positions", date(2030, 1, 1))
    assert empty.num_rows == 0 and empty.schema == POSITION_SCHEMA


def test_readable_by_pyarrow_dataset_pandas_and_duckdb(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_day("positions", date(2022, 1, 3), positions([1, 2]))
    store.write_day("positions", date(2022, 1, 4), positions([3]))
    assert store.dataset("positions").count_rows() == 3
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "positions")) == 3
    duckdb = pytest.importorskip("duckdb")
    glob = f"{tmp_path}/positions/*/*.parquet"
    n, days = duckdb.sql(
        f"SELECT count(*), count(DISTINCT date) FROM read_parquet('{glob}', hive_partitioning=true)"
    ).fetchall()[0]
    assert (n, days) == (3, 2)


def test_unknown_table_is_a_clear_error(tmp_path: Path) -> None:
    from stswatch.pipeline.storage import StoreError

    with pytest.raises(StoreError, match="unknown store table"):
        Store(tmp_path).read("tracks", DAY)
