"""Cleaning: every observation becomes a position, a vessel report, or a quarantine row.

Two stages, both vectorised (numpy/Arrow, no Python object per row):

1. **Row checks** (:func:`split_batch`), applied to each reader batch as it
   streams in: missing timestamp, invalid MMSI, non-vessel MMSI (base
   stations, AtoN, SAR aircraft, daughter craft...), impossible coordinates
   (missing, out of range, or *null island* 0/0). Survivors are kept in a
   compact columnar :class:`PositionBuffer` (~50 bytes a row, strings as
   int8 codes) so a 10-million-row day fits in well under a gigabyte.
2. **Day resolution** (:func:`resolve_day`), once per UTC day when all of its
   rows are known: sort by (mmsi, timestamp), exact duplicates,
   same-(mmsi, timestamp) duplicates, and single-ping position jumps.

Rules for duplicates, chosen so that re-ingesting an input gives the same
tally *and* a byte-identical store:

* the row kept for a (mmsi, timestamp) is the one already stored, if any,
  else the first new row in input order (the *candidate*);
* the candidate, when a stored row exists, is compared with it: identical ->
  accepted (it *is* in the store, so it counts as accepted and is not written
  twice); different -> ``duplicate_mmsi_time`` (the store wins: first come,
  first kept, so earlier results never change under a later ingest);
* every later new row of the key is compared with the kept row:
  ``duplicate_exact`` if identical on every position field, else
  ``duplicate_mmsi_time``. Comparing with the kept row (not with whatever
  new row came first) makes a row's verdict independent of which other
  files are ingested with it.

A **position jump** is a single new ping whose implied speed to *both*
neighbours of the same vessel exceeds ``max_jump_speed_kn`` while being more
than ``min_jump_distance_m`` away from both (GPS noise over a second is not a
jump). Neighbours may be stored rows; only new rows are judged, so stored
data is never rewritten. Pings at the ends of a day's track have one
neighbour and are never judged (the track stage splits segments on
implausible speeds anyway).

Static data: every accepted observation carrying static fields (name, IMO,
call sign, type, dimensions, draught) feeds the **vessel time series**
(:func:`vessel_series`): per vessel and day, rows sorted by time, missing
fields carried forward from earlier reports (AIS class B sends its name and
its dimensions in two separate messages), one row per (mmsi, timestamp), and
only rows where something changed are kept. Draught changes therefore
survive, while a name repeated on every ping is stored once per day.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.config import CleaningConfig
from stswatch.pipeline.mmsi import MmsiKind, classify_mmsi
from stswatch.pipeline.readers.common import buffer_values, one_array, repeat_text, string_parts
from stswatch.pipeline.readers.common import validity as validity_of
from stswatch.pipeline.schemas import (
    OBSERVATION_SCHEMA,
    POSITION_SCHEMA,
    POSITION_WRITE_SCHEMA,
    QUARANTINE_SCHEMA,
    VESSEL_SCHEMA,
    QuarantineReason,
)

MS_PER_DAY = 86_400_000
EARTH_RADIUS_M = 6_371_008.8
M_PER_NM = 1_852.0

#: Fixed vocabularies for the int8 codes of string columns in the buffer.
CLASS_VOCAB = ("A", "B")
#: Sources seen in this process (known ones first; new ones appended). Codes
#: never reach the store: strings are written, so codes need not be stable.
SOURCE_VOCAB: list[str] = ["marinecadastre", "dma", "nmea", "simulated", "stonesoup"]

#: Columns compared for "exact duplicate" (source and provenance excluded:
#: the same ping relayed by two receivers or two feeds is one ping).
VALUE_COLUMNS = ("lat", "lon", "sog", "cog", "heading", "nav", "cls")
STATIC_COLUMNS = (
    "vessel_name",
    "imo",
    "callsign",
    "ship_type",
    "length_m",
    "width_m",
    "draught_m",
)


class Status:
    """Outcome codes of a buffered row after day resolution (int8)."""

    ACCEPTED = 0  # new row written to the store
    ALREADY_STORED = 1  # identical to a stored row: accepted, nothing to write
    DUPLICATE_EXACT = 2
    DUPLICATE_MMSI_TIME = 3
    POSITION_JUMP = 4
    STORED = 5  # a row that came from the store itself


STATUS_REASON = {
    Status.DUPLICATE_EXACT: QuarantineReason.DUPLICATE_EXACT,
    Status.DUPLICATE_MMSI_TIME: QuarantineReason.DUPLICATE_MMSI_TIME,
    Status.POSITION_JUMP: QuarantineReason.POSITION_JUMP,
}


# ----------------------------------------------------------------- small helpers
def _np(arr: pa.Array | pa.ChunkedArray, dtype: np.dtype, fill: float | int) -> np.ndarray:
    arr = one_array(arr)  # combine_chunks would copy a single chunk
    if arr.null_count:
        arr = pc.fill_null(arr, pa.scalar(fill, arr.type))
    out = arr.to_numpy(zero_copy_only=False)
    return out.astype(dtype, copy=False)


def _take_values(
    arr: pa.Array | pa.ChunkedArray, idx: np.ndarray, dtype: type, fill: float | int
) -> np.ndarray:
    """``_np(arr, dtype, fill)[idx]`` read off a numeric column's buffers.

    Values are gathered from the data buffer as they are, then the null rows
    among ``idx`` get ``fill``: no filled copy of the whole column first.
    """
    arr = one_array(arr)
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        return np.take(_np(arr, np.dtype(dtype), fill), idx)
    out = np.take(buffer_values(arr), idx).astype(dtype, copy=False)
    valid = validity_of(arr)
    if valid is not None:
        out[~np.take(valid, idx)] = fill
    return out


def _codes(arr: pa.Array | pa.ChunkedArray, vocab: list[str] | tuple[str, ...]) -> np.ndarray:
    """Strings -> int8 codes into ``vocab`` (-1 for null/unknown)."""
    arr = one_array(arr)
    if pa.types.is_string(arr.type) and all(len(w) == 1 and w.isascii() for w in vocab):
        return _char_codes(arr, vocab)
    idx = pc.index_in(arr, value_set=pa.array(list(vocab), pa.string()))
    return _np(idx, np.int8, -1)


def _char_codes(arr: pa.Array, vocab: list[str] | tuple[str, ...]) -> np.ndarray:
    """:func:`_codes` for one-letter words (transceiver class), read off the
    string buffers: ~10x cheaper than hashing every row. Each row's first
    byte is looked up in a 256-entry table (rows not one byte long: -1)."""
    parts = string_parts(arr)
    if parts is None:
        return np.full(len(arr), -1, dtype=np.int8)
    starts, lens, data, _ = parts
    table = np.full(256, -1, dtype=np.int8)
    for i, word in enumerate(vocab):
        table[ord(word)] = i
    first = np.take(data, np.minimum(starts, len(data) - 1))  # any byte where not one
    codes = np.take(table, first)
    codes[lens != 1] = -1  # null rows have length 0
    return codes


def _one_value(arr: pa.Array) -> str | None:
    """The single value of a string array without nulls, read off its buffers
    (every batch of a file carries one source name), else None."""
    if not len(arr) or arr.null_count or not pa.types.is_string(arr.type):
        return None
    first = arr[0].as_py()
    parts = string_parts(arr)
    if parts is None:  # no data bytes: every value empty
        return first
    starts, lens, data, _ = parts
    text = first.encode()
    if not (lens == len(text)).all():
        return None
    lo = int(starts[0])
    whole = data[lo : lo + len(text) * len(arr)]
    return first if np.array_equal(whole, np.frombuffer(text * len(arr), np.uint8)) else None


_SOURCE_LOCK = threading.Lock()


def _source_codes(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    arr = one_array(arr)
    # A reader batch comes from one source: one comparison of its bytes
    # instead of hashing every row twice (unique, then index_in).
    first = _one_value(arr)
    if first is not None:
        with _SOURCE_LOCK:
            if first not in SOURCE_VOCAB:
                SOURCE_VOCAB.append(first)
            code = SOURCE_VOCAB.index(first)
        return np.full(len(arr), code, dtype=np.int8)
    with _SOURCE_LOCK:  # batches are checked in worker threads
        for value in pc.unique(arr).to_pylist():
            if value is not None and value not in SOURCE_VOCAB:
                SOURCE_VOCAB.append(value)
        vocab = tuple(SOURCE_VOCAB)
    return _codes(arr, vocab)


def stable_argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")``, ~2.5x faster on AIS keys.

    numpy's default sort is a vectorised introsort (~2.4 ms for 80k int64
    keys against ~5.9 ms for its stable timsort) but orders equal keys
    arbitrarily. Equal (mmsi, time) keys are rare (duplicates), so only the
    runs of equal keys are re-sorted by position afterwards, which restores
    input order among them: the same permutation as a stable sort.
    """
    order = np.argsort(key)
    if len(order) < 2:
        return order
    sk = key[order]
    tie = sk[1:] == sk[:-1]
    if tie.any():
        in_run = np.zeros(len(order), dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        pos = np.flatnonzero(in_run)
        sub = order[pos]
        order[pos] = sub[np.lexsort((sub, sk[pos]))]
    return order


def haversine_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres (correct across the antimeridian)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# ---------------------------------------------------------------- position buffer
BUFFER_DTYPES: dict[str, type] = {
    "mmsi": np.int32,
    "ts": np.int64,  # ms since epoch, UTC
    "lat": np.float64,
    "lon": np.float64,
    "sog": np.float32,  # NaN = null
    "cog": np.float32,
    "heading": np.float32,
    "nav": np.int8,  # -1 = null
    "cls": np.int8,  # code into CLASS_VOCAB, -1 = null
    "src": np.int8,  # code into SOURCE_VOCAB
    "origin": np.int16,  # input file index; -1 = row read back from the store
    "row": np.int32,  # row_number within its file (-1 for stored rows)
}


@dataclass
class PositionBuffer:
    """Columnar position rows in compact numpy form (see :data:`BUFFER_DTYPES`)."""

    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cols["mmsi"])

    @classmethod
    def empty(cls) -> PositionBuffer:
        return cls({k: np.empty(0, dtype=t) for k, t in BUFFER_DTYPES.items()})

    @classmethod
    def concat(cls, parts: list[PositionBuffer]) -> PositionBuffer:
        """Concatenate, releasing each part's arrays as soon as they are copied."""
        if not parts:
            return cls.empty()
        out = {}
        for k in BUFFER_DTYPES:
            out[k] = np.concatenate([p.cols[k] for p in parts])
            for p in parts:
                p.cols[k] = np.empty(0, dtype=BUFFER_DTYPES[k])
        return cls(out)

    def slice(self, start: int, stop: int, *, copy: bool = False) -> PositionBuffer:
        """Rows ``start:stop``: views of this buffer's columns, or copies.

        A view keeps the whole of this buffer's memory alive; ``copy`` for a
        small part that may outlive the rest.
        """
        if start == 0 and stop == len(self):
            return self
        if copy:
            return PositionBuffer({k: v[start:stop].copy() for k, v in self.cols.items()})
        return PositionBuffer({k: v[start:stop] for k, v in self.cols.items()})

    def take(self, idx: np.ndarray) -> PositionBuffer:
        idx = np.asarray(idx, dtype=np.intp)  # np.take with intp: ~1.6x faster than v[idx]
        return PositionBuffer({k: np.take(v, idx) for k, v in self.cols.items()})

    @classmethod
    def from_observations(
        cls,
        obs: pa.Table,
        origin: int,
        mask: np.ndarray | None = None,
        order: np.ndarray | None = None,
        numbers: BatchNumbers | None = None,
    ) -> PositionBuffer:
        """Numeric columns of ``obs`` (rows where ``mask``, default all).

        With ``order`` (a permutation of the rows, e.g. :attr:`BatchSplit.order`)
        the rows come in that order: a batch buffered in (mmsi, timestamp)
        order makes the day's sort a merge of sorted runs.
        """
        if order is not None:
            idx = order if mask is None else order[mask[order]]
            return cls._gathered(obs, origin, np.asarray(idx, dtype=np.intp), numbers)
        buf = cls._from_observations(obs, origin, numbers)
        if mask is not None and not mask.all():
            buf = buf.take(np.flatnonzero(mask))
        return buf

    @classmethod
    def _gathered(
        cls, obs: pa.Table, origin: int, idx: np.ndarray, numbers: BatchNumbers | None
    ) -> PositionBuffer:
        """Rows ``idx`` of ``obs``, each column gathered straight from its Arrow
        buffers: no whole-batch numpy copy (with nulls filled) made first only
        to be gathered from (~half the cost of converting, then taking)."""
        if numbers is not None:
            mmsi = np.take(numbers.mmsi, idx).astype(np.int32)
            ts, lat, lon = (np.take(v, idx) for v in (numbers.ts, numbers.lat, numbers.lon))
        else:
            mmsi = _take_values(obs["mmsi"], idx, np.int32, 0)
            ts = _take_values(obs["timestamp"].cast(pa.int64()), idx, np.int64, 0)
            lat = _take_values(obs["lat"], idx, np.float64, np.nan)
            lon = _take_values(obs["lon"], idx, np.float64, np.nan)
        return cls(
            {
                "mmsi": mmsi,
                "ts": ts,
                "lat": lat,
                "lon": lon,
                "sog": _take_values(obs["sog_kn"], idx, np.float32, np.nan),
                "cog": _take_values(obs["cog_deg"], idx, np.float32, np.nan),
                "heading": _take_values(obs["heading_deg"], idx, np.float32, np.nan),
                "nav": _take_values(obs["nav_status"], idx, np.int8, -1),
                "cls": np.take(_codes(obs["transceiver_class"], CLASS_VOCAB), idx),
                "src": np.take(_source_codes(obs["source"]), idx),
                "origin": np.full(len(idx), origin, dtype=np.int16),
                "row": _take_values(obs["row_number"], idx, np.int32, -1),
            }
        )

    @classmethod
    def _from_observations(
        cls, obs: pa.Table, origin: int, numbers: BatchNumbers | None = None
    ) -> PositionBuffer:
        return cls._from_table(obs, origin, _np(obs["row_number"], np.int32, -1), numbers)

    @classmethod
    def from_positions(cls, table: pa.Table) -> PositionBuffer:
        """Rows read back from the store (origin -1)."""
        return cls._from_table(table, -1, np.full(table.num_rows, -1, dtype=np.int32))

    @classmethod
    def _from_table(
        cls,
        table: pa.Table,
        origin: int,
        rows: np.ndarray,
        numbers: BatchNumbers | None = None,
    ) -> PositionBuffer:
        """Columns shared by reader observations and stored positions, as numpy.

        ``numbers`` (of the same rows) saves converting the key columns again;
        rows with a null mmsi or time differ (-1 vs 0) but never pass the checks.
        """
        if numbers is not None:
            mmsi = numbers.mmsi.astype(np.int32)
            ts, lat, lon = numbers.ts, numbers.lat, numbers.lon
        else:
            mmsi = _np(table["mmsi"], np.int32, 0)
            ts = _np(table["timestamp"].cast(pa.int64()), np.int64, 0)
            lat = _np(table["lat"], np.float64, np.nan)
            lon = _np(table["lon"], np.float64, np.nan)
        return cls(
            {
                "mmsi": mmsi,
                "ts": ts,
                "lat": lat,
                "lon": lon,
                "sog": _np(table["sog_kn"], np.float32, np.nan),
                "cog": _np(table["cog_deg"], np.float32, np.nan),
                "heading": _np(table["heading_deg"], np.float32, np.nan),
                "nav": _np(table["nav_status"], np.int8, -1),
                "cls": _codes(table["transceiver_class"], CLASS_VOCAB),
                "src": _source_codes(table["source"]),
                "origin": np.full(table.num_rows, origin, dtype=np.int16),
                "row": rows,
            }
        )

    def to_positions(
        self, idx: np.ndarray | None = None, *, sources: Sequence[str] | None = None
    ) -> pa.Table:
        """Rows ``idx`` (default all) as a POSITION_SCHEMA table.

        With ``sources`` (the source names of the rows, sorted: a dictionary
        that depends on the data only, so written bytes do too), the table
        follows POSITION_WRITE_SCHEMA: text columns as dictionaries, built
        from the codes without materialising a string per row.
        """
        names = ("mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav", "cls", "src")
        if idx is None:
            c = self.cols
        else:
            # One intp conversion, then np.take per column: the gather into
            # (mmsi, timestamp) order is the costliest step of writing a day.
            idx = np.asarray(idx, dtype=np.intp)
            c = {k: np.take(self.cols[k], idx) for k in names}

        def f32(a: np.ndarray) -> pa.Array:
            return pa.array(a, pa.float32(), mask=np.isnan(a))

        def vocab(codes: np.ndarray, words: list[str] | tuple[str, ...]) -> pa.Array:
            return pa.array(list(words), pa.string()).take(
                pa.array(codes.astype(np.int32), mask=codes < 0)
            )

        if sources is not None:
            return self._dictionary_positions(c, sources)
        arrays = [
            pa.array(c["mmsi"], pa.int32()),
            pa.array(c["ts"], pa.int64()).cast(POSITION_SCHEMA.field("timestamp").type),
            pa.array(c["lat"], pa.float64()),
            pa.array(c["lon"], pa.float64()),
            f32(c["sog"]),
            f32(c["cog"]),
            f32(c["heading"]),
            pa.array(c["nav"], pa.int8(), mask=c["nav"] < 0),
            vocab(c["cls"], CLASS_VOCAB),
            vocab(c["src"], SOURCE_VOCAB),
        ]
        return pa.Table.from_arrays(arrays, schema=POSITION_SCHEMA)

    @staticmethod
    def _dictionary_positions(c: dict[str, np.ndarray], sources: Sequence[str]) -> pa.Table:
        lut = np.full(len(SOURCE_VOCAB), -1, dtype=np.int8)
        for i, name in enumerate(sources):
            lut[SOURCE_VOCAB.index(name)] = i

        def words(codes: np.ndarray, vocab: Sequence[str]) -> pa.Array:
            return pa.DictionaryArray.from_arrays(
                pa.array(codes, pa.int8(), mask=codes < 0), pa.array(list(vocab), pa.string())
            )

        arrays = [
            pa.array(c["mmsi"], pa.int32()),
            pa.array(c["ts"], pa.int64()).cast(POSITION_SCHEMA.field("timestamp").type),
            pa.array(c["lat"], pa.float64()),
            pa.array(c["lon"], pa.float64()),
            pa.array(c["sog"], pa.float32(), mask=np.isnan(c["sog"])),
            pa.array(c["cog"], pa.float32(), mask=np.isnan(c["cog"])),
            pa.array(c["heading"], pa.float32(), mask=np.isnan(c["heading"])),
            pa.array(c["nav"], pa.int8(), mask=c["nav"] < 0),
            words(c["cls"], CLASS_VOCAB),
            words(lut[c["src"]], sources),
        ]
        return pa.Table.from_arrays(arrays, schema=POSITION_WRITE_SCHEMA)

    def source_names(self) -> list[str]:
        """Sorted names of the sources of the rows."""
        used = np.flatnonzero(np.bincount(self.cols["src"].astype(np.int64), minlength=1))
        return sorted(SOURCE_VOCAB[i] for i in used)

    def to_quarantine(
        self,
        idx: np.ndarray,
        reasons: list[str],
        details: list[str | None],
        source_files: list[str],
    ) -> pa.Table:
        """Rows ``idx`` as quarantine rows (``source_files`` indexed by origin)."""
        c = {k: v[idx] for k, v in self.cols.items()}
        n = len(idx)
        files = pa.array([*source_files, None], pa.string())
        origin = np.where(c["origin"] < 0, len(source_files), c["origin"]).astype(np.int32)
        cols = {
            "reason": pa.array(reasons, pa.string()),
            "detail": pa.array(details, pa.string()),
            "source": pa.array(SOURCE_VOCAB, pa.string()).take(pa.array(c["src"].astype(np.int32))),
            "source_file": files.take(pa.array(origin)),
            "row_number": pa.array(c["row"], pa.int64(), mask=c["row"] < 0),
            "raw": pa.nulls(n, pa.string()),
            "mmsi": pa.array(c["mmsi"].astype(np.int64), pa.int64()),
            "timestamp": pa.array(c["ts"], pa.int64()).cast(
                QUARANTINE_SCHEMA.field("timestamp").type
            ),
            "lat": pa.array(c["lat"], pa.float64()),
            "lon": pa.array(c["lon"], pa.float64()),
            "sog_kn": pa.array(c["sog"], pa.float32(), mask=np.isnan(c["sog"])),
        }
        return pa.Table.from_arrays(
            [cols[f.name] for f in QUARANTINE_SCHEMA], schema=QUARANTINE_SCHEMA
        )


# ------------------------------------------------------------------- row checks
@dataclass
class BatchSplit:
    """One reader batch after row checks."""

    observations: pa.Table  # the batch as read (OBSERVATION_SCHEMA)
    position_mask: np.ndarray  # rows that passed the checks and carry a position
    statics: pa.Table  # VESSEL_SCHEMA candidates (not yet de-duplicated)
    quarantine: pa.Table  # QUARANTINE_SCHEMA
    n_static_only: int = 0  # accepted static-only observations
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    #: row permutation of ``observations`` in (mmsi, timestamp) order (stable)
    order: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    #: key columns as numpy (for the position buffer)
    numbers: BatchNumbers | None = None

    @property
    def positions(self) -> pa.Table:
        """The accepted position rows as a table (materialised on demand)."""
        if self.position_mask.all():
            return self.observations
        return self.observations.filter(pa.array(self.position_mask))


@dataclass(frozen=True)
class BatchNumbers:
    """The key columns of a batch as numpy, converted once and shared.

    The row checks, the batch order, the static reduction and the position
    buffer all need mmsi, time and position; converting them once instead
    of in each step saves a quarter of the per-batch checks.
    """

    mmsi: np.ndarray  # int64, -1 = null
    ts: np.ndarray  # int64 ms since epoch, 0 = null
    ts_null: np.ndarray
    lat: np.ndarray  # float64, NaN = null
    lon: np.ndarray
    has_pos: np.ndarray

    @classmethod
    def of(cls, obs: pa.Table) -> BatchNumbers:
        ts_col = obs["timestamp"]
        return cls(
            mmsi=_np(obs["mmsi"], np.int64, -1),
            ts=_np(ts_col.cast(pa.int64()), np.int64, 0),
            ts_null=np.asarray(ts_col.is_null().to_numpy(zero_copy_only=False), dtype=bool),
            lat=_np(obs["lat"], np.float64, np.nan),
            lon=_np(obs["lon"], np.float64, np.nan),
            has_pos=_np(obs["has_position"], np.bool_, True),
        )


def _detail_position(lat: pa.Array, lon: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(
        "lat=",
        pc.fill_null(lat.cast(pa.string()), "null"),
        " lon=",
        pc.fill_null(lon.cast(pa.string()), "null"),
        "",
    )


def row_reasons(obs: pa.Table, nums: BatchNumbers | None = None) -> np.ndarray:
    """Per-row rejection code of the row checks: index into REASON_ORDER, -1 = ok.

    Precedence: missing timestamp, invalid MMSI, non-vessel MMSI, invalid
    position (the first failing check names the row's single reason).
    """
    nums = nums if nums is not None else BatchNumbers.of(obs)
    n = obs.num_rows
    code = np.full(n, -1, dtype=np.int8)
    ts_null, lat, lon, has_pos = nums.ts_null, nums.lat, nums.lon, nums.has_pos
    kind = classify_mmsi(nums.mmsi)
    with np.errstate(invalid="ignore"):
        bad_pos = has_pos & (
            ~(np.abs(lat) <= 90.0) | ~(np.abs(lon) <= 180.0) | ((lat == 0.0) & (lon == 0.0))
        )
    for i, mask in enumerate(
        (
            ts_null,
            kind == MmsiKind.INVALID,
            (kind != MmsiKind.INVALID) & (kind != MmsiKind.SHIP),
            bad_pos,
        )
    ):
        code[(code < 0) & mask] = i
    return code


REASON_ORDER = (
    QuarantineReason.MISSING_TIMESTAMP,
    QuarantineReason.INVALID_MMSI,
    QuarantineReason.NON_VESSEL_MMSI,
    QuarantineReason.INVALID_POSITION,
)


def _quarantine_from_obs(obs: pa.Table, code: np.ndarray) -> pa.Table:
    reasons = pa.array([r.value for r in REASON_ORDER], pa.string()).take(
        pa.array(code.astype(np.int32))
    )
    mmsi_text = pc.fill_null(one_array(obs["mmsi"]).cast(pa.string()), "null")
    kind_names = pa.array([k.name.lower() for k in MmsiKind], pa.string()).take(
        pa.array(classify_mmsi(_np(obs["mmsi"], np.int64, -1)).astype(np.int32))
    )
    details = pc.if_else(
        pc.equal(reasons, QuarantineReason.INVALID_POSITION.value),
        _detail_position(one_array(obs["lat"]), one_array(obs["lon"])),
        pc.if_else(
            pc.equal(reasons, QuarantineReason.MISSING_TIMESTAMP.value),
            pa.scalar("no timestamp in record", pa.string()),
            pc.binary_join_element_wise("mmsi=", mmsi_text, " (", kind_names, ")", ""),
        ),
    )
    cols = {"reason": reasons, "detail": details, "raw": pa.nulls(obs.num_rows, pa.string())}
    return pa.Table.from_arrays(
        [
            cols[f.name] if f.name in cols else one_array(obs[f.name]).cast(f.type)
            for f in QUARANTINE_SCHEMA
        ],
        schema=QUARANTINE_SCHEMA,
    )


def _same_as_next(col: pa.ChunkedArray | pa.Array, sel: np.ndarray) -> np.ndarray:
    """Row ``sel[i+1]`` equals row ``sel[i]`` in ``col`` (nulls equal nulls).

    Numbers compare their raw values in their own type plus the validity
    bits, with no float copy and no fill: this runs on every column of
    every batch. A NaN never equals itself here, so at worst a row is kept.
    Text: see :func:`_same_text_as_next`.
    """
    arr = one_array(col)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return _same_text_as_next(arr, sel)
    values = np.take(buffer_values(arr), sel)
    eq = values[1:] == values[:-1]
    valid = validity_of(arr)
    if valid is None:
        return eq
    valid = np.take(valid, sel)
    # both null, or both valid and equal
    return (valid[1:] == valid[:-1]) & (eq | ~valid[1:])


#: _LOW_BYTES[k] keeps the first k bytes of a little-endian 8-byte word
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)


def _same_text_as_next(arr: pa.Array, sel: np.ndarray) -> np.ndarray:
    """:func:`_same_as_next` for text.

    Values of at most 8 bytes (call signs: 7 characters in AIS) compare as
    one 8-byte word each, read off the string buffers, plus their length:
    ~2x cheaper than hashing every row. Longer text (names) compares per-batch
    dictionary codes (nulls encoded as a value of their own).
    """
    parts = string_parts(arr)
    if parts is not None:
        starts, lens, data, valid = parts
        first = np.take(starts, sel)
        size = np.take(lens, sel)  # 0 for nulls: the validity tells them from ""
        if len(size) and int(size.max()) <= 8:
            padded = np.zeros(len(data) + 8, dtype=np.uint8)  # a word from every byte
            padded[: len(data)] = data
            words = np.ndarray((len(data) + 1,), np.dtype("<u8"), padded, 0, (1,))
            word = words[first]  # fancy indexing: np.take would copy the overlapping view
            word &= np.take(_LOW_BYTES, size)
            eq = (size[1:] == size[:-1]) & (word[1:] == word[:-1])
            if valid is not None:
                v = np.take(valid, sel)
                eq &= v[1:] == v[:-1]
            return eq
    codes = pc.dictionary_encode(arr, null_encoding="encode").indices
    v = np.take(codes.to_numpy(), sel)
    return v[1:] == v[:-1]


def _has_static(obs: pa.Table) -> np.ndarray:
    """Rows with at least one static field, from the validity bitmaps.

    The bitmaps of the columns are OR-ed as packed bytes (one byte per
    8 rows) and unpacked once, instead of one bool array per column.
    """
    n = obs.num_rows
    packed: np.ndarray | None = None
    rows = np.zeros(n, dtype=bool)
    for name in STATIC_COLUMNS:
        arr = one_array(obs[name])
        if arr.null_count == len(arr):
            continue
        if arr.null_count == 0:
            return np.ones(n, dtype=bool)
        if arr.offset % 8:
            rows |= validity_of(arr)
            continue
        lo = arr.offset // 8
        bits = np.frombuffer(arr.buffers()[0], np.uint8)[lo : lo + (n + 7) // 8]
        if packed is None:
            packed = bits.copy()
        else:
            packed |= bits
    if packed is not None:
        rows |= np.unpackbits(packed, count=n, bitorder="little").view(bool)
    return rows


def batch_order(obs: pa.Table, nums: BatchNumbers | None = None) -> np.ndarray:
    """Stable row order of a batch by (UTC day, mmsi, timestamp).

    Computed once per batch and shared: the static reduction needs each
    vessel's reports of a day in time order, and position rows buffered in
    this order turn the day's big sort into a merge of sorted runs. Day
    first: a batch that crosses midnight hands each day its rows as one
    slice of the ordered rows (no gather per day), and within a day the order
    is by (mmsi, timestamp) as the day's resolution wants it.

    One packed int64 key, (day - first day, mmsi, ms of the day) in 6 + 30 +
    27 bits, is ~3x faster than a lexsort; batches spanning 64 days or more
    (long NMEA logs) take the exact lexsort instead. Rows the checks reject
    (null or out-of-range mmsi or time) get clipped keys: they are masked
    out by every user of the order.
    """
    nums = nums if nums is not None else BatchNumbers.of(obs)
    if len(nums.ts) == 0:
        return np.empty(0, dtype=np.intp)
    valid_ts = nums.ts[~nums.ts_null] if nums.ts_null.any() else nums.ts
    lo = int(valid_ts.min()) // MS_PER_DAY if len(valid_ts) else 0
    hi = int(valid_ts.max()) // MS_PER_DAY if len(valid_ts) else 0
    mmsi = np.clip(nums.mmsi, 0, _MMSI_KEY_MAX)
    if hi - lo > _DAY_KEY_MAX:
        return np.lexsort((nums.ts, mmsi, nums.ts // MS_PER_DAY))
    # ms since the first day's midnight: (day offset, ms of the day) in one
    # number below 2**33, no division per row
    key = np.clip(nums.ts - lo * MS_PER_DAY, 0, (_DAY_KEY_MAX + 1) * MS_PER_DAY - 1)
    if hi > lo:  # the day offset goes above the mmsi
        day = key // MS_PER_DAY
        key -= day * MS_PER_DAY
        np.left_shift(day, 57, out=day)
        key |= day
    np.left_shift(mmsi, 27, out=mmsi)
    key |= mmsi
    return stable_argsort(key)


#: largest mmsi and day offset that fit the packed key of :func:`batch_order`
_MMSI_KEY_MAX = 2**30 - 1  # MMSIs have 9 digits: < 2**30
_DAY_KEY_MAX = 2**6 - 1


def day_bounds(ts: np.ndarray) -> list[tuple[int, int, int]]:
    """(UTC day, start, stop) of the slices of rows in :func:`batch_order`.

    ``ts`` (ms) are rows in that order, so their days never decrease.
    """
    if len(ts) == 0:
        return []
    lo, hi = int(ts[0]) // MS_PER_DAY, int(ts[-1]) // MS_PER_DAY
    if lo == hi:
        return [(lo, 0, len(ts))]
    day = ts // MS_PER_DAY
    starts = np.flatnonzero(day[1:] != day[:-1]) + 1
    edges = [0, *starts.tolist(), len(ts)]
    return [(int(day[a]), a, b) for a, b in pairwise(edges)]


def static_candidates(
    obs: pa.Table,
    valid: np.ndarray | None = None,
    order: np.ndarray | None = None,
    nums: BatchNumbers | None = None,
) -> pa.Table:
    """VESSEL_SCHEMA rows of accepted observations that carry static data.

    Reduced within the batch to the first row of each run of identical
    static values per vessel and UTC day (time order), which keeps every
    change while dropping the name repeated on every MarineCadastre ping.
    For reports in time order this is exactly what :func:`vessel_series`
    would keep from all of them: a repeated row only restates the run's
    first row (forward fill included), so it can never be a change.
    Vectorised: no Python object per row (see :func:`_same_as_next`).
    ``valid`` masks rows to consider; ``order`` is :func:`batch_order` of
    ``obs`` when the caller has it. The rows come out in that order, so each
    UTC day is one slice of them.
    """
    has = _has_static(obs)
    if valid is not None:
        has &= valid
    if not has.any():
        return VESSEL_SCHEMA.empty_table()
    nums = nums if nums is not None else BatchNumbers.of(obs)
    if order is None:
        order = batch_order(obs, nums)
    # rows with static data, each vessel's reports in time order
    sel = order[has[order]]
    if len(sel) > 2:
        mmsi = np.take(nums.mmsi, sel)
        day = np.take(nums.ts, sel) // MS_PER_DAY
        # a run never crosses midnight: each UTC day's series starts whole
        same = (mmsi[1:] == mmsi[:-1]) & (day[1:] == day[:-1])
        for name in STATIC_COLUMNS:
            col = obs[name]
            if col.null_count == len(col):
                continue
            same &= _same_as_next(col, sel)
        sel = sel[np.concatenate([[True], ~same])]
    # only the vessel columns are gathered (not lat/lon/source_file...),
    # column by column (Table.take costs ~2x more); a batch's single source
    # name is a slice of a cached array instead of one copy per row
    idx = pa.array(sel)
    arrays = []
    for f in VESSEL_SCHEMA:
        col = one_array(obs[f.name])
        one = _one_value(col) if f.name == "source" else None
        arrays.append(repeat_text(one, len(sel)) if one is not None else col.take(idx).cast(f.type))
    return pa.Table.from_arrays(arrays, schema=VESSEL_SCHEMA)


def split_batch(obs: pa.Table) -> BatchSplit:
    """Row checks on one reader batch (see module docstring)."""
    nums = BatchNumbers.of(obs)
    code = row_reasons(obs, nums)
    bad = code >= 0
    quarantine = (
        _quarantine_from_obs(obs.filter(pa.array(bad)), code[bad])
        if bad.any()
        else QUARANTINE_SCHEMA.empty_table()
    )
    counts: dict[str, int] = {}
    if bad.any():
        for i, n in enumerate(np.bincount(code[bad], minlength=len(REASON_ORDER))):
            if n:
                counts[REASON_ORDER[i].value] = int(n)
    # Masks instead of filtered tables: filtering copies every column,
    # strings included, and the buffer needs a few numeric columns only.
    good = ~bad
    has_pos = nums.has_pos
    order = batch_order(obs, nums)
    return BatchSplit(
        observations=obs,
        position_mask=good & has_pos,
        statics=static_candidates(obs, good, order, nums),
        quarantine=quarantine,
        n_static_only=int((good & ~has_pos).sum()),
        quarantined_by_reason=counts,
        order=order,
        numbers=nums,
    )


# -------------------------------------------------------------- day resolution
@dataclass
class DayResolution:
    """Outcome of :func:`resolve_day` for a buffer (stored rows first)."""

    #: buffer indices of the rows to store, in canonical (mmsi, timestamp) order
    out_index: np.ndarray
    #: Status code per buffer row
    status: np.ndarray
    #: Status -> detail text of the rows quarantined with it. Details never
    #: name other rows: the same input must give the same quarantine row
    #: whatever else is ingested with it (idempotent store).
    details: dict[int, str]


def _equal_rows(buf: PositionBuffer, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    eq = np.ones(len(i), dtype=bool)
    for name in VALUE_COLUMNS:
        a, b = buf.cols[name][i], buf.cols[name][j]
        if a.dtype.kind == "f":
            eq &= (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            eq &= a == b
    return eq


def _same(pos: np.ndarray) -> np.ndarray:
    return pos


def resolve_day(
    buf: PositionBuffer, stored: int | np.ndarray, day_start_ms: int, cfg: CleaningConfig
) -> DayResolution:
    """Sort one day, resolve duplicates against stored rows, flag position jumps.

    ``stored`` marks the rows already in the store: a count (they are the
    buffer's first rows) or a boolean mask. New rows must be in input order
    relative to each other (the first new row of a key is its candidate),
    and a stored row must precede the new rows of its (mmsi, timestamp).
    Every ``ts`` must lie within the day.
    """
    n = len(buf)
    status = np.full(n, Status.ACCEPTED, dtype=np.int8)
    if isinstance(stored, np.ndarray):
        is_stored = stored
    else:
        is_stored = np.zeros(n, dtype=bool)
        is_stored[:stored] = True
    status[is_stored] = Status.STORED
    if n == 0:
        return DayResolution(np.empty(0, dtype=np.int64), status, {})
    # (mmsi, time of day) packed in one int64: mmsi < 2**30, ms of day < 2**27.
    # Memory matters at 1e7 rows: build the key in place, keep indices int32.
    key = buf.cols["ts"] - day_start_ms
    shifted = buf.cols["mmsi"].astype(np.int64)
    np.left_shift(shifted, 27, out=shifted)
    key |= shifted
    del shifted
    # Sorted position -> buffer row. The ingest hands parts already in order
    # (stswatch.pipeline.ingest_day.DayRuns.gather): then it is the identity and every
    # gather through it is skipped (``at``), ~1/4 of this function's work.
    order: np.ndarray | None = None
    if not bool(np.all(key[1:] >= key[:-1])):
        order = np.argsort(key, kind="stable").astype(np.int32)  # ties: stored first
    at: Callable[[np.ndarray], np.ndarray] = _same if order is None else order.__getitem__
    # group starts, computed in chunks so key[order] never exists whole
    start = np.empty(n, dtype=bool)
    start[0] = True
    if order is None:
        np.not_equal(key[1:], key[:-1], out=start[1:])
    else:
        step = 1 << 20
        for lo in range(1, n, step):
            hi = min(lo + step, n)
            np.not_equal(key[order[lo:hi]], key[order[lo - 1 : hi - 1]], out=start[lo:hi])
    del key
    dup_pos = np.flatnonzero(~start)  # sorted positions of non-first rows of a group
    if len(dup_pos):
        group = np.cumsum(start) - 1
        gs = np.flatnonzero(start)
        has_stored = is_stored[at(gs)]
        # new-row candidate of each group: first row, or second if the first is stored
        cand = gs + has_stored
        g_dup = group[dup_pos]
        # groups that have more than one row
        multi = np.unique(g_dup)
        # (a) candidate vs stored row
        s_groups = multi[has_stored[multi]]
        if len(s_groups):
            ci = at(cand[s_groups])
            si = at(gs[s_groups])
            same = _equal_rows(buf, ci, si)
            status[ci[same]] = Status.ALREADY_STORED
            status[ci[~same]] = Status.DUPLICATE_MMSI_TIME
        # (b) later new rows vs the group's kept row: the stored row if there
        # is one, else the candidate (so the verdict on a row does not depend
        # on which other new rows came with it: idempotent re-ingest)
        later = dup_pos[dup_pos != cand[g_dup]]
        later = later[~is_stored[at(later)]]
        if len(later):
            bi = at(later)
            ref = at(gs[group[later]])  # first row of the group: stored or candidate
            same = _equal_rows(buf, bi, ref)
            status[bi[same]] = Status.DUPLICATE_EXACT
            status[bi[~same]] = Status.DUPLICATE_MMSI_TIME
        del group
    del start
    if order is None:
        kept = np.flatnonzero((status == Status.ACCEPTED) | (status == Status.STORED))
    else:
        ranked = status[order]
        kept = order[(ranked == Status.ACCEPTED) | (ranked == Status.STORED)]
        del ranked
    del order, at
    jump = _jumps(buf, kept, is_stored, cfg)
    if jump.any():
        status[kept[jump]] = Status.POSITION_JUMP
        kept = kept[~jump]
    details = {
        Status.DUPLICATE_EXACT: "identical to a kept row (mmsi, timestamp and values)",
        Status.DUPLICATE_MMSI_TIME: "a kept row has the same mmsi and timestamp, other values",
        Status.POSITION_JUMP: (
            f"implied speed > {cfg.max_jump_speed_kn:g} kn and distance > "
            f"{cfg.min_jump_distance_m:g} m to both neighbours"
        ),
    }
    return DayResolution(kept, status, details)


#: Rows per chunk of the jump check (bounded temporaries at 1e7 rows/day).
_JUMP_CHUNK_ROWS = 1 << 20


def _jumps(
    buf: PositionBuffer, kept: np.ndarray, is_stored: np.ndarray, cfg: CleaningConfig
) -> np.ndarray:
    """Mask over ``kept`` (canonical order) of single-ping position jumps.

    A ping needs only its two neighbours, so the check runs over chunks that
    overlap by one row on each side: same result, bounded memory.
    """
    m = len(kept)
    jump = np.zeros(m, dtype=bool)
    for lo in range(0, m, _JUMP_CHUNK_ROWS):
        a = max(lo - 1, 0)
        b = min(lo + _JUMP_CHUNK_ROWS + 1, m)
        part = _jumps_chunk(buf, kept[a:b], cfg)
        jump[lo : min(lo + _JUMP_CHUNK_ROWS, m)] = part[
            lo - a : lo - a + min(_JUMP_CHUNK_ROWS, m - lo)
        ]
    jump &= ~is_stored[kept]  # stored rows are never re-judged
    return jump


def _jumps_chunk(buf: PositionBuffer, idx: np.ndarray, cfg: CleaningConfig) -> np.ndarray:
    m = len(idx)
    if m < 3:
        return np.zeros(m, dtype=bool)
    idx = np.asarray(idx, dtype=np.intp)
    mmsi = np.take(buf.cols["mmsi"], idx)
    same_prev = mmsi[1:] == mmsi[:-1]
    del mmsi
    lat = np.take(buf.cols["lat"], idx)
    lon = np.take(buf.cols["lon"], idx)
    ts = np.take(buf.cols["ts"], idx)
    dt_h = np.diff(ts).astype(np.float64) / 3_600_000.0
    del ts
    # Cheap upper bound first: the great circle is no longer than going
    # along a meridian then a parallel, R * (|dlat| + |dlon|) in radians.
    # Pairs whose bound is not "far" cannot be far; haversine runs on the
    # few others only (same verdicts, ~4x less work on real tracks).
    dlat = np.abs(np.diff(lat))
    dlon = np.abs(np.diff(lon))
    np.minimum(dlon, 360.0 - dlon, out=dlon)
    bound_m = (dlat + dlon) * (np.pi / 180.0 * EARTH_RADIUS_M * 1.001) + 1.0
    del dlat, dlon
    with np.errstate(divide="ignore", invalid="ignore"):
        maybe = (bound_m > cfg.min_jump_distance_m) & same_prev
        maybe &= ~(bound_m / M_PER_NM / dt_h <= cfg.max_jump_speed_kn) | ~(dt_h > 0)
    del bound_m
    cand = np.flatnonzero(maybe)
    far = np.zeros(m - 1, dtype=bool)
    if len(cand):
        a, b = cand, cand + 1
        dist = haversine_m(lat[a], lon[a], lat[b], lon[b])  # between i and i+1
        dt_c = dt_h[cand]
        with np.errstate(divide="ignore", invalid="ignore"):
            speed_kn = np.where(dt_c > 0, dist / M_PER_NM / dt_c, np.inf)
        far[cand] = (speed_kn > cfg.max_jump_speed_kn) & (dist > cfg.min_jump_distance_m)
    jump = np.zeros(m, dtype=bool)
    jump[1:-1] = far[:-1] & far[1:]
    return jump


# -------------------------------------------------------------- vessel series
def vessel_series(candidates: pa.Table) -> pa.Table:
    """Reduce static reports to a change series per vessel (VESSEL_SCHEMA, sorted).

    Candidates may include rows already stored (put them first: on equal
    (mmsi, timestamp) the later rows' values win after forward fill).

    Every step runs on integer positions: forward fill is a running maximum
    of source positions, and each column's values are gathered only at the
    rows it is compared on, then once more for the rows of the final series.
    A day's candidates run to millions of rows (a static report per ping in
    MarineCadastre), so never sorting or copying their columns whole is what
    keeps this cheap.
    """
    if candidates.num_rows == 0:
        return VESSEL_SCHEMA.empty_table()
    n = candidates.num_rows
    order = _series_order(candidates)
    # np.take rather than fancy indexing: ~1.6x faster for these gathers
    mmsi = np.take(_np(candidates["mmsi"], np.int64, 0), order)
    ts = np.take(_np(candidates["timestamp"].cast(pa.int64()), np.int64, 0), order)
    first_of_vessel = np.ones(n, dtype=bool)
    first_of_vessel[1:] = mmsi[1:] != mmsi[:-1]
    # source position (in sorted order) of each column's value after the
    # forward fill within a vessel; absent = the row's own value
    src: dict[str, np.ndarray] = {}
    positions = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    for name in (*STATIC_COLUMNS, "transceiver_class"):
        valid = _valid_rows(candidates[name])
        if valid is None:
            continue
        fill = ~np.take(valid, order)
        fill &= ~first_of_vessel
        if fill.any():
            pos = positions.copy()
            pos[fill] = 0
            np.maximum.accumulate(pos, out=pos)
            src[name] = pos
    del positions
    # one row per (mmsi, timestamp): the last, which has accumulated everything
    keep = np.ones(n, dtype=bool)
    keep[:-1] = (mmsi[1:] != mmsi[:-1]) | (ts[1:] != ts[:-1])
    keep = np.flatnonzero(keep)
    kept_mmsi = np.take(mmsi, keep)
    # only rows where mmsi or a (filled) static value changed
    same = kept_mmsi[1:] == kept_mmsi[:-1]
    rows_kept = np.take(order, keep)  # candidate row of each kept row
    for name in STATIC_COLUMNS:
        rows = np.take(order, np.take(src[name], keep)) if name in src else rows_kept
        same &= _equal_neighbours(candidates[name].take(pa.array(rows)))
    out = keep[np.concatenate([[True], ~same])]
    arrays = []
    for f in VESSEL_SCHEMA:
        rows = np.take(order, src[f.name][out] if f.name in src else out)
        # a chunked take gathers straight from the chunks (no combined copy)
        arrays.append(one_array(candidates[f.name].take(pa.array(rows))).cast(f.type))
    return pa.Table.from_arrays(arrays, schema=VESSEL_SCHEMA)


def _valid_rows(col: pa.ChunkedArray) -> np.ndarray | None:
    """Row validity of a (chunked) column as numpy bool, None when no null."""
    if col.null_count == 0:
        return None
    return np.concatenate(
        [np.ones(len(c), dtype=bool) if (v := validity_of(c)) is None else v for c in col.chunks]
        or [np.zeros(0, dtype=bool)]
    )


def _equal_neighbours(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """``values[i+1] == values[i]`` per row, nulls equal to nulls (and NaN to NaN).

    Text compares with Arrow's own kernel on the gathered values: ~2x
    cheaper than dictionary-encoding the whole column to compare codes.
    """
    values = one_array(values)
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        v = _np(values.cast(pa.float64()), np.float64, np.nan)
        a, b = v[1:], v[:-1]
        return (a == b) | (np.isnan(a) & np.isnan(b))
    a, b = values.slice(1), values.slice(0, len(values) - 1)
    eq = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return np.asarray(pc.or_(eq, both_null).to_numpy(zero_copy_only=False), dtype=bool)


def _series_order(candidates: pa.Table) -> np.ndarray:
    """Row order by (mmsi, timestamp), ties in input order (stable).

    One packed int64 key when it fits (always for a day of AIS): numpy's
    stable argsort (timsort) merges the already sorted runs the candidates
    come in (stored or compacted series, per-batch candidates) in
    near-linear time. At 1e7 ingested rows the per-day compactions spent
    ~0.5 CPU s in Arrow's three-key sort; this takes ~0.2 s, key building
    included. Same order.
    """
    mmsi = _np(candidates["mmsi"], np.int64, 0)
    ts = _np(candidates["timestamp"].cast(pa.int64()), np.int64, 0)
    if int(mmsi.min()) >= 0 and int(mmsi.max()) < 2**31 and int(ts.max() - ts.min()) < 2**32:
        return np.argsort((mmsi << 32) | (ts - ts.min()), kind="stable")
    prio = pa.array(np.arange(candidates.num_rows, dtype=np.int64))
    keys = pa.table(
        {"mmsi": candidates["mmsi"], "timestamp": candidates["timestamp"], "_prio": prio}
    )
    return pc.sort_indices(
        keys, sort_keys=[("mmsi", "ascending"), ("timestamp", "ascending"), ("_prio", "ascending")]
    ).to_numpy()


# ------------------------------------------------------------ whole-table API
@dataclass
class CleanResult:
    """Clean tables of one in-memory cleaning run."""

    positions: pa.Table  # POSITION_SCHEMA, sorted by (mmsi, timestamp)
    vessels: pa.Table  # VESSEL_SCHEMA, sorted by (mmsi, timestamp)
    quarantine: pa.Table  # QUARANTINE_SCHEMA
    n_static_only: int = 0

    @property
    def n_accepted(self) -> int:
        return self.positions.num_rows + self.n_static_only


def clean(observations: pa.Table, cfg: CleaningConfig | None = None) -> CleanResult:
    """Clean an in-memory OBSERVATION_SCHEMA table (all days at once).

    The streaming ingest (:mod:`stswatch.pipeline.ingest`) runs the same two stages
    batch by batch and day by day; this function is the same logic for a
    table that fits in memory (tests, notebooks, the simulator).
    Every input row ends in exactly one of ``positions``, static-only
    accepted (``n_static_only``) or ``quarantine``.
    """
    cfg = cfg or CleaningConfig()
    if not observations.schema.equals(OBSERVATION_SCHEMA):
        observations = observations.select(OBSERVATION_SCHEMA.names).cast(OBSERVATION_SCHEMA)
    split = split_batch(observations)
    quarantine = [split.quarantine]
    files = sorted(set(pc.unique(split.positions["source_file"]).to_pylist()) - {None})
    origin_of = {f: i for i, f in enumerate(files)}
    parts = []
    for f in files:
        sub = split.positions.filter(pc.equal(split.positions["source_file"], f))
        parts.append(PositionBuffer.from_observations(sub, origin_of[f]))
    nofile = split.positions.filter(pc.is_null(split.positions["source_file"]))
    if nofile.num_rows:
        parts.append(PositionBuffer.from_observations(nofile, len(files)))
    buf = PositionBuffer.concat(parts)
    file_names = [*files, None]
    day = buf.cols["ts"] // MS_PER_DAY
    positions = []
    for d in np.unique(day):
        sel = np.flatnonzero(day == d)
        sub = buf.take(sel)
        res = resolve_day(sub, 0, int(d) * MS_PER_DAY, cfg)
        positions.append(sub.to_positions(res.out_index))
        q = np.flatnonzero(np.isin(res.status, list(STATUS_REASON)))
        if len(q):
            quarantine.append(
                sub.to_quarantine(
                    q,
                    [STATUS_REASON[int(s)].value for s in res.status[q]],
                    [res.details.get(int(st)) for st in res.status[q]],
                    file_names,  # type: ignore[arg-type]
                )
            )
    pos = pa.concat_tables(positions) if positions else POSITION_SCHEMA.empty_table()
    # Static series per day, like the store.
    stat = split.statics
    vessels = []
    if stat.num_rows:
        sday = _np(stat["timestamp"].cast(pa.int64()), np.int64, 0) // MS_PER_DAY
        for d in np.unique(sday):
            vessels.append(vessel_series(stat.filter(pa.array(sday == d))))
    ves = pa.concat_tables(vessels) if vessels else VESSEL_SCHEMA.empty_table()
    return CleanResult(pos, ves, pa.concat_tables(quarantine), split.n_static_only)
