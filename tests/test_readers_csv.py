"""CSV readers: MarineCadastre (three layouts), DMA, Stone Soup, GFW; sniffing; bad lines."""

from __future__ import annotations

import gzip
import zipfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from helpers_ingest import MC_HEADER, SHIP_A, mc_row, write_mc_csv

from stswatch.pipeline.readers import ReaderError, read_any, sniff_format


def read_all(path: Path) -> tuple[pa.Table, pa.Table]:
    batches = list(read_any(path))
    return (
        pa.concat_tables([b.observations for b in batches]),
        pa.concat_tables([b.rejects for b in batches]),
    )


def test_marinecadastre_sentinels_become_nulls(tmp_path: Path) -> None:
    path = write_mc_csv(
        tmp_path / "AIS_2022_01_03.csv",
        [mc_row(lat=91, lon=181, sog=102.3, cog=360, heading=511)],
    )
    obs, _ = read_all(path)
    row = obs.to_pylist()[0]
    assert [row[k] for k in ("lat", "lon", "sog_kn", "cog_deg", "heading_deg")] == [None] * 5


def test_marinecadastre_typed_values(tmp_path: Path) -> None:
    path = write_mc_csv(tmp_path / "a.csv", [mc_row(imo="IMO9192612", heading=95, draft="5.5")])
    row = read_all(path)[0].to_pylist()[0]
    assert row["imo"] == 9192612
    assert row["heading_deg"] == 95.0
    assert row["draught_m"] == 5.5
    assert row["ship_type"] == 70
    assert row["transceiver_class"] == "A"
    assert row["timestamp"].isoformat() == "2022-01-03T10:00:00+00:00"
    assert (row["source"], row["row_number"]) == ("marinecadastre", 1)


def test_marinecadastre_blanks_are_nulls(tmp_path: Path) -> None:
    row = mc_row(name="", imo="", callsign="", vessel_type="", status="", length="", draft="")
    got = read_all(write_mc_csv(tmp_path / "a.csv", [row]))[0].to_pylist()[0]
    for key in ("vessel_name", "imo", "callsign", "ship_type", "nav_status", "length_m"):
        assert got[key] is None, key


def test_marinecadastre_2014_layout(tmp_path: Path) -> None:
    header = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,ROT,Status,VoyageID,id"
    path = tmp_path / "old.csv"
    path.write_text(f"{header}\n{SHIP_A},2014-01-01T04:43:53,42.3,-71.0,1.3,83.3,268,0.0,5,166,1\n")
    assert sniff_format(path) == "marinecadastre"
    row = read_all(path)[0].to_pylist()[0]
    assert (row["nav_status"], row["heading_deg"], row["vessel_name"]) == (5, 268.0, None)


def test_marinecadastre_like_extract_with_latitude_longitude_utc(tmp_path: Path) -> None:
    path = tmp_path / "pam.csv"
    path.write_text(
        '"Latitude","Longitude","MMSI","UTC","vesselLength","vesselType","SOG"\n'
        f'33.4,-118.4,{SHIP_A},2022-04-28 12:35:46,7,"other",0.3\n'
    )
    row = read_all(path)[0].to_pylist()[0]
    assert (row["lat"], row["length_m"], row["ship_type"]) == (33.4, 7.0, None)


def test_dma_vocabulary(tmp_path: Path) -> None:
    header = (
        "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,"
        "Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,"
        "Type of position fixing device,Draught,Destination,ETA,Data source type,A,B,C,D"
    )
    rows = [
        f"01/11/2022 09:05:36,Class A,{SHIP_A},55.4,7.9,Moored,0,0.1,91.4,95,Unknown,8PSY,"
        "WILSON,Tanker,Category X,13,100,,3.3,ESBJERG,,AIS,,,,",
        "01/11/2022 09:05:37,Base Station,2190047,55.5,8.0,Unknown value,,,,,,,,,,,,,,,,AIS,,,,",
        f"01/11/2022 09:05:38,Class B,{SHIP_A + 1},55.4,7.9,Unknown value,,5,,,,,,"
        "Pleasure,,,,,,,,AIS,,,,",
    ]
    path = tmp_path / "aisdk-2022-11-01.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    assert sniff_format(path) == "dma"
    obs, rej = read_all(path)
    a, b = obs.to_pylist()
    assert a["timestamp"].isoformat() == "2022-11-01T09:05:36+00:00"
    assert (a["nav_status"], a["transceiver_class"], a["imo"], a["ship_type"]) == (5, "A", None, 81)
    assert (b["transceiver_class"], b["nav_status"], b["ship_type"]) == ("B", 15, 37)
    assert rej["reason"].to_pylist() == ["non_vessel_mmsi"]
    assert rej["row_number"].to_pylist() == [2]


def test_stonesoup_layout(tmp_path: Path) -> None:
    path = tmp_path / "solent.csv"
    path.write_text(
        "Time,MMSI,Latitude_degrees,Longitude_degrees,COG_degrees,SOG_knots\n"
        f"2016-01-12 13:02:11.218,{SHIP_A},50.77,-1.09,157.8,5.9\n"
    )
    row = read_all(path)[0].to_pylist()[0]
    assert row["timestamp"].microsecond == 218_000
    assert (row["sog_kn"], row["source"]) == (pytest.approx(5.9), "stonesoup")


def test_format_is_sniffed_from_content_not_name(tmp_path: Path) -> None:
    path = write_mc_csv(tmp_path / "misleading_name.nmea", [mc_row()])
    assert sniff_format(path) == "marinecadastre"
    nmea = tmp_path / "data.csv"
    nmea.write_text("!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*23\n")
    assert sniff_format(nmea) == "nmea"


def test_gzip_and_zip_inputs(tmp_path: Path) -> None:
    text = MC_HEADER + "\n" + mc_row() + "\n"
    gz = tmp_path / "AIS_2022_01_03.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    zp = tmp_path / "AIS_2022_01_03.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("AIS_2022_01_03.csv", text)
    for path in (gz, zp):
        obs, _ = read_all(path)
        assert obs["mmsi"].to_pylist() == [SHIP_A]


def test_unknown_format_names_file_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "ports.csv"
    path.write_text("iso3,label,lat,lon\nDNK,Esbjerg,55.4,8.4\n")
    with pytest.raises(ReaderError, match=r"ports\.csv.*expected a MarineCadastre CSV"):
        sniff_format(path)
    with pytest.raises(ReaderError, match="no such file"):
        sniff_format(tmp_path / "missing.csv")


def test_malformed_line_is_quarantined_with_raw_text(tmp_path: Path) -> None:
    rows = [mc_row(), "367000001,2022-01-03T10:00:00,1.0", mc_row(time="2022-01-03T10:01:00")]
    obs, rej = read_all(write_mc_csv(tmp_path / "a.csv", rows))
    assert obs.num_rows == 2
    assert rej["reason"].to_pylist() == ["parse_error"]
    assert rej["raw"][0].as_py() == "367000001,2022-01-03T10:00:00,1.0"
    assert rej["row_number"].to_pylist() == [2]


def test_untypeable_fields_fall_back_to_string_mode(tmp_path: Path) -> None:
    """One bad value must not cost the rest of the file (typed parsing fails per block)."""
    rows = [
        mc_row(time="2022-01-03T10:00:00"),
        mc_row(time="2022-01-03T10:01:00", lat="north"),
        mc_row(time="not a time"),
        mc_row(time="2022-01-03T10:03:00"),
    ]
    obs, rej = read_all(write_mc_csv(tmp_path / "a.csv", rows))
    assert obs.num_rows == 2
    assert Counter(rej["reason"].to_pylist()) == {"parse_error": 1, "invalid_timestamp": 1}
    assert sorted(rej["row_number"].to_pylist()) == [2, 3]
    assert "north" in " ".join(rej["detail"].to_pylist())
    assert obs.num_rows + rej.num_rows == len(rows)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative", "fmt", "rows"),
    [
        ("marinecadastre/AIS_2022_01_03_first99999.csv", "marinecadastre", 99_999),
        ("marinecadastre/aisdb_test_data_noaa_20230101.csv", "marinecadastre", 1_000),
        ("marinecadastre/marinecadastre2014_demodata_ais_qgis.csv", "marinecadastre", 972),
        ("marinecadastre/pamscapes_AISExample_2022_04_28.csv", "marinecadastre", 221),
        ("dma/aisdk-2022-11-01_northsea_head3000.csv", "dma", 3_000),
        ("tracks/stonesoup_SolentAIS_20160112_130211.csv", "stonesoup", 18_623),
        ("tracks/gfw_encounter_441910000_563418000_raw.csv", "gfw", 346),
        ("tracks/gfw_encounter_441910000_563418000_mc_format.csv", "marinecadastre", 327),
    ],
)
def test_shared_csv_files_read_every_record(
    shared_data: Path, relative: str, fmt: str, rows: int
) -> None:
    path = shared_data / relative
    assert sniff_format(path) == fmt
    obs, rej = read_all(path)
    assert obs.num_rows + rej.num_rows == rows


def test_gfw_position_csv_reads_ssvid_zoned_times_and_speed(tmp_path: Path) -> None:
    """GFW's layout: ssvid, ISO times (with a zone, or naive UTC), speed_knots."""
    path = tmp_path / "positions.csv"
    path.write_text(
        "ssvid,timestamp,lat,lon,speed_knots,course,distance_from_shore_m\n"
        "441910000,2015-03-19T05:12:22Z,-27.43,38.52,0.4,120,514311\n"
        "441910000,2015-03-19T06:12:22+00:00,-27.44,38.53,,,514311\n"
        "441910000,2015-03-19 07:12:22,-27.45,38.54,0.2,90,514311\n"
    )
    assert sniff_format(path) == "gfw"
    obs, rej = read_all(path)
    assert obs.num_rows + rej.num_rows == 3
    assert obs["mmsi"].to_pylist()[:2] == [441910000, 441910000]
    assert str(obs["timestamp"][0].as_py()) == "2015-03-19 05:12:22+00:00"
    assert obs["sog_kn"].to_pylist()[:2] == [pytest.approx(0.4), None]
    # a naive time is UTC, as in every other layout
    assert rej.num_rows == 0
    assert str(obs["timestamp"][2].as_py()) == "2015-03-19 07:12:22+00:00"


def test_zip_with_several_daily_files_reads_every_member(tmp_path: Path) -> None:
    """A DMA monthly archive holds one CSV per day: all of them are read."""
    zp = tmp_path / "month.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("AIS_2022_01_03.csv", MC_HEADER + "\n" + mc_row() + "\n")
        zf.writestr(
            "AIS_2022_01_04.csv", MC_HEADER + "\n" + mc_row(time="2022-01-04T01:00:00") + "\n"
        )
    obs, _ = read_all(zp)
    assert obs.num_rows == 2
    assert obs["source_file"].to_pylist() == [
        f"{zp}!AIS_2022_01_03.csv",
        f"{zp}!AIS_2022_01_04.csv",
    ]
    assert obs["row_number"].to_pylist() == [1, 1]
