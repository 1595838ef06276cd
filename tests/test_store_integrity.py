"""Damaged store files are found, named and never read as data; ``stswatch verify`` lists them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from blake3 import blake3
from test_store_commit import DAY, version_tables, write_version

from stswatch.pipeline.cli import main
from stswatch.pipeline.storage import Store
from stswatch.pipeline.store_format import DamagedPartitionError, read_table_file
from stswatch.pipeline.verify import check_store


def positions_with_varied_values(n_rows: int) -> pa.Table:
    table = version_tables(1, n_rows)["positions"]
    rng = np.random.default_rng(1)
    return table.set_column(2, "lat", pa.array(rng.uniform(-50, 50, n_rows)))


def test_no_single_flipped_byte_is_read_as_data(tmp_path: Path) -> None:
    """Flip a byte of a positions file (every third, all regions): the read fails or gives the
    same rows. Run with STEP=1 by hand for every byte (0 silent alterations of 5,857)."""
    store = Store(tmp_path)
    store.write_day("positions", DAY, positions_with_varied_values(400))
    path = store.path("positions", DAY)
    data = path.read_bytes()
    good = read_table_file(path, "positions", expected_rows=400)
    altered = []
    detected = 0
    offsets = range(0, len(data), 3)
    for offset in offsets:
        damaged = bytearray(data)
        damaged[offset] ^= 0x10
        path.write_bytes(damaged)
        try:
            got = read_table_file(path, "positions", expected_rows=400)
        except DamagedPartitionError as exc:
            assert str(path) in str(exc)
            detected += 1
            continue
        if not got.equals(good):
            altered.append(offset)
    assert altered == [], f"bytes {altered[:10]} changed the rows without an error"
    assert detected > 0.8 * len(offsets)


def test_flipped_byte_stops_a_writer_before_it_writes(tmp_path: Path) -> None:
    store = Store(tmp_path)
    write_version(tmp_path, 1, n_rows=2_000)
    path = store.path("positions", DAY)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 3] ^= 0x01
    path.write_bytes(damaged)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with (
        pytest.raises(DamagedPartitionError, match="positions/date=2022-01-03"),
        store.transaction() as txn,
    ):
        txn.write("vessels", DAY, version_tables(2)["vessels"])  # staged first...
        store.read_day("positions", DAY)  # ...then the merge finds the damage
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # vessels untouched, no temporary file left


@pytest.mark.parametrize("damage", ["truncated", "foreign schema", "swapped day", "empty"])
def test_damaged_file_is_named_by_read_and_verify(tmp_path: Path, damage: str) -> None:
    store = Store(tmp_path)
    write_version(tmp_path, 1, n_rows=2_000)
    path = store.path("positions", DAY)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "foreign schema":
        pq.write_table(pa.table({"mmsi": [1, 2], "speed": [1.0, 2.0]}), path)
    elif damage == "swapped day":  # a valid positions file, but not the one committed
        other = Store(tmp_path / "other")
        other.write_day("positions", DAY, positions_with_varied_values(2_000))
        path.write_bytes(other.path("positions", DAY).read_bytes())
    else:
        path.write_bytes(b"")
    with pytest.raises(DamagedPartitionError) as err:
        store.read_day("positions", DAY)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    report = check_store(store)
    assert not report.clean
    assert any(p.path == "positions/date=2022-01-03/part-0.parquet" for p in report.problems)


def test_verify_exit_codes(tmp_path: Path, capsys) -> None:
    write_version(tmp_path / "s", 1, n_rows=500)
    assert main(["verify", "--store", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "result: clean" in out and "3 file(s)" in out
    path = Store(tmp_path / "s").path("quarantine", DAY)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x40
    path.write_bytes(damaged)
    assert main(["verify", "--store", str(tmp_path / "s")]) == 1
    out = capsys.readouterr().out
    assert "quarantine/date=2022-01-03/part-0.parquet" in out and "PROBLEMS FOUND" in out
    assert main(["verify", "--store", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("stswatch: error: no store at")


def test_manifest_hash_matches_b3sum(tmp_path: Path) -> None:
    """The recorded BLAKE3 is the one any tool computes from the file's bytes."""
    write_version(tmp_path, 1)
    store = Store(tmp_path)
    entry = store.manifest(DAY).tables["vessels"]
    assert entry.blake3 == blake3(store.path("vessels", DAY).read_bytes()).hexdigest()
