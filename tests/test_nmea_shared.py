"""NMEA reader on the real shared logs (../shared/data/nmea, skipped when absent).

gpsd's sample states the expected decoded values in comments: those are our
golden values. Every shared log must decode without crashing with every line
and record accounted for, and timestamped logs must give the UTC times one can
work out by hand from the raw epoch fields.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from helpers_nmea import assert_tally, decode_file, decode_lines, golden_blocks

pytestmark = pytest.mark.shared_data

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def nmea_dir(shared_data: Path) -> Path:
    folder = shared_data / "nmea"
    if not folder.is_dir():
        pytest.skip(f"no NMEA samples in {folder}")
    return folder


def _number(text: str) -> float:
    return float(text.rstrip("|").split()[0])


# --------------------------------------------------------------------------- #
# gpsd golden values
# --------------------------------------------------------------------------- #


def _check_golden(row: dict, expected: dict[str, str]) -> list[str]:
    """Compare one decoded row with gpsd's stated values; return mismatches."""
    problems = []

    def near(field: str, want: float | None, got: float | None, tol: float) -> None:
        if want is None:
            ok = got is None
        else:
            ok = got is not None and math.isclose(got, want, abs_tol=tol)
        if not ok:
            problems.append(f"{field}: expected {want}, got {got}")

    for key, text in expected.items():
        if key == "mmsi" and row["mmsi"] != int(text):
            problems.append(f"mmsi: expected {text}, got {row['mmsi']}")
        elif key in ("lat", "lon"):
            near(key, _number(text), row[key], 1e-5)
        elif key == "sog_kn":
            want = _number(text)
            near(key, None if want >= 102.3 else want, row[key], 1e-3)
        elif key == "cog_deg":
            want = _number(text)
            near(key, None if want >= 360 else want, row[key], 1e-3)
        elif key == "heading_deg":
            want = _number(text)
            near(key, None if want == 511 else want, row[key], 0)
        elif key in ("vessel_name", "callsign"):
            if row[key] != text.strip():
                problems.append(f"{key}: expected {text.strip()!r}, got {row[key]!r}")
        elif key in ("imo", "ship_type"):
            want_int = int(_number(text)) or None
            if row[key] != want_int:
                problems.append(f"{key}: expected {want_int}, got {row[key]}")
        elif key == "draught_m":
            near(key, _number(text) or None, row[key], 1e-4)
    dims = {k: int(_number(expected[k])) for k in ("to_bow", "to_stern", "to_port", "to_starboard")
            if k in expected}  # fmt: skip
    if {"to_bow", "to_stern"} <= dims.keys():
        near("length_m", (dims["to_bow"] + dims["to_stern"]) or None, row["length_m"], 0)
    if {"to_port", "to_starboard"} <= dims.keys():
        near("width_m", (dims["to_port"] + dims["to_starboard"]) or None, row["width_m"], 0)
    return problems


def test_gpsd_golden_values_match(nmea_dir: Path):
    checked_types: set[int] = set()
    failures: list[str] = []
    for block in golden_blocks(nmea_dir / "gpsd_sample.aivdm"):
        msg_type = int(block.expected.get("msg_type", "0") or 0)
        if msg_type not in (1, 2, 3, 5, 18, 19, 24, 27) or "mmsi" not in block.expected:
            continue
        d = decode_lines(block.sentences, default_time=T0)
        rows = d.obs_rows()
        if len(rows) != 1:
            failures.append(f"line {block.first_line}: {len(rows)} rows, rejects {d.reasons()}")
            continue
        problems = _check_golden(rows[0], block.expected)
        failures += [f"line {block.first_line} (type {msg_type}): {p}" for p in problems]
        checked_types.add(msg_type)
    assert not failures, "\n".join(failures)
    # the golden file covers these; a parser change that skipped them must fail here
    assert checked_types >= {1, 2, 3, 5, 18, 19, 24}


def test_gpsd_non_vessel_messages_keep_their_mmsi(nmea_dir: Path):
    checked = 0
    for block in golden_blocks(nmea_dir / "gpsd_sample.aivdm"):
        if block.expected.get("msg_type") not in ("4", "21") or "mmsi" not in block.expected:
            continue
        (rej,) = decode_lines(block.sentences, default_time=T0).reject_rows()
        assert rej["reason"] == "non_vessel_mmsi"
        assert rej["mmsi"] == int(block.expected["mmsi"])
        checked += 1
    assert checked >= 2


# --------------------------------------------------------------------------- #
# Every shared log
# --------------------------------------------------------------------------- #

SHARED_LOGS = [
    "aisdb_test_data_20211101.nm4",
    "amsa_risky_ais.txt.gz",
    "amsa_risky_exact-earth-augmented-2.txt",
    "amsa_risky_exact-earth-augmented-3.txt",
    "amsa_risky_exact-earth-augmented.txt",
    "amsa_risky_exact-earth-with-tag-block.txt",
    "amsa_risky_nmea-timestamped.txt",
    "gfw_aistools_mixed_types.nmea",
    "gfw_aistools_multi-part.nmea",
    "gfw_aistools_sample.nmea",
    "gfw_aistools_spire-test.nmea",
    "gpsd322_ais-nmea.log",
    "gpsd_ais-nmea-type6-fid55.log",
    "gpsd_sample.aivdm",
    "libais_tagblock.nmea",
    "libais_test.aivdm",
    "libais_typeexamples.nmea",
    "pyais_ais_test_messages.txt",
    "pyais_gatehouse.nmea",
    "pyais_mixed.txt",
    "pyais_nmea_data_sample.txt",
    "pyais_timestamped.ais",
]


def test_list_covers_every_shared_log(nmea_dir: Path):
    assert sorted(p.name for p in nmea_dir.iterdir() if p.is_file()) == sorted(SHARED_LOGS)


@pytest.mark.parametrize("name", SHARED_LOGS)
def test_every_shared_log_decodes_with_an_exact_tally(nmea_dir: Path, name: str):
    d = decode_file(nmea_dir / name)
    assert_tally(d)
    assert d.stats.records > 0
    # quarantined rows always say why, and untyped ones keep their raw text
    assert d.rejects.column("reason").null_count == 0
    untyped = pc.is_in(
        d.rejects["reason"],
        pa.array(["parse_error", "checksum_error", "not_ais", "incomplete_multipart"]),
    )
    assert d.rejects.filter(untyped).column("raw").null_count == 0
    # accepted rows always have a time and an MMSI
    assert d.observations.column("timestamp").null_count == 0
    assert d.observations.column("mmsi").null_count == 0


def test_amsa_log_quarantines_malformed_lines_with_reasons(nmea_dir: Path):
    d = decode_file(nmea_dir / "amsa_risky_ais.txt.gz", default_time=T0)
    q = d.stats.quarantined
    assert d.stats.lines == 44_687
    assert q["not_ais"] > 10_000  # $PSHI, $AIVSI, $BSALR, $GPGGA... chatter
    assert q["checksum_error"] >= 1 and q["parse_error"] >= 1
    assert q["incomplete_multipart"] >= 1
    assert "missing_timestamp" not in q  # a default time was given
    n_pos = pc.sum(d.observations["has_position"]).as_py()
    assert n_pos >= 25_000  # README: 25,481 position reports


# --------------------------------------------------------------------------- #
# Times worked out by hand from the raw lines
# --------------------------------------------------------------------------- #


def _time_at(d, row_number: int) -> datetime:
    (ts,) = [r["timestamp"] for r in d.obs_rows() if r["row_number"] == row_number]
    return ts


@pytest.mark.parametrize(
    ("name", "row_number", "expected"),
    [
        # \c:1420030798*00\!ABVDM...  -> date -u -d @1420030798
        ("amsa_risky_nmea-timestamped.txt", 1, "2014-12-31T12:59:58"),
        # !BSVDM,...,2*67,1328133720012 (no $PGHP for it): trailing epoch in ms
        ("amsa_risky_exact-earth-augmented-2.txt", 1, "2012-02-01T22:02:00.012"),
        # !AIVDM,...*22,1328133720087 then $PGHP,1,2012,2,1,20,19,5,651,...,22*4B
        ("amsa_risky_exact-earth-augmented-2.txt", 2, "2012-02-01T20:19:05.651"),
        # ...,r003669946,1325394060,1325394001: the first epoch
        ("libais_typeexamples.nmea", 2, "2012-01-01T05:01:00"),
        # ...,0*70,b003669794,1272412827
        ("libais_test.aivdm", 4, "2010-04-28T00:00:27"),
        # \c:1599239526500,...: milliseconds
        ("gfw_aistools_sample.nmea", 1, "2020-09-04T17:12:06.500"),
        # \g:1-2-1604,s:rORBCOMM008,c:1418169601,...: two-part type 5
        ("libais_tagblock.nmea", 1, "2014-12-10T00:00:01"),
        # $PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17 before !AIVDM...*09
        ("pyais_gatehouse.nmea", 2, "2008-05-09T00:00:00.010"),
    ],
)
def test_timestamped_logs_give_the_right_utc_times(nmea_dir, name, row_number, expected):
    d = decode_file(nmea_dir / name)
    want = datetime.fromisoformat(expected).replace(tzinfo=UTC)
    assert _time_at(d, row_number) == want
