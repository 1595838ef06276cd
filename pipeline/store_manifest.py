"""What the store records about itself: a manifest per day, and the inputs it has seen.

``_stswatch/days/YYYY-MM-DD.json`` (one per UTC day, committed together
with the day's tables, see :mod:`stswatch.pipeline.store_commit`)::

    {"format": 1, "day": "2024-01-15",
     "tables": {"positions": {"rows": 3871298, "bytes": 61234567, "blake3": "..."}, ...},
     "inputs": [{"blake3": "...", "name": "AIS_2024_01_15.zip", "bytes": 123456,
                 "format": "marinecadastre", "run": 3, "position": 0,
                 "ingested_at": "2026-12-04T22:00:00+00:00", "default_time": null,
                 "rows_in": 3900000, "accepted": 3871298,
                 "quarantined": {"invalid_mmsi": 12000, ...}}]}

``tables`` lets ``stswatch verify`` tell a damaged or swapped file from the
one the commit wrote (size, rows, BLAKE3 of the bytes). ``inputs`` is the
day's tally per input, keyed by the input's **content** (BLAKE3): the rows
of that input filed under this day, how many are in the store and how many
were quarantined, by reason. Re-ingesting an input replaces its entry with
the same numbers; ``run`` and ``position`` order the ingest runs, so a day
can be re-derived from its inputs in the order they first arrived.

``_stswatch/inputs.json``: every input the store has seen, by BLAKE3: the
name its quarantine rows carry (``source_file``, the path as first given,
so the same content under another spelling of its path changes nothing),
its size and format, the absolute paths it was read from (where
``verify --repair`` looks for it), and the number of the last ingest run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from stswatch.pipeline.store_lock import META_DIR, StoreError

DAYS_DIR = "days"
REGISTRY = "inputs.json"
FORMAT = 1


@dataclass
class TableEntry:
    """One committed table file of a day."""

    rows: int
    bytes: int
    blake3: str


@dataclass
class InputTally:
    """One input's rows filed under one UTC day (``rows_in == accepted + quarantined``)."""

    blake3: str
    name: str
    bytes: int
    format: str
    run: int
    position: int
    ingested_at: str
    default_time: str | None
    rows_in: int = 0
    accepted: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)

    @property
    def n_quarantined(self) -> int:
        return sum(self.quarantined.values())

    @property
    def balanced(self) -> bool:
        return self.accepted + self.n_quarantined == self.rows_in


@dataclass
class DayManifest:
    """The committed state of one UTC day (see the module doc)."""

    day: date
    tables: dict[str, TableEntry] = field(default_factory=dict)
    inputs: list[InputTally] = field(default_factory=list)
    #: the day also holds rows written before stswatch recorded its inputs
    #: (its inputs then cannot re-derive it whole)
    unrecorded_rows: bool = False

    def merge_inputs(self, tallies: list[InputTally]) -> None:
        """Replace the entries of inputs seen again (same content), append new ones."""
        index = {t.blake3: i for i, t in enumerate(self.inputs)}
        for tally in tallies:
            if tally.blake3 in index:
                old = self.inputs[index[tally.blake3]]
                # the first run that brought the input keeps its place in the replay order
                tally.run, tally.position = old.run, old.position
                tally.ingested_at, tally.name = old.ingested_at, old.name
                self.inputs[index[tally.blake3]] = tally
            else:
                index[tally.blake3] = len(self.inputs)
                self.inputs.append(tally)

    def to_json(self) -> str:
        body = {
            "format": FORMAT,
            "day": self.day.isoformat(),
            "tables": {k: asdict(v) for k, v in sorted(self.tables.items())},
            "inputs": [asdict(t) for t in self.inputs],
        }
        if self.unrecorded_rows:
            body["unrecorded_rows"] = True
        return json.dumps(body, indent=1, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str, where: Path) -> DayManifest:
        try:
            body = json.loads(text)
            return cls(
                day=date.fromisoformat(body["day"]),
                tables={k: TableEntry(**v) for k, v in body["tables"].items()},
                inputs=[InputTally(**t) for t in body.get("inputs", [])],
                unrecorded_rows=bool(body.get("unrecorded_rows", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"damaged day manifest {where}: {exc}") from None


def manifest_path(root: Path, day: date) -> Path:
    return Path(root) / META_DIR / DAYS_DIR / f"{day.isoformat()}.json"


def read_manifest(root: Path, day: date) -> DayManifest | None:
    path = manifest_path(root, day)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"unreadable day manifest {path}: {exc}") from None
    return DayManifest.from_json(text, path)


def manifest_days(root: Path) -> list[date]:
    folder = Path(root) / META_DIR / DAYS_DIR
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return []
    out = []
    for name in names:
        if name.endswith(".json") and not name.startswith("."):
            try:
                out.append(date.fromisoformat(name[: -len(".json")]))
            except ValueError:
                continue
    return sorted(out)


@dataclass
class InputRecord:
    """An input the store has seen (by content)."""

    name: str
    bytes: int
    format: str
    paths: list[str] = field(default_factory=list)
    #: the ingest run that first brought it, and its place in that run
    run: int = 0
    position: int = 0


@dataclass
class InputRegistry:
    """``_stswatch/inputs.json`` (see the module doc)."""

    runs: int = 0
    inputs: dict[str, InputRecord] = field(default_factory=dict)

    def name_for(self, blake3: str, spelled: str) -> str:
        """The ``source_file`` name of an input: as first seen; unique per content."""
        known = self.inputs.get(blake3)
        if known is not None:
            return known.name
        taken = {r.name for r in self.inputs.values()}
        # the same path with other content (a file rewritten in place) gets its own name
        return spelled if spelled not in taken else f"{spelled}#{blake3[:12]}"

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "format": FORMAT,
            "runs": self.runs,
            "inputs": {k: asdict(v) for k, v in sorted(self.inputs.items())},
        }
        return json.dumps(body, indent=1) + "\n"


def registry_path(root: Path) -> Path:
    return Path(root) / META_DIR / REGISTRY


def read_registry(root: Path) -> InputRegistry:
    path = registry_path(root)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return InputRegistry(
            runs=int(body["runs"]),
            inputs={k: InputRecord(**v) for k, v in body["inputs"].items()},
        )
    except FileNotFoundError:
        return InputRegistry()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"damaged input registry {path}: {exc}") from None
