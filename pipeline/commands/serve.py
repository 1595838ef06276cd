"""``stswatch serve``: serve the daily and backfill Prefect deployments.

Runs until interrupted, executing runs scheduled by the daily cron or started
from the UI (or ``prefect deployment run``). Needs a Prefect API: a local
``prefect server start --host 127.0.0.1`` with ``PREFECT_API_URL`` pointing at
it (see the README, "Operating with Prefect").
"""

from __future__ import annotations

import argparse
import os

from stswatch.pipeline.commands._common import add_watchlist_argument

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
    add_watchlist_argument(parser)
    parser.add_argument(
        "--http-port",
        type=int,
        default=env("STSWATCH_HTTP_PORT") or 8765,
        help="serve the output folder over HTTP on 127.0.0.1 at this port, so artifact links "
        "to GeoJSON and cards open (env STSWATCH_HTTP_PORT; default 8765; 0 picks a free port)",
    )
    parser.add_argument(
        "--base-url",
        default=env("STSWATCH_BASE_URL"),
        help="address the artifacts link to, when the folder is reached another way "
        "(SSH tunnel, reverse proxy); default http://127.0.0.1:PORT (env STSWATCH_BASE_URL)",
    )
    parser.add_argument(
        "--no-http", action="store_true", help="do not serve the output folder (no links)"
    )


def run(args: argparse.Namespace) -> int:
    from stswatch.flows.runners import resolve_dask_address
    from stswatch.flows.settings import FlowSettings
    from stswatch.pipeline.commands._common import fail, load_watchlist_args
    from stswatch.pipeline.watchlist import WatchlistError

    overrides = {
        "STSWATCH_STORE": args.store,
        "STSWATCH_OUT_DIR": args.out_dir,
        "STSWATCH_INPUT_DIR": args.input_dir,
        "STSWATCH_SOURCE": args.source,
        "STSWATCH_DAILY_CRON": args.cron,
        "STSWATCH_DASK_ADDRESS": args.dask_address,
        "STSWATCH_PUBLICATION_DELAY_DAYS": args.publication_delay_days,
        "STSWATCH_LOOKBACK_DAYS": args.lookback_days,
        "STSWATCH_WATCHLIST": os.pathsep.join(str(p.absolute()) for p in args.watchlist)
        if args.watchlist
        else None,
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
    try:
        load_watchlist_args(list(settings.watchlist))
    except WatchlistError as exc:
        return fail(str(exc))
    server = None
    if not args.no_http:
        from stswatch.flows.file_server import FileServer

        try:
            server = FileServer(settings.out_dir, args.http_port).start()
        except OSError as exc:
            return fail(f"cannot serve {settings.out_dir} on port {args.http_port}: {exc}")
        env["STSWATCH_BASE_URL"] = (args.base_url or server.url).rstrip("/")
        print(f"stswatch serve: output folder at {server.url}/ (links: {env['STSWATCH_BASE_URL']})")
    elif args.base_url:
        env["STSWATCH_BASE_URL"] = args.base_url.rstrip("/")
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
    try:
        serve_deployments(settings, limit=args.limit)
    finally:
        if server is not None:
            server.stop()
    return 0
