"""``stswatch-day``: one day through the whole pipeline.

acquire (download with retries, or the day's file from ``input_dir``) →
ingest into the store → detect + score + publish
``OUT/rendezvous-YYYY-MM-DD.geojson`` → artifacts. Re-running a day replaces
its outputs (ingest merges and de-duplicates; the GeoJSON is rewritten).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from prefect import flow
from prefect.states import State
from pydantic import Field

from stswatch.flows.artifacts import Progress
from stswatch.flows.common import finish
from stswatch.flows.engine import run_days
from stswatch.flows.params import (
    FlowSource,
    WatchlistParameter,
    validate_source,
    validate_watchlist,
)
from stswatch.flows.runners import RunnerChoice
from stswatch.flows.settings import orchestration_config


@flow(name="stswatch-day", log_prints=True)
def day_flow(
    day: Annotated[date, Field(description="UTC day to process")],
    source: Annotated[
        FlowSource, Field(description="Publisher to download from, or 'local' (input_dir)")
    ] = "marinecadastre",
    store: Annotated[str, Field(description="Parquet store folder")] = ".stswatch/store",
    out_dir: Annotated[str, Field(description="Folder for the GeoJSON")] = ".stswatch/out",
    input_dir: Annotated[
        str | None, Field(description="Folder with day files, for source 'local'")
    ] = None,
    base_url: Annotated[str | None, Field(description="Mirror of the publisher")] = None,
    overwrite: Annotated[bool, Field(description="Redo the day even if its outputs exist")] = True,
    watchlist: WatchlistParameter = None,
) -> State[Any]:
    """Process one UTC day: acquire, ingest, detect, score, publish GeoJSON.

    Args:
        day: UTC day to process.
        source: publisher to download from, or local to pick the day's file
            from input_dir.
        store: Parquet store folder (shared by every run).
        out_dir: folder for rendezvous-YYYY-MM-DD.geojson.
        input_dir: folder with day files, for source local.
        base_url: mirror of the publisher's site (tests, proxies).
        overwrite: redo the day even when its outputs exist.
        watchlist: watchlist files to screen the day's events against.
    """
    validate_source(source, input_dir)
    lists = validate_watchlist(watchlist)
    orch = orchestration_config()
    report = run_days(
        [day],
        source=source,
        store=store,
        out_dir=out_dir,
        input_dir=input_dir,
        base_url=base_url,
        overwrite=overwrite,
        runner=RunnerChoice("threads", 1),
        top_n=orch.top_events_shown,
        progress=Progress(1, f"day {day}"),
        watchlist=lists,
    )
    return finish(report, title=f"stswatch day {day}", top_n=orch.top_events_shown)
