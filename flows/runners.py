"""Where a backfill's days run: local threads, or an existing Dask cluster.

The choice is pure (:func:`choose_runner`) so it is tested without Prefect;
:func:`build_task_runner` turns it into a Prefect task runner. A Dask address
comes from the flow parameter first, then ``STSWATCH_DASK_ADDRESS``; without
one the days run in a local thread pool bounded by ``max_concurrency`` (the
heavy work is Arrow/numpy code that releases the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from prefect.task_runners import TaskRunner

#: Environment variable naming a Dask scheduler (``tcp://host:port``).
DASK_ADDRESS_ENV = "STSWATCH_DASK_ADDRESS"


@dataclass(frozen=True)
class RunnerChoice:
    """Which task runner to use and how wide."""

    kind: Literal["threads", "dask"]
    max_workers: int
    address: str | None = None

    def describe(self) -> str:
        if self.kind == "dask":
            return f"Dask cluster at {self.address} (at most {self.max_workers} days at once)"
        return f"local threads ({self.max_workers} days at once)"


def resolve_dask_address(parameter: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The Dask scheduler to use: the explicit parameter, else the env var, else none."""
    env = os.environ if env is None else env
    for candidate in (parameter, env.get(DASK_ADDRESS_ENV)):
        if candidate and candidate.strip():
            address = candidate.strip()
            if "://" not in address:
                raise ValueError(
                    f"Dask address {address!r} needs a scheme, e.g. tcp://127.0.0.1:8786"
                )
            return address
    return None


def choose_runner(
    dask_address: str | None, max_concurrency: int, env: Mapping[str, str] | None = None
) -> RunnerChoice:
    """Pick the runner for a backfill from its parameters and the environment."""
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
    address = resolve_dask_address(dask_address, env)
    if address:
        return RunnerChoice("dask", max_concurrency, address)
    return RunnerChoice("threads", max_concurrency)


def build_task_runner(choice: RunnerChoice) -> TaskRunner:
    """A fresh (not yet started) Prefect task runner for ``choice``."""
    if choice.kind == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=choice.address)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=choice.max_workers)
