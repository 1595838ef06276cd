"""``stswatch verify``: is every store file the one its commit wrote; do the tallies add up?

For every day and table:

* the file reads back with every page checksum verified and the table's
  schema (row group by row group, so memory stays bounded);
* its size, rows and BLAKE3 match the day's manifest (a file replaced,
  truncated or altered after its commit is found even where no page
  checksum covers the change);
* a file the manifest lists exists, and a file exists only with a manifest
  entry (days written by an stswatch older than the manifests get a note);
* per input recorded for the day: ``accepted + quarantined == rows in``, and
  the quarantine holds exactly the rows recorded for it, reason by reason.

Problems are reported with the file's path; :mod:`stswatch.pipeline.store_repair`
re-derives damaged days from their recorded inputs (``--repair``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

from stswatch.pipeline.schemas import LABELS, QUARANTINE, TABLES
from stswatch.pipeline.storage import Store
from stswatch.pipeline.store_format import DamagedPartitionError, blake3_file, iter_table_file
from stswatch.pipeline.store_lock import META_DIR, StoreError
from stswatch.pipeline.store_manifest import DayManifest, TableEntry, manifest_days


@dataclass
class Problem:
    """One thing wrong with the store, at a path a person can look at."""

    day: date
    table: str | None
    path: str
    detail: str

    def line(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass
class VerifyReport:
    """What ``verify`` looked at and found (``summary()`` is what the CLI prints)."""

    store_root: Path
    days: int = 0
    files: int = 0
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unrepairable: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def damaged_days(self) -> list[date]:
        return sorted({p.day for p in self.problems})

    def summary(self) -> str:
        lines = [
            f"verified {self.store_root}: {self.days} day(s), {self.files} file(s), "
            f"{self.rows:,} rows",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        if self.problems:
            lines.append(f"  {len(self.problems)} problem(s):")
            lines += [f"    {p.line()}" for p in self.problems]
        lines += [f"  repaired: {r}" for r in self.repaired]
        lines += [f"  not repaired: {r}" for r in self.unrepairable]
        lines.append("  result: " + ("clean" if self.clean else "PROBLEMS FOUND"))
        return "\n".join(lines)


def store_days(store: Store) -> list[date]:
    """Every day any table or manifest of the store mentions."""
    days: set[date] = set(manifest_days(store.root))
    for table in TABLES:
        days.update(store.days(table))
    return sorted(days)


def check_store(store: Store) -> VerifyReport:
    """Check every day of ``store`` (each under its own read snapshot)."""
    if not store.root.is_dir():
        raise StoreError(f"no store at {store.root}")
    report = VerifyReport(store_root=store.root)
    legacy: list[date] = []
    for day in store_days(store):
        with store.snapshot():
            try:
                manifest = store.manifest(day)
            except StoreError as exc:
                rel = f"{META_DIR}/days/{day.isoformat()}.json"
                report.problems.append(Problem(day, None, rel, str(exc)))
                manifest = None
            else:
                if manifest is None:
                    legacy.append(day)
            check_day(store, day, manifest, report)
        report.days += 1
    check_labels(store, report)
    if legacy:
        report.notes.append(
            f"{len(legacy)} day(s) written before stswatch kept manifests "
            f"({legacy[0]}..{legacy[-1]}): checksums and schema checked, "
            "no recorded sizes or tallies to compare"
        )
    return report


def check_labels(store: Store, report: VerifyReport) -> None:
    """Every verdict file reads back with its checksums (verdicts cannot be re-derived)."""
    from stswatch.pipeline.verdicts import labels_dir, read_label_part

    folder = labels_dir(store)
    for path in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
        report.files += 1
        try:
            report.rows += read_label_part(path).num_rows
        except DamagedPartitionError as exc:
            rel = path.relative_to(store.root).as_posix()
            detail = f"{exc.detail} (analysts' verdicts: restore this file from a backup)"
            report.problems.append(Problem(date.min, LABELS, rel, detail))


def check_day(store: Store, day: date, manifest: DayManifest | None, report: VerifyReport) -> None:
    """Files and tallies of one day (call under a read snapshot)."""
    quarantine_counts: Counter[tuple[str, str]] | None = None
    for table in TABLES:
        entry = manifest.tables.get(table) if manifest is not None else None
        path = store.path(table, day)
        rel = path.relative_to(store.root).as_posix()
        if not path.is_file():
            if entry is not None:
                report.problems.append(Problem(day, table, rel, "missing (the manifest lists it)"))
            continue
        report.files += 1
        counts = check_file(store, table, day, entry, report)
        if table == QUARANTINE:
            quarantine_counts = counts
    if manifest is not None and manifest.inputs:
        check_tallies(store, day, manifest, quarantine_counts, report)


def check_file(
    store: Store, table: str, day: date, entry: TableEntry | None, report: VerifyReport
) -> Counter[tuple[str, str]] | None:
    """One table file: checksums, schema, size/rows/hash; quarantine counts by (file, reason)."""
    path = store.path(table, day)
    rel = path.relative_to(store.root).as_posix()
    digest, size = blake3_file(path)
    if entry is not None and (size, digest) != (entry.bytes, entry.blake3):
        what = f"{size:,} bytes" if size != entry.bytes else "same size, other bytes"
        report.problems.append(
            Problem(
                day, table, rel, f"not the file its commit wrote ({what}; BLAKE3 {digest[:12]})"
            )
        )
    rows = 0
    counts: Counter[tuple[str, str]] = Counter()
    try:
        for batch in iter_table_file(path, table):
            rows += batch.num_rows
            if table == QUARANTINE:
                _count_quarantine(batch, counts)
    except DamagedPartitionError as exc:
        report.problems.append(Problem(day, table, rel, exc.detail))
        return None
    report.rows += rows
    if entry is not None and rows != entry.rows:
        report.problems.append(
            Problem(day, table, rel, f"{rows:,} rows, its commit recorded {entry.rows:,}")
        )
    return counts if table == QUARANTINE else None


def _count_quarantine(batch: pa.RecordBatch, counts: Counter[tuple[str, str]]) -> None:
    table = pa.Table.from_batches([batch]).select(["source_file", "reason"])
    grouped = table.group_by(["source_file", "reason"]).aggregate([([], "count_all")])
    for name, reason, n in zip(
        grouped["source_file"].to_pylist(),
        grouped["reason"].to_pylist(),
        grouped["count_all"].to_pylist(),
        strict=True,
    ):
        counts[(name or "", reason)] += n


def check_tallies(
    store: Store,
    day: date,
    manifest: DayManifest,
    quarantine: Counter[tuple[str, str]] | None,
    report: VerifyReport,
) -> None:
    """Each recorded input balances, and the quarantine holds exactly its recorded rows."""
    rel = f"{META_DIR}/days/{day.isoformat()}.json"
    qrel = store.path(QUARANTINE, day).relative_to(store.root).as_posix()
    for tally in manifest.inputs:
        if not tally.balanced:
            report.problems.append(
                Problem(
                    day,
                    None,
                    rel,
                    f"{tally.name}: accepted {tally.accepted:,} + quarantined "
                    f"{tally.n_quarantined:,} != rows in {tally.rows_in:,}",
                )
            )
        if quarantine is None:
            if tally.n_quarantined and not store.has_day(QUARANTINE, day):
                report.problems.append(
                    Problem(
                        day,
                        QUARANTINE,
                        qrel,
                        f"missing: {tally.name} has {tally.n_quarantined:,} "
                        "quarantined rows recorded for this day",
                    )
                )
            continue
        for reason in sorted(set(tally.quarantined) | _reasons_of(quarantine, tally.name)):
            want = tally.quarantined.get(reason, 0)
            have = quarantine.get((tally.name, reason), 0)
            if want != have:
                report.problems.append(
                    Problem(
                        day,
                        QUARANTINE,
                        qrel,
                        f"{tally.name}: {have:,} rows quarantined as {reason}, "
                        f"{want:,} recorded at ingest",
                    )
                )


def _reasons_of(counts: Counter[tuple[str, str]], name: str) -> set[str]:
    return {reason for (n, reason) in counts if n == name}
