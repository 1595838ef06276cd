"""Watchlists of vessels: reading them (CSV or OpenSanctions JSON lines) and screening events.

Analysts screen every flagged meeting against sanctions and watch lists
before anything else. stswatch reads two formats:

* **CSV** with a header naming (any order, extra columns ignored) ``imo``,
  ``mmsi``, ``name``, ``list``, ``note``; at least one of ``imo``/``mmsi``/
  ``name`` must be present and every row must give at least one of them. A
  person writes these, so every value must be well formed: a bad IMO (not 7
  digits), a bad MMSI (not 9 digits) or a row with the wrong number of fields
  stops the read with the file and line named.
* **FollowTheMoney JSON lines** as OpenSanctions publishes them
  (``entities.ftm.json``): one entity per line, ``{"schema": "Vessel",
  "properties": {"name": [...], "imoNumber": [...], "mmsi": [...], "flag": [...],
  "topics": [...]}}``, every property value a list. Entities of other schemas
  (people, companies) are skipped. Broken JSON or a property that is not a list
  stops the read with the line named; an identifier that is not IMO/MMSI-shaped
  inside an otherwise valid entity is skipped and counted (a third party's
  export you cannot fix should not block a screening).

Matching: IMO and MMSI match exactly and are strong; a normalised name match
(case, accents, punctuation and ``MT``/``MV`` prefixes ignored) is weaker,
since ship names are reused across the world fleet, and every hit says which
it is. Pure module: the parsers take a path, screening works on frames.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

#: Columns of a watchlist's entry frame, one row per listed vessel.
ENTRY_COLUMNS = ("imo", "mmsi", "name", "name_key", "list", "note", "flag", "source")
#: CSV columns stswatch reads; ``list`` defaults to the file's stem.
CSV_COLUMNS = ("imo", "mmsi", "name", "list", "note")
#: Names shorter than this after normalisation never match: "A", "MT" or "1"
#: would flag half the fleet.
MIN_NAME_KEY_CHARS = 3
#: Leading words that are hull prefixes, not part of the name (M/T ARIES = ARIES).
_HULL_PREFIXES = ("M T ", "M V ", "MT ", "MV ", "SS ", "MS ", "M S ")
#: Strength of each match basis, strongest first.
MATCH_ORDER = ("imo", "mmsi", "name")


class WatchlistError(ValueError):
    """A watchlist file cannot be read; the message names the file and line."""


def normalise_name(name: object) -> str:
    """The key names are compared on: ASCII capitals and digits, single spaces, no prefix."""
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = " ".join(re.sub(r"[^A-Z0-9]+", " ", text.upper()).split())
    for prefix in _HULL_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text if len(text) >= MIN_NAME_KEY_CHARS else ""


def parse_imo(value: object) -> int | None:
    """IMO number from ``9123456``, ``"IMO 9123456"`` or ``"IMO9123456"``; None when blank.

    Raises ValueError when something is there but is not 7 digits. The check
    digit is *not* enforced: fraudulent IMO numbers are exactly what a
    watchlist may need to name.
    """
    text = str(value).strip().upper() if value is not None else ""
    text = text.removeprefix("IMO").strip().removesuffix(".0")
    if text in ("", "0", "NONE", "NAN"):
        return None
    if not (len(text) == 7 and text.isdigit()):
        raise ValueError(f"IMO {value!r} is not 7 digits")
    return int(text)


def parse_mmsi(value: object) -> int | None:
    """MMSI from 9 digits (``"123456789.0"`` from spreadsheets accepted); None when blank."""
    text = str(value).strip().removesuffix(".0") if value is not None else ""
    if text in ("", "0", "None", "nan"):
        return None
    if not (len(text) == 9 and text.isdigit()):
        raise ValueError(f"MMSI {value!r} is not 9 digits")
    return int(text)


@dataclass
class Watchlist:
    """Listed vessels from one or more files, ready to screen against."""

    entries: pd.DataFrame
    files: list[str] = field(default_factory=list)
    #: Identifiers skipped in FollowTheMoney files because they were not IMO/MMSI-shaped.
    skipped_identifiers: int = 0

    def __len__(self) -> int:
        return len(self.entries)

    def describe(self) -> str:
        lists = sorted(self.entries["list"].dropna().unique()) if len(self) else []
        text = f"{len(self):,} listed vessels from {len(self.files)} file(s)"
        if lists:
            shown = ", ".join(lists[:5]) + (", ..." if len(lists) > 5 else "")
            text += f" (lists: {shown})"
        if self.skipped_identifiers:
            text += f"; {self.skipped_identifiers} malformed identifiers skipped"
        return text


def _entry(
    imo: int | None, mmsi: int | None, name: str | None, lst: str, note: str, flag: str, src: str
) -> tuple:
    return (imo, mmsi, name or None, normalise_name(name), lst, note or None, flag or None, src)


def _read_csv(path: Path, text: Iterable[str]) -> Iterator[tuple]:
    reader = csv.reader(text)
    header: list[str] | None = None
    for row in reader:
        line = reader.line_num
        if header is None:
            if not row or not any(c.strip() for c in row):
                continue
            header = [c.strip().lower().lstrip("\ufeff") for c in row]
            if not {"imo", "mmsi", "name"} & set(header):
                raise WatchlistError(
                    f"{path}:{line}: the header needs at least one of the columns imo, mmsi, "
                    f"name (expected {','.join(CSV_COLUMNS)}), got {','.join(header)}"
                )
            continue
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise WatchlistError(
                f"{path}:{line}: {len(row)} fields where the header has {len(header)}"
            )
        values = dict(zip(header, (c.strip() for c in row), strict=True))
        try:
            imo = parse_imo(values.get("imo"))
            mmsi = parse_mmsi(values.get("mmsi"))
        except ValueError as exc:
            raise WatchlistError(f"{path}:{line}: {exc}") from None
        name = values.get("name") or None
        if imo is None and mmsi is None and not name:
            raise WatchlistError(f"{path}:{line}: no imo, mmsi or name to match on")
        lst = values.get("list") or path.stem
        yield _entry(imo, mmsi, name, lst, values.get("note", ""), "", f"{path.name}:{line}")


def _ftm_values(props: dict[str, Any], key: str, path: Path, line: int) -> list[str]:
    values = props.get(key, [])
    if not isinstance(values, list):
        raise WatchlistError(
            f"{path}:{line}: property {key!r} must be a list (FollowTheMoney), "
            f"got {type(values).__name__}"
        )
    return [str(v) for v in values if v is not None and str(v).strip()]


def _read_ftm(path: Path, text: Iterable[str], skipped: list[int]) -> Iterator[tuple]:
    for line, raw in enumerate(text, start=1):
        if not raw.strip():
            continue
        try:
            entity = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise WatchlistError(f"{path}:{line}: not valid JSON ({exc.msg})") from None
        if not isinstance(entity, dict):
            raise WatchlistError(f"{path}:{line}: expected a JSON object (one entity a line)")
        if entity.get("schema") != "Vessel":
            continue
        props = entity.get("properties")
        if not isinstance(props, dict):
            raise WatchlistError(f"{path}:{line}: Vessel entity without a properties object")
        imos, mmsis = [], []
        for raw_imo in _ftm_values(props, "imoNumber", path, line):
            try:
                imos.append(parse_imo(raw_imo))
            except ValueError:
                skipped.append(line)
        for raw_mmsi in _ftm_values(props, "mmsi", path, line):
            try:
                mmsis.append(parse_mmsi(raw_mmsi))
            except ValueError:
                skipped.append(line)
        names = _ftm_values(props, "name", path, line)
        datasets = entity.get("datasets")
        lst = (
            ", ".join(map(str, datasets)) if isinstance(datasets, list) and datasets else path.stem
        )
        topics = _ftm_values(props, "topics", path, line)
        note = "; ".join(filter(None, [", ".join(topics), str(entity.get("id") or "")]))
        flag = ", ".join(_ftm_values(props, "flag", path, line))
        src = f"{path.name}:{line}"
        imos = [i for i in imos if i is not None] or [None]
        mmsis = [m for m in mmsis if m is not None] or [None]
        if imos == [None] and mmsis == [None] and not names:
            continue
        # one row per identifier: a vessel known under two IMOs matches on either
        for i, imo in enumerate(imos):
            for j, mmsi in enumerate(mmsis):
                yield _entry(imo, mmsi, names[0] if names else None, lst, note, flag, src)
                if i == 0 and j == 0:
                    for alias in names[1:]:
                        yield _entry(None, None, alias, lst, note, flag, src)


def _is_json_lines(path: Path, first: str) -> bool:
    return first.lstrip("\ufeff").lstrip().startswith("{") or path.suffix.lower() in (
        ".json",
        ".jsonl",
        ".ndjson",
    )


def read_watchlist(path: Path | str) -> Watchlist:
    """Read one watchlist file (format sniffed from its first non-blank character)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            lines = fh.read().splitlines(keepends=True)
    except OSError as exc:
        raise WatchlistError(f"cannot read watchlist {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise WatchlistError(f"{path}: not UTF-8 text ({exc.reason})") from None
    first = next((ln for ln in lines if ln.strip()), "")
    skipped: list[int] = []
    rows = list(
        _read_ftm(path, lines, skipped) if _is_json_lines(path, first) else _read_csv(path, lines)
    )
    entries = pd.DataFrame.from_records(rows, columns=list(ENTRY_COLUMNS))
    entries["imo"] = entries["imo"].astype("Int64")
    entries["mmsi"] = entries["mmsi"].astype("Int64")
    return Watchlist(entries, [str(path)], len(skipped))


def load_watchlists(paths: Sequence[Path | str]) -> Watchlist | None:
    """Read every ``--watchlist`` file into one list; None when no file is given."""
    if not paths:
        return None
    lists = [read_watchlist(p) for p in paths]
    return Watchlist(
        pd.concat([w.entries for w in lists], ignore_index=True),
        [f for w in lists for f in w.files],
        sum(w.skipped_identifiers for w in lists),
    )
