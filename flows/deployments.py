"""The two deployments ``stswatch serve`` runs in one process.

- ``stswatch-daily/daily``: cron schedule (UTC, default ``0 6 * * *``), processes
  the latest published day and heals missing days in the look-back window.
- ``stswatch-backfill/backfill``: no schedule; analysts start it from the UI's
  custom-run form, which shows date pickers for ``start_date``/``end_date``
  (typed ``datetime.date``), a dropdown for ``source`` (a ``Literal``) and
  the descriptions given in the flow signature.

The settings' store / output / input folders become the deployments' default
parameters, as absolute paths, so runs started from the UI write where the
service was configured to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stswatch.flows.settings import FlowSettings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DAILY_NAME = "daily"
BACKFILL_NAME = "backfill"
TAGS = ["stswatch"]


def default_parameters(settings: FlowSettings) -> dict[str, Any]:
    """Parameters both deployments share, from the operator's settings."""
    params: dict[str, Any] = {
        "source": settings.source,
        "store": str(settings.store),
        "out_dir": str(settings.out_dir),
        "max_concurrency": settings.orchestration.max_concurrency,
    }
    if settings.input_dir is not None:
        params["input_dir"] = str(settings.input_dir)
    if settings.dask_address:
        params["dask_address"] = settings.dask_address
    if settings.watchlist:
        params["watchlist"] = [str(p) for p in settings.watchlist]
    return params


def build_deployments(settings: FlowSettings) -> list[RunnerDeployment]:
    """The daily (scheduled) and backfill (on demand) deployments."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from stswatch.flows.backfill import backfill_flow
    from stswatch.flows.daily import daily_flow

    params = default_parameters(settings)
    daily = daily_flow.to_deployment(
        name=DAILY_NAME,
        schedules=[Cron(settings.daily_cron, timezone="UTC")],
        parameters=params,
        description=(
            "Process the most recent published AIS day and any missing day in the "
            f"look-back window ({settings.orchestration.lookback_days} days). "
            "Prefect never schedules past slots: use the backfill deployment for history."
        ),
        tags=TAGS,
        # by module, not file path: runs load the installed package whatever
        # folder `stswatch serve` was started from
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    backfill = backfill_flow.to_deployment(
        name=BACKFILL_NAME,
        parameters=params,
        description=(
            "Backfill a date range (both days included): download or read each day, ingest, "
            "detect, score and publish GeoJSON. Days run in this one flow run with bounded "
            "concurrency; failed days are listed in the run summary."
        ),
        tags=TAGS,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return [daily, backfill]


def serve_deployments(settings: FlowSettings, *, limit: int | None = None) -> None:
    """Register both deployments and run their flows in this process until stopped.

    Stopping it pauses the deployments' schedules (Prefect's default), and
    scheduled runs missed while it is down are not created afterwards: the
    daily flow's look-back heals recent days, a backfill fills older ones.
    """
    from prefect import serve

    serve(*build_deployments(settings), limit=limit)
