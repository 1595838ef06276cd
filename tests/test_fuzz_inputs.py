"""Fuzzing the inputs: whatever the lines hold, nothing crashes and nothing is lost.

Hypothesis builds NMEA logs and MarineCadastre CSV files from valid records,
mutations of them and hostile fields (epochs such as ``1e300``, years 0001
to 9999, numbers too large for any integer, bytes that are not UTF-8, stray
quotes and separators). Properties, through the real ingest:

* the ingest either succeeds or raises :class:`IngestError` (one line);
  nothing else escapes;
* every input record is accepted or quarantined (``accepted + quarantined
  == rows in``), and ``stswatch verify`` finds the store clean, its tallies
  matching the quarantine reason by reason;
* every stored time is plausible and converts to Python and pandas times
  (the ``OverflowError`` that crashed ``run`` and ``detect``);
* ingesting the same file again changes nothing.

Bounded in CI (``STSWATCH_FUZZ_EXAMPLES``, default 100 files per format, ~10 s
in all); run it longer by hand, e.g.::

    STSWATCH_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz_inputs.py
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from helpers_ingest import MC_HEADER, store_digest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.util import compute_checksum

from stswatch.pipeline.ingest import IngestError, ingest_files
from stswatch.pipeline.storage import Store
from stswatch.pipeline.verify import check_store

EXAMPLES = int(os.environ.get("STSWATCH_FUZZ_EXAMPLES", "100"))
NOW = datetime(2026, 12, 4, tzinfo=UTC)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------- NMEA
#: Valid sentences: class A and B positions, a two-part type 5, a base station.
VALID = [
    "!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26",
    "!AIVDM,1,1,,B,B52K>;h00Fc>jpUlNV@ikwpUoP06,0*4C",
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
    "!AIVDM,1,1,,A,402R3dAv>3CVQo:3kR>0?qS00@2v,0*66",
    "!AIVDO,1,1,,,B>qc:0@00>n7`cKSbWRoGwVUoP06,0*5E",
]
_hostile_numbers = st.one_of(
    st.sampled_from(["1e300", "9e18", "-215002306747", "1e17", "-1", "nan", "inf", "0", "-0"]),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(946_684_800, 1_800_000_000).map(str),  # plausible epochs
    st.text(alphabet="0123456789.eE+-x", max_size=25),
)


def _with_checksum(body: str, lead: str = "!") -> str:
    return f"{lead}{body}*{compute_checksum(lead + body + '*00'):02X}"


def _tagged(sentence: str, c: str, checksum: str) -> str:
    return f"\\s:rx,c:{c}*{checksum}\\{sentence}"


def _mutate(line: str, data: st.DataObject) -> str:
    pos = data.draw(st.integers(0, max(len(line) - 1, 0)))
    kind = data.draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
    if kind == "flip":
        return line[:pos] + data.draw(st.characters(max_codepoint=0x2FF)) + line[pos + 1 :]
    if kind == "cut":
        return line[:pos]
    if kind == "insert":
        return line[:pos] + data.draw(st.text(max_size=8)) + line[pos:]
    return line + line


@st.composite
def nmea_line(draw: st.DrawFn) -> bytes:
    data = draw(st.data())
    kind = draw(
        st.sampled_from(["valid", "tagged", "trailing", "pghp", "mutated", "bytes", "blank"])
    )
    sentence = draw(st.sampled_from(VALID))
    if kind == "valid":
        line = sentence
    elif kind == "tagged":
        line = _tagged(sentence, draw(_hostile_numbers), draw(st.sampled_from(["00", "3F", ""])))
    elif kind == "trailing":
        line = f"{sentence},{draw(_hostile_numbers)}"
    elif kind == "pghp":
        fields = ",".join(draw(_hostile_numbers) for _ in range(7))
        quoted = draw(st.sampled_from(["26", "4C", "1C", "ZZ"]))
        line = _with_checksum(f"PGHP,1,{fields},,,,{quoted}", lead="$")
    elif kind == "mutated":
        line = _mutate(draw(st.sampled_from(VALID)), data)
    elif kind == "bytes":
        return draw(st.binary(max_size=120)).replace(b"\n", b" ")
    else:
        line = draw(st.sampled_from(["", "   ", "\t", "# comment"]))
    return line.encode("utf-8", "surrogateescape")


# -------------------------------------------------------------------- CSV
_year = st.integers(1, 9999).map(lambda y: f"{y:04d}")
_time = st.one_of(
    st.builds(
        lambda y, mo, d, h: f"{y}-{mo:02d}-{d:02d}T{h:02d}:00:00",
        st.one_of(st.just("2022"), _year),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
    ),
    st.sampled_from(["2022-01-03T10:00:00", "2022-01-03 10:00:00", "2022-01-03T10:00:00Z", ""]),
    st.text(max_size=20),
)
_number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**25), 10**25).map(str),
    st.sampled_from(["", "91", "181", "102.3", "511", "360", "-0", "1e308", "0x10"]),
)
_mmsi = st.one_of(
    st.sampled_from(["636092733", "351234567", "366000001", "367379190.5", "123", "", "0"]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True).map(repr),
)
_text = st.one_of(
    st.sampled_from(["TEST SHIP", "", "IMO9192612", "A", "B", "70"]),
    st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")),
)


@st.composite
def csv_row(draw: st.DrawFn) -> bytes:
    def text() -> bytes:
        value = draw(_text)
        return value if isinstance(value, bytes) else value.encode()

    fields = [
        draw(_mmsi).encode(),
        draw(_time).encode("utf-8", "surrogateescape"),
        draw(_number).encode(),  # LAT
        draw(_number).encode(),  # LON
        draw(_number).encode(),  # SOG
        draw(_number).encode(),  # COG
        draw(_number).encode(),  # Heading
        text(),  # VesselName
        text(),  # IMO
        text(),  # CallSign
        text(),  # VesselType
        draw(_number).encode(),  # Status
        draw(_number).encode(),  # Length
        draw(_number).encode(),  # Width
        draw(_number).encode(),  # Draft
        b"",  # Cargo
        text(),  # TransceiverClass
    ]
    extra = draw(st.sampled_from([0, 0, 0, 1, -1]))
    if extra > 0:
        fields.append(b"surplus")
    elif extra < 0:
        fields.pop()
    return b",".join(fields)


# ------------------------------------------------------------ properties
def _check_ingest(path: Path, store_root: Path) -> None:
    try:
        report = ingest_files([path], store_root, now=NOW)
    except IngestError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert report.balanced, report.summary()
    verify = check_store(Store(store_root))
    assert verify.clean, verify.summary()
    store = Store(store_root)
    for table in ("positions", "vessels"):
        for day in store.days(table):
            ts = store.read_day(table, day, columns=["timestamp"])["timestamp"]
            assert all(datetime(2000, 1, 1, tzinfo=UTC) <= t <= NOW.replace(year=2027)
                       for t in ts.to_pylist())  # fmt: skip
            pd.to_datetime(ts.to_pandas())  # no OverflowError
    digest = store_digest(store_root)
    again = ingest_files([path], store_root, now=NOW)
    assert store_digest(store_root) == digest, "re-ingest changed the store"
    assert (again.accepted, again.quarantined_by_reason) == (
        report.accepted,
        report.quarantined_by_reason,
    )


@FUZZ
@given(st.lists(nmea_line(), min_size=1, max_size=40))
def test_fuzzed_nmea_logs_lose_nothing_and_crash_nothing(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.nmea"
        # a valid first line: the file is recognised as NMEA, the rest is fuzz
        path.write_bytes(b"\n".join([VALID[0].encode(), *lines]) + b"\n")
        _check_ingest(path, Path(tmp) / "store")


@FUZZ
@given(st.lists(csv_row(), min_size=1, max_size=40))
def test_fuzzed_csv_rows_lose_nothing_and_crash_nothing(rows: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "AIS_2022_01_03.csv"
        path.write_bytes(b"\n".join([MC_HEADER.encode(), *rows]) + b"\n")
        _check_ingest(path, Path(tmp) / "store")
