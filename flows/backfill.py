"""``stswatch-backfill``: a date range through the pipeline, in one flow run.

The days are mapped inside this one run with bounded concurrency (not a run
per day: deployment concurrency limits retry slowly, ~30 s, and a run per day
floods the database). A failed day does not stop the others; the run ends
Failed with the list of failed days, or Completed. A progress artifact
advances as days finish. With a Dask scheduler address (parameter or
``STSWATCH_DASK_ADDRESS``) the days run on that cluster; the workers must
see the same store and output paths.
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
    validate_backfill_range,
    validate_source,
    validate_watchlist,
)
from stswatch.flows.runners import choose_runner
from stswatch.flows.settings import orchestration_config


@flow(name="stswatch-backfill", log_prints=True)
def backfill_flow(
    start_date: Annotated[date, Field(description="First UTC day (included)")],
    end_date: Annotated[date, Field(description="Last UTC day (included)")],
    source: Annotated[
        FlowSource,
        Field(description="Publisher to download from, or 'local' to read input_dir"),
    ] = "marinecadastre",
    store: Annotated[str, Field(description="Parquet store folder")] = ".stswatch/store",
    out_dir: Annotated[
        str, Field(description="Folder for rendezvous-YYYY-MM-DD.geojson")
    ] = ".stswatch/out",
    input_dir: Annotated[
        str | None, Field(description="Folder with day files, for source 'local'")
    ] = None,
    base_url: Annotated[
        str | None, Field(description="Mirror of the publisher's site (optional)")
    ] = None,
    max_concurrency: Annotated[int, Field(ge=1, le=64, description="Days processed at once")] = 2,
    overwrite: Annotated[
        bool, Field(description="Redo days whose store partition and GeoJSON already exist")
    ] = False,
    dask_address: Annotated[
        str | None,
        Field(description="Dask scheduler, e.g. tcp://10.0.0.5:8786 (else STSWATCH_DASK_ADDRESS)"),
    ] = None,
    watchlist: WatchlistParameter = None,
) -> State[Any]:
    """Backfill a range of UTC days: acquire, ingest, detect, score, publish each.

    Args:
        start_date: first UTC day, included.
        end_date: last UTC day, included; not in the future.
        source: publisher to download from, or local to read input_dir.
        store: Parquet store folder shared by all runs (and Dask workers).
        out_dir: folder for rendezvous-YYYY-MM-DD.geojson.
        input_dir: folder with day files, for source local.
        base_url: mirror of the publisher's site.
        max_concurrency: days processed at once.
        overwrite: redo days whose store partition and GeoJSON already exist.
        dask_address: Dask scheduler to run the days on.
        watchlist: watchlist files to screen every day's events against.
    """
    orch = orchestration_config()
    days = validate_backfill_range(
        start_date, end_date, today=run_reference_date(), max_days=orch.max_backfill_days
    )
    validate_source(source, input_dir)
    lists = validate_watchlist(watchlist)
    runner = choose_runner(dask_address, max_concurrency)
    get_run_logger().info(
        "backfill %s to %s (%d days) from %s on %s",
        start_date,
        end_date,
        len(days),
        source,
        runner.describe(),
    )
    progress = Progress(len(days), f"backfill {start_date} to {end_date}")
    report = run_days(
        days,
        source=source,
        store=store,
        out_dir=out_dir,
        input_dir=input_dir,
        base_url=base_url,
        overwrite=overwrite,
        runner=runner,
        top_n=orch.top_events_shown,
        progress=progress,
        watchlist=lists,
    )
    return finish(
        report, title=f"stswatch backfill {start_date} to {end_date}", top_n=orch.top_events_shown
    )
