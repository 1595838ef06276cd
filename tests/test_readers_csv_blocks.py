"""Block-parallel CSV engine: tiny blocks must give the same records, numbers and
quarantine rows as one big block (block boundaries are invisible in the output)."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest
from helpers_ingest import MC_HEADER, mc_row

from stswatch.pipeline.readers import ReaderError, csv_reader, read_any
from stswatch.pipeline.readers.csv_blocks import LineBlocks, ordered_map, record_numbers

#: ~2-3 MarineCadastre rows per block.
TINY = 256


def times(n: int) -> list[str]:
    return [f"2022-01-03T10:{i // 60:02d}:{i % 60:02d}" for i in range(n)]


def rows(n: int) -> list[str]:
    return [mc_row(time=t) for t in times(n)]


def write(path: Path, lines: list[str], *, newline: str = "\n", final: bool = True) -> Path:
    text = newline.join([MC_HEADER, *lines]) + (newline if final else "")
    path.write_bytes(text.encode())
    return path


def read_all(path: Path) -> tuple[pa.Table, pa.Table]:
    batches = list(read_any(path))
    obs = pa.concat_tables([b.observations for b in batches])
    rej = pa.concat_tables([b.rejects for b in batches])
    return obs.sort_by("row_number"), rej.sort_by("row_number")


def read_blocks(path: Path, block_size: int, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as m:
        m.setattr(csv_reader, "BLOCK_SIZE_BYTES", block_size)
        return read_all(path)


def quarantine(rej: pa.Table) -> list[tuple]:
    return list(
        zip(
            rej["row_number"].to_pylist(),
            rej["reason"].to_pylist(),
            rej["detail"].to_pylist(),
            rej["raw"].to_pylist(),
            strict=True,
        )
    )


def test_tiny_blocks_really_split_the_file(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path / "a.csv", rows(40))
    with monkeypatch.context() as m:
        m.setattr(csv_reader, "BLOCK_SIZE_BYTES", TINY)
        assert len(list(read_any(path))) >= 10


def test_malformed_line_and_typed_failure_in_later_blocks(tmp_path: Path, monkeypatch) -> None:
    lines = rows(40)
    lines[24] = "367000001,2022-01-03T10:00:00,1.0"  # record 25: short line
    lines[30] = mc_row(time="2022-01-03T11:00:00", lat="abc")  # record 31
    lines[33] = mc_row(time="2022-13-45T99:00:00")  # record 34
    path = write(tmp_path / "a.csv", lines)
    obs, rej = read_blocks(path, TINY, monkeypatch)
    assert quarantine(rej) == [
        (25, "parse_error", "expected 17 columns, got 3", "367000001,2022-01-03T10:00:00,1.0"),
        (31, "parse_error", "LAT='abc'", lines[30].replace(",,A", ",A")),
        (
            34,
            "invalid_timestamp",
            "BaseDateTime='2022-13-45T99:00:00'",
            lines[33].replace(",,A", ",A"),
        ),
    ]
    assert obs["row_number"].to_pylist() == [r for r in range(1, 41) if r not in (25, 31, 34)]
    # clean blocks after the failing ones are still typed and numbered in order
    assert obs["timestamp"][-1].as_py().isoformat() == "2022-01-03T10:00:39+00:00"
    big_obs, big_rej = read_blocks(path, 1 << 20, monkeypatch)
    assert obs.equals(big_obs)
    assert rej.equals(big_rej)


def test_blank_lines_are_not_records_across_block_boundaries(tmp_path: Path, monkeypatch) -> None:
    lines = rows(30)
    for at in (25, 17, 9, 9, 3):  # insert from the end: earlier positions stay put
        lines.insert(at, "")
    lines.insert(20, "367000002,2022-01-03T10:00:00")  # malformed line after blanks
    path = write(tmp_path / "a.csv", [*lines, "", ""])
    obs, rej = read_blocks(path, TINY, monkeypatch)
    records = [line for line in lines if line]
    bad = records.index("367000002,2022-01-03T10:00:00") + 1
    assert quarantine(rej) == [
        (bad, "parse_error", "expected 17 columns, got 2", "367000002,2022-01-03T10:00:00")
    ]
    assert obs["row_number"].to_pylist() == [r for r in range(1, 32) if r != bad]
    # the n-th good record keeps its own time: numbers follow the records
    assert [t.isoformat()[11:19] for t in obs["timestamp"].to_pylist()][:4] == [
        "10:00:00",
        "10:00:01",
        "10:00:02",
        "10:00:03",
    ]
    big_obs, big_rej = read_blocks(path, 1 << 20, monkeypatch)
    assert obs.equals(big_obs)
    assert rej.equals(big_rej)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final", [True, False])
def test_line_ends_and_missing_final_newline(
    tmp_path: Path, monkeypatch, newline: str, final: bool
) -> None:
    lines = rows(25)
    lines[-1] = "367000003,2022-01-03T10:00:00,1.0"  # malformed last line
    path = write(tmp_path / "a.csv", lines, newline=newline, final=final)
    for size in (TINY, 97, 1 << 20):  # 97: cuts fall between \r and \n too
        obs, rej = read_blocks(path, size, monkeypatch)
        assert obs["row_number"].to_pylist() == list(range(1, 25)), size
        assert quarantine(rej) == [
            (25, "parse_error", "expected 17 columns, got 3", "367000003,2022-01-03T10:00:00,1.0")
        ], size
        assert obs["vessel_name"].to_pylist() == ["TEST SHIP"] * 24  # no stray \r


def test_gzip_and_zip_inputs_in_tiny_blocks(tmp_path: Path, monkeypatch) -> None:
    lines = rows(30)
    lines[20] = mc_row(time="2022-01-03T11:00:00", sog="fast")
    text = "\n".join([MC_HEADER, *lines]) + "\n"
    plain = tmp_path / "a.csv"
    plain.write_text(text)
    gz = tmp_path / "a.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    zp = tmp_path / "a.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("AIS_2022_01_03.csv", text)
    want_obs, want_rej = read_blocks(plain, 1 << 20, monkeypatch)
    assert want_rej["row_number"].to_pylist() == [21]
    for path in (gz, zp):
        obs, rej = read_blocks(path, TINY, monkeypatch)
        assert obs.drop_columns(["source_file"]).equals(want_obs.drop_columns(["source_file"]))
        assert rej.drop_columns(["source_file"]).equals(want_rej.drop_columns(["source_file"]))


def test_zip_members_are_numbered_separately_in_tiny_blocks(tmp_path: Path, monkeypatch) -> None:
    zp = tmp_path / "month.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("AIS_2022_01_03.csv", "\n".join([MC_HEADER, *rows(12)]) + "\n")
        zf.writestr("AIS_2022_01_04.csv", "\n".join([MC_HEADER, *rows(9)]))
    obs, _ = read_blocks(zp, TINY, monkeypatch)
    by_file: dict[str, list[int]] = {}
    for f, r in zip(obs["source_file"].to_pylist(), obs["row_number"].to_pylist(), strict=True):
        by_file.setdefault(f.rsplit("!", 1)[1], []).append(r)
    assert {k: sorted(v) for k, v in by_file.items()} == {
        "AIS_2022_01_03.csv": list(range(1, 13)),
        "AIS_2022_01_04.csv": list(range(1, 10)),
    }


@pytest.mark.parametrize("size", [1, 64, 150, 333, 1000, 4096])
def test_any_block_size_equals_a_single_block(tmp_path: Path, monkeypatch, size: int) -> None:
    lines = rows(50)
    lines[0] = mc_row(time="2022-01-03T10:00:00") + ",extra"
    lines[7] = "   "  # whitespace is a record (malformed), unlike an empty line
    lines[12] = mc_row(time="not a time")
    lines[13] = ""
    lines[40] = mc_row(time="2022-01-03T10:00:40", mmsi="x")  # type: ignore[arg-type]
    path = write(tmp_path / "a.csv", lines, final=False)
    obs, rej = read_blocks(path, size, monkeypatch)
    big_obs, big_rej = read_blocks(path, 1 << 20, monkeypatch)
    assert obs.equals(big_obs)
    assert rej.equals(big_rej)
    assert obs.num_rows + rej.num_rows == 49  # the empty line is not a record


def test_header_only_file_reads_nothing(tmp_path: Path, monkeypatch) -> None:
    for text in (MC_HEADER, MC_HEADER + "\n", MC_HEADER + "\r\n\r\n"):
        (tmp_path / "h.csv").write_text(text)
        assert sum(b.n_records for b in read_any(tmp_path / "h.csv")) == 0


# ------------------------------------------------------------ engine internals
def blocks_of(data: bytes, size: int) -> tuple[bytes | None, list[bytes]]:
    lb = LineBlocks(io.BytesIO(data), size)
    return lb.header, [b.to_pybytes() for b in lb]


def test_line_blocks_cut_after_line_ends_and_skip_the_header() -> None:
    data = b"\xef\xbb\xbf\r\n\na,b\r\n1,2\r\n3,4\n5,6\r7,8"
    header, blocks = blocks_of(data, 4)
    assert header == b"a,b"
    assert b"".join(blocks) == b"\r\n1,2\r\n3,4\n5,6\r7,8"
    assert all(b[-1:] in (b"\n", b"\r") for b in blocks[:-1])
    assert blocks_of(b"a,b", 4) == (b"a,b", [])
    assert blocks_of(b"", 4) == (None, [])
    # a line longer than the block is kept whole
    assert blocks_of(b"h\n" + b"x" * 50 + b"\ny\n", 8) == (b"h", [b"\n", b"x" * 50 + b"\ny\n"])


def test_record_numbers_skip_malformed_lines() -> None:
    class Row:
        def __init__(self, number: int | None) -> None:
            self.number = number

    nums, total = record_numbers(4, [Row(1), Row(4), Row(None)])  # type: ignore[list-item]
    assert (nums.tolist(), total) == ([2, 3, 5, 6], 6)
    nums, total = record_numbers(3, [])
    assert (nums.tolist(), total) == ([1, 2, 3], 3)


def test_ordered_map_keeps_order_and_stops_early() -> None:
    import time

    def slow_first(i: int) -> int:
        time.sleep(0.02 if i % 3 == 0 else 0)
        return i * i

    assert list(ordered_map(slow_first, range(20), workers=2, in_flight=4)) == [
        i * i for i in range(20)
    ]
    pulled: list[int] = []

    def source():
        for i in range(1000):
            pulled.append(i)
            yield i

    it = ordered_map(slow_first, source(), workers=2, in_flight=3)
    assert [next(it) for _ in range(5)] == [0, 1, 4, 9, 16]
    it.close()
    assert len(pulled) <= 8  # bounded read-ahead


def test_unreadable_later_block_raises_reader_error_naming_the_file(
    tmp_path: Path, monkeypatch
) -> None:
    """Bytes no mode can read (invalid UTF-8 in a text column) fail with the file's name."""
    path = tmp_path / "a.csv"
    lines = rows(30)
    lines[25] = mc_row(time="2022-01-03T11:00:00", name="BAD\xff")
    path.write_bytes(("\n".join([MC_HEADER, *lines]) + "\n").encode().replace(b"\xc3\xbf", b"\xff"))
    got = 0
    with monkeypatch.context() as m:
        m.setattr(csv_reader, "BLOCK_SIZE_BYTES", TINY)
        with pytest.raises(ReaderError, match=r"a\.csv: not a readable marinecadastre CSV"):
            for batch in read_any(path):
                got += batch.n_records
    assert 0 < got < 26  # the blocks before the bad one were handed out first


def test_recycled_blocks_are_reused_and_keep_the_content() -> None:
    """Blocks handed back after use are refilled (no fresh memory per block)."""
    lines = b"".join(b"%d,%d\n" % (i, i * i) for i in range(2000))
    lb = LineBlocks(io.BytesIO(b"a,b\n" + lines), 256)
    seen: list[bytes] = []
    addresses = set()
    for block in lb:
        seen.append(block.to_pybytes())
        addresses.add(block.address)
        lb.recycle(block)
    assert b"".join(seen) == b"\n" + lines  # the header's line end opens the data
    assert len(seen) > 50 and len(addresses) <= 2
    # without recycling every block has its own memory
    lb = LineBlocks(io.BytesIO(b"a,b\n" + lines), 256)
    kept = list(lb)
    assert len({b.address for b in kept}) == len(kept)
    assert b"".join(b.to_pybytes() for b in kept) == b"".join(seen)
