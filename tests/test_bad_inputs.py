"""Bad input loses nothing and crashes nothing: one test per finding of issue 12.

Each case goes through the real command line (``stswatch.pipeline.cli.main``)
where a user would meet it: the store either takes the rows (quarantining
the bad ones with a reason) or the command says what is wrong in one line
and exits 2, writing nothing.
"""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from helpers_ingest import MC_HEADER, SHIP_A, mc_row, store_digest, write_mc_csv
from pyais.util import compute_checksum

from stswatch.pipeline.cli import main
from stswatch.pipeline.config import Config
from stswatch.pipeline.ingest import IngestError, ingest_files
from stswatch.pipeline.readers import read_any
from stswatch.pipeline.readers.nmea import read_nmea_lines
from stswatch.pipeline.storage import Store

DAY = date(2022, 1, 3)
NOW = datetime(2026, 12, 4, tzinfo=UTC)
SENTENCE = "!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26"


def good_rows(n: int = 20) -> list[str]:
    return [mc_row(time=f"2022-01-03T{10 + m // 60:02d}:{m % 60:02d}:00") for m in range(n)]


def quarantine(store: Path) -> list[dict]:
    s = Store(store)
    return [r for d in s.days("quarantine") for r in s.read_day("quarantine", d).to_pylist()]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("stswatch: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# ----------------------------------------------------------------- times
@pytest.mark.parametrize("year", ["0001", "1900", "1999", "2100", "9999"])
def test_csv_rows_outside_plausible_times_are_quarantined(tmp_path: Path, year: str) -> None:
    path = write_mc_csv(
        tmp_path / "a.csv", [*good_rows(), mc_row(mmsi=351234567, time=f"{year}-06-01T00:00:00")]
    )
    report = ingest_files([path], tmp_path / "store", now=NOW)
    assert report.quarantined_by_reason == {"invalid_timestamp": 1}
    assert report.days_covered == [DAY]  # no day in year 2100 (or 0001) to walk
    (row,) = quarantine(tmp_path / "store")
    assert row["timestamp"] is None and f"timestamp {year}-06-01" in row["detail"]
    assert Store(tmp_path / "store").days("quarantine") == [DAY]  # filed under the file's day


def test_one_row_in_2100_does_not_make_run_walk_decades(tmp_path: Path, capsys) -> None:
    path = write_mc_csv(tmp_path / "a.csv", [*good_rows(50), mc_row(time="2100-01-01T00:00:00")])
    code = main(
        ["run", str(path), "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o.geojson")]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "invalid_timestamp" in out and "stswatch events, 2022-01-03" in out


def test_future_tolerance_is_relative_to_the_time_of_ingest(tmp_path: Path) -> None:
    """The time of ingest is a parameter: the same file judged at two times."""
    path = write_mc_csv(tmp_path / "a.csv", [mc_row(time="2022-01-03T10:00:00")])
    early = ingest_files([path], tmp_path / "s1", now=datetime(2022, 1, 2, tzinfo=UTC))
    late = ingest_files([path], tmp_path / "s2", now=datetime(2022, 1, 3, 1, tzinfo=UTC))
    assert early.quarantined_by_reason == {"invalid_timestamp": 1}  # 34 h ahead
    assert late.accepted == 1  # 9 h ahead: within the 24 h tolerance


def _pghp(fields: str) -> str:
    body = f"PGHP,{fields}"
    return f"${body}*{compute_checksum('$' + body + '*00'):02X}"


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        (f"\\c:1e300*00\\{SENTENCE}", "not an epoch"),
        (f"\\c:9e18*00\\{SENTENCE}", "not an epoch"),
        (f"\\c:-215002306747*00\\{SENTENCE}", "not an epoch"),
        (f"\\c:1e17*00\\{SENTENCE}", "not an epoch"),
        (f"\\c:nan*00\\{SENTENCE}", "not an epoch"),
        (f"\\c:-1*00\\{SENTENCE}", "timestamp 1969-12-31T23:59:59Z"),
        (f"{SENTENCE},9999999999", "timestamp 2286-11-20"),
    ],
)
def test_nmea_times_that_are_no_times_never_raise(tmp_path: Path, line: str, detail: str) -> None:
    path = tmp_path / "a.nmea"
    path.write_text(line + "\n")
    report = ingest_files([path], tmp_path / "store", now=NOW)
    assert report.quarantined_by_reason == {"invalid_timestamp": 1}
    assert detail in quarantine(tmp_path / "store")[0]["detail"]


def test_gatehouse_line_with_an_oversized_number_is_a_parse_error() -> None:
    line = _pghp("1,99999999999999999999,12,31,23,59,59,0,,,,26")
    (batch,) = read_nmea_lines([line])
    assert batch.rejects["reason"].to_pylist() == ["parse_error"]
    assert "$PGHP" in batch.rejects["detail"][0].as_py()


# ----------------------------------------------------------------- archives
def test_zip_member_with_a_bad_crc_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "day.zip"
    body = (MC_HEADER + "\n" + "\n".join(good_rows(2000)) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("AIS_2022_01_03.csv", body)
    data = bytearray(path.read_bytes())
    data[data.rfind(b"TEST SHIP")] ^= 1  # near the end: found while streaming
    path.write_bytes(data)
    assert main(["ingest", str(path), "--store", str(tmp_path / "s")]) == 2
    err = one_line_error(capsys)
    assert "day.zip" in err and "CRC" in err
    assert not (tmp_path / "s" / "positions").exists()


def test_truncated_gzip_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "day.csv.gz"
    body = (MC_HEADER + "\n" + "\n".join(good_rows(40)) * 500 + "\n").encode()
    path.write_bytes(gzip.compress(body)[:-200])
    assert main(["ingest", str(path), "--store", str(tmp_path / "s")]) == 2
    assert "day.csv.gz" in one_line_error(capsys)


def test_zip_of_empty_rows_is_refused_before_it_fills_memory(tmp_path: Path, capsys) -> None:
    """A few hundred KB that expand to hundreds of MB of commas: refused, nothing written."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("AIS.csv", "w") as fh:
        fh.write((MC_HEADER + "\n").encode())
        chunk = b",,,,,,,,,,,,,,,,\n" * 100_000
        for _ in range(45):  # 76 MB
            fh.write(chunk)
    assert path.stat().st_size < 200_000
    assert main(["ingest", str(path), "--store", str(tmp_path / "s")]) == 2
    err = one_line_error(capsys)
    assert "bomb.zip: expands more than 100x" in err and "max_expansion_ratio" in err
    assert not (tmp_path / "s" / "quarantine").exists()


def test_gzip_of_blank_nmea_lines_is_refused_fast(tmp_path: Path, capsys) -> None:
    path = tmp_path / "blank.nmea.gz"
    with gzip.open(path, "wb") as fh:
        fh.write((SENTENCE + "\n").encode())
        for _ in range(70):
            fh.write(b"\n" * 1_000_000)
    assert main(["ingest", str(path), "--store", str(tmp_path / "s")]) == 2
    assert "blank.nmea.gz: expands more than 100x" in one_line_error(capsys)


def test_blank_lines_cost_a_scan_not_a_loop(tmp_path: Path) -> None:
    """Within the limits, millions of blank lines are skipped in bulk, records keep their line."""
    path = tmp_path / "sparse.nmea"
    path.write_bytes((SENTENCE + "\n").encode() + b"\n" * 5_000_000 + (SENTENCE + "\n").encode())
    batches = list(read_any(path, default_time=datetime(2022, 1, 3, tzinfo=UTC)))
    rows = pa.concat_tables([b.observations for b in batches])["row_number"].to_pylist()
    assert rows == [1, 5_000_002]


def test_row_cap_per_input(tmp_path: Path) -> None:
    path = write_mc_csv(tmp_path / "a.csv", good_rows(50))
    cfg = Config().with_overrides(input_limits={"max_rows_per_input": 10})
    with pytest.raises(IngestError, match=r"a\.csv: more than 10 records; refused"):
        ingest_files([path], tmp_path / "s", cfg=cfg)
    assert not (tmp_path / "s" / "positions").exists()


# ----------------------------------------------------------------- rows
def test_one_byte_that_is_not_utf8_costs_its_row_not_the_file(tmp_path: Path) -> None:
    rows = good_rows(200)
    rows[100] = mc_row(time="2022-01-03T11:40:30", name="BAD\xff")
    path = tmp_path / "a.csv"
    path.write_bytes(("\n".join([MC_HEADER, *rows]) + "\n").encode().replace(b"\xc3\xbf", b"\xff"))
    report = ingest_files([path], tmp_path / "s", now=NOW)
    assert (report.accepted, report.quarantined_by_reason) == (199, {"parse_error": 1})
    (row,) = quarantine(tmp_path / "s")
    assert row["row_number"] == 101 and "VesselName" in row["detail"]


def test_fractional_mmsi_is_quarantined_not_truncated(tmp_path: Path) -> None:
    path = write_mc_csv(tmp_path / "a.csv", [*good_rows(5), mc_row(mmsi="367379190.5")])
    report = ingest_files([path], tmp_path / "s", now=NOW)
    assert report.quarantined_by_reason == {"parse_error": 1}
    assert 367379190 not in Store(tmp_path / "s").read_day("positions", DAY)["mmsi"].to_pylist()
    assert "367379190.5" in quarantine(tmp_path / "s")[0]["raw"]


def test_mmsi_written_as_float_with_zero_fraction_is_still_read(tmp_path: Path) -> None:
    path = write_mc_csv(tmp_path / "a.csv", [mc_row(mmsi=f"{SHIP_A}.0")])
    assert ingest_files([path], tmp_path / "s", now=NOW).accepted == 1


# ----------------------------------------------------------------- identity
def test_same_file_under_other_spellings_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    rows = [*good_rows(), mc_row(mmsi=123, time="2022-01-03T11:00:00")]  # one quarantined row
    (tmp_path / "data").mkdir()
    path = write_mc_csv(tmp_path / "data" / "a.csv", rows)
    store = tmp_path / "store"
    first = ingest_files([path], store)
    digest = store_digest(store)
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    for spelling in ("data/a.csv", "./data/a.csv", "data/../data/a.csv", str(copy)):
        again = ingest_files([Path(spelling)], store)
        assert store_digest(store) == digest, spelling
        assert again.quarantined_by_reason == first.quarantined_by_reason
    assert [r["source_file"] for r in quarantine(store)] == [str(path)]


def test_same_content_twice_in_one_run_is_read_once(tmp_path: Path) -> None:
    a = write_mc_csv(tmp_path / "a.csv", good_rows())
    b = tmp_path / "b.csv"
    b.write_bytes(a.read_bytes())
    report = ingest_files([a, b], tmp_path / "s")
    assert report.files[1].duplicate_of == str(a) and report.files[1].rows_in == 0
    assert report.rows_in == 20 and report.quarantined == 0
    assert "same content as" in report.summary()


def test_malformed_line_with_bytes_that_are_not_utf8_costs_only_its_row(
    tmp_path: Path, capsys
) -> None:
    """Found by the fuzz test: such a line made pyarrow fail the block (and print a traceback)."""
    rows = [r.encode() for r in good_rows(10)]
    rows.insert(3, b"636092733,2022-01-03T11:00:00,BAD\xff,short")
    path = tmp_path / "a.csv"
    path.write_bytes(b"\n".join([MC_HEADER.encode(), *rows]) + b"\n")
    assert main(["ingest", str(path), "--store", str(tmp_path / "s")]) == 0
    assert capsys.readouterr().err == ""  # no "Exception ignored" noise
    (row,) = quarantine(tmp_path / "s")
    assert (row["reason"], row["row_number"]) == ("parse_error", 4)
    assert row["raw"] == "636092733,2022-01-03T11:00:00,BAD\\xff,short"


@pytest.mark.parametrize("command", ["run", "detect"])
def test_model_file_that_is_not_a_model_is_one_line(
    tmp_path: Path, monkeypatch, capsys, command: str
) -> None:
    """Garbage whose SHA-256 the card does record (a card rewritten too): skops refuses it."""
    import hashlib
    import json
    import shutil

    from stswatch.pipeline.scoring.persistence import CARD_FILE, DEFAULT_MODEL_DIR, MODEL_FILE

    model_dir = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model_dir)
    garbage = b"PK\x03\x04 this is not a model"
    (model_dir / MODEL_FILE).write_bytes(garbage)
    card = json.loads((model_dir / CARD_FILE).read_text())
    card["sha256"] = hashlib.sha256(garbage).hexdigest()
    (model_dir / CARD_FILE).write_text(json.dumps(card))
    path = write_mc_csv(tmp_path / "a.csv", good_rows())
    store = tmp_path / "s"
    ingest_files([path], store)
    monkeypatch.setenv("STSWATCH_MODEL_DIR", str(model_dir))
    out = tmp_path / "o.geojson"
    args = {
        "run": ["run", str(path), "--store", str(store), "--out", str(out)],
        "detect": ["detect", "--store", str(store), "--start", "2022-01-03", "--out", str(out)],
    }[command]
    assert main(args) == 2
    assert "suspicion.skops" in one_line_error(capsys)
    assert not out.exists()


def test_known_input_beside_a_new_one_keeps_its_record(tmp_path: Path) -> None:
    """Re-ingested with another file, an input the day holds adds nothing and keeps its tally."""
    x_rows = [
        mc_row(time="2022-01-03T10:00:00", lat=10.0),
        mc_row(time="2022-01-03T10:10:00", lat=12.0),  # a jump between two fixes
        mc_row(time="2022-01-03T10:20:00", lat=10.002),
        mc_row(mmsi=123, time="2022-01-03T10:30:00"),
    ]
    x = write_mc_csv(tmp_path / "x.csv", x_rows)
    # beside y's ping, x's jump would be judged a fix: x must not be judged again
    y = write_mc_csv(tmp_path / "y.csv", [mc_row(time="2022-01-03T10:09:00", lat=11.99)])
    store = tmp_path / "s"
    first = ingest_files([x], store, now=NOW)
    both = ingest_files([x, y], store, now=NOW)
    x_again = both.files[0]
    assert (x_again.accepted, x_again.quarantined_by_reason) == (
        first.files[0].accepted,
        first.files[0].quarantined_by_reason,
    )
    assert both.files[1].rows_in == 1
    assert main(["verify", "--store", str(store)]) == 0
    lats = Store(store).read_day("positions", DAY)["lat"].to_pylist()
    assert 12.0 not in lats  # x's jump stays in the quarantine, not in both tables
