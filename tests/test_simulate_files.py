"""The simulator's files: exact MarineCadastre layout, determinism, readable by our reader."""

from __future__ import annotations

import re
import zipfile
from datetime import date

import pandas as pd
import pytest
from helpers_simulate import small_simulation

from stswatch.pipeline.cli import main
from stswatch.pipeline.readers import read_any
from stswatch.pipeline.simulator import (
    MARINECADASTRE_COLUMNS,
    SimulationConfig,
    simulate,
    write_marinecadastre,
)

TINY = {
    "n_background_vessels": 25,
    "n_illicit_rendezvous": 1,
    "n_legit_transfers": 1,
    "n_anchorage_crowds": 0,
    "n_passing": 1,
    "n_convoys": 0,
    "n_pair_trawls": 0,
    "n_short_meetings": 1,
    "n_loitering_dark_partner": 0,
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    data = small_simulation()
    out = tmp_path_factory.mktemp("sim")
    return data, out, write_marinecadastre(data, out)


def test_one_file_per_utc_day_plus_truth(written):
    _, _, paths = written
    assert [p.name for p in paths] == [
        "AIS_2024_01_15.csv",
        "AIS_2024_01_16.csv",
        "truth.csv",
        "truth.json",
    ]


def test_header_is_marinecadastre_exactly(written, shared_data):
    _, out, _ = written
    real = shared_data / "marinecadastre" / "AIS_2022_01_03_first99999.csv"
    with real.open() as f:
        real_header = f.readline()
    with (out / "AIS_2024_01_15.csv").open() as f:
        assert f.readline() == real_header


def test_values_parse_and_follow_the_formats(written):
    data, out, _ = written
    day = pd.read_csv(out / "AIS_2024_01_15.csv", dtype=str, keep_default_na=False)
    assert tuple(day.columns) == MARINECADASTRE_COLUMNS
    assert day["BaseDateTime"].str.fullmatch(r"2024-01-15T\d\d:\d\d:\d\d").all()
    assert day["BaseDateTime"].is_monotonic_increasing  # rows in time order
    imo = day["IMO"][day["IMO"] != ""]
    assert len(imo) > 0 and imo.str.fullmatch(r"IMO\d{7}").all()
    assert day["LAT"].str.fullmatch(r"-?\d+\.\d{5}").all()
    assert day["SOG"].str.fullmatch(r"\d+\.\d").all()
    heading = day["Heading"].astype(int)
    assert heading.between(0, 359).any() and (heading == 511).any()
    assert set(day["TransceiverClass"]) == {"A", "B"}
    class_b = day[day["TransceiverClass"] == "B"]
    assert (class_b["Status"] == "").all() and (class_b["Heading"] == "511").all()
    assert (day["Draft"] == "").any()  # blanks for missing values
    n_rows_day1 = (data.positions["timestamp"] < pd.Timestamp("2024-01-16", tz="UTC")).sum()
    assert len(day) == n_rows_day1


def test_our_reader_takes_every_row(written):
    data, _, paths = written
    total = sum(
        b.n_records
        for p in paths
        if p.suffix == ".csv" and p.name.startswith("AIS_")
        for b in read_any(p)
    )
    assert total == len(data.positions)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    cfg = SimulationConfig(seed=11, start_date=date(2023, 6, 30), **TINY)
    a = write_marinecadastre(simulate(cfg), tmp_path / "a", compress=True)
    b = write_marinecadastre(simulate(cfg), tmp_path / "b", compress=True)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = write_marinecadastre(simulate(SimulationConfig(seed=12, **TINY)), tmp_path / "c")
    assert a[0].read_bytes() != c[0].read_bytes()


def test_zip_holds_the_csv(tmp_path):
    data = simulate(SimulationConfig(seed=5, **TINY))
    (plain,) = [p for p in write_marinecadastre(data, tmp_path / "p") if p.name.startswith("AIS")]
    (zipped,) = [
        p
        for p in write_marinecadastre(data, tmp_path / "z", compress=True)
        if p.name.startswith("AIS")
    ]
    with zipfile.ZipFile(zipped) as z:
        assert z.namelist() == ["AIS_2024_01_15.csv"]
        assert z.read("AIS_2024_01_15.csv") == plain.read_bytes()


def test_cli_writes_days_and_truth(tmp_path, capsys):
    code = main(
        [
            "simulate",
            "--out",
            str(tmp_path),
            "--date",
            "2024-03-01",
            "--days",
            "2",
            "--seed",
            "4",
            "--vessels",
            "20",
            "--region",
            "gulf_of_oman",
        ]
    )
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["AIS_2024_03_01.csv", "AIS_2024_03_02.csv", "truth.csv", "truth.json"]
    printed = capsys.readouterr().out
    assert "wrote" in printed and re.search(r"[\d,]+ rows over 2 day", printed)


def test_cli_rejects_unknown_region(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--out", "x", "--region", "atlantis"])
    assert "atlantis" in capsys.readouterr().err


def test_rows_format_exactly_like_a_real_marinecadastre_line():
    from stswatch.pipeline.simulator.writer import marinecadastre_bytes

    ts = pd.to_datetime(["2022-01-03T00:00:00Z", "2022-01-03T23:59:59Z"]).as_unit("ms")
    rows = pd.DataFrame(
        {
            "mmsi": [367379190, 338148873],
            "timestamp": ts,
            "lat": [30.37060, 0.25],
            "lon": [-88.56408, -0.5],
            "sog_kn": pd.array([0.0, 12.34], dtype="float32"),
            "cog_deg": pd.array([336.2, 0.04], dtype="float32"),
            "heading_deg": pd.array([float("nan"), 359.6], dtype="float32"),
            "nav_status": pd.array([0, None], dtype="Int8"),
            "vessel_name": pd.Categorical(["EAGLE", "CAZADOR"]),
            "imo": pd.array([8207721, None], dtype="Int64"),
            "callsign": pd.Categorical(["WTD4583", None]),
            "ship_type": pd.array([31, 37], dtype="Int16"),
            "length_m": pd.array([28, 14], dtype="float32"),
            "width_m": pd.array([11, float("nan")], dtype="float32"),
            "draught_m": pd.array([3.3, float("nan")], dtype="float32"),
            "transceiver_class": pd.Categorical(["A", "B"]),
        }
    )
    text = marinecadastre_bytes(rows, pd.Timestamp("2022-01-03", tz="UTC")).decode()
    assert text.splitlines() == [
        # the shared file's line, Cargo aside (we repeat VesselType for Class A)
        "367379190,2022-01-03T00:00:00,30.37060,-88.56408,0.0,336.2,511,EAGLE,IMO8207721,"
        "WTD4583,31,0,28,11,3.3,31,A",
        "338148873,2022-01-03T23:59:59,0.25000,-0.50000,12.3,0.0,0,CAZADOR,,,37,,14,,,,B",
    ]
