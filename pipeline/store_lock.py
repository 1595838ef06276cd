"""One writer at a time per store, and readers that never see half a commit.

Two advisory locks (``fcntl.flock``) on small files in ``STORE/_stswatch/``:

* ``write.lock``, **exclusive**, held by a writer around its whole
  read-merge-write: ``ingest``, ``run``, the event history ``detect``
  records, ``verify --repair``, the Prefect tasks. Ingest merges with what a
  day already holds, so two writers at once lose rows (one overwrites the
  other's merge). A second writer waits, says so once on stderr, and gives up
  after ``timeout_s`` with :class:`StoreBusyError` (one line, exit code 2).
* ``commit.lock``, **exclusive** for the milliseconds a commit renames its
  files into place (:mod:`stswatch.pipeline.store_commit`), **shared** by
  readers while they read a set of days. A reader therefore never sees one
  table of a day before a commit and another after it.

Why ``flock`` rather than a lock-file package: it has shared and exclusive
modes (readers need the shared one), the kernel releases it when its holder
dies (no stale lock file to judge after ``kill -9``), and it is honoured
across threads (each acquisition opens its own file description), processes
and Dask workers on one host; Linux emulates it with ``fcntl`` byte-range
locks on NFS. It is POSIX-only, as the Prefect flows already were.

Both locks are re-entrant **per thread**: ``stswatch run`` holds the write
lock and calls ``ingest_files``, which asks for it again. Another thread of
the same process waits like another process would (Prefect runs days in
threads).

Lock order: a thread holding the shared commit lock never asks for the write
lock (a writer waiting for the commit lock would wait for it forever).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Folder of the store's own bookkeeping (locks, commit journal, day manifests).
#: Leading underscore: pyarrow and DuckDB skip it, and it sits beside the
#: table folders, never inside them.
META_DIR = "_stswatch"
WRITE_LOCK = "write.lock"
COMMIT_LOCK = "commit.lock"
#: Turnstile in front of the commit lock: flock queues nobody, so readers
#: re-taking the shared lock back to back would starve a commit. Every
#: acquisition of the commit lock passes the gate first (in the same mode)
#: and leaves it once inside; a commit waiting at the gate holds new readers
#: back until the readers already inside are done.
COMMIT_GATE = "commit.gate"
#: Environment variable that sets the lock timeout when no flag or config does.
TIMEOUT_ENV = "STSWATCH_LOCK_TIMEOUT_S"
#: Polling interval bounds while waiting (flock has no timeout of its own).
_POLL_FIRST_S = 0.02
_POLL_MAX_S = 0.5


class StoreError(RuntimeError):
    """The store is missing, damaged, busy, or a table name is unknown (one line)."""


class StoreBusyError(StoreError):
    """Another writer held the store's lock for longer than the timeout."""


def lock_timeout_from_env(default_s: float) -> float:
    """``$STSWATCH_LOCK_TIMEOUT_S`` when set (seconds), else ``default_s``."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return default_s
    try:
        value = float(text)
    except ValueError:
        raise StoreError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds") from None
    if not value >= 0:
        raise StoreError(f"{TIMEOUT_ENV} must be >= 0 seconds, got {text!r}")
    return value


def _default_timeout_s() -> float:
    from stswatch.pipeline.config import DEFAULT_CONFIG

    return lock_timeout_from_env(DEFAULT_CONFIG.store.lock_timeout_s)


def _say(message: str) -> None:
    print(f"stswatch: {message}", file=sys.stderr, flush=True)


@dataclass
class _Held:
    fd: int
    mode: int
    depth: int


_local = threading.local()


def _held() -> dict[tuple[str, str], _Held]:
    table = getattr(_local, "held", None)
    if table is None:
        table = _local.held = {}
    return table


def _key(root: Path) -> str:
    return os.path.realpath(root)


def holds(root: Path | str, name: str = WRITE_LOCK) -> bool:
    """Whether this thread holds lock ``name`` of the store at ``root``."""
    return (_key(Path(root)), name) in _held()


def _open_lock_file(root: Path, name: str, create: bool) -> int | None:
    meta = root / META_DIR
    path = meta / name
    if create:
        meta.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    if not root.is_dir():
        return None  # no store yet: nothing to read, nobody committing
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        try:  # a store written before the locks existed
            meta.mkdir(parents=True, exist_ok=True)
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return None  # read-only store: nobody can be writing to it through us
    except OSError:
        return None


def _holder(fd: int) -> str:
    """Who holds the lock, as the holder wrote it into the file (best effort)."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return text.splitlines()[0] if text else ""


def _acquire(
    fd: int,
    mode: int,
    *,
    root: Path,
    what: str,
    timeout_s: float,
    on_wait: Callable[[str], None] | None,
) -> None:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    start = time.monotonic()
    holder = _holder(fd)
    if on_wait is not None:
        by = f" (held by {holder})" if holder else ""
        on_wait(
            f"waiting for the {what} lock of the store {root}{by}; giving up after {timeout_s:g} s"
        )
    delay = _POLL_FIRST_S
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            waited = time.monotonic() - start
            if waited >= timeout_s:
                holder = _holder(fd) or holder
                by = f" by {holder}" if holder else " by another process"
                raise StoreBusyError(
                    f"the store {root} is locked{by}; gave up after {timeout_s:g} s "
                    f"(set --lock-timeout-s or {TIMEOUT_ENV} to wait longer)"
                ) from None
            time.sleep(min(delay, max(timeout_s - waited, 0.0) + 0.001))
            delay = min(delay * 2, _POLL_MAX_S)


@contextlib.contextmanager
def _lock(
    root: Path | str,
    name: str,
    *,
    shared: bool,
    timeout_s: float | None,
    what: str,
    purpose: str,
    on_wait: Callable[[str], None] | None,
    on_first: Callable[[Path], None] | None = None,
) -> Iterator[bool]:
    """Hold lock ``name``; yields True when this call took it (outermost)."""
    if fcntl is None:  # pragma: no cover
        raise StoreError("store locking needs a POSIX system (fcntl.flock)")
    root = Path(root)
    key = (_key(root), name)
    held = _held()
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    if key in held:
        entry = held[key]
        if entry.mode == fcntl.LOCK_SH and mode == fcntl.LOCK_EX:
            raise StoreError(f"internal: {name} upgraded from shared to exclusive in {root}")
        entry.depth += 1
        try:
            yield False
        finally:
            entry.depth -= 1
        return
    fd = _open_lock_file(root, name, create=not shared)
    if fd is None:
        yield True
        return
    try:
        timeout_s = _default_timeout_s() if timeout_s is None else timeout_s
        gate = (
            _open_lock_file(root, COMMIT_GATE, create=not shared) if name == COMMIT_LOCK else None
        )
        try:
            if gate is not None:
                _acquire(gate, mode, root=root, what=what, timeout_s=timeout_s, on_wait=on_wait)
            _acquire(fd, mode, root=root, what=what, timeout_s=timeout_s, on_wait=on_wait)
        finally:
            if gate is not None:
                os.close(gate)  # closing releases the gate
        held[key] = _Held(fd, mode, 1)
        try:
            if not shared:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"pid {os.getpid()} ({purpose})\n".encode(), 0)
            if on_first is not None:
                on_first(root)
            yield True
        finally:
            del held[key]
            if not shared:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def store_lock(
    root: Path | str,
    *,
    timeout_s: float | None = None,
    purpose: str = "stswatch",
    on_wait: Callable[[str], None] | None = _say,
) -> Iterator[None]:
    """Hold the store's write lock (exclusive, re-entrant per thread).

    Wrap every read-merge-write of the store in it. ``timeout_s`` defaults to
    ``$STSWATCH_LOCK_TIMEOUT_S`` or ``Config().store.lock_timeout_s``; waiting
    longer raises :class:`StoreBusyError`. ``purpose`` is shown to writers that
    wait (``"pid 4242 (stswatch ingest)"``). The outermost acquisition first
    completes any commit a killed writer left decided but unfinished, then
    removes temporary files of writers that are gone
    (:func:`stswatch.pipeline.store_commit.recover`).
    """

    def recover_first(path: Path) -> None:
        from stswatch.pipeline.store_commit import recover

        recover(path, timeout_s=timeout_s, clean_temporary=True)

    with _lock(
        root,
        WRITE_LOCK,
        shared=False,
        timeout_s=timeout_s,
        what="write",
        purpose=purpose,
        on_wait=on_wait,
        on_first=recover_first,
    ):
        yield


@contextlib.contextmanager
def read_lock(root: Path | str, *, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the commit lock shared: no commit lands while this thread reads.

    Re-entrant per thread. A commit left half done by a killed writer is
    completed first (it needs the lock exclusively for that, briefly).
    """
    from stswatch.pipeline.store_commit import pending_journals, recover

    root = Path(root)
    if not holds(root, COMMIT_LOCK) and pending_journals(root):
        recover(root, timeout_s=timeout_s, clean_temporary=False)
    with _lock(
        root,
        COMMIT_LOCK,
        shared=True,
        timeout_s=timeout_s,
        what="read",
        purpose="read",
        on_wait=None,
    ):
        yield


@contextlib.contextmanager
def commit_lock(root: Path | str, *, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the commit lock exclusively (renaming a commit's files into place)."""
    with _lock(
        root,
        COMMIT_LOCK,
        shared=False,
        timeout_s=timeout_s,
        what="commit",
        purpose="commit",
        on_wait=None,
    ):
        yield
