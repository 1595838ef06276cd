"""Operator settings of the served deployments, from flags or ``STSWATCH_*`` env vars.

Thresholds (publication delay, look-back, maximum backfill) default to
``stswatch.pipeline.config.DEFAULT_CONFIG.orchestration``; an environment variable only
overrides them for one installation, so ``stswatch serve`` can be configured
by a service manager without editing code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stswatch.pipeline.config import DEFAULT_CONFIG, Config, OrchestrationConfig

#: Daily run at 06:00 UTC: after DMA's overnight publication of the previous day.
DEFAULT_DAILY_CRON = "0 6 * * *"
DEFAULT_HOME = Path(".stswatch")


@dataclass(frozen=True)
class FlowSettings:
    """Where data lives and when the daily run fires."""

    store: Path
    out_dir: Path
    input_dir: Path | None
    source: str
    daily_cron: str
    dask_address: str | None
    orchestration: OrchestrationConfig
    #: watchlist files every run screens against (STSWATCH_WATCHLIST, os.pathsep-separated)
    watchlist: tuple[Path, ...] = ()
    #: where the output folder is served over HTTP (STSWATCH_BASE_URL): artifact
    #: links point there, since browsers block file:// links from a web page
    base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FlowSettings:
        """Settings from ``STSWATCH_*`` variables, project-local defaults otherwise."""
        env = os.environ if env is None else env
        base = DEFAULT_CONFIG.orchestration

        def integer(name: str, default: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"{name} must be an integer, got {raw!r}") from None

        orchestration = OrchestrationConfig(
            publication_delay_days=integer(
                "STSWATCH_PUBLICATION_DELAY_DAYS", base.publication_delay_days
            ),
            lookback_days=integer("STSWATCH_LOOKBACK_DAYS", base.lookback_days),
            max_backfill_days=integer("STSWATCH_MAX_BACKFILL_DAYS", base.max_backfill_days),
            max_concurrency=integer("STSWATCH_MAX_CONCURRENCY", base.max_concurrency),
            download_retries=base.download_retries,
            download_retry_delay_s=base.download_retry_delay_s,
            top_events_shown=base.top_events_shown,
        )
        input_dir = env.get("STSWATCH_INPUT_DIR") or None
        return cls(
            store=Path(env.get("STSWATCH_STORE") or DEFAULT_HOME / "store").absolute(),
            out_dir=Path(env.get("STSWATCH_OUT_DIR") or DEFAULT_HOME / "out").absolute(),
            input_dir=Path(input_dir).absolute() if input_dir else None,
            source=env.get("STSWATCH_SOURCE") or "marinecadastre",
            daily_cron=env.get("STSWATCH_DAILY_CRON") or DEFAULT_DAILY_CRON,
            dask_address=env.get("STSWATCH_DASK_ADDRESS") or None,
            orchestration=orchestration,
            watchlist=watchlist_paths(env.get("STSWATCH_WATCHLIST")),
            base_url=(env.get("STSWATCH_BASE_URL") or "").rstrip("/") or None,
        )


def watchlist_paths(raw: str | None) -> tuple[Path, ...]:
    """``STSWATCH_WATCHLIST``: absolute paths of the files, separated like PATH."""
    if not raw:
        return ()
    return tuple(Path(p).absolute() for p in raw.split(os.pathsep) if p.strip())


def base_url(env: Mapping[str, str] | None = None) -> str | None:
    """The output folder's HTTP address for links (None: show paths, not links)."""
    return FlowSettings.from_env(env).base_url


def orchestration_config(env: Mapping[str, str] | None = None) -> OrchestrationConfig:
    """The orchestration thresholds in effect for this process."""
    return FlowSettings.from_env(env).orchestration


def detection_config(env: Mapping[str, str] | None = None) -> Config:
    """The detection Config of served runs: defaults plus ``STSWATCH_STS_AREAS``.

    ``STSWATCH_STS_AREAS`` lists users' STS-area GeoJSON files separated by
    ``os.pathsep`` (``:`` on Linux), the service's equivalent of ``--sts-areas``.
    """
    from stswatch.pipeline.sts_areas import config_with_area_files

    env = os.environ if env is None else env
    files = tuple(f for f in (env.get("STSWATCH_STS_AREAS") or "").split(os.pathsep) if f)
    return config_with_area_files(files)
