"""Multi-sentence assembly of the NMEA reader: grouping fragments into messages.

Split out of :mod:`stswatch.pipeline.readers.nmea` (see that module's docstring for the
rules) so that each concept lives in its own module. This one holds the state
between sentences: fragments of a multi-sentence message waiting for the rest
(:class:`_Partial`), complete messages held back a few messages so that a
``$PGHP`` wrapper before or after them can stamp their time (:class:`_Message`),
and :class:`_Assembler`, the decoder mixin that groups fragments per (talker,
VDM/VDO, sequence id, channel, fragment count), matches ``$PGHP`` wrappers to
messages by quoted checksum, and quarantines incomplete fragments
(``incomplete_multipart``) when superseded, out of order or left at the end.

:class:`_Assembler` is a mixin of :class:`stswatch.pipeline.readers.nmea_decode._Decoder`,
which provides ``_reject`` and ``_emit`` (decoding a complete message).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyais.messages import AISSentence, NMEAMessage
from pyais.util import compute_checksum

from stswatch.pipeline.readers.nmea_lines import (
    _ERRORS,
    _checksum_detail,
    _pghp_time_ms,
    _quoted_hex,
)
from stswatch.pipeline.schemas import QuarantineReason

if TYPE_CHECKING:
    from stswatch.pipeline.readers.nmea import NmeaStats

#: How many neighbouring messages a ``$PGHP`` line is matched against (by the
#: checksum it quotes). exactEarth logs put the wrapper just before *or* after its
#: sentence, sometimes two wrappers in a row; a wider window only adds chances of
#: a 1-in-256 checksum collision.
_PGHP_WINDOW = 4


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


class _Assembler:
    """Decoder mixin: fragments and ``$PGHP`` wrappers -> complete, timed messages."""

    stats: NmeaStats
    pending: dict[tuple[Any, ...], _Partial]
    held: deque[_Message]
    pghps: deque[tuple[int | None, int]]

    if TYPE_CHECKING:  # provided by _Decoder

        def _reject(
            self, reason: QuarantineReason, detail: str | None, line: int, raw: bytes | None
        ) -> None: ...

        def _emit(self, m: _Message) -> None: ...

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
