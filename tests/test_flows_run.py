"""The flows themselves, under one session-scoped Prefect test harness.

Each test runs real flows on small simulated days (source ``local``): no
mocks, the real ingest, detection, scoring and GeoJSON export underneath.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from flows_harness import SIM_START, prefect_harness, simulate_days  # noqa: F401 - fixture

# every flow here runs under the one session-scoped harness
pytestmark = pytest.mark.usefixtures("prefect_harness")

DAY2 = SIM_START + timedelta(days=1)
DAY3 = SIM_START + timedelta(days=2)


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("input")
    simulate_days(folder, SIM_START, 3, seed=3)
    return folder


def store_bytes(store: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*.parquet"))
        if "_downloads" not in p.parts
    }


def artifacts_of(run_id) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def go():
        async with get_client() as client:
            return await client.read_artifacts(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )

    return {a.key: a for a in asyncio.run(go())}


def test_day_flow_publishes_geojson_store_and_artifacts(
    three_days: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stswatch.flows.day import day_flow

    # what `stswatch serve` sets when it serves the output folder over HTTP
    monkeypatch.setenv("STSWATCH_BASE_URL", "http://127.0.0.1:8765")
    store, out = tmp_path / "store", tmp_path / "out"
    state = day_flow(
        SIM_START, source="local", store=str(store), out_dir=str(out),
        input_dir=str(three_days), return_state=True,
    )  # fmt: skip
    assert state.is_completed(), state.message
    geojson = json.loads((out / f"rendezvous-{SIM_START}.geojson").read_text())
    assert geojson["type"] == "FeatureCollection"
    assert (store / "positions" / f"date={SIM_START}" / "part-0.parquet").is_file()
    data = state.result()
    assert data["done"] == [str(SIM_START)]
    ids = {f["properties"]["event_id"] for f in geojson["features"]
           if f["properties"].get("kind") == "rendezvous"}  # fmt: skip
    assert set(data["event_ids"]) == ids

    arts = artifacts_of(state.state_details.flow_run_id)
    assert arts["stswatch-top-rendezvous"].type == "table"
    summary = arts["stswatch-run-summary"].data
    assert "rows in:" in summary and "accepted:" in summary
    assert str(out / f"rendezvous-{SIM_START}.geojson") in summary
    assert (
        f"http://127.0.0.1:8765/rendezvous-{SIM_START}.geojson"
        in arts[f"stswatch-geojson-{SIM_START}"].data
    )


def test_day_flow_rerun_replaces_outputs_identically(three_days: Path, tmp_path: Path) -> None:
    from stswatch.flows.day import day_flow

    store, out = tmp_path / "store", tmp_path / "out"
    kwargs = dict(source="local", store=str(store), out_dir=str(out), input_dir=str(three_days))
    assert day_flow(SIM_START, return_state=True, **kwargs).is_completed()
    first_store = store_bytes(store)
    first_geojson = (out / f"rendezvous-{SIM_START}.geojson").read_bytes()
    assert day_flow(SIM_START, return_state=True, **kwargs).is_completed()
    assert store_bytes(store) == first_store
    assert (out / f"rendezvous-{SIM_START}.geojson").read_bytes() == first_geojson


def test_backfill_failed_day_is_reported_and_others_still_run(
    three_days: Path, tmp_path: Path
) -> None:
    from stswatch.flows.backfill import backfill_flow

    gappy = tmp_path / "input"
    gappy.mkdir()
    for day in (SIM_START, DAY3):  # the middle day's file is missing
        name = f"AIS_{day:%Y_%m_%d}.csv"
        (gappy / name).symlink_to(three_days / name)
    store, out = tmp_path / "store", tmp_path / "out"
    state = backfill_flow(
        SIM_START, DAY3, source="local", store=str(store), out_dir=str(out),
        input_dir=str(gappy), return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    assert state.message.startswith("1 of 3 day(s) failed")
    assert str(DAY2) in state.message and "no input file" in state.message
    for day in (SIM_START, DAY3):
        assert (out / f"rendezvous-{day}.geojson").is_file()
    assert not (out / f"rendezvous-{DAY2}.geojson").exists()
    arts = artifacts_of(state.state_details.flow_run_id)
    assert arts["stswatch-backfill-progress"].data == 100
    assert f"**{DAY2}**: FileNotFoundError" in arts["stswatch-run-summary"].data


def test_backfill_skips_done_days_unless_overwrite(three_days: Path, tmp_path: Path) -> None:
    from stswatch.flows.backfill import backfill_flow

    store, out = tmp_path / "store", tmp_path / "out"
    kwargs = dict(source="local", store=str(store), out_dir=str(out), input_dir=str(three_days))
    assert backfill_flow(SIM_START, DAY2, return_state=True, **kwargs).is_completed()
    again = backfill_flow(SIM_START, DAY2, return_state=True, **kwargs)
    assert again.result()["skipped"] == [str(SIM_START), str(DAY2)]
    (out / f"rendezvous-{DAY2}.geojson").unlink()  # outputs deleted: the day is redone
    healed = backfill_flow(SIM_START, DAY2, return_state=True, **kwargs)
    assert healed.result()["done"] == [str(DAY2)]
    assert (out / f"rendezvous-{DAY2}.geojson").is_file()
    forced = backfill_flow(SIM_START, DAY2, overwrite=True, return_state=True, **kwargs)
    assert forced.result()["done"] == [str(SIM_START), str(DAY2)]


def test_backfill_refuses_future_end_date_before_doing_anything(tmp_path: Path) -> None:
    from stswatch.flows.backfill import backfill_flow

    far_future = date(2999, 1, 1)
    state = backfill_flow(
        SIM_START, far_future, source="local", store=str(tmp_path / "s"),
        out_dir=str(tmp_path / "o"), input_dir=str(tmp_path), return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    assert "is in the future" in state.message
    assert not (tmp_path / "s").exists()


def test_daily_flow_heals_missing_days_in_lookback(three_days: Path, tmp_path: Path) -> None:
    from stswatch.flows.daily import daily_flow

    store, out = tmp_path / "store", tmp_path / "out"
    kwargs = dict(source="local", store=str(store), out_dir=str(out), input_dir=str(three_days))
    # "today" is two days after DAY3 with a 2-day publication delay: the target is DAY3;
    # a 1-day look-back also covers DAY2, SIM_START lies outside the window.
    state = daily_flow(
        as_of=DAY3 + timedelta(days=2), publication_delay_days=2, lookback_days=1,
        return_state=True, **kwargs,
    )  # fmt: skip
    assert state.is_completed(), state.message
    assert state.result()["done"] == [str(DAY2), str(DAY3)]
    assert not (out / f"rendezvous-{SIM_START}.geojson").exists()
    # the next scheduled run finds nothing missing
    again = daily_flow(
        as_of=DAY3 + timedelta(days=2), publication_delay_days=2, lookback_days=1,
        return_state=True, **kwargs,
    )  # fmt: skip
    assert again.result()["done"] == []
