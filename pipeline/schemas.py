"""Canonical Arrow schemas shared by every stage of stswatch.

Every reader (MarineCadastre, DMA, NMEA) produces :data:`OBSERVATION_SCHEMA`
batches; the cleaner splits them into :data:`POSITION_SCHEMA` rows (vessel
tracks), :data:`VESSEL_SCHEMA` rows (static identity, a time series per
vessel) and :data:`QUARANTINE_SCHEMA` rows (everything rejected, with a
machine-readable reason). The store keeps the last three as Hive-partitioned
Parquet (``positions/date=YYYY-MM-DD/``...).

Why one schema for all sources: the detectors and the scorer must not care
whether a ping came from a US coastal receiver or a satellite NMEA log, and
analysts query the store with DuckDB without per-source special cases.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

#: Timestamps are UTC with millisecond precision: AIS receivers stamp at best
#: to the second, but NMEA tag blocks and DMA exports can carry sub-seconds.
TIMESTAMP_TYPE = pa.timestamp("ms", tz="UTC")


class Source(StrEnum):
    """Where a row came from (stored in the ``source`` column)."""

    MARINECADASTRE = "marinecadastre"
    DMA = "dma"
    NMEA = "nmea"
    SIMULATED = "simulated"
    STONESOUP = "stonesoup"  # Dstl Stone Soup demo tracks (real data, test reader)


class QuarantineReason(StrEnum):
    """Machine-readable reasons a row is kept out of the clean tables.

    The quarantine is never a bin: every rejected row is kept with one of
    these reasons so that a tally ``accepted + quarantined == input rows``
    can be checked for every input.
    """

    PARSE_ERROR = "parse_error"  # malformed line / field that cannot be typed
    CHECKSUM_ERROR = "checksum_error"  # NMEA checksum mismatch
    INCOMPLETE_MULTIPART = "incomplete_multipart"  # NMEA fragment never completed
    NOT_AIS = "not_ais"  # non-AIS NMEA sentence (e.g. $GPGGA)
    UNSUPPORTED_MESSAGE = "unsupported_message"  # AIS type carrying no position/static data
    MISSING_TIMESTAMP = "missing_timestamp"  # no time in the line and none supplied
    INVALID_TIMESTAMP = "invalid_timestamp"  # unparseable or implausible time
    INVALID_MMSI = "invalid_mmsi"  # not 9 digits / outside ship MID ranges
    NON_VESSEL_MMSI = "non_vessel_mmsi"  # base station, AtoN, SAR aircraft, ...
    INVALID_POSITION = "invalid_position"  # missing or impossible coordinates
    DUPLICATE_EXACT = "duplicate_exact"  # identical row seen before
    DUPLICATE_MMSI_TIME = "duplicate_mmsi_time"  # same (mmsi, timestamp), different values
    POSITION_JUMP = "position_jump"  # single-ping jump implying > max speed to both neighbours


#: What every reader yields, one row per input record, before cleaning.
#: ``has_position`` is False for static-only messages (AIS type 5/24), which
#: feed the vessel table only and are never judged on coordinates.
OBSERVATION_SCHEMA = pa.schema(
    [
        pa.field("mmsi", pa.int64()),  # int64: raw input may be out of range
        pa.field("timestamp", TIMESTAMP_TYPE),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("sog_kn", pa.float32()),
        pa.field("cog_deg", pa.float32()),
        pa.field("heading_deg", pa.float32()),
        pa.field("nav_status", pa.int8()),  # ITU-R M.1371 navigational status 0..15
        pa.field("transceiver_class", pa.string()),  # "A" | "B" | null
        pa.field("vessel_name", pa.string()),
        pa.field("imo", pa.int32()),
        pa.field("callsign", pa.string()),
        pa.field("ship_type", pa.int16()),  # ITU ship-and-cargo type code 0..99
        pa.field("length_m", pa.float32()),
        pa.field("width_m", pa.float32()),
        pa.field("draught_m", pa.float32()),
        pa.field("has_position", pa.bool_()),
        pa.field("source", pa.string()),
        pa.field("source_file", pa.string()),
        pa.field("row_number", pa.int64()),  # 1-based record number within source_file
    ]
)

#: Clean vessel positions, sorted by (mmsi, timestamp) within a day partition.
POSITION_SCHEMA = pa.schema(
    [
        pa.field("mmsi", pa.int32(), nullable=False),
        pa.field("timestamp", TIMESTAMP_TYPE, nullable=False),
        pa.field("lat", pa.float64(), nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("sog_kn", pa.float32()),
        pa.field("cog_deg", pa.float32()),
        pa.field("heading_deg", pa.float32()),
        pa.field("nav_status", pa.int8()),
        pa.field("transceiver_class", pa.string()),
        pa.field("source", pa.string()),
    ]
)

#: How the store *writes* positions: the two text columns as dictionaries
#: (int8 codes into a short word list), so the Parquet writer stores the
#: codes without hashing ten million strings. Files are written without the
#: Arrow schema, and every reader (pyarrow, pandas, DuckDB) reads them back
#: as POSITION_SCHEMA: plain strings.
POSITION_WRITE_SCHEMA = pa.schema(
    [
        pa.field(f.name, pa.dictionary(pa.int8(), pa.string()), nullable=f.nullable)
        if f.name in ("transceiver_class", "source")
        else f
        for f in POSITION_SCHEMA
    ]
)

#: Static identity as a time series: one row per (mmsi, timestamp) at which a
#: static field was reported. Draught is a time series on purpose: a draught
#: change across a meeting with no port call in between is cargo moving.
VESSEL_SCHEMA = pa.schema(
    [
        pa.field("mmsi", pa.int32(), nullable=False),
        pa.field("timestamp", TIMESTAMP_TYPE, nullable=False),
        pa.field("vessel_name", pa.string()),
        pa.field("imo", pa.int32()),
        pa.field("callsign", pa.string()),
        pa.field("ship_type", pa.int16()),
        pa.field("length_m", pa.float32()),
        pa.field("width_m", pa.float32()),
        pa.field("draught_m", pa.float32()),
        pa.field("transceiver_class", pa.string()),
        pa.field("source", pa.string()),
    ]
)

#: Rejected rows, with the reason and whatever could be parsed of them.
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("reason", pa.string(), nullable=False),  # a QuarantineReason value
        pa.field("detail", pa.string()),  # human-readable context, e.g. "lat=91.0"
        pa.field("source", pa.string()),
        pa.field("source_file", pa.string()),
        pa.field("row_number", pa.int64()),
        pa.field("raw", pa.string()),  # the raw line, where the row could not be typed
        pa.field("mmsi", pa.int64()),
        pa.field("timestamp", TIMESTAMP_TYPE),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("sog_kn", pa.float32()),
    ]
)

#: Detected rendezvous, one partition per UTC day of their start: the store's
#: memory of where meetings happened, which the scorer reads as history
#: (recurring spots are mostly designated lightering areas). Detection output
#: only, no scores, so a backfill and daily runs write identical partitions.
#: Dark transfers are recorded too (``kind``); the fields after ``mean_lon``
#: came with issue 14, and partitions written before lack them (read back as
#: nulls by ``stswatch.pipeline.event_history.read_history``).
RENDEZVOUS_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("mmsi_a", pa.int32(), nullable=False),
        pa.field("mmsi_b", pa.int32(), nullable=False),
        pa.field("start_time", TIMESTAMP_TYPE, nullable=False),
        pa.field("end_time", TIMESTAMP_TYPE, nullable=False),
        pa.field("duration_h", pa.float64()),
        pa.field("min_distance_m", pa.float64()),
        pa.field("mean_lat", pa.float64()),
        pa.field("mean_lon", pa.float64()),
        pa.field("kind", pa.string()),  # "rendezvous" | "dark_rendezvous"
        pa.field("dark_mmsi", pa.int32()),
        pa.field("shared_silence_h", pa.float64()),
        pa.field("sts_area_name", pa.string()),
        pa.field("sts_area_source", pa.string()),  # "listed" | "learned"
    ]
)

#: Analysts' verdicts (``STORE/labels/part-*.parquet``): an append-only log,
#: one file per review command, latest row per event wins. The event's start
#: and position are copied from the event history when the verdict is
#: recorded, so learning and the "confirmed spot" rule need no join.
LABEL_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("verdict", pa.string(), nullable=False),  # illicit | legitimate | unsure
        pa.field("note", pa.string()),
        pa.field("reviewer", pa.string(), nullable=False),
        pa.field("reviewed_at", TIMESTAMP_TYPE, nullable=False),
        pa.field("origin", pa.string()),  # "review set" | "review import FILE"
        pa.field("event_start", TIMESTAMP_TYPE),
        pa.field("mean_lat", pa.float64()),
        pa.field("mean_lon", pa.float64()),
    ]
)
LABELS = "labels"

#: Names of the store's tables (sub-folders of the store root).
POSITIONS = "positions"
VESSELS = "vessels"
QUARANTINE = "quarantine"
RENDEZVOUS = "rendezvous"
TABLES = (POSITIONS, VESSELS, QUARANTINE, RENDEZVOUS)
