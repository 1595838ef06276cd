"""ingest_files and `stswatch ingest`: tallies, merging, idempotence, CLI behaviour."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pytest
from helpers_ingest import MC_HEADER, SHIP_A, SHIP_B, mc_row, store_digest, write_mc_csv

from stswatch.pipeline.cli import main
from stswatch.pipeline.ingest import IngestError, ingest_files
from stswatch.pipeline.storage import Store

SHARED_POSITION_FILES = [
    "marinecadastre/AIS_2022_01_03_first99999.csv",
    "marinecadastre/aisdb_test_data_noaa_20230101.csv",
    "marinecadastre/marinecadastre2014_demodata_ais_qgis.csv",
    "marinecadastre/pamscapes_AISExample_2022_04_28.csv",
    "dma/aisdk-2022-11-01_northsea_head3000.csv",
    "tracks/stonesoup_SolentAIS_20160112_130211.csv",
]


@pytest.mark.shared_data
@pytest.mark.parametrize("relative", SHARED_POSITION_FILES)
def test_shared_file_ingests_with_exact_tally(
    shared_data: Path, relative: str, tmp_path: Path
) -> None:
    report = ingest_files([shared_data / relative], tmp_path / "store")
    (tally,) = report.files
    assert tally.rows_in > 0
    assert tally.accepted + tally.quarantined == tally.rows_in
    store = Store(tmp_path / "store")
    stored = sum(store.read("positions", d).num_rows for d in store.days("positions"))
    quarantined = sum(store.read("quarantine", d).num_rows for d in store.days("quarantine"))
    assert quarantined == tally.quarantined
    assert stored <= tally.accepted  # static-only reports are accepted without a position
    assert "accepted + quarantined = rows in: ok" in report.summary()


@pytest.mark.shared_data
def test_marinecadastre_sample_known_figures(shared_data: Path, tmp_path: Path) -> None:
    """Pinned outcome of the real 99,999-row day: catches silent rule changes."""
    path = shared_data / "marinecadastre/AIS_2022_01_03_first99999.csv"
    report = ingest_files([path], tmp_path)
    assert report.rows_in == 99_999
    assert report.quarantined_by_reason["invalid_mmsi"] == 176
    assert report.days_written == [date(2022, 1, 3)]
    vessels = Store(tmp_path).read("vessels", date(2022, 1, 3))
    assert 10_000 < vessels.num_rows < 20_000  # one per vessel plus real changes
    assert pc.count_distinct(vessels["mmsi"]).as_py() > 10_000


def test_reingest_is_idempotent_with_same_tally(tmp_path: Path) -> None:
    rows = [
        mc_row(time="2022-01-03T10:00:00"),
        mc_row(time="2022-01-03T10:00:00"),  # exact duplicate
        mc_row(time="2022-01-03T10:10:00", lat=10.001),
        mc_row(mmsi=123, time="2022-01-03T10:20:00"),  # invalid MMSI
    ]
    path = write_mc_csv(tmp_path / "a.csv", rows)
    first = ingest_files([path], tmp_path / "store")
    digest = store_digest(tmp_path / "store")
    second = ingest_files([path], tmp_path / "store")
    assert store_digest(tmp_path / "store") == digest
    assert (second.accepted, second.quarantined_by_reason) == (
        first.accepted,
        first.quarantined_by_reason,
    )
    assert second.partitions_written == []


def test_two_inputs_on_the_same_day_merge_with_dedup(tmp_path: Path) -> None:
    a = write_mc_csv(
        tmp_path / "a.csv",
        [mc_row(time="2022-01-03T10:00:00"), mc_row(time="2022-01-03T10:10:00", lat=10.01)],
    )
    b = write_mc_csv(
        tmp_path / "b.csv",
        [
            mc_row(time="2022-01-03T10:10:00", lat=10.01),  # same as a's row 2
            mc_row(time="2022-01-03T10:00:00", lat=10.5),  # conflicts with a's row 1
            mc_row(mmsi=SHIP_B, time="2022-01-03T11:00:00"),
        ],
    )
    ingest_files([a], tmp_path / "store")
    report = ingest_files([b], tmp_path / "store")
    assert report.accepted == 2  # the identical row counts: it is in the store
    assert report.quarantined_by_reason == {"duplicate_mmsi_time": 1}
    pos = Store(tmp_path / "store").read("positions", date(2022, 1, 3))
    assert pos["mmsi"].to_pylist() == [SHIP_B, SHIP_A, SHIP_A]
    assert pos.filter(pc.equal(pos["mmsi"], SHIP_A))["lat"].to_pylist() == [10.0, 10.01]


def test_merge_result_same_as_ingesting_together(tmp_path: Path) -> None:
    a = write_mc_csv(tmp_path / "a.csv", [mc_row(time="2022-01-03T10:00:00")])
    b = write_mc_csv(tmp_path / "b.csv", [mc_row(mmsi=SHIP_B, time="2022-01-03T09:00:00")])
    ingest_files([a], tmp_path / "s1")
    ingest_files([b], tmp_path / "s1")
    ingest_files([a, b], tmp_path / "s2")
    s1, s2 = Store(tmp_path / "s1"), Store(tmp_path / "s2")
    day = date(2022, 1, 3)
    assert s1.path("positions", day).read_bytes() == s2.path("positions", day).read_bytes()


def test_rows_go_to_their_own_utc_day(tmp_path: Path) -> None:
    path = write_mc_csv(
        tmp_path / "a.csv",
        [mc_row(time="2022-01-03T23:59:59"), mc_row(time="2022-01-04T00:00:01", lat=10.001)],
    )
    report = ingest_files([path], tmp_path / "store")
    assert report.days_written == [date(2022, 1, 3), date(2022, 1, 4)]
    store = Store(tmp_path / "store")
    assert [store.read("positions", d).num_rows for d in store.days("positions")] == [1, 1]


def test_static_fields_reach_the_vessel_table(tmp_path: Path) -> None:
    path = write_mc_csv(
        tmp_path / "a.csv",
        [
            mc_row(time="2022-01-03T10:00:00", draft="5.5"),
            mc_row(time="2022-01-03T11:00:00", draft="5.5", lat=10.05),
            mc_row(time="2022-01-03T12:00:00", draft="11.0", lat=10.1),
        ],
    )
    ingest_files([path], tmp_path)
    vessels = Store(tmp_path).read("vessels", date(2022, 1, 3)).to_pylist()
    assert [v["draught_m"] for v in vessels] == [5.5, 11.0]
    assert vessels[0]["imo"] == 9192612 and vessels[0]["vessel_name"] == "TEST SHIP"


def test_missing_file_fails_before_writing(tmp_path: Path) -> None:
    good = write_mc_csv(tmp_path / "a.csv", [mc_row()])
    with pytest.raises(IngestError, match=r"nope\.csv: no such file"):
        ingest_files([good, tmp_path / "nope.csv"], tmp_path / "store")
    assert not (tmp_path / "store").exists()


def test_cli_ingest_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "AIS_2022_01_03.csv.gz"
    path.write_bytes(gzip.compress(write_mc_csv(tmp_path / "x.csv", [mc_row()]).read_bytes()))
    code = main(["ingest", str(path), "--store", str(tmp_path / "store"), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert (
        "rows in" in out and "accepted" in out and "partitions written: 2" in out
    )  # no quarantine
    assert Store(tmp_path / "store").days("positions") == [date(2022, 1, 3)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "{tmp}/missing.csv"], "missing.csv: no such file"),
        (["ingest", "{tmp}/ports.csv"], "expected a MarineCadastre CSV"),
        (["ingest"], "give input files"),
        (["ingest", "--source", "dma"], "needs --date"),
        (
            ["ingest", "--source", "dma", "--date", "2022-01-05", "--end", "2022-01-01"],
            "before --date",
        ),
    ],
)
def test_cli_bad_input_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "ports.csv").write_text("iso3,label\nDNK,Esbjerg\n")
    args = [a.format(tmp=tmp_path) for a in argv] + ["--store", str(tmp_path / "s")]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_cli_subprocess_exit_code_and_no_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stswatch.pipeline.cli",
            "ingest",
            str(tmp_path / "x.csv"),
            "--store",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "x.csv: no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_quarantine_rows_carry_file_and_row(tmp_path: Path) -> None:
    path = write_mc_csv(tmp_path / "a.csv", [mc_row(), mc_row(mmsi=2190001), mc_row(lat=0, lon=0)])
    ingest_files([path], tmp_path)
    q = Store(tmp_path).read("quarantine", date(2022, 1, 3)).to_pylist()
    assert {(r["reason"], r["row_number"]) for r in q} == {
        ("non_vessel_mmsi", 2),
        ("invalid_position", 3),
    }
    assert all(r["source_file"] == str(path) for r in q)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name",
    ["amsa_risky_nmea-timestamped.txt", "aisdb_test_data_20211101.nm4", "gpsd_sample.aivdm"],
)
def test_shared_nmea_logs_ingest_with_exact_tally(
    shared_data: Path, tmp_path: Path, name: str
) -> None:
    report = ingest_files([shared_data / "nmea" / name], tmp_path)
    assert report.balanced and report.rows_in > 0


@pytest.mark.shared_data
def test_default_time_rescues_untimed_nmea(shared_data: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    path = shared_data / "nmea" / "gpsd_sample.aivdm"
    without = ingest_files([path], tmp_path / "a")
    with_time = ingest_files(
        [path], tmp_path / "b", default_time=datetime(2024, 5, 1, 12, tzinfo=UTC)
    )
    assert without.quarantined_by_reason.get("missing_timestamp", 0) > 0
    assert "missing_timestamp" not in with_time.quarantined_by_reason
    assert with_time.accepted > without.accepted
    assert with_time.balanced


def test_cli_download_by_date_from_local_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--source --date` fetches through stswatch.pipeline.download, then ingests the archive."""
    pytest.importorskip("stswatch.pipeline.download")
    import functools
    import threading
    import zipfile
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    root = tmp_path / "www"
    (root / "2022").mkdir(parents=True)
    with zipfile.ZipFile(root / "2022" / "AIS_2022_01_03.zip", "w") as zf:
        zf.writestr(
            "AIS_2022_01_03.csv",
            MC_HEADER + "\n" + mc_row() + "\n",
        )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code = main(
            [
                "ingest",
                "--source",
                "marinecadastre",
                "--date",
                "2022-01-03",
                "--store",
                str(tmp_path / "store"),
                "--cache",
                str(tmp_path / "cache"),
                "--base-url",
                f"http://127.0.0.1:{server.server_port}",
                "--no-progress",
            ]
        )
    finally:
        server.shutdown()
    assert code == 0, capsys.readouterr().err
    assert Store(tmp_path / "store").read("positions", date(2022, 1, 3)).num_rows == 1


def test_duplicate_verdicts_do_not_depend_on_companion_files(tmp_path: Path) -> None:
    """Found by hypothesis: b = [Y, X] after a = [X] (same mmsi and time).

    X in b is an exact duplicate of the kept row whether or not a is ingested
    in the same call, so re-ingesting b alone leaves the store byte-identical.
    """
    x = mc_row(lat=10.0)
    y = mc_row(lat=10.001)
    a = write_mc_csv(tmp_path / "a.csv", [x])
    b = write_mc_csv(tmp_path / "b.csv", [y, x])
    report = ingest_files([a, b], tmp_path / "store")
    assert report.files[1].quarantined_by_reason == {
        "duplicate_mmsi_time": 1,
        "duplicate_exact": 1,
    }
    digest = store_digest(tmp_path / "store")
    again = ingest_files([b], tmp_path / "store")
    assert again.files[0].quarantined_by_reason == report.files[1].quarantined_by_reason
    assert store_digest(tmp_path / "store") == digest


def test_batch_across_midnight_routes_each_day_its_rows() -> None:
    """A batch crossing midnight gives each day its rows, sorted, and the
    smaller day its own memory (it must not keep the whole batch alive
    until its own day is written)."""
    from datetime import UTC, datetime, timedelta

    from helpers_ingest import obs_table

    from stswatch.pipeline.ingest import _check_batch
    from stswatch.pipeline.readers import ReaderBatch
    from stswatch.pipeline.readers.batch import empty_rejects

    midnight = datetime(2022, 1, 4, tzinfo=UTC)
    rows = [
        {"mmsi": mmsi, "timestamp": midnight + timedelta(minutes=m), "lat": 10.0, "lon": 20.0}
        for m, mmsi in [(-3, SHIP_B), (2, SHIP_A), (-2, SHIP_A), (-1, SHIP_B), (-5, SHIP_A)]
    ]
    checked = _check_batch(ReaderBatch(obs_table(rows), empty_rejects()), 0)
    day = (midnight.date() - date(1970, 1, 1)).days
    assert sorted(checked.positions) == [day - 1, day]
    before, after = checked.positions[day - 1], checked.positions[day]
    # by (mmsi, time): SHIP_B (351...) before SHIP_A (636...); rows numbered from 1
    assert before.cols["row"].tolist() == [1, 4, 5, 3]
    assert after.cols["row"].tolist() == [2]
    assert all(col.base is None for col in after.cols.values())
