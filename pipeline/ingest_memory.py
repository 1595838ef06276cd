"""Process memory of a large ingest: glibc malloc settings, the jemalloc pool, trims.

A 10-million-row day must fit in 1.5 GB, and on this kind of VM every page
the process takes afresh costs a page fault and a page zeroed by the kernel
(at times a quarter of the ingest's CPU time). These settings decide how much
freed memory the process keeps for reuse and when it gives pages back; they
apply to the whole process, so they live apart from the ingest logic.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa


def _glibc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl...): nothing to tune
        return None


LIBC = _glibc()


def release_memory() -> None:
    """Return freed heap and Arrow pool memory to the OS at phase boundaries."""
    if LIBC is not None:
        LIBC.malloc_trim(0)
    pa.default_memory_pool().release_unused()


#: glibc malloc, tuned for a large ingest. Every page the process gets afresh
#: costs a fault and a page zeroed by the kernel (~6 us on the 2-core VM); on
#: some days that was a quarter of the CPU time at 1e7 rows (1.1 M faults),
#: on others half as many faults, depending on the host, not on the code.
#:
#: * the mmap threshold normally grows up to 32 MB after large frees, after
#:   which the day's 10-80 MB numpy columns come from the heap and stay
#:   resident once freed. Pinned at 8 MiB, the day's columns are mapped and
#:   returned to the OS on free (peak RSS ~1460 -> ~1300 MiB), while a
#:   batch's arrays (80k rows), a row group's (256k rows: 2 MiB a column)
#:   and a static compaction's (~400k rows) come from the heap and are
#:   reused. At 2 MiB they were mapped afresh each time: on a high-fault
#:   day ~250k more faults and ~1.3 s more kernel time, for ~40 MiB less RSS;
#: * pinning the mmap threshold also pins the trim threshold at its 128 KiB
#:   default, so every batch's freed temporaries were handed back to the OS
#:   and faulted in again by the next batch. Keeping up to 256 MiB of free
#:   heap (never more than the batches in flight use) saved ~25% of the
#:   faults of such a day, for ~40 MiB of peak RSS.
_MMAP_THRESHOLD_BYTES = 8 << 20
_TRIM_THRESHOLD_BYTES = 256 << 20
_TOP_PAD_BYTES = 16 << 20
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def tune_malloc() -> None:
    """Apply the malloc settings above to this process (glibc only)."""
    if LIBC is not None:
        LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        LIBC.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
        LIBC.mallopt(_M_TOP_PAD, _TOP_PAD_BYTES)


#: How long jemalloc keeps freed pages before returning them (see jemalloc_pool).
_JEMALLOC_DECAY_MS = 5_000


@contextmanager
def jemalloc_pool() -> Iterator[None]:
    """Allocate Arrow memory from jemalloc for the duration of an ingest.

    Measured on the 1e6..1e7-row benchmark: pyarrow's default mimalloc pool
    keeps ~25-30% more resident memory than jemalloc for this allocation
    pattern (many short-lived ~10 MB batch buffers next to a large long-lived
    day buffer), which decides whether a 10-million-row day fits in 1.5 GB.
    Falls back silently where pyarrow was built without jemalloc.

    Freed pages are kept for :data:`_JEMALLOC_DECAY_MS` before they go back
    to the OS (Arrow's default is 1 s): the batches allocate and free the
    same sizes over and over, and each page returned is a page fault and a
    page zeroed by the kernel when the next batch takes it again (on a
    high-fault day ~130k fewer faults, ~1 s less kernel time at 1e7 rows,
    for ~60 MiB more RSS before the purges below). The day phase purges
    the pool explicitly (:func:`release_memory`) where
    its peak would otherwise include those pages. The setting applies to
    the arenas jemalloc creates from then on, which in a fresh process are
    nearly all of them.
    """
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(_JEMALLOC_DECAY_MS)
    except (NotImplementedError, AttributeError):
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
