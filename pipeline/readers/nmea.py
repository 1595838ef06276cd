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

Layout: this module is the public entry (:func:`read_nmea`, :func:`read_nmea_lines`,
:class:`NmeaStats`); the work is split by concept into
:mod:`stswatch.pipeline.readers.nmea_lines` (physical lines: sentence units, tag blocks,
trailing epochs, ``$PGHP`` times, talker recognition),
:mod:`stswatch.pipeline.readers.nmea_assembly` (multi-sentence grouping, ``$PGHP``
matching, incomplete fragments) and :mod:`stswatch.pipeline.readers.nmea_decode` (message
decoding and the Arrow tables).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stswatch.pipeline.readers.batch import ReaderBatch, ReaderError
from stswatch.pipeline.readers.files import (
    ARCHIVE_ERRORS,
    InputLimits,
    LimitedStream,
    limited_binary,
)
from stswatch.pipeline.readers.nmea_decode import _Decoder
from stswatch.pipeline.readers.nmea_lines import _to_ms

__all__ = ["NmeaStats", "read_nmea", "read_nmea_lines"]


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
    yield from _run(decoder, enumerate(lines, 1), batch_records)


def _run(
    decoder: _Decoder, lines: Iterable[tuple[int, bytes | str]], batch_records: int
) -> Iterator[ReaderBatch]:
    for line_no, line in lines:
        if isinstance(line, str):
            line = line.encode("utf-8", "backslashreplace")
        decoder.feed_line(line_no, line)
        if decoder.n_buffered >= batch_records:
            yield from decoder.take_batches(batch_records)
    decoder.finish()
    if decoder.n_buffered or decoder.stats.records == 0:
        yield from decoder.take_batches(batch_records)


#: A line holding something other than white space (a record or a comment).
_CONTENT_LINE = re.compile(rb"[^\n]*?[^\s][^\n]*")
#: Bytes read at a time from a file.
_CHUNK_BYTES = 1 << 20


def _content_lines(stream: LimitedStream, stats: NmeaStats) -> Iterator[tuple[int, bytes]]:
    """(physical line number, line) of every line that is not blank.

    Blank lines are counted in bulk (``stats``), never looped over one by
    one: a log of 200 million empty lines costs a scan at memory speed, not
    minutes of Python.
    """
    line_no = 0  # lines before the current chunk
    carry = b""
    while True:
        data = stream.read(_CHUNK_BYTES)
        if not data:
            break
        data = carry + data
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        yield from _chunk_lines(data[:cut], line_no, stats)
        line_no += data.count(b"\n", 0, cut)
    if carry:
        yield from _chunk_lines(carry, line_no, stats)


def _chunk_lines(chunk: bytes, before: int, stats: NmeaStats) -> Iterator[tuple[int, bytes]]:
    n_lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    pos, line_no, content = 0, before + 1, 0
    for match in _CONTENT_LINE.finditer(chunk):
        line_no += chunk.count(b"\n", pos, match.start())
        pos = match.start()
        content += 1
        yield line_no, match.group()
    blank = n_lines - content
    stats.lines += blank
    stats.blank_lines += blank


def read_nmea(
    path: Path,
    *,
    default_time: datetime | None = None,
    batch_records: int = 200_000,
    stats: NmeaStats | None = None,
    limits: InputLimits | None = None,
) -> Iterator[ReaderBatch]:
    """Stream an NMEA log (plain, ``.gz`` or ``.zip``, detected from content).

    Yields :class:`ReaderBatch` objects of about ``batch_records`` records; the
    last batch may be smaller and a file without records yields one empty batch.
    ``default_time`` (naive means UTC) stamps messages the log gives no time for;
    without it they are quarantined ``missing_timestamp``. ``source_file`` is
    ``str(path)`` as in the CSV readers; a zip archive with several members is read
    member by member (``source_file`` = ``path!member``) and messages are never
    assembled across members. ``limits`` caps what the file may decompress to
    (:class:`~stswatch.pipeline.readers.files.InputTooLargeError`).
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
        try:
            zf = zipfile.ZipFile(path)
        except ARCHIVE_ERRORS as exc:
            raise ReaderError(f"{path}: damaged or unreadable ({exc})") from None
        with zf:
            members = [  # macOS archivers add resource-fork junk under __MACOSX/
                i
                for i in zf.infolist()
                if not i.is_dir() and not i.filename.startswith("__MACOSX/")
            ]
            for info in members:
                name = str(path) if len(members) == 1 else f"{path}!{info.filename}"
                with LimitedStream(zf.open(info), path, info.compress_size, limits) as fh:
                    decoder = _Decoder(name, default_ms, stats, classes)
                    yield from _run(decoder, _content_lines(fh, stats), batch_records)
        return
    with limited_binary(path, limits) as fh:
        decoder = _Decoder(str(path), default_ms, stats, classes)
        yield from _run(decoder, _content_lines(fh, stats), batch_records)
