"""The store's record of detected meetings, and the history the scorer reads from it.

Recurrence ("how often do transfers happen at this spot") is one of the
strongest signs of a legitimate lightering area, and it is a property of the
whole store, not of one run's window. Each publish step therefore records the
rendezvous it detected, one partition per UTC day of their start, and the
next runs read the days before their own window as history.

Only detection output is recorded (no scores): it is deterministic, so a
backfill and day-by-day runs write identical partitions, and re-running a day
replaces its record.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa

from stswatch.detectors.events import with_event_columns
from stswatch.pipeline.schemas import RENDEZVOUS, RENDEZVOUS_SCHEMA
from stswatch.pipeline.storage import Store


def record_rendezvous(store: Store, rendezvous: pd.DataFrame, start: date, end: date) -> None:
    """Replace the recorded meetings of every day in [start, end] (empty days too).

    Writing the empty days matters: a re-run that no longer finds a meeting
    must remove the stale record, not leave it in place.
    """
    columns = RENDEZVOUS_SCHEMA.names
    if rendezvous.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        start_days = pd.Series([], dtype="object")
    else:
        frame = with_event_columns(rendezvous)[columns]
        start_days = pd.to_datetime(frame["start_time"], utc=True).dt.date
    day = start
    while day <= end:
        rows = frame[(start_days == day).to_numpy()] if len(frame) else frame
        table = pa.Table.from_pandas(rows, schema=RENDEZVOUS_SCHEMA, preserve_index=False)
        store.write_day(RENDEZVOUS, day, table)
        day += timedelta(days=1)


def read_history(store: Store, before: date, lookback_days: int) -> pd.DataFrame:
    """Meetings recorded on the ``lookback_days`` days before ``before``.

    Causal on purpose: a run never sees meetings from after its own window,
    so re-running an old day later does not change what it was scored against
    because of meetings that came after it.
    """
    if lookback_days <= 0:
        return RENDEZVOUS_SCHEMA.empty_table().to_pandas()
    first = before - timedelta(days=lookback_days)
    last = before - timedelta(days=1)
    days = [d for d in store.days(RENDEZVOUS) if first <= d <= last]
    if not days:
        return RENDEZVOUS_SCHEMA.empty_table().to_pandas()
    tables = [conform(store.read_day(RENDEZVOUS, d)) for d in days]
    return pa.concat_tables(tables).to_pandas()


def conform(table: pa.Table) -> pa.Table:
    """A recorded day in the current RENDEZVOUS_SCHEMA: fields it predates come back null.

    Partitions written before issue 14 lack ``kind``, ``dark_mmsi``,
    ``shared_silence_h`` and the STS-area fields; a store keeps them for
    months of history, so they are read as they are, never rewritten.
    """
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in RENDEZVOUS_SCHEMA
    ]
    return pa.table(columns, schema=RENDEZVOUS_SCHEMA)
