"""``stswatch verify --repair``: re-derive damaged days from the inputs they recorded.

A day's manifest lists, per input, its content hash and the ingest run that
brought it (:mod:`stswatch.pipeline.store_manifest`); the store's registry
lists where each input was read. When every input of a damaged day is still
there, byte for byte (BLAKE3), the day is rebuilt by replaying those runs
in order into a scratch store (same time of ingest, same ``--default-time``)
and its input tables replace the damaged ones in one commit. The rebuilt
files are byte-identical to the committed ones when the code that made them
has not changed; the report says whether they are.

A damaged event history day (``rendezvous``) is re-detected from the day's
positions (detection output only, deterministic).

Not repairable, and said so: days written before stswatch kept manifests,
days that also hold rows of such unrecorded inputs, and days whose inputs
are gone or changed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from stswatch.pipeline.config import DEFAULT_CONFIG, Config
from stswatch.pipeline.schemas import LABELS, RENDEZVOUS
from stswatch.pipeline.storage import Store
from stswatch.pipeline.store_commit import TEMP_RE
from stswatch.pipeline.store_format import blake3_file, iter_table_file
from stswatch.pipeline.store_lock import META_DIR
from stswatch.pipeline.store_manifest import InputTally, read_registry, registry_path
from stswatch.pipeline.store_transaction import INPUT_TABLES
from stswatch.pipeline.verify import VerifyReport, check_store


class RepairError(RuntimeError):
    """A day cannot be re-derived (the message says why)."""


def repair_store(store: Store, *, cfg: Config = DEFAULT_CONFIG) -> VerifyReport:
    """Check the store, re-derive what can be, check again; the final report."""
    with store.write_lock("stswatch verify --repair"):
        removed = remove_leftover_temporary_files(store)
        first = check_store(store)
        repaired, unrepairable = [], []
        damaged = [d for d in first.damaged_days() if d != date.min]
        for day in damaged:
            tables = {p.table for p in first.problems if p.day == day}
            try:
                repaired.append(repair_day(store, day, tables, cfg))
            except RepairError as exc:
                unrepairable.append(f"{day}: {exc}")
        final = check_store(store) if repaired else first
        unrepairable += [p.line() for p in final.problems if p.table == LABELS]
    if removed:
        final.notes.append(f"removed {removed} temporary file(s) left by killed writers")
    final.repaired = repaired
    final.unrepairable = unrepairable
    return final


def remove_leftover_temporary_files(store: Store) -> int:
    """Temporary files in the table folders (call with the write lock held: none is live)."""
    n = 0
    for table_dir in [store.root / t for t in (*INPUT_TABLES, RENDEZVOUS)]:
        if not table_dir.is_dir():
            continue
        for path in table_dir.glob("date=*/.*.tmp"):
            if TEMP_RE.match(path.name):
                path.unlink(missing_ok=True)
                n += 1
    return n


def repair_day(store: Store, day: date, tables: set[str | None], cfg: Config) -> str:
    """Re-derive ``day``'s damaged tables; one line saying what was done."""
    input_damage = bool(tables - {RENDEZVOUS})
    done = []
    if input_damage:
        done.append(_rederive_inputs(store, day, cfg))
    if RENDEZVOUS in tables or (input_damage and store.has_day(RENDEZVOUS, day)):
        done.append(_redetect(store, day, cfg))
    return f"{day}: " + "; ".join(done)


def _rederive_inputs(store: Store, day: date, cfg: Config) -> str:
    from stswatch.pipeline.ingest import IngestError, ingest_files

    manifest = store.manifest(day)
    if manifest is None:
        raise RepairError("written before stswatch recorded its inputs (no manifest)")
    if manifest.unrecorded_rows:
        raise RepairError("also holds rows of inputs ingested before stswatch recorded them")
    if not manifest.inputs:
        raise RepairError("no inputs recorded for this day")
    found = _find_inputs(store, manifest.inputs)
    scratch = Path(tempfile.mkdtemp(prefix="stswatch-rederive-"))
    try:
        (scratch / META_DIR).mkdir()
        shutil.copyfile(registry_path(store.root), registry_path(scratch))  # same input names
        for run in sorted(found):
            tallies = found[run]
            first = tallies[0][0]
            try:
                ingest_files(
                    [path for _, path in tallies],
                    scratch,
                    cfg=cfg,
                    default_time=_time(first.default_time),
                    now=_time(first.ingested_at),
                )
            except IngestError as exc:
                raise RepairError(f"re-ingesting its inputs failed: {exc}") from None
        rebuilt = Store(scratch)
        same = []
        with store.transaction("stswatch verify --repair") as txn:
            for table in INPUT_TABLES:
                path = rebuilt.path(table, day)
                if not path.is_file():
                    continue
                list(iter_table_file(path, table))  # checksums verified before it is copied
                txn.copy_file(table, day, path)
                entry = manifest.tables.get(table)
                same.append(entry is not None and _same_bytes(path, entry.blake3))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    identical = "byte-identical to the committed files" if all(same) else "rebuilt by this version"
    return (
        f"re-derived {', '.join(INPUT_TABLES)} from {len(manifest.inputs)} input(s) ({identical})"
    )


def _same_bytes(path: Path, blake3: str) -> bool:
    return blake3_file(path)[0] == blake3


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _find_inputs(
    store: Store, tallies: list[InputTally]
) -> dict[int, list[tuple[InputTally, Path]]]:
    """Each recorded input's file, by run (in run order), or RepairError naming what is gone."""
    registry = read_registry(store.root)
    by_run: dict[int, list[tuple[InputTally, Path]]] = defaultdict(list)
    for tally in tallies:
        record = registry.inputs.get(tally.blake3)
        candidates = [Path(p) for p in (record.paths if record else [])]
        candidates.append(Path(tally.name))
        path = next((p for p in candidates if _is_input(p, tally)), None)
        if path is None:
            where = ", ".join(str(c) for c in candidates)
            raise RepairError(
                f"input {tally.name} (BLAKE3 {tally.blake3[:12]}) is no longer at {where}"
            )
        by_run[tally.run].append((tally, path))
    for run in by_run:
        by_run[run].sort(key=lambda tp: tp[0].position)
    return dict(by_run)


def _is_input(path: Path, tally: InputTally) -> bool:
    try:
        return (
            path.is_file()
            and path.stat().st_size == tally.bytes
            and _same_bytes(path, tally.blake3)
        )
    except OSError:
        return False


def _redetect(store: Store, day: date, cfg: Config) -> str:
    from stswatch.pipeline.detection import detect_range
    from stswatch.pipeline.event_history import record_rendezvous

    result = detect_range(store.root, day, day, cfg)
    record_rendezvous(store, result.rendezvous, day, day)
    return f"re-detected its event history ({len(result.rendezvous)} rendezvous)"
