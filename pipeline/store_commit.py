"""Commits that land whole: staged files, one journal, renames rolled forward.

The store keeps the Hive paths third-party readers glob
(``positions/date=D/part-0.parquet``), so a commit cannot switch one pointer
for all of a day's tables. Instead (the write-ahead idea of Delta's log, on
a local file system):

1. **stage**: every new file is written beside its final path under a
   hidden name that carries its owner, ``.part-0.parquet.<pid>-<token>.tmp``,
   and fsynced. Before a temporary file is created its path is appended to
   the writer's own list, ``_stswatch/writers/<pid>-<token>``;
2. **decide**: under the commit lock, the list of renames (temporary ->
   final, data files and day manifests alike) is written to
   ``_stswatch/journal-<token>.json``, fsynced, renamed into place and the
   folder fsynced. From this instant the commit *has happened*;
3. **apply**: each temporary file is renamed over its final path, the
   folders are fsynced, the journal is removed.

A crash (``kill -9``, power loss) before step 2 completes leaves every
table's old version and some orphaned temporary files; after it, the next
stswatch process that opens the store (a writer taking the write lock, or a
reader taking the read lock) finds the journal and finishes step 3 (renaming
is idempotent: a temporary file already renamed is simply gone). Readers of
stswatch hold the commit lock shared while they read, so they see every
table of a day before a commit or every table after it, never a mix.
Readers that do not take the lock (DuckDB, pandas globbing the folders)
never see a partial file or a duplicate (temporary names start with a dot
and end in ``.tmp``), but may see one table renamed and the next not yet
for the few milliseconds of step 3, or until the next stswatch command after
a crash in it.

Orphaned temporary files are removed by the next writer (under the write
lock, after any journal was applied): the lists in ``_stswatch/writers/``
name them, so no folder is scanned. A list whose token is not the current
writer's belongs to a writer that no longer holds the write lock, the only
time temporary files are created; it is provably done with them.

Fault injection for tests: ``STSWATCH_FAULT_KILL_AT_STEP=N`` makes the
process SIGKILL itself at the N-th :func:`checkpoint` (steps: each file
staged, mid-file after its first row group, journal written, journal
decided, each rename, journal removed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from stswatch.pipeline.store_lock import META_DIR, StoreError, commit_lock

JOURNAL_PREFIX = "journal-"
WRITERS_DIR = "writers"
#: Temporary names: ``.<final name>.<owner>.tmp``; owner = ``<pid>-<token>``
#: (older stswatch versions used ``<pid>`` alone).
TEMP_RE = re.compile(r"^\.(?P<final>.+)\.(?P<owner>\d+(?:-[0-9a-f]+)?)\.tmp$")
FAULT_ENV = "STSWATCH_FAULT_KILL_AT_STEP"

_steps = {"n": 0}
_steps_lock = threading.Lock()


def checkpoint(name: str) -> None:
    """A point where a test may kill this process (see the module doc)."""
    target = os.environ.get(FAULT_ENV)
    if not target:
        return
    with _steps_lock:
        _steps["n"] += 1
        n = _steps["n"]
    if n == int(target):
        os.kill(os.getpid(), signal.SIGKILL)


def new_owner() -> str:
    """``<pid>-<token>``: who a temporary file belongs to."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:16]}"


def temp_path(final: Path, owner: str) -> Path:
    return final.parent / f".{final.name}.{owner}.tmp"


def fsync_dir(path: Path) -> None:
    """Make renames and new names in ``path`` durable (not supported everywhere)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def meta_dir(root: Path) -> Path:
    return Path(root) / META_DIR


def pending_journals(root: Path | str) -> list[Path]:
    """Journals of decided commits not yet applied (oldest first)."""
    meta = meta_dir(Path(root))
    try:
        names = [p.name for p in meta.iterdir()]
    except OSError:
        return []
    return sorted(meta / n for n in names if n.startswith(JOURNAL_PREFIX) and n.endswith(".json"))


def apply_journal(root: Path, journal: Path) -> None:
    """Rename every staged file of a decided commit into place; remove the journal.

    Idempotent: a rename already done left no temporary file, so it is skipped.
    """
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))["renames"]
    except FileNotFoundError:
        return  # applied meanwhile by someone else
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"unreadable commit journal {journal}: {exc}; the commit it records cannot be "
            "finished (move the file aside, then run `stswatch verify --store STORE`)"
        ) from None
    folders: set[Path] = set()
    for tmp_rel, final_rel in entries:
        tmp, final = root / tmp_rel, root / final_rel
        try:
            tmp.replace(final)
        except FileNotFoundError:
            continue  # renamed before the crash
        folders.add(final.parent)
        checkpoint("rename")
    for folder in sorted(folders):
        fsync_dir(folder)
    journal.unlink(missing_ok=True)
    fsync_dir(journal.parent)
    checkpoint("journal removed")


def recover(root: Path | str, *, timeout_s: float | None, clean_temporary: bool) -> None:
    """Finish commits a killed writer decided; optionally remove orphaned temporary files.

    ``clean_temporary`` only under the write lock (see the module doc).
    """
    root = Path(root)
    if pending_journals(root):
        with commit_lock(root, timeout_s=timeout_s):
            for journal in pending_journals(root):
                apply_journal(root, journal)
    if clean_temporary:
        remove_orphans(root)


def remove_orphans(root: Path, keep_owner: str | None = None) -> list[Path]:
    """Remove the temporary files listed by writers that are gone; returns them.

    Call with the write lock held and no journal pending.
    """
    folder = meta_dir(root) / WRITERS_DIR
    try:
        lists = sorted(folder.iterdir())
    except OSError:
        return []
    removed = []
    for owner_list in lists:
        if owner_list.name == keep_owner or owner_list.name.startswith("."):
            continue
        try:
            names = owner_list.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for rel in names:
            path = root / rel
            if rel and TEMP_RE.match(path.name) and path.name.endswith(f".{owner_list.name}.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
        owner_list.unlink(missing_ok=True)
    return removed


class Staging:
    """The temporary files of one writer, and the commit that publishes them.

    Thread-safe: a writer may stage files from several threads.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.owner = new_owner()
        self._lock = threading.Lock()
        #: final path -> temporary path
        self._staged: dict[Path, Path] = {}
        self._list: Path | None = None
        #: set once the journal is durable: from then on the commit has
        #: happened, and its temporary files belong to the roll-forward
        self._decided = False

    def temp_for(self, final: Path) -> Path:
        """A fresh temporary path for ``final``, listed as this writer's before use."""
        tmp = temp_path(final, self.owner)
        with self._lock:
            if self._list is None:
                folder = meta_dir(self.root) / WRITERS_DIR
                folder.mkdir(parents=True, exist_ok=True)
                self._list = folder / self.owner
            with self._list.open("a", encoding="utf-8") as fh:
                fh.write(f"{tmp.relative_to(self.root).as_posix()}\n")
        return tmp

    def add(self, final: Path, tmp: Path) -> None:
        """``tmp`` (written and fsynced) will replace ``final`` at commit."""
        with self._lock:
            previous = self._staged.get(final)
            self._staged[final] = tmp
        if previous is not None and previous != tmp:
            previous.unlink(missing_ok=True)
        checkpoint("staged")

    def discard(self, tmp: Path) -> None:
        """Remove one of this writer's temporary files (a write that failed)."""
        tmp.unlink(missing_ok=True)

    @property
    def staged(self) -> dict[Path, Path]:
        with self._lock:
            return dict(self._staged)

    def commit(self, *, timeout_s: float | None) -> list[Path]:
        """Publish every staged file at once (see the module doc); returns the final paths."""
        staged = self.staged
        if not staged:
            self.close()
            return []
        for folder in sorted({tmp.parent for tmp in staged.values()}):
            fsync_dir(folder)  # the temporary names must survive a power loss
        meta = meta_dir(self.root)
        meta.mkdir(parents=True, exist_ok=True)
        renames = [
            [tmp.relative_to(self.root).as_posix(), final.relative_to(self.root).as_posix()]
            for final, tmp in sorted(staged.items())
        ]
        body = json.dumps({"format": 1, "owner": self.owner, "renames": renames}, indent=1)
        journal = meta / f"{JOURNAL_PREFIX}{self.owner}.json"
        with commit_lock(self.root, timeout_s=timeout_s):
            tmp_journal = self.temp_for(journal)
            write_bytes_durably(tmp_journal, body.encode("utf-8"))
            checkpoint("journal written")
            tmp_journal.replace(journal)
            self._decided = True
            fsync_dir(meta)
            checkpoint("journal decided")
            # if this fails (I/O error), the journal stays and the next
            # stswatch process to open the store finishes the renames
            apply_journal(self.root, journal)
        with self._lock:
            self._staged.clear()
        self.close()
        return sorted(staged)

    def abort(self) -> None:
        """Remove every temporary file of this writer (nothing becomes visible).

        After the journal is durable the commit has happened: its files are
        left to the roll-forward (:func:`recover`), never removed.
        """
        if self._decided:
            return
        with self._lock:
            staged, self._staged = list(self._staged.values()), {}
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        self._remove_listed()
        self.close()

    def _remove_listed(self) -> None:
        if self._list is None:
            return
        with contextlib.suppress(OSError):
            for rel in self._list.read_text(encoding="utf-8").splitlines():
                if rel:
                    (self.root / rel).unlink(missing_ok=True)

    def close(self) -> None:
        """Forget the list of temporary files (all renamed or removed)."""
        with self._lock:
            if self._list is not None:
                self._list.unlink(missing_ok=True)
                self._list = None


def relative(root: Path, paths: Iterable[Path]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]
