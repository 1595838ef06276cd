"""Helpers shared by the NMEA tests: collect a reader's batches, parse gpsd goldens."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.nmea import NmeaStats, read_nmea, read_nmea_lines


@dataclass
class Decoded:
    """Everything a reader produced for one input, batches concatenated."""

    observations: pa.Table
    rejects: pa.Table
    stats: NmeaStats
    n_batches: int

    def obs_rows(self) -> list[dict[str, Any]]:
        return self.observations.to_pylist()

    def reject_rows(self) -> list[dict[str, Any]]:
        return self.rejects.to_pylist()

    def reasons(self) -> list[str]:
        return self.rejects.column("reason").to_pylist()


def _collect(batches: Iterator[ReaderBatch], stats: NmeaStats) -> Decoded:
    got = list(batches)
    return Decoded(
        pa.concat_tables([b.observations for b in got]),
        pa.concat_tables([b.rejects for b in got]),
        stats,
        len(got),
    )


def decode_lines(lines: Iterable[str | bytes], **kwargs: Any) -> Decoded:
    stats = NmeaStats()
    return _collect(read_nmea_lines(lines, stats=stats, **kwargs), stats)


def decode_file(path: Path, **kwargs: Any) -> Decoded:
    stats = NmeaStats()
    return _collect(read_nmea(path, stats=stats, **kwargs), stats)


def assert_tally(d: Decoded) -> None:
    """Every line and record accounted for, by two independent routes."""
    s = d.stats
    assert s.lines == s.blank_lines + s.comment_lines + s.sentence_lines
    assert s.records == s.units - s.wrapper_lines - s.merged_fragments
    assert s.records == d.observations.num_rows + d.rejects.num_rows
    assert s.accepted == d.observations.num_rows
    assert sum(s.quarantined.values()) == d.rejects.num_rows


# --------------------------------------------------------------------------- #
# gpsd_sample.aivdm golden values
# --------------------------------------------------------------------------- #

_KEY_VALUE = re.compile(r"^#\s+([A-Za-z][A-Za-z_ ]*?)\s*:\s*(.*?)\s*$")

#: gpsd comment key -> our field name
GOLDEN_KEYS = {
    "UserID": "mmsi",
    "MMSI": "mmsi",
    "MessageID": "msg_type",
    "Message Type": "msg_type",
    "latitude": "lat",
    "Latitude": "lat",
    "Position_latitude": "lat",
    "longitude": "lon",
    "Longitude": "lon",
    "Position_longitude": "lon",
    "SOG": "sog_kn",
    "COG": "cog_deg",
    "TrueHeading": "heading_deg",
    "True Heading": "heading_deg",
    "NavigationStatus": "nav_status",
    "name": "vessel_name",
    "callsign": "callsign",
    "IMOnumber": "imo",
    "shipandcargo": "ship_type",
    "dimA": "to_bow",
    "dimB": "to_stern",
    "dimC": "to_port",
    "dimD": "to_starboard",
    "draught": "draught_m",
}


@dataclass
class GoldenBlock:
    """Sentences of one gpsd example and the decoded values its comments state."""

    first_line: int
    sentences: list[str]
    expected: dict[str, str] = field(default_factory=dict)


def golden_blocks(path: Path) -> list[GoldenBlock]:
    """Split gpsd's sample into (sentences, ``# key: value`` expectations) blocks.

    A block is a run of ``!`` sentence lines followed by the comment lines up to
    the next sentence; the first value of a key wins (later keys belong to
    sub-structures of binary messages).
    """
    blocks: list[GoldenBlock] = []
    current: GoldenBlock | None = None
    in_sentences = False
    for n, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if line.startswith("!"):
            if not in_sentences:
                current = GoldenBlock(n, [])
                blocks.append(current)
                in_sentences = True
            assert current is not None
            current.sentences.append(line)
            continue
        in_sentences = False
        match = _KEY_VALUE.match(line)
        if current is not None and match and match.group(1) in GOLDEN_KEYS:
            current.expected.setdefault(GOLDEN_KEYS[match.group(1)], match.group(2))
    return blocks
