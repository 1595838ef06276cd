"""``stswatch-daily``: the scheduled run, self-healing over a look-back window.

It processes the most recent day the publishers have released (the run's
scheduled date minus the publication delay) and every earlier day within the
look-back window whose outputs are missing. Prefect never creates runs for
schedule slots in the past, and stopping ``serve`` pauses the deployment, so
without this a day missed while the service was down would stay missing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.states import State
from pydantic import Field

from stswatch.flows.artifacts import Progress
from stswatch.flows.common import finish, run_reference_date
from stswatch.flows.engine import run_days
from stswatch.flows.params import (
    FlowSource,
    WatchlistParameter,
    day_is_done,
    days_to_process,
    validate_source,
    validate_watchlist,
)
from stswatch.flows.runners import choose_runner
from stswatch.flows.settings import orchestration_config


@flow(name="stswatch-daily", log_prints=True)
def daily_flow(
    source: Annotated[
        FlowSource, Field(description="Publisher to download from, or 'local'")
    ] = "marinecadastre",
    store: Annotated[str, Field(description="Parquet store folder")] = ".stswatch/store",
    out_dir: Annotated[str, Field(description="Folder for the GeoJSON")] = ".stswatch/out",
    input_dir: Annotated[
        str | None, Field(description="Folder with day files, for source 'local'")
    ] = None,
    base_url: Annotated[str | None, Field(description="Mirror of the publisher")] = None,
    as_of: Annotated[
        date | None, Field(description="Pretend today is this UTC day (default: scheduled date)")
    ] = None,
    publication_delay_days: Annotated[
        int | None, Field(ge=0, description="Days until a day's file is published")
    ] = None,
    lookback_days: Annotated[
        int | None, Field(ge=0, description="Also redo missing days this far back")
    ] = None,
    max_concurrency: Annotated[int, Field(ge=1, le=64, description="Days at once")] = 2,
    dask_address: Annotated[str | None, Field(description="Dask scheduler address")] = None,
    watchlist: WatchlistParameter = None,
) -> State[Any]:
    """Process the latest published day and heal missing days in the look-back window.

    Args:
        source: publisher to download from, or local to read input_dir.
        store: Parquet store folder.
        out_dir: folder for rendezvous-YYYY-MM-DD.geojson.
        input_dir: folder with day files, for source local.
        base_url: mirror of the publisher's site.
        as_of: the reference UTC day; by default the run's scheduled date.
        publication_delay_days: days between a day and its publication
            (default from config / STSWATCH_PUBLICATION_DELAY_DAYS).
        lookback_days: how far back missing days are healed
            (default from config / STSWATCH_LOOKBACK_DAYS).
        max_concurrency: days processed at once.
        dask_address: Dask scheduler to run the days on.
        watchlist: watchlist files to screen every day's events against.
    """
    validate_source(source, input_dir)
    lists = validate_watchlist(watchlist)
    orch = orchestration_config()
    reference = as_of or run_reference_date()
    delay = (
        orch.publication_delay_days if publication_delay_days is None else publication_delay_days
    )
    lookback = orch.lookback_days if lookback_days is None else lookback_days
    days = days_to_process(
        reference,
        publication_delay_days=delay,
        lookback_days=lookback,
        is_done=lambda d: day_is_done(store, out_dir, d),
    )
    get_run_logger().info(
        "daily run as of %s (delay %d d, look-back %d d): %s",
        reference,
        delay,
        lookback,
        ", ".join(map(str, days)) or "nothing missing",
    )
    report = run_days(
        days,
        source=source,
        store=store,
        out_dir=out_dir,
        input_dir=input_dir,
        base_url=base_url,
        overwrite=True,
        runner=choose_runner(dask_address, max_concurrency),
        top_n=orch.top_events_shown,
        progress=Progress(len(days), f"daily run as of {reference}"),
        watchlist=lists,
    )
    return finish(
        report, title=f"stswatch daily run as of {reference}", top_n=orch.top_events_shown
    )
