"""What an ingest run reports: tallies per input file and for the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass
class FileTally:
    """Counts for one input file."""

    path: str
    format: str
    rows_in: int = 0
    accepted: int = 0
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    #: BLAKE3 of the file's bytes: the input's identity in the store
    blake3: str | None = None
    #: the earlier input of the same run with the same content (this one was skipped)
    duplicate_of: str | None = None

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def balanced(self) -> bool:
        return self.accepted + self.quarantined == self.rows_in


@dataclass
class IngestReport:
    """What an ingest run did; ``summary()`` is what the CLI prints."""

    store_root: Path
    files: list[FileTally] = field(default_factory=list)
    #: UTC days whose partitions were touched (any table), ascending
    days_written: list[date] = field(default_factory=list)
    #: partition files actually (re)written, relative to the store root
    partitions_written: list[str] = field(default_factory=list)
    #: UTC days on which the inputs carry positions, ascending, whether or not
    #: their partitions changed (a re-ingest rewrites nothing yet covers them)
    days_covered: list[date] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def quarantined_by_reason(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.quarantined_by_reason)
        return dict(sorted(total.items()))

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files)

    def summary(self) -> str:
        check = "ok" if self.balanced else "MISMATCH"
        lines = [
            f"ingested {len(self.files)} file(s) into {self.store_root}",
            f"  rows in      {self.rows_in:>12,}",
            f"  accepted     {self.accepted:>12,}",
            f"  quarantined  {self.quarantined:>12,}",
            f"  tally        accepted + quarantined = rows in: {check}",
        ]
        if self.quarantined_by_reason:
            lines.append("  quarantined by reason:")
            lines += [f"    {r:<22} {n:>10,}" for r, n in self.quarantined_by_reason.items()]
        if len(self.files) > 1:
            lines.append("  per file (rows in / accepted / quarantined):")
            for f in self.files:
                lines.append(
                    f"    {Path(f.path).name} [{f.format}]: "
                    + (
                        f"same content as {f.duplicate_of}, skipped"
                        if f.duplicate_of
                        else f"{f.rows_in:,} / {f.accepted:,} / {f.quarantined:,}"
                    )
                    + ("" if f.balanced else "  MISMATCH")
                )
        days = self.days_written
        span = (
            "none"
            if not days
            else days[0].isoformat()
            if len(days) == 1
            else f"{days[0].isoformat()} .. {days[-1].isoformat()} ({len(days)} days)"
        )
        lines.append(f"  partitions written: {len(self.partitions_written)}; days: {span}")
        return "\n".join(lines)
