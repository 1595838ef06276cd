"""Raw NMEA 0183 AIS logs -> :data:`OBSERVATION_SCHEMA` batches, decoded with pyais.

Real AIS logs are messy: several talkers (``!AIVDM``, ``!ABVDM``, ``!BSVDM``...),
messages split over several sentences, NMEA 4.0 tag blocks carrying the receive
time, USCG/exactEarth epochs appended *after* the checksum, Gatehouse ``$PGHP``
wrapper lines, GPS chatter, truncated and corrupted lines. pyais decodes the AIS
payloads; this module adds what a pipeline needs around it and pyais's own
stream reader does not give: nothing is skipped silently. pyais's
``FileReaderStream`` drops invalid sentences and orphan fragments without a trace,
so we drive :class:`pyais.messages.NMEASentenceFactory` ourselves and account for
every line.

What an input record is (so that ``accepted + quarantined == records`` holds):

* blank lines and ``#`` comment lines are not records;
* a physical line can hold several sentences (Spire exports concatenate
  tag-blocked sentences); each sentence is a *unit*;
* a well-formed ``$PGHP`` Gatehouse wrapper is metadata (it timestamps a
  neighbouring AIS sentence), not a record;
* every assembled AIS message is **one** record, however many sentences it spans;
* every unit that could not become part of a message is one record of its own:
  ``not_ais`` (other NMEA sentences), ``checksum_error``, ``parse_error`` (no
  checksum, not NMEA at all, undecodable or truncated payload) or
  ``incomplete_multipart`` (one record per orphan fragment).

Hence ``records == units - wrapper_lines - merged_fragments``, which the tests
check on every shared log next to the batch row counts (see :class:`NmeaStats`).

Times (UTC, ms), first available wins: ``$PGHP`` wrapper time (satellite receive
time, matched to its AIS sentence by the checksum it quotes), tag block ``c:``
(seconds, or milliseconds when > 1e11), a 10-digit (s) or 13-digit (ms) epoch
field after the checksum, then ``default_time``. Without any, the message is
quarantined ``missing_timestamp`` (``invalid_timestamp`` if the only time present
could not be read). Tag-block checksums are *not* enforced: real exports write
placeholders such as ``*00``; the sentence checksum is.

Message types: 1/2/3/18/19/27 give position rows (``has_position`` True; 19 also
carries static fields), 5 and 24 (part A name, part B call sign/type/size) give
static-only rows. Types 4 (base station), 9 (SAR aircraft) and 21 (aid to
navigation) come from stations that are not vessels: ``non_vessel_mmsi``. All
other types (6, 7, 8, 10-17, 20, 22, 23, 25, 26, 28 and the undefined 0) are
``unsupported_message``. Reject rows keep whatever could be decoded (MMSI,
position) for later analysis. A payload shorter than the fields we read is a
``parse_error``, never a row of made-up zeros.

Transceiver class: A for 1/2/3/5, B for 18/19/24. Message 27 is sent by both
classes and says nothing about it: it takes the class the same file already
showed for that MMSI, else null (no guess).

Multi-sentence messages are assembled per (talker, VDM/VDO, sequence id,
channel, fragment count), fragments in order; a new first fragment for the same
key abandons the unfinished one (its fragments go to ``incomplete_multipart``),
and so does the end of the file.

``row_number`` is the 1-based *physical line number* where the record starts (the
first fragment for multi-sentence messages): what ``sed -n Np`` needs to find it.
"""

from __future__ import annotations

import gzip
import re
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
from pyais.exceptions import AISBaseException
from pyais.messages import AISSentence, GatehouseSentence, NMEAMessage, NMEASentenceFactory
from pyais.util import compute_checksum

from pipeline.readers.batch import ReaderBatch
from pipeline.schemas import (
    OBSERVATION_SCHEMA,
    QUARANTINE_SCHEMA,
    TIMESTAMP_TYPE,
    QuarantineReason,
    Source,
)

__all__ = ["NmeaStats", "read_nmea", "read_nmea_lines"]

_SOURCE = str(Source.NMEA)

#: Message types that become observations.
_POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
_STATIC_TYPES = frozenset({5, 24})
#: Types sent by stations that are not vessels (base station, SAR aircraft, AtoN).
_NON_VESSEL_TYPES = frozenset({4, 9, 21})
#: Transceiver class implied by the message type (27 is sent by both classes, so
#: it takes the class the same file showed for that MMSI, if any).
_CLASS_BY_TYPE = {1: "A", 2: "A", 3: "A", 5: "A", 18: "B", 19: "B", 24: "B"}

#: Minimum payload bits holding every field we read (ITU-R M.1371 layouts):
#: a shorter payload is a truncated message whose "values" would be made-up zeros.
_MIN_BITS = {1: 137, 2: 137, 3: 137, 18: 133, 19: 301, 27: 96, 5: 302}
_MIN_BITS_24 = {0: 160, 1: 162}  # part A (name) / part B (through dimensions)

#: Message-27 sentinels (its own coarse encoding: knots, whole degrees).
_T27_SPEED_NA = 63.0
_T27_COURSE_NA = 511.0

#: Start of a further sentence on the same physical line (Spire-style
#: concatenation): a tag block followed by a sentence, or a bare sentence tag.
_NEXT_UNIT = re.compile(rb"\\[^\\]*\\[!$]|[!$][A-Za-z]{2}[A-Za-z]{2,3},")

#: How many neighbouring messages a ``$PGHP`` line is matched against (by the
#: checksum it quotes). exactEarth logs put the wrapper just before *or* after its
#: sentence, sometimes two wrappers in a row; a wider window only adds chances of
#: a 1-in-256 checksum collision.
_PGHP_WINDOW = 4

_ERRORS = (AISBaseException, ValueError, IndexError, TypeError, KeyError, UnicodeDecodeError)


@dataclass
class NmeaStats:
    """Line and record accounting of one :func:`read_nmea` call (filled as it runs).

    Identities the tests check on every log: ``lines == blank_lines +
    comment_lines + sentence_lines`` and ``records == units - wrapper_lines -
    merged_fragments == accepted + sum(quarantined.values())``.
    """

    lines: int = 0  #: physical lines read
    blank_lines: int = 0
    comment_lines: int = 0
    sentence_lines: int = 0  #: lines holding at least one unit
    units: int = 0  #: sentences (or garbage) seen; a line can hold several
    wrapper_lines: int = 0  #: well-formed $PGHP lines (metadata, not records)
    wrappers_applied: int = 0  #: of which timestamped an AIS message
    merged_fragments: int = 0  #: sentences absorbed into a multi-sentence message
    messages: int = 0  #: assembled AIS messages (each one record)
    records: int = 0
    accepted: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- #
# Small parsers (pure, per unit)
# --------------------------------------------------------------------------- #


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
    """Epoch seconds or milliseconds (by magnitude: > 1e11 cannot be seconds) to ms."""
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return round(value) if value > 1e11 else round(value * 1000)


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


def _str_or_none(value: Any) -> str | None:
    if not value:
        return None
    text = str(value).strip(" @")
    return text or None


def _positive_or_none(value: Any) -> Any:
    return value if value else None


def _dims(to_bow: Any, to_stern: Any, to_port: Any, to_starboard: Any) -> tuple[Any, Any]:
    """Length and width from the antenna offsets; 0 means "not available"."""
    length = (to_bow or 0) + (to_stern or 0)
    width = (to_port or 0) + (to_starboard or 0)
    return (float(length) if length else None, float(width) if width else None)


# --------------------------------------------------------------------------- #
# The decoder state machine (one per physical stream)
# --------------------------------------------------------------------------- #


@dataclass
class _Partial:
    """Fragments of a multi-sentence message waiting for the rest."""

    frags: list[AISSentence]
    lines: list[int]
    raws: list[bytes]
    tag_ms: int | None
    trail_ms: int | None
    ts_error: str | None


@dataclass
class _Message:
    """A complete AIS message, held back a few messages so that a ``$PGHP`` line
    that *follows* it (exactEarth order) can still give it its time."""

    msg: AISSentence
    line: int
    raw: bytes
    checksums: frozenset[int]
    tag_ms: int | None
    trail_ms: int | None
    ts_error: str | None
    pghp_ms: int | None = None


#: Observation columns the decoder fills per row (``source``/``source_file`` are constant).
_ROW_FIELDS = [f.name for f in OBSERVATION_SCHEMA if f.name not in ("source", "source_file")]
_REJ_FIELDS = ["reason", "detail", "row_number", "raw", "mmsi", "timestamp", "lat", "lon", "sog_kn"]


class _Decoder:
    """Line-by-line state machine for one stream: assembly buffers, the few
    messages held back for ``$PGHP`` matching, and the rows of the next batch."""

    def __init__(
        self, source_file: str, default_ms: int | None, stats: NmeaStats, classes: dict[int, str]
    ) -> None:
        self.source_file = source_file
        self.default_ms = default_ms
        self.stats = stats
        self.class_by_mmsi = classes
        self.rows: list[tuple[Any, ...]] = []  # accepted observations, _ROW_FIELDS order
        self.rej: dict[str, list[Any]] = {name: [] for name in _REJ_FIELDS}
        self.pending: dict[tuple[Any, ...], _Partial] = {}
        self.held: deque[_Message] = deque()  # recent messages a later $PGHP may stamp
        self.pghps: deque[tuple[int | None, int]] = deque()  # (quoted checksum, ms) unmatched

    # -- accounting ------------------------------------------------------- #
    @property
    def n_buffered(self) -> int:
        return len(self.rows) + len(self.rej["reason"])

    def _reject(
        self,
        reason: QuarantineReason,
        detail: str | None,
        line: int,
        raw: bytes | None,
        mmsi: int | None = None,
        ts_ms: int | None = None,
        lat: float | None = None,
        lon: float | None = None,
        sog: float | None = None,
    ) -> None:
        rej = self.rej
        rej["reason"].append(str(reason))
        rej["detail"].append(detail)
        rej["row_number"].append(line)
        rej["raw"].append(None if raw is None else _text(raw))
        rej["mmsi"].append(mmsi)
        rej["timestamp"].append(ts_ms)
        rej["lat"].append(lat)
        rej["lon"].append(lon)
        rej["sog_kn"].append(sog)
        q = self.stats.quarantined
        q[str(reason)] = q.get(str(reason), 0) + 1
        self.stats.records += 1

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

    def _on_wrapper(self, sentence: bytes, line_no: int, unit: bytes) -> None:
        """A ``$PGHP,1`` Gatehouse line: its last field quotes the checksum of the
        AIS sentence it stamps, which may come right before it (exactEarth logs)
        or right after it (Gatehouse feeds)."""
        if compute_checksum(sentence) != _quoted_hex(sentence[-2:]):
            self._reject(QuarantineReason.CHECKSUM_ERROR, _checksum_detail(sentence), line_no, unit)
            return
        try:
            ms, quoted = _pghp_time_ms(sentence)
        except _ERRORS as exc:
            detail = f"$PGHP: {type(exc).__name__}: {exc}"[:200]
            self._reject(QuarantineReason.PARSE_ERROR, detail, line_no, unit)
            return
        self.stats.wrapper_lines += 1
        if quoted is not None:
            for held in reversed(self.held):
                if held.pghp_ms is None and quoted in held.checksums:
                    held.pghp_ms = ms
                    self.stats.wrappers_applied += 1
                    return
        self.pghps.append((quoted, ms))
        if len(self.pghps) > _PGHP_WINDOW:
            self.pghps.popleft()  # matched nothing nearby: stays counted in wrapper_lines

    def _on_fragment(
        self,
        s: AISSentence,
        line_no: int,
        unit: bytes,
        tag_ms: int | None,
        trail_ms: int | None,
        ts_error: str | None,
    ) -> None:
        if s.frag_cnt == 1:
            self._complete(
                _Message(s, line_no, unit, frozenset((s.checksum,)), tag_ms, trail_ms, ts_error)
            )
            return
        key = (s.talker_id, s.type, s.seq_id, s.channel, s.frag_cnt)
        part = self.pending.get(key)
        if s.frag_num == 1:
            if part is not None:
                self._abandon(part, "superseded by a new first fragment")
            self.pending[key] = _Partial([s], [line_no], [unit], tag_ms, trail_ms, ts_error)
            return
        if part is None or len(part.frags) != s.frag_num - 1:
            if part is not None:
                del self.pending[key]
                self._abandon(part, f"fragment {s.frag_num}/{s.frag_cnt} arrived out of order")
            self._reject(
                QuarantineReason.INCOMPLETE_MULTIPART,
                f"fragment {s.frag_num}/{s.frag_cnt} without its predecessors",
                line_no,
                unit,
            )
            return
        part.frags.append(s)
        part.lines.append(line_no)
        part.raws.append(unit)
        part.tag_ms = part.tag_ms if part.tag_ms is not None else tag_ms
        part.trail_ms = part.trail_ms if part.trail_ms is not None else trail_ms
        part.ts_error = part.ts_error or ts_error
        if len(part.frags) < s.frag_cnt:
            return
        del self.pending[key]
        checksums = frozenset(f.checksum for f in part.frags)
        msg = NMEAMessage.assemble_from_iterable(part.frags)
        self.stats.merged_fragments += s.frag_cnt - 1
        self._complete(
            _Message(
                msg,
                part.lines[0],
                b"\n".join(part.raws),
                checksums,
                part.tag_ms,
                part.trail_ms,
                part.ts_error,
            )
        )

    def _abandon(self, part: _Partial, why: str) -> None:
        n = part.frags[0].frag_cnt
        for frag, line_no, raw in zip(part.frags, part.lines, part.raws, strict=True):
            detail = f"fragment {frag.frag_num}/{n}: {why}"
            self._reject(QuarantineReason.INCOMPLETE_MULTIPART, detail, line_no, raw)

    def _complete(self, message: _Message) -> None:
        self.stats.messages += 1
        for i, (quoted, ms) in enumerate(self.pghps):
            if quoted is None or quoted in message.checksums:
                message.pghp_ms = ms
                self.stats.wrappers_applied += 1
                del self.pghps[i]
                break
        self.held.append(message)
        if len(self.held) > _PGHP_WINDOW:
            self._emit(self.held.popleft())

    def finish(self) -> None:
        """End of stream: emit the held message and quarantine unfinished fragments."""
        while self.held:
            self._emit(self.held.popleft())
        for part in sorted(self.pending.values(), key=lambda p: p.lines[0]):
            self._abandon(part, "the rest never arrived")
        self.pending.clear()
        self.pghps.clear()

    # -- decoding --------------------------------------------------------- #
    def _emit(self, m: _Message) -> None:
        msg = m.msg
        if not msg.payload:
            self._reject(QuarantineReason.PARSE_ERROR, "empty payload", m.line, m.raw)
            return
        ais_id = msg.ais_id
        n_bits = len(msg.payload) * 6 - msg.fill_bits
        if ais_id not in _POSITION_TYPES and ais_id not in _STATIC_TYPES:
            reason = (
                QuarantineReason.NON_VESSEL_MMSI
                if ais_id in _NON_VESSEL_TYPES
                else QuarantineReason.UNSUPPORTED_MESSAGE
            )
            mmsi = lat = lon = None
            try:
                decoded = msg.decode()
                mmsi = getattr(decoded, "mmsi", None)
                lat, lon = getattr(decoded, "lat", None), getattr(decoded, "lon", None)
            except _ERRORS:
                pass
            self._reject(reason, f"AIS message type {ais_id}", m.line, m.raw, mmsi, None, lat, lon)
            return
        if ais_id == 24:
            part_no = msg.bv.get(38, 2) if n_bits >= 40 else -1
            if part_no not in _MIN_BITS_24:
                detail = f"type 24 part number {part_no} is neither 0 (A) nor 1 (B)"
                self._reject(QuarantineReason.PARSE_ERROR, detail, m.line, m.raw)
                return
            min_bits = _MIN_BITS_24[part_no]
        else:
            min_bits = _MIN_BITS[ais_id]
        if n_bits < min_bits:
            detail = f"type {ais_id} payload of {n_bits} bits, needs {min_bits}"
            self._reject(QuarantineReason.PARSE_ERROR, detail, m.line, m.raw)
            return
        try:
            d = msg.decode()
            mmsi = int(d.mmsi)
        except _ERRORS as exc:
            detail = f"type {ais_id}: {type(exc).__name__}: {exc}"[:200]
            self._reject(QuarantineReason.PARSE_ERROR, detail, m.line, m.raw)
            return

        ts_ms = m.pghp_ms
        if ts_ms is None:
            ts_ms = m.tag_ms if m.tag_ms is not None else m.trail_ms
        if ts_ms is None:
            ts_ms = self.default_ms
        if ts_ms is None:
            lat = getattr(d, "lat", None)
            lon = getattr(d, "lon", None)
            if m.ts_error is not None:
                reason, detail = QuarantineReason.INVALID_TIMESTAMP, m.ts_error
            else:
                reason = QuarantineReason.MISSING_TIMESTAMP
                detail = "no tag block, trailing epoch or $PGHP time, and no default_time"
            self._reject(reason, detail, m.line, m.raw, mmsi, None, lat, lon)
            return

        cls = _CLASS_BY_TYPE.get(ais_id)
        if cls is not None:
            self.class_by_mmsi[mmsi] = cls
        else:
            cls = self.class_by_mmsi.get(mmsi)
        # One tuple per row in _ROW_FIELDS order (cheaper than 18 list appends).
        if ais_id in _POSITION_TYPES:
            name = ship_type = length = width = None
            if ais_id == 27:
                sog = None if d.speed == _T27_SPEED_NA else d.speed
                cog = None if d.course == _T27_COURSE_NA else d.course
                heading = None
            else:
                sog, cog, heading = d.speed, d.course, d.heading
            nav = int(d.status) if ais_id in (1, 2, 3, 27) else None
            if ais_id == 19:
                name = _str_or_none(d.shipname)
                ship_type = _positive_or_none(int(d.ship_type))
                length, width = _dims(d.to_bow, d.to_stern, d.to_port, d.to_starboard)
            row = (mmsi, ts_ms, d.lat, d.lon, sog, cog, heading, nav, cls,
                   name, None, None, ship_type, length, width, None, True, m.line)  # fmt: skip
        elif ais_id == 5:
            length, width = _dims(d.to_bow, d.to_stern, d.to_port, d.to_starboard)
            row = (mmsi, ts_ms, None, None, None, None, None, None, cls,
                   _str_or_none(d.shipname), _positive_or_none(d.imo), _str_or_none(d.callsign),
                   _positive_or_none(int(d.ship_type)), length, width,
                   _positive_or_none(d.draught), False, m.line)  # fmt: skip
        elif d.partno == 0:  # 24 A: name only
            name = _str_or_none(d.shipname)
            row = (mmsi, ts_ms, None, None, None, None, None, None, cls,
                   name, None, None, None, None, None, None, False, m.line)  # fmt: skip
        else:  # 24 B; auxiliary craft carry a mothership MMSI instead of dimensions
            length, width = (
                _dims(d.to_bow, d.to_stern, d.to_port, d.to_starboard)
                if hasattr(d, "to_bow")
                else (None, None)
            )
            row = (mmsi, ts_ms, None, None, None, None, None, None, cls,
                   None, None, _str_or_none(d.callsign), _positive_or_none(int(d.ship_type)),
                   length, width, None, False, m.line)  # fmt: skip
        self.rows.append(row)
        self.stats.accepted += 1
        self.stats.records += 1

    # -- output ----------------------------------------------------------- #
    def take_batches(self, batch_records: int) -> Iterator[ReaderBatch]:
        """Turn the buffered rows into Arrow tables (sentinels -> null, vectorised),
        cut into batches of at most ``batch_records`` records."""
        obs = _observations_table(self.rows, self.source_file)
        rej = self._rejects()
        self.rows = []
        self.rej = {name: [] for name in _REJ_FIELDS}
        o = r = 0
        while True:
            n_obs = min(batch_records, obs.num_rows - o)
            n_rej = min(batch_records - n_obs, rej.num_rows - r)
            yield ReaderBatch(obs.slice(o, n_obs), rej.slice(r, n_rej))
            o, r = o + n_obs, r + n_rej
            if o >= obs.num_rows and r >= rej.num_rows:
                return

    def _rejects(self) -> pa.Table:
        rej = self.rej
        n = len(rej["reason"])
        columns = {
            "reason": pa.array(rej["reason"], pa.string()),
            "detail": pa.array(rej["detail"], pa.string()),
            "source": pa.array([_SOURCE] * n, pa.string()),
            "source_file": pa.array([self.source_file] * n, pa.string()),
            "row_number": pa.array(rej["row_number"], pa.int64()),
            "raw": pa.array(rej["raw"], pa.string()),
            "mmsi": pa.array(rej["mmsi"], pa.int64()),
            "timestamp": pa.array(rej["timestamp"], TIMESTAMP_TYPE),
            "lat": _null_where(pa.array(rej["lat"], pa.float64()), 91.0),
            "lon": _null_where(pa.array(rej["lon"], pa.float64()), 181.0),
            "sog_kn": pa.array(rej["sog_kn"], pa.float32()),
        }
        return pa.table([columns[f.name] for f in QUARANTINE_SCHEMA], schema=QUARANTINE_SCHEMA)


def _null_where(arr: pa.Array, sentinel: float) -> pa.Array:
    return pc.if_else(pc.equal(arr, sentinel), pa.scalar(None, arr.type), arr)


def _null_at_or_above(arr: pa.Array, limit: float) -> pa.Array:
    return pc.if_else(pc.greater_equal(arr, limit), pa.scalar(None, arr.type), arr)


def _observations_table(rows: list[tuple[Any, ...]], source_file: str) -> pa.Table:
    """AIS "not available" codes become nulls: lat 91, lon 181, SOG 102.3 (1023),
    COG 360 (3600; larger raw values are invalid too), heading 511 (360-510 are
    invalid too)."""
    n = len(rows)
    columns = dict(zip(_ROW_FIELDS, zip(*rows, strict=True), strict=True)) if rows else {}
    arrays = []
    for f in OBSERVATION_SCHEMA:
        if f.name == "source":
            arr = pa.array([_SOURCE] * n, pa.string())
        elif f.name == "source_file":
            arr = pa.array([source_file] * n, pa.string())
        else:
            arr = pa.array(columns.get(f.name, ()), f.type)
        if f.name == "lat":
            arr = _null_where(arr, 91.0)
        elif f.name == "lon":
            arr = _null_where(arr, 181.0)
        elif f.name == "sog_kn":
            arr = _null_at_or_above(arr, 102.25)  # 102.3 kn = raw 1023, "not available"
        elif f.name == "cog_deg" or f.name == "heading_deg":
            arr = _null_at_or_above(arr, 360.0)
        arrays.append(arr)
    return pa.table(arrays, schema=OBSERVATION_SCHEMA)


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def read_nmea_lines(
    lines: Iterable[bytes | str],
    *,
    source_file: str = "<lines>",
    default_time: datetime | None = None,
    batch_records: int = 200_000,
    stats: NmeaStats | None = None,
) -> Iterator[ReaderBatch]:
    """Decode NMEA lines (bytes or str) into batches of about ``batch_records`` records.

    The same decoder as :func:`read_nmea`, for in-memory input (tests, sockets).
    Pass an :class:`NmeaStats` to get the line/record accounting.
    """
    if batch_records < 1:
        raise ValueError("batch_records must be >= 1")
    stats = stats if stats is not None else NmeaStats()
    default_ms = None if default_time is None else _to_ms(default_time)
    decoder = _Decoder(source_file, default_ms, stats, {})
    yield from _run(decoder, lines, batch_records)


def _run(
    decoder: _Decoder, lines: Iterable[bytes | str], batch_records: int
) -> Iterator[ReaderBatch]:
    for line_no, line in enumerate(lines, 1):
        if isinstance(line, str):
            line = line.encode("utf-8", "backslashreplace")
        decoder.feed_line(line_no, line)
        if decoder.n_buffered >= batch_records:
            yield from decoder.take_batches(batch_records)
    decoder.finish()
    if decoder.n_buffered or decoder.stats.records == 0:
        yield from decoder.take_batches(batch_records)


def read_nmea(
    path: Path,
    *,
    default_time: datetime | None = None,
    batch_records: int = 200_000,
    stats: NmeaStats | None = None,
) -> Iterator[ReaderBatch]:
    """Stream an NMEA log (plain, ``.gz`` or ``.zip``, detected from content).

    Yields :class:`ReaderBatch` objects of about ``batch_records`` records; the
    last batch may be smaller and a file without records yields one empty batch.
    ``default_time`` (naive means UTC) stamps messages the log gives no time for;
    without it they are quarantined ``missing_timestamp``. ``source_file`` is
    ``str(path)`` as in the CSV readers; a zip archive with several members is read
    member by member (``source_file`` = ``path!member``) and messages are never
    assembled across members.
    """
    path = Path(path)
    if batch_records < 1:
        raise ValueError("batch_records must be >= 1")
    stats = stats if stats is not None else NmeaStats()
    default_ms = None if default_time is None else _to_ms(default_time)
    classes: dict[int, str] = {}
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(path) as zf:
            members = [  # macOS archivers add resource-fork junk under __MACOSX/
                i
                for i in zf.infolist()
                if not i.is_dir() and not i.filename.startswith("__MACOSX/")
            ]
            for info in members:
                name = str(path) if len(members) == 1 else f"{path}!{info.filename}"
                with zf.open(info) as fh:
                    yield from _run(_Decoder(name, default_ms, stats, classes), fh, batch_records)
    elif magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as fh:
            yield from _run(_Decoder(str(path), default_ms, stats, classes), fh, batch_records)
    else:
        with path.open("rb") as fh:
            yield from _run(_Decoder(str(path), default_ms, stats, classes), fh, batch_records)
