"""Physical line handling of the NMEA reader: what one line or sentence holds.

Split out of :mod:`stswatch.pipeline.readers.nmea` (see that module's docstring for the
accounting rules) so that each concept lives in its own module. This one holds
everything that looks at a single physical line or sentence unit, before any
multi-sentence grouping: splitting a line into sentence units (Spire-style
concatenation), NMEA 4.0 tag blocks and their ``c:`` time, epochs appended after
the checksum (USCG/exactEarth), Gatehouse ``$PGHP`` wrapper times, checksum
details, and :class:`_LineReader`, the part of the decoder that recognises
talkers and sentence kinds (``VDM``/``VDO``, ``$PGHP``, other NMEA, garbage) and
hands each unit on to the assembly (:mod:`stswatch.pipeline.readers.nmea_assembly`).

The helpers are pure functions; :class:`_LineReader` is a mixin of
:class:`stswatch.pipeline.readers.nmea_decode._Decoder`, which provides the state and the
``_reject``/``_on_wrapper``/``_on_fragment`` methods it calls.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from pyais.exceptions import AISBaseException
from pyais.messages import AISSentence, GatehouseSentence, NMEASentenceFactory
from pyais.util import compute_checksum

from stswatch.pipeline.schemas import QuarantineReason

if TYPE_CHECKING:
    from stswatch.pipeline.readers.nmea import NmeaStats

#: Start of a further sentence on the same physical line (Spire-style
#: concatenation): a tag block followed by a sentence, or a bare sentence tag.
_NEXT_UNIT = re.compile(rb"\\[^\\]*\\[!$]|[!$][A-Za-z]{2}[A-Za-z]{2,3},")

#: What decoding one sentence may raise; each becomes a quarantine row. OverflowError:
#: a numeric field too large for a C integer (``$PGHP,1,99999999999999999999,...``).
_ERRORS = (
    AISBaseException,
    ValueError,
    IndexError,
    TypeError,
    KeyError,
    UnicodeDecodeError,
    OverflowError,
)
#: Times the reader hands on, in ms since 1970: years 1..9999. Anything beyond
#: is not a time (``c:1e300``, ``c:9e18``) and must not overflow an int64 or a
#: datetime downstream; within it, the cleaner judges plausibility.
MIN_MS = -62_135_596_800_000
MAX_MS = 253_402_300_799_999


def _split_units(line: bytes) -> list[bytes]:
    """Split a physical line into sentence units (almost always just one).

    Fast path: one ``*`` (or two with a leading tag block) means one sentence.
    """
    stars = line.count(b"*")
    if stars <= 1 or (stars == 2 and line[:1] == b"\\"):
        return [line]
    units: list[bytes] = []
    start = 0
    while True:
        pos = start
        if line[pos : pos + 1] == b"\\":
            close = line.find(b"\\", pos + 1)
            if close < 0:
                break
            pos = close + 1
        star = line.find(b"*", pos)
        if star < 0:
            break
        nxt = _NEXT_UNIT.search(line, star + 1)
        if nxt is None:
            break
        units.append(line[start : nxt.start()])
        start = nxt.start()
    units.append(line[start:])
    return units


def _epoch_to_ms(text: str) -> int:
    """Epoch seconds or milliseconds (by magnitude: > 1e11 cannot be seconds) to ms.

    ValueError for anything that is not a time of years 1..9999 (NaN, inf,
    1e300): no value read from a file can make a time conversion raise later.
    """
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    ms = value if value > 1e11 else value * 1000
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError(text)
    return round(ms)


def _parse_tag_block(raw: bytes) -> tuple[int | None, str | None]:
    """Return (receiver time in ms or None, error detail or None) of a tag block.

    Parsed here rather than with :class:`pyais.messages.TagBlock` because pyais
    discards the whole block when its ``*hh`` checksum is missing, losing the time.
    """
    body = raw.rpartition(b"*")[0] if b"*" in raw else raw
    for item in body.split(b","):
        if item[:2] == b"c:":
            text = item[2:].decode("ascii", "replace")
            try:
                return _epoch_to_ms(text), None
            except (ValueError, OverflowError):
                return None, f"tag block c:{text!r} is not an epoch"
    return None, None


def _trailing_epoch_ms(trailing: bytes) -> int | None:
    """First epoch field after the checksum (USCG ``,rSTATION,1272412827``, exactEarth
    ``,1328133720012``): 10 digits are seconds, 13 digits milliseconds."""
    for item in trailing.split(b","):
        whole, dot, frac = item.partition(b".")
        if whole.isdigit() and (not dot or frac.isdigit()):
            if len(whole) == 10:
                return round(float(item) * 1000)
            if len(whole) == 13 and not dot:
                return int(whole)
    return None


def _quoted_hex(raw: bytes) -> int | None:
    try:
        return int(raw, 16)
    except ValueError:
        return None


def _checksum_detail(sentence: bytes) -> str:
    return f"checksum {_text(sentence[-2:])} in line, {compute_checksum(sentence):02X} computed"


def _pghp_time_ms(sentence: bytes) -> tuple[int, int | None]:
    """(UTC time in ms, quoted checksum of the stamped AIS sentence) of a ``$PGHP,1``.

    pyais's :class:`~pyais.messages.GatehouseSentence` is used when it accepts the
    line; exactEarth writes ``1AIS_S`` where pyais expects the integer online-data
    flag (and pyais then rejects the line), so the date fields are read directly.
    """
    fields = sentence[: sentence.rfind(b"*")].split(b",")
    if fields[1] != b"1":
        raise ValueError(f"$PGHP message type {_text(fields[1])} carries no time")
    quoted = _quoted_hex(fields[-1])
    try:
        wrapper = cast(GatehouseSentence, NMEASentenceFactory.produce(sentence))
        when = wrapper.timestamp
    except AISBaseException:
        year, month, day, hour, minute, second, millis = (int(f) for f in fields[2:9])
        when = datetime(year, month, day, hour, minute, second, millis * 1000)
    return _to_ms(when), quoted


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace")


def _to_ms(dt: datetime) -> int:
    """Naive datetimes are taken as UTC (AIS logs are UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


class _LineReader:
    """Decoder mixin: physical lines -> sentence units -> AIS fragments or wrappers."""

    stats: NmeaStats

    if TYPE_CHECKING:  # provided by _Decoder / _Assembler

        def _reject(
            self, reason: QuarantineReason, detail: str | None, line: int, raw: bytes | None
        ) -> None: ...

        def _on_wrapper(self, sentence: bytes, line_no: int, unit: bytes) -> None: ...

        def _on_fragment(
            self,
            s: AISSentence,
            line_no: int,
            unit: bytes,
            tag_ms: int | None,
            trail_ms: int | None,
            ts_error: str | None,
        ) -> None: ...

    # -- input -------------------------------------------------------------- #
    def feed_line(self, line_no: int, line: bytes) -> None:
        stats = self.stats
        stats.lines += 1
        line = line.strip()
        if line_no == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
        if not line:
            stats.blank_lines += 1
            return
        if line[:1] == b"#":
            stats.comment_lines += 1
            return
        stats.sentence_lines += 1
        for unit in _split_units(line):
            stats.units += 1
            self._feed_unit(line_no, unit)

    def _feed_unit(self, line_no: int, unit: bytes) -> None:
        tag_ms: int | None = None
        ts_error: str | None = None
        body = unit
        if unit[:1] == b"\\":
            close = unit.find(b"\\", 1)
            if close < 0:
                self._reject(QuarantineReason.PARSE_ERROR, "unterminated tag block", line_no, unit)
                return
            tag_ms, ts_error = _parse_tag_block(unit[1:close])
            body = unit[close + 1 :]
        if body[:1] not in (b"!", b"$"):
            self._reject(QuarantineReason.PARSE_ERROR, "not an NMEA sentence", line_no, unit)
            return
        tag = body[1:].split(b",", 1)[0].split(b"*", 1)[0].upper()
        if tag[2:] not in (b"VDM", b"VDO") and tag != b"PGHP":
            self._reject(QuarantineReason.NOT_AIS, f"{_text(tag)} sentence", line_no, unit)
            return
        star = body.find(b"*")
        if star < 0 or len(body) < star + 3:
            self._reject(QuarantineReason.PARSE_ERROR, "sentence without checksum", line_no, unit)
            return
        sentence, trailing = body[: star + 3], body[star + 3 :]
        if tag == b"PGHP":
            self._on_wrapper(sentence, line_no, unit)
            return
        try:
            parsed = NMEASentenceFactory.produce(sentence)
        except _ERRORS as exc:
            detail = f"{type(exc).__name__}: {exc}"[:200]
            self._reject(QuarantineReason.PARSE_ERROR, detail, line_no, unit)
            return
        if not parsed.is_valid:
            self._reject(QuarantineReason.CHECKSUM_ERROR, _checksum_detail(sentence), line_no, unit)
            return
        trail_ms = _trailing_epoch_ms(trailing) if trailing else None
        self._on_fragment(cast(AISSentence, parsed), line_no, unit, tag_ms, trail_ms, ts_error)
