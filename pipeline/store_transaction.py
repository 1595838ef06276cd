"""A store transaction: stage table files, input tallies and manifests; commit them as one.

``with store.transaction() as txn:`` takes the store's write lock, and on a
clean exit publishes everything staged in one commit
(:mod:`stswatch.pipeline.store_commit`): every table of every day touched,
the days' manifests and the input registry. An exception (including a
damaged stored file found while merging) removes every staged file: the
store is exactly as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from stswatch.pipeline.schemas import POSITIONS, QUARANTINE, TABLES, VESSELS
from stswatch.pipeline.store_commit import Staging, write_bytes_durably
from stswatch.pipeline.store_format import (
    HashingWriter,
    as_batches,
    blake3_file,
    check_table,
    write_table_file,
)
from stswatch.pipeline.store_manifest import (
    DayManifest,
    InputRegistry,
    InputTally,
    TableEntry,
    manifest_path,
    read_manifest,
    read_registry,
    registry_path,
)

if TYPE_CHECKING:
    from stswatch.pipeline.storage import Store

#: Tables filled from inputs (the rendezvous record is derived from positions).
INPUT_TABLES = (POSITIONS, VESSELS, QUARANTINE)


@dataclass
class _Staged:
    table: str
    day: date
    entry: TableEntry


class StoreTransaction:
    """Files and records staged for one commit (thread-safe staging)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.staging = Staging(store.root)
        self._lock = threading.Lock()
        self._tables: dict[tuple[str, date], _Staged] = {}
        self._inputs: dict[date, list[InputTally]] = {}
        self._registry: InputRegistry | None = None

    # -- staging -----------------------------------------------------------
    def write(
        self,
        table: str,
        day: date,
        data: pa.Table | Iterable[pa.RecordBatch],
        *,
        presorted: bool = False,
    ) -> Path:
        """Stage ``table``'s file for ``day`` (replacing the day at commit).

        ``data`` is a table (cast and sorted here unless ``presorted``) or an
        iterable of record batches already in canonical order, streamed. If
        writing fails (including an exception raised by the iterable), the
        staged file is removed and the error propagates.
        """
        return self._stage(
            table, day, lambda out: write_table_file(out, table, as_batches(table, data, presorted))
        )

    def copy_file(self, table: str, day: date, source: Path) -> Path:
        """Stage a copy of another store's file of ``table`` (byte for byte)."""

        def copy(out: HashingWriter) -> int:
            with source.open("rb") as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            return pq.ParquetFile(source).metadata.num_rows

        return self._stage(table, day, copy)

    def _stage(self, table: str, day: date, produce: Callable[[HashingWriter], int]) -> Path:
        """Write a temporary file with ``produce`` (returns its rows), fsync it, stage it."""
        check_table(table)
        final = self.store.path(table, day)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.staging.temp_for(final)
        try:
            with tmp.open("wb") as fh:
                out = HashingWriter(fh)
                rows = produce(out)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            self.staging.discard(tmp)
            raise
        with self._lock:
            self._tables[(table, day)] = _Staged(
                table, day, TableEntry(rows, out.bytes, out.blake3)
            )
        self.staging.add(final, tmp)
        return final

    def record_inputs(self, day: date, tallies: list[InputTally]) -> None:
        """The day's tallies of this run's inputs (merged into its manifest at commit)."""
        with self._lock:
            self._inputs.setdefault(day, []).extend(tallies)

    def registry(self) -> InputRegistry:
        """The store's input registry, to update in this transaction."""
        with self._lock:
            if self._registry is None:
                self._registry = read_registry(self.store.root)
            return self._registry

    @property
    def staged_days(self) -> list[date]:
        with self._lock:
            return sorted({d for _, d in self._tables} | set(self._inputs))

    # -- commit ------------------------------------------------------------
    def commit(self) -> list[Path]:
        """Publish everything staged at once; returns the final paths of the data files."""
        with self._lock:
            tables = dict(self._tables)
            inputs = {d: list(t) for d, t in self._inputs.items()}
            registry = self._registry
        days = sorted({d for _, d in tables} | set(inputs))
        for day in days:
            manifest = read_manifest(self.store.root, day)
            if manifest is None:
                manifest = DayManifest(day)
                # a day written before manifests: whatever it holds came from unrecorded inputs
                manifest.unrecorded_rows = any(self.store.has_day(t, day) for t in INPUT_TABLES)
            for table in TABLES:
                staged = tables.get((table, day))
                if staged is not None:
                    manifest.tables[table] = staged.entry
                elif table not in manifest.tables and self.store.has_day(table, day):
                    manifest.tables[table] = _adopt(self.store.path(table, day))
                    manifest.unrecorded_rows |= table in INPUT_TABLES
            manifest.merge_inputs(inputs.get(day, []))
            text = manifest.to_json()
            final = manifest_path(self.store.root, day)
            if not (final.is_file() and final.read_text(encoding="utf-8") == text):
                self._stage_text(final, text)
        if registry is not None:
            text, final = registry.to_json(), registry_path(self.store.root)
            if not (final.is_file() and final.read_text(encoding="utf-8") == text):
                self._stage_text(final, text)
        data_files = [self.store.path(t, d) for t, d in tables]
        self.staging.commit(timeout_s=self.store.lock_timeout_s)
        return sorted(data_files)

    def abort(self) -> None:
        self.staging.abort()

    def _stage_text(self, final: Path, text: str) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.staging.temp_for(final)
        try:
            write_bytes_durably(tmp, text.encode("utf-8"))
        except BaseException:
            self.staging.discard(tmp)
            raise
        self.staging.add(final, tmp)


def _adopt(path: Path) -> TableEntry:
    """Describe a file written before the store kept manifests (it was just read and merged)."""
    digest, size = blake3_file(path)
    return TableEntry(rows=pq.ParquetFile(path).metadata.num_rows, bytes=size, blake3=digest)
