"""Pure orchestration logic: which days a run processes, parameter errors, runner choice.

No Prefect server here: these rules are plain date arithmetic and are tested
in milliseconds (the flows only call them).
"""

from __future__ import annotations

from datetime import date

import pytest

from stswatch.flows.params import (
    ParameterError,
    day_is_done,
    days_to_process,
    find_local_file,
    geojson_path,
    positions_partition,
    published_neighbours,
    target_day,
    validate_backfill_range,
    validate_source,
)
from stswatch.flows.runners import DASK_ADDRESS_ENV, choose_runner, resolve_dask_address
from stswatch.flows.settings import DEFAULT_DAILY_CRON, FlowSettings

TODAY = date(2024, 3, 10)


# --- backfill range validation -------------------------------------------------


def test_backfill_range_lists_every_day_both_ends_included() -> None:
    days = validate_backfill_range(date(2024, 2, 27), date(2024, 3, 1), today=TODAY, max_days=366)
    assert days == [date(2024, 2, 27), date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]


def test_backfill_single_day_range_is_one_day() -> None:
    assert validate_backfill_range(TODAY, TODAY, today=TODAY, max_days=1) == [TODAY]


def test_backfill_end_before_start_says_swap() -> None:
    with pytest.raises(ParameterError, match=r"before start_date.*swap"):
        validate_backfill_range(date(2024, 3, 2), date(2024, 3, 1), today=TODAY, max_days=366)


def test_backfill_future_end_date_is_refused_with_today_named() -> None:
    with pytest.raises(ParameterError, match=r"future \(today is 2024-03-10 UTC\)"):
        validate_backfill_range(date(2024, 3, 1), date(2024, 3, 11), today=TODAY, max_days=366)


def test_backfill_range_over_maximum_names_both_counts() -> None:
    with pytest.raises(ParameterError, match="is 11 days, more than the maximum of 10"):
        validate_backfill_range(date(2024, 2, 29), TODAY, today=TODAY, max_days=10)
    assert len(validate_backfill_range(date(2024, 3, 1), TODAY, today=TODAY, max_days=10)) == 10


def test_local_source_without_input_dir_is_refused() -> None:
    with pytest.raises(ParameterError, match="needs input_dir"):
        validate_source("local", None)
    with pytest.raises(ParameterError, match="must be one of"):
        validate_source("aishub", None)
    validate_source("dma", None)


# --- daily target day and self-healing look-back ------------------------------


def test_target_day_is_as_of_minus_publication_delay() -> None:
    assert target_day(TODAY, 2) == date(2024, 3, 8)
    assert target_day(TODAY, 0) == TODAY


def test_daily_processes_only_target_when_history_complete() -> None:
    days = days_to_process(
        TODAY, publication_delay_days=2, lookback_days=7, is_done=lambda d: d < date(2024, 3, 8)
    )
    assert days == [date(2024, 3, 8)]


def test_daily_heals_days_missed_while_serve_was_down_oldest_first() -> None:
    done = {date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 5)}
    days = days_to_process(
        TODAY, publication_delay_days=2, lookback_days=7, is_done=done.__contains__
    )
    assert days == [date(2024, 3, 3), date(2024, 3, 4), date(2024, 3, 6), date(2024, 3, 7),
                    date(2024, 3, 8)]  # fmt: skip


def test_daily_does_not_look_before_the_window() -> None:
    days = days_to_process(
        TODAY, publication_delay_days=1, lookback_days=2, is_done=lambda d: False
    )
    assert days == [date(2024, 3, 7), date(2024, 3, 8), date(2024, 3, 9)]


def test_daily_with_everything_done_has_nothing_to_do() -> None:
    assert (
        days_to_process(TODAY, publication_delay_days=2, lookback_days=3, is_done=lambda d: True)
        == []
    )


def test_day_is_done_needs_both_partition_and_geojson(tmp_path) -> None:
    store, out, day = tmp_path / "store", tmp_path / "out", date(2024, 1, 2)
    assert not day_is_done(store, out, day)
    positions_partition(store, day).mkdir(parents=True)
    assert not day_is_done(store, out, day)  # ingested but never published
    geojson_path(out, day).parent.mkdir()
    geojson_path(out, day).write_text("{}")
    assert day_is_done(store, out, day)
    assert not day_is_done(tmp_path / "other-store", out, day)  # keyed on the store path


def test_published_neighbours_are_republished_when_a_day_lands(tmp_path) -> None:
    store, out = tmp_path / "store", tmp_path / "out"
    d = [date(2024, 3, i) for i in range(1, 8)]
    for day in (d[0], d[1], d[3], d[5]):  # published days
        positions_partition(store, day).mkdir(parents=True)
        geojson_path(out, day).parent.mkdir(exist_ok=True)
        geojson_path(out, day).write_text("{}")
    positions_partition(store, d[6]).mkdir(parents=True)  # ingested, never published
    # d[2] landed late (a hole): both published neighbours get their events whole
    assert published_neighbours({d[2]}, store, out) == {d[1], d[3]}
    # days processed together are not "neighbours" of each other
    assert published_neighbours({d[1], d[2]}, store, out) == {d[0], d[3]}
    assert published_neighbours({d[5]}, store, out) == set()  # d[6] was never published


# --- picking a day's file from a folder -----------------------------------------


def test_local_file_prefers_publisher_name_over_other_dated_files(tmp_path) -> None:
    (tmp_path / "AIS_2024_01_02.csv").write_text("x")
    (tmp_path / "truth_2024_01_02.csv").write_text("x")
    (tmp_path / "AIS_2024_01_03.csv").write_text("x")
    assert find_local_file(tmp_path, date(2024, 1, 2)).name == "AIS_2024_01_02.csv"
    (tmp_path / "aisdk-2024-01-05.zip").write_text("x")
    assert find_local_file(tmp_path, date(2024, 1, 5)).name == "aisdk-2024-01-05.zip"


def test_local_file_missing_day_names_expected_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"AIS_2024_01_09\.csv"):
        find_local_file(tmp_path, date(2024, 1, 9))


def test_local_file_two_candidates_is_an_error_not_a_guess(tmp_path) -> None:
    (tmp_path / "log-20240102.nmea").write_text("x")
    (tmp_path / "log-2024-01-02.nm4").write_text("x")
    with pytest.raises(ParameterError, match="several input files"):
        find_local_file(tmp_path, date(2024, 1, 2))


# --- runner choice ----------------------------------------------------------------


def test_runner_is_local_threads_without_dask_address() -> None:
    choice = choose_runner(None, 3, env={})
    assert (choice.kind, choice.max_workers, choice.address) == ("threads", 3, None)


def test_runner_uses_env_dask_address_and_parameter_wins() -> None:
    env = {DASK_ADDRESS_ENV: "tcp://10.0.0.5:8786"}
    assert choose_runner(None, 2, env=env).address == "tcp://10.0.0.5:8786"
    assert choose_runner("tcp://127.0.0.1:9000", 2, env=env).address == "tcp://127.0.0.1:9000"
    assert choose_runner("  ", 2, env={}).kind == "threads"


def test_dask_address_without_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a scheme"):
        resolve_dask_address("10.0.0.5:8786", env={})


def test_runner_needs_positive_concurrency() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        choose_runner(None, 0, env={})


# --- settings from the environment --------------------------------------------------


def test_settings_defaults_and_env_overrides(tmp_path) -> None:
    default = FlowSettings.from_env({})
    assert default.daily_cron == DEFAULT_DAILY_CRON
    assert default.store.is_absolute() and default.source == "marinecadastre"
    custom = FlowSettings.from_env(
        {
            "STSWATCH_STORE": str(tmp_path / "s"),
            "STSWATCH_DAILY_CRON": "30 7 * * *",
            "STSWATCH_LOOKBACK_DAYS": "14",
            "STSWATCH_MAX_BACKFILL_DAYS": "31",
        }
    )
    assert custom.store == tmp_path / "s"
    assert custom.daily_cron == "30 7 * * *"
    assert custom.orchestration.lookback_days == 14
    assert custom.orchestration.max_backfill_days == 31


def test_settings_reject_non_integer_env() -> None:
    with pytest.raises(ValueError, match="STSWATCH_LOOKBACK_DAYS must be an integer"):
        FlowSettings.from_env({"STSWATCH_LOOKBACK_DAYS": "a week"})
