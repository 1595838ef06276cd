"""Message decoding of the NMEA reader: complete AIS messages -> Arrow batches.

Split out of :mod:`stswatch.pipeline.readers.nmea` (see that module's docstring for the
message-type, time and transceiver-class rules) so that each concept lives in
its own module. This one holds :class:`_Decoder`, the per-stream state machine
that combines line handling (:class:`stswatch.pipeline.readers.nmea_lines._LineReader`)
and multi-sentence assembly (:class:`stswatch.pipeline.readers.nmea_assembly._Assembler`)
with the record accounting (``_reject``), the decoding of complete messages into
observation rows or quarantine rows (``_emit``), and the conversion of the
buffered rows into :data:`OBSERVATION_SCHEMA` / :data:`QUARANTINE_SCHEMA` tables
(AIS "not available" sentinels -> null).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.nmea_assembly import _Assembler, _Message, _Partial
from stswatch.pipeline.readers.nmea_lines import _ERRORS, _LineReader, _text
from stswatch.pipeline.schemas import (
    OBSERVATION_SCHEMA,
    QUARANTINE_SCHEMA,
    TIMESTAMP_TYPE,
    QuarantineReason,
    Source,
)

if TYPE_CHECKING:
    from stswatch.pipeline.readers.nmea import NmeaStats

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


def _truncation(msg: Any, ais_id: int) -> str | None:
    """Why a position or static message is too short to hold its fields, or None."""
    n_bits = len(msg.payload) * 6 - msg.fill_bits
    if ais_id == 24:
        part_no = msg.bv.get(38, 2) if n_bits >= 40 else -1
        if part_no not in _MIN_BITS_24:
            return f"type 24 part number {part_no} is neither 0 (A) nor 1 (B)"
        min_bits = _MIN_BITS_24[part_no]
    else:
        min_bits = _MIN_BITS[ais_id]
    if n_bits < min_bits:
        return f"type {ais_id} payload of {n_bits} bits, needs {min_bits}"
    return None


def _row(ais_id: int, d: Any, mmsi: int, ts_ms: int, cls: str | None, line: int) -> tuple[Any, ...]:
    """One observation row in _ROW_FIELDS order (cheaper than 18 list appends)."""
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
        return (mmsi, ts_ms, d.lat, d.lon, sog, cog, heading, nav, cls,
                name, None, None, ship_type, length, width, None, True, line)  # fmt: skip
    if ais_id == 5:
        length, width = _dims(d.to_bow, d.to_stern, d.to_port, d.to_starboard)
        return (mmsi, ts_ms, None, None, None, None, None, None, cls,
                _str_or_none(d.shipname), _positive_or_none(d.imo), _str_or_none(d.callsign),
                _positive_or_none(int(d.ship_type)), length, width,
                _positive_or_none(d.draught), False, line)  # fmt: skip
    if d.partno == 0:  # 24 A: name only
        name = _str_or_none(d.shipname)
        return (mmsi, ts_ms, None, None, None, None, None, None, cls,
                name, None, None, None, None, None, None, False, line)  # fmt: skip
    # 24 B; auxiliary craft carry a mothership MMSI instead of dimensions
    length, width = (
        _dims(d.to_bow, d.to_stern, d.to_port, d.to_starboard)
        if hasattr(d, "to_bow")
        else (None, None)
    )
    return (mmsi, ts_ms, None, None, None, None, None, None, cls,
            None, None, _str_or_none(d.callsign), _positive_or_none(int(d.ship_type)),
            length, width, None, False, line)  # fmt: skip


#: Observation columns the decoder fills per row (``source``/``source_file`` are constant).
_ROW_FIELDS = [f.name for f in OBSERVATION_SCHEMA if f.name not in ("source", "source_file")]
_REJ_FIELDS = ["reason", "detail", "row_number", "raw", "mmsi", "timestamp", "lat", "lon", "sog_kn"]


class _Decoder(_LineReader, _Assembler):
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

    # -- decoding --------------------------------------------------------- #
    def _emit(self, m: _Message) -> None:
        msg = m.msg
        if not msg.payload:
            self._reject(QuarantineReason.PARSE_ERROR, "empty payload", m.line, m.raw)
            return
        ais_id = msg.ais_id
        if ais_id not in _POSITION_TYPES and ais_id not in _STATIC_TYPES:
            self._reject_other_type(m, ais_id)
            return
        problem = _truncation(msg, ais_id)
        if problem is not None:
            self._reject(QuarantineReason.PARSE_ERROR, problem, m.line, m.raw)
            return
        try:
            d = msg.decode()
            mmsi = int(d.mmsi)
        except _ERRORS as exc:
            detail = f"type {ais_id}: {type(exc).__name__}: {exc}"[:200]
            self._reject(QuarantineReason.PARSE_ERROR, detail, m.line, m.raw)
            return
        ts_ms = self._time_ms(m)
        if ts_ms is None:
            self._reject_untimed(m, d, mmsi)
            return
        cls = _CLASS_BY_TYPE.get(ais_id)
        if cls is not None:
            self.class_by_mmsi[mmsi] = cls
        else:
            cls = self.class_by_mmsi.get(mmsi)
        self.rows.append(_row(ais_id, d, mmsi, ts_ms, cls, m.line))
        self.stats.accepted += 1
        self.stats.records += 1

    def _reject_other_type(self, m: _Message, ais_id: int) -> None:
        """A message type that is neither a position nor a static report."""
        reason = (
            QuarantineReason.NON_VESSEL_MMSI
            if ais_id in _NON_VESSEL_TYPES
            else QuarantineReason.UNSUPPORTED_MESSAGE
        )
        mmsi = lat = lon = None
        try:
            decoded = m.msg.decode()
            mmsi = getattr(decoded, "mmsi", None)
            lat, lon = getattr(decoded, "lat", None), getattr(decoded, "lon", None)
        except _ERRORS:
            pass
        self._reject(reason, f"AIS message type {ais_id}", m.line, m.raw, mmsi, None, lat, lon)

    def _time_ms(self, m: _Message) -> int | None:
        """The message's time: ``$PGHP``, then tag block, trailing epoch, default."""
        ts_ms = m.pghp_ms
        if ts_ms is None:
            ts_ms = m.tag_ms if m.tag_ms is not None else m.trail_ms
        if ts_ms is None:
            ts_ms = self.default_ms
        return ts_ms

    def _reject_untimed(self, m: _Message, d: Any, mmsi: int) -> None:
        """A decoded message without a (valid) time: quarantined with what it said."""
        lat = getattr(d, "lat", None)
        lon = getattr(d, "lon", None)
        if m.ts_error is not None:
            reason, detail = QuarantineReason.INVALID_TIMESTAMP, m.ts_error
        else:
            reason = QuarantineReason.MISSING_TIMESTAMP
            detail = "no tag block, trailing epoch or $PGHP time, and no default_time"
        self._reject(reason, detail, m.line, m.raw, mmsi, None, lat, lon)

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
