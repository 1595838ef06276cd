"""NMEA reader on small inline logs: real sentences (gpsd, libais, AMSA, pyais
samples) written into the test, one behaviour per test."""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, datetime

import pytest
from helpers_nmea import assert_tally, decode_file, decode_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.pipeline.readers.nmea import read_nmea

# gpsd_sample.aivdm, type 1: MMSI 371798000, 48.38163333 N, 123.39538333 W, SOG 12.3,
# COG 224, heading 215.
TYPE1 = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
# gpsd, type 5 over two sentences: EVER DIADEM, 3FOF8, IMO 9134270, 225+70 x 1+31 m,
# draught 12.2 m, ship type 70.
TYPE5 = [
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
]
# gpsd, type 19: CAPT.J.RIMES, MMSI 367059850, SOG 8.7, 29.543695 N 88.8103916667 W.
TYPE19 = "!AIVDM,1,1,,B,C5N3SRgPEnJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220,0*0B"
TYPE4 = "!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D"  # base station 3669702
TYPE8 = "!AIVDM,1,1,,A,85Mwp`1Kf3aCnsNvBWLi=wQuNhA5t43N`5nCuI=p<IBfVqnMgPGs,0*47"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_position_report_with_tag_block_seconds():
    d = decode_lines([rf"\s:rORBCOMM104,c:1418172113*55\{TYPE1}"])
    (row,) = d.obs_rows()
    assert row["mmsi"] == 371798000
    assert row["timestamp"] == ts("2014-12-10T00:41:53")
    assert row["lat"] == pytest.approx(48.381633, abs=1e-6)
    assert row["lon"] == pytest.approx(-123.395383, abs=1e-6)
    assert row["sog_kn"] == pytest.approx(12.3, abs=1e-4)
    assert row["cog_deg"] == pytest.approx(224.0)
    assert row["heading_deg"] == 215.0
    assert (row["nav_status"], row["transceiver_class"], row["has_position"]) == (0, "A", True)
    assert (row["source"], row["source_file"], row["row_number"]) == ("nmea", "<lines>", 1)
    assert_tally(d)


def test_tag_block_time_in_milliseconds():
    line = (
        r"\c:1599239526500,s:sdr-experiments,T:2020-09-04 18.12.06*5D"
        r"\!AIVDM,1,1,,A,B>cSnNP00FVur7UaC7WQ3wS1jCJJ,0*73"
    )
    (row,) = decode_lines([line]).obs_rows()
    assert row["timestamp"] == ts("2020-09-04T17:12:06.500")  # c: is UTC, T: is local
    assert row["transceiver_class"] == "B"


def test_tag_block_with_placeholder_checksum_still_gives_the_time():
    line = r"\c:1420030798*00\!ABVDM,1,1,4,B,17P;HV?P008F98Il;EC1mOwL0@KP,0*22"
    (row,) = decode_lines([line]).obs_rows()
    assert row["timestamp"] == ts("2014-12-31T12:59:58")


def test_trailing_epoch_after_checksum_uscg_and_exactearth():
    uscg = "!AIVDM,1,1,,A,15B4FT5000JRP>PE6E68Nbkl0PS5,0*70,b003669794,1272412827"
    typeex = (
        "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30,d-080,S2118,t050056.00,"
        "T56.4837741,r003669946,1325394060,1325394001"
    )
    exact_earth = "!AIVDM,1,1,,A,144gjIP0085KKPQHMPjT81Sb1PSL,0*22,1328133720087"
    rows = decode_lines([uscg, typeex, exact_earth]).obs_rows()
    assert [r["timestamp"] for r in rows] == [
        ts("2010-04-28T00:00:27"),
        ts("2012-01-01T05:01:00"),  # the first epoch (USCG log time), not the second
        ts("2012-02-01T22:02:00.087"),
    ]


def test_multipart_static_message_is_one_record_with_static_fields():
    d = decode_lines(TYPE5, default_time=T0)
    (row,) = d.obs_rows()
    assert row["has_position"] is False
    assert (row["mmsi"], row["vessel_name"], row["callsign"]) == (351759000, "EVER DIADEM", "3FOF8")
    assert (row["imo"], row["ship_type"]) == (9134270, 70)
    assert (row["length_m"], row["width_m"]) == (295.0, 32.0)
    assert row["draught_m"] == pytest.approx(12.2, abs=1e-5)
    assert row["lat"] is None and row["transceiver_class"] == "A"
    assert row["timestamp"] == T0 and row["row_number"] == 1
    assert (d.stats.records, d.stats.merged_fragments) == (1, 1)
    assert_tally(d)


def test_interleaved_multipart_messages_on_two_channels_both_assemble():
    # gpsd_sample.aivdm: a type 5 on channel B (sequence 6) interleaved with one on A
    lines = [
        "!AIVDM,2,1,6,B,542M92h00001@<7;?G0PD4i@R0<tqA8tj37>220o0h:2240Ht50000000000,0*3B",
        TYPE5[0],
        "!AIVDM,2,2,6,B,00000000000,2*21",
        TYPE5[1],
    ]
    d = decode_lines(lines, default_time=T0)
    assert sorted(r["mmsi"] for r in d.obs_rows()) == [271010059, 351759000]
    assert d.rejects.num_rows == 0
    assert_tally(d)


def test_fragments_that_never_complete_are_quarantined_one_per_line():
    lines = [
        TYPE5[0],  # first half, never completed
        TYPE1,
        "AIVDM,2,2,1,B,00000000000,2*26",  # gpsd's broken line: no '!'
        "!AIVDM,2,2,6,B,00000000000,2*21",  # orphan second half
    ]
    d = decode_lines(lines, default_time=T0)
    assert [r["mmsi"] for r in d.obs_rows()] == [371798000]
    rejects = {(r["row_number"], r["reason"]) for r in d.reject_rows()}
    assert rejects == {
        (1, "incomplete_multipart"),
        (3, "parse_error"),
        (4, "incomplete_multipart"),
    }
    assert all(r["raw"] for r in d.reject_rows())
    assert_tally(d)


def test_checksum_mismatch_is_quarantined_with_the_raw_line():
    bad = TYPE1[:-2] + "4B"
    d = decode_lines([bad], default_time=T0)
    (rej,) = d.reject_rows()
    assert rej["reason"] == "checksum_error"
    assert rej["raw"] == bad
    assert "4A computed" in rej["detail"]


def test_non_ais_garbage_comments_and_blank_lines():
    lines = [
        "# a comment",
        "",
        "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D",
        "$BSALR,081130.00,026,A,A,no sensor position in use",  # no checksum, still not AIS
        "foobar",
        "!AIVDM,1,1,,B,,0*25",  # empty payload
        TYPE1,
    ]
    d = decode_lines(lines, default_time=T0)
    assert d.stats.lines == 7 and d.stats.comment_lines == 1 and d.stats.blank_lines == 1
    assert [(r["row_number"], r["reason"]) for r in d.reject_rows()] == [
        (3, "not_ais"),
        (4, "not_ais"),
        (5, "parse_error"),
        (6, "parse_error"),
    ]
    assert d.observations.num_rows == 1
    assert_tally(d)


def test_no_time_anywhere_quarantines_unless_a_default_is_given():
    d = decode_lines([TYPE1])
    (rej,) = d.reject_rows()
    assert rej["reason"] == "missing_timestamp"
    assert rej["mmsi"] == 371798000 and rej["lat"] == pytest.approx(48.381633)
    naive_default = datetime(2024, 5, 1, 12, 0)  # naive = UTC
    (row,) = decode_lines([TYPE1], default_time=naive_default).obs_rows()
    assert row["timestamp"] == T0


def test_unreadable_tag_block_time_is_an_invalid_timestamp():
    (rej,) = decode_lines([rf"\c:yesterday*00\{TYPE1}"]).reject_rows()
    assert rej["reason"] == "invalid_timestamp"


def test_not_available_sentinels_become_null():
    # pyais-encoded: type 1 with lat 91, lon 181, SOG 102.3, COG 360, heading 511;
    # type 27 with lat 91, lon 181, speed 63, course 511.
    lines = [
        "!AIVDO,1,1,,A,139>JhOP?w<tSF0l4Q@>4?v1P000,0*62",
        "!AIVDO,1,1,,A,K39>JhSn`>6bTOwt,0*56",
    ]
    rows = decode_lines(lines, default_time=T0).obs_rows()
    for row in rows:
        assert row["lat"] is None and row["lon"] is None
        assert row["sog_kn"] is None and row["cog_deg"] is None and row["heading_deg"] is None
        assert row["has_position"] is True  # the cleaner judges the missing coordinates


def test_type19_carries_position_and_static_fields():
    (row,) = decode_lines([TYPE19], default_time=T0).obs_rows()
    assert row["has_position"] is True and row["transceiver_class"] == "B"
    assert row["vessel_name"] == "CAPT.J.RIMES"
    assert row["sog_kn"] == pytest.approx(8.7, abs=1e-4)
    assert row["lat"] == pytest.approx(29.543695, abs=1e-6)


def test_type24_parts_a_and_b():
    lines = ["!AIVDO,1,1,,A,H39>Ji1<D61LU@<P000000000000,0*00",
             "!AIVDO,1,1,,A,H39>Ji4U0000000?Hijkl0104220,0*6C"]  # fmt: skip
    a, b = decode_lines(lines, default_time=T0).obs_rows()
    assert (a["vessel_name"], a["has_position"], a["transceiver_class"]) == (
        "SEA WITCH",
        False,
        "B",
    )
    assert (b["callsign"], b["ship_type"], b["length_m"], b["width_m"]) == ("OX1234", 37, 12.0, 4.0)


def test_type27_takes_the_class_the_file_showed_for_that_mmsi():
    t27 = "!AIVDO,1,1,,A,K39>Jhh0H1SwN65`,0*51"  # MMSI 211000003, 12 kn, 90 deg
    t1 = "!AIVDO,1,1,,A,139>JhhP1p0frsPO;nH3Q2n1P000,0*40"  # same MMSI, class A
    first, _, again = decode_lines([t27, t1, t27], default_time=T0).obs_rows()
    assert first["transceiver_class"] is None  # unknown yet: no guess
    assert again["transceiver_class"] == "A"
    assert (again["sog_kn"], again["cog_deg"]) == (12.0, 90.0)
    assert again["lat"] == pytest.approx(54.5, abs=0.01)


def test_base_station_and_binary_messages_are_counted_not_dropped():
    d = decode_lines([TYPE4, TYPE8], default_time=T0)
    assert d.observations.num_rows == 0
    base, binary = d.reject_rows()
    assert (base["reason"], base["mmsi"]) == ("non_vessel_mmsi", 3669702)
    assert binary["reason"] == "unsupported_message"


def test_truncated_position_report_is_a_parse_error_not_zeros():
    (rej,) = decode_lines(["!AIVDM,1,1,,A,KpiGSwcw,0*03,d-123,r09SMAR1,1272443927"]).reject_rows()
    assert rej["reason"] == "parse_error" and "bits" in rej["detail"]


def test_gatehouse_wrapper_before_its_sentence_sets_the_time():
    lines = ["$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17",
             "!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0*09"]  # fmt: skip
    d = decode_lines(lines)
    (row,) = d.obs_rows()
    assert row["timestamp"] == ts("2008-05-09T00:00:00.010")
    assert (d.stats.wrapper_lines, d.stats.records) == (1, 1)  # the wrapper is not a record
    assert_tally(d)


def test_exactearth_wrappers_after_and_before_are_matched_by_checksum():
    # amsa_risky_exact-earth-augmented-2.txt, lines 2-8 (1AIS_S in the online-data field)
    lines = [
        "!AIVDM,1,1,,A,144gjIP0085KKPQHMPjT81Sb1PSL,0*22,1328133720087",
        "$PGHP,1,2012,2,1,20,19,5,651,316,2,316000002,1AIS_S,22*4B,1328133720089",
        "!AIVDM,1,1,,A,13F=qV8P1L5GG8QK6<JKHOv02HRu,0*6D,1328133720097",
        "$PGHP,1,2012,2,1,20,19,11,720,316,2,316000002,1AIS_S,6D*0B,1328133720098",
        "$PGHP,1,2012,2,1,20,19,25,305,316,2,316000002,1AIS_S,09*74,1328133720098",
        "!AIVDM,1,1,,A,144gjIP0085KKTAHMPjT5iRH1p7I,0*09,1328133720099",
    ]
    d = decode_lines(lines)
    assert [r["timestamp"] for r in d.obs_rows()] == [
        ts("2012-02-01T20:19:05.651"),
        ts("2012-02-01T20:19:11.720"),
        ts("2012-02-01T20:19:25.305"),
    ]
    assert d.stats.wrappers_applied == 3
    assert_tally(d)


def test_wrapper_with_bad_checksum_is_quarantined():
    d = decode_lines(["$PGHP,1,2009,5,9,0,0,0,10,338,2,,1,09*17"])
    assert d.reasons() == ["checksum_error"]


def test_two_sentences_on_one_line_spire_style():
    line = (
        r"\c:1662052384,s:FM112*00\!AIVDM,2,1,1,A,502CuBh0000000000000000000000000000000000000"
        r"040Ht00000000000,0*37\c:1662052384,s:FM112*00\!AIVDM,2,2,1,A,00000000000,2*25"
    )
    d = decode_lines([line])
    (row,) = d.obs_rows()
    assert row["timestamp"] == ts("2022-09-01T17:13:04")
    assert (d.stats.units, d.stats.records) == (2, 1)
    assert_tally(d)


def test_gz_and_zip_inputs_match_plain(tmp_path):
    lines = [rf"\c:1418172113*00\{TYPE1}", *TYPE5, "$GPGGA,1*00"]
    text = "\n".join(lines) + "\n"
    plain = tmp_path / "log.nmea"
    plain.write_text(text)
    gz = tmp_path / "log.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    zipped = tmp_path / "archive.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("inner.nmea", text)
    expected = decode_file(plain, default_time=T0)
    for path in (gz, zipped):
        got = decode_file(path, default_time=T0)
        assert got.observations.drop(["source_file"]).equals(
            expected.observations.drop(["source_file"])
        )
        assert got.reasons() == expected.reasons() == ["not_ais"]
    assert decode_file(zipped).observations.column("source_file")[0].as_py() == str(zipped)


def test_batches_respect_batch_records_and_add_up(tmp_path):
    path = tmp_path / "log.nmea"
    path.write_text("\n".join([TYPE1] * 5 + ["junk"] * 2) + "\n")
    batches = list(read_nmea(path, default_time=T0, batch_records=2))
    assert all(1 <= b.n_records <= 2 for b in batches)
    assert sum(b.n_records for b in batches) == 7
    assert sum(b.observations.num_rows for b in batches) == 5


def test_empty_file_yields_one_empty_batch(tmp_path):
    path = tmp_path / "empty.nmea"
    path.write_text("# nothing here\n\n")
    (batch,) = read_nmea(path)
    assert batch.n_records == 0


POOL = [
    TYPE1,
    *TYPE5,
    TYPE19,
    TYPE4,
    TYPE8,
    rf"\c:1418172113*00\{TYPE1}",
    "$PGHP,1,2012,2,1,20,19,5,651,316,2,316000002,1AIS_S,22*4B,1328133720089",
    "!AIVDM,1,1,,A,144gjIP0085KKPQHMPjT81Sb1PSL,0*22,1328133720087",
    "!AIVDM,2,2,6,B,00000000000,2*21",
    "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D",
    "# comment",
    "",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(POOL),
            st.sampled_from(POOL).map(lambda s: s[: len(s) // 2]),  # cut lines
            st.text(alphabet="!$\\*,0123456789ABCDEFVDMaivdm:c", max_size=40),
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_any_mix_of_lines_is_fully_accounted_for(lines, with_default):
    d = decode_lines(lines, default_time=T0 if with_default else None, batch_records=3)
    assert_tally(d)
    assert d.stats.lines == len(lines)


def test_utf8_byte_order_mark_on_the_first_line_is_ignored():
    d = decode_lines([b"\xef\xbb\xbf" + TYPE1.encode()], default_time=T0)
    assert d.observations.num_rows == 1 and d.rejects.num_rows == 0
