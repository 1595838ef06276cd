"""``stswatch serve``: serve the daily and backfill Prefect deployments.

Runs until interrupted, executing runs scheduled by the daily cron or started
from the UI (or ``prefect deployment run``). Needs a Prefect API: a local
``prefect server start --host 127.0.0.1`` with ``PREFECT_API_URL`` pointing at
it (see the README, "Operating with Prefect").
"""

from __future__ import annotations

import argparse
import os

HELP = "serve the daily and backfill Prefect deployments"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("--store", help="Parquet store folder (env STSWATCH_STORE)")
    parser.add_argument("--out-dir", help="GeoJSON output folder (env STSWATCH_OUT_DIR)")
    parser.add_argument(
        "--input-dir", help="folder of day files for source 'local' (env STSWATCH_INPUT_DIR)"
    )
    parser.add_argument(
        "--source",
        choices=["marinecadastre", "dma", "local"],
        help="default source of the deployments (env STSWATCH_SOURCE; default marinecadastre)",
    )
    parser.add_argument(
        "--cron",
        help="daily schedule, cron in UTC (env STSWATCH_DAILY_CRON; default '0 6 * * *')",
    )
    parser.add_argument(
        "--dask-address",
        default=env("STSWATCH_DASK_ADDRESS"),
        help="Dask scheduler tcp://host:port for backfills (env STSWATCH_DASK_ADDRESS)",
    )
    parser.add_argument(
        "--publication-delay-days",
        type=int,
        help="days between a UTC day and its file's publication (env "
        "STSWATCH_PUBLICATION_DELAY_DAYS)",
    )
    parser.add_argument(
        "--lookback-days",
        type=int,
        help="the daily run heals missing days this far back (env STSWATCH_LOOKBACK_DAYS)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="maximum flow runs executing at once"
    )


def run(args: argparse.Namespace) -> int:
    from stswatch.flows.runners import resolve_dask_address
    from stswatch.flows.settings import FlowSettings
    from stswatch.pipeline.commands._common import fail

    overrides = {
        "STSWATCH_STORE": args.store,
        "STSWATCH_OUT_DIR": args.out_dir,
        "STSWATCH_INPUT_DIR": args.input_dir,
        "STSWATCH_SOURCE": args.source,
        "STSWATCH_DAILY_CRON": args.cron,
        "STSWATCH_DASK_ADDRESS": args.dask_address,
        "STSWATCH_PUBLICATION_DELAY_DAYS": args.publication_delay_days,
        "STSWATCH_LOOKBACK_DAYS": args.lookback_days,
    }
    # Flags win over the environment.
    env = dict(os.environ)
    env.update({name: str(value) for name, value in overrides.items() if value is not None})
    try:
        settings = FlowSettings.from_env(env)
    except ValueError as exc:
        return fail(str(exc))
    if settings.source == "local" and settings.input_dir is None:
        return fail("--source local needs --input-dir")
    try:
        resolve_dask_address(settings.dask_address, {})
    except ValueError as exc:
        return fail(str(exc))
    # The flow runs execute in this process and read the same variables, so
    # thresholds given as flags apply to them too.
    os.environ.update(env)
    if not os.environ.get("PREFECT_API_URL"):
        print(
            "stswatch serve: PREFECT_API_URL is not set; Prefect will use a temporary "
            "local server that lives only as long as this process (no UI). Start "
            "`prefect server start --host 127.0.0.1` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api for the UI."
        )
    from stswatch.flows.deployments import serve_deployments

    print(
        f"stswatch serve: store={settings.store} out={settings.out_dir} "
        f"daily cron='{settings.daily_cron}' UTC"
        + (f" dask={settings.dask_address}" if settings.dask_address else "")
    )
    serve_deployments(settings, limit=args.limit)
    return 0
