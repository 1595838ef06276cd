"""Card workers started early, so their start-up hides behind detection.

A worker needs matplotlib, pandas and stswatch imported (~1 s of CPU). On a
2-core machine detection keeps one core busy and leaves the other mostly
idle, so :func:`card_pool` starts the workers at the beginning of a publish
step and they are ready when the cards are drawn. Workers come from a
``forkserver`` that imports the card modules once and forks each worker from
that single-threaded process: no per-worker import, and no ``fork`` of a
parent that already runs pyarrow and Prefect threads (which can deadlock).
Where a pool cannot start (a daemonic worker process, a platform without
``forkserver``), cards are drawn in the calling process instead.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

#: Modules the forkserver imports once for every worker it forks.
PRELOAD = ["stswatch.pipeline.cards.writer", "stswatch.pipeline.cards.figure"]
#: Fewer cards than this are drawn in the calling process: a pool costs more than it saves.
MIN_CARDS_FOR_WORKERS = 6


def _ready() -> int:
    """A no-op task: submitting it makes the pool start a worker now."""
    from stswatch.pipeline.cards import figure  # noqa: F401 - preloaded; imports if not

    return os.getpid()


@contextmanager
def card_pool(workers: int, n_cards: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for ``n_cards`` cards, started now; None to draw in-process."""
    if workers <= 1 or n_cards < MIN_CARDS_FOR_WORKERS:
        yield None
        return
    pool = None
    try:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        for _ in range(workers):
            pool.submit(_ready)
    except (ValueError, OSError, AssertionError):  # AssertionError: a daemonic process
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        yield None
        return
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
