"""Who an input is: its content (BLAKE3), the name its rows carry, its tally per day.

An input is identified by the BLAKE3 of its bytes (what ``b3sum``
prints), never by the path string: ``./AIS.csv``, ``AIS.csv`` and a copy in
another folder are one input. The store's registry
(:class:`~stswatch.pipeline.store_manifest.InputRegistry`) gives each content
one name, the path as first given, which its quarantine rows carry in
``source_file``; so re-ingesting under another spelling changes nothing.

Hashing runs on a background thread, file after file, while the first file
is parsed: by the time a file's turn to be read comes, its hash is usually
known, and an input given twice in one run is skipped before it is read.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stswatch.pipeline.store_format import blake3_file
from stswatch.pipeline.store_manifest import InputRecord, InputRegistry, InputTally


class InputHasher:
    """BLAKE3 of each input, in order, on one background thread."""

    def __init__(self, paths: list[Path]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blake3")
        self._futures: list[Future[tuple[str, int]]] = [
            self._pool.submit(blake3_file, p) for p in paths
        ]

    def result(self, i: int) -> tuple[str, int]:
        return self._futures[i].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> InputHasher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class InputIdentity:
    """One input of a run: its content, the name its rows carry, where it was read."""

    origin: int
    path: Path
    format: str
    blake3: str
    bytes: int
    #: ``source_file`` of its rows in the store (as first seen for this content)
    name: str
    #: index of an earlier input of the same run with the same content
    duplicate_of: int | None = None

    @property
    def spelled(self) -> str:
        """The path as given (what the readers write into ``source_file``)."""
        return str(self.path)


@dataclass
class DayCounts:
    """Reading-phase counts of one input on one day (the day phase adds its own)."""

    static_accepted: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)


def identify(
    origin: int, path: Path, fmt: str, digest: tuple[str, int], registry: InputRegistry
) -> InputIdentity:
    digest_hex, size = digest
    return InputIdentity(
        origin, path, fmt, digest_hex, size, registry.name_for(digest_hex, str(path))
    )


def first_with_content(identities: list[InputIdentity], digest: str) -> int | None:
    for ident in identities:
        if ident.blake3 == digest and ident.duplicate_of is None:
            return ident.origin
    return None


@dataclass
class RunInfo:
    """What a run records about itself in every tally it writes."""

    ingested_at: datetime
    default_time: datetime | None


def register(
    registry: InputRegistry, identities: list[InputIdentity]
) -> dict[str, tuple[int, int]]:
    """Add this run's new contents to ``registry``; (run, position) of every input's content.

    The run number only moves when something new arrives, so re-ingesting
    known inputs leaves the registry byte-identical.
    """
    new = [i for i in identities if i.duplicate_of is None and i.blake3 not in registry.inputs]
    if new:
        registry.runs += 1
    for position, ident in enumerate(new):
        registry.inputs[ident.blake3] = InputRecord(
            name=ident.name,
            bytes=ident.bytes,
            format=ident.format,
            paths=[str(ident.path.resolve())],
            run=registry.runs,
            position=position,
        )
    return {digest: (rec.run, rec.position) for digest, rec in registry.inputs.items()}


def day_tally(
    ident: InputIdentity,
    run_position: tuple[int, int],
    info: RunInfo,
    accepted: int,
    quarantined: Counter[str],
) -> InputTally:
    """One input's tally on one day (``rows_in`` = what it filed there)."""
    quarantined = Counter({k: v for k, v in quarantined.items() if v})
    return InputTally(
        blake3=ident.blake3,
        name=ident.name,
        bytes=ident.bytes,
        format=ident.format,
        run=run_position[0],
        position=run_position[1],
        ingested_at=info.ingested_at.isoformat(),
        default_time=info.default_time.isoformat() if info.default_time is not None else None,
        rows_in=accepted + sum(quarantined.values()),
        accepted=accepted,
        quarantined=dict(sorted(quarantined.items())),
    )
