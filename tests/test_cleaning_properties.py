"""Property-based tests (hypothesis) for the cleaning and ingest invariants.

Rows are drawn from tiny domains on purpose, so that duplicates, same-time
conflicts, jumps, invalid MMSIs and null island all occur often.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from helpers_ingest import SHIP_A, SHIP_B, mc_row, obs_table, store_digest, write_mc_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stswatch.pipeline.ingest import ingest_files
from stswatch.pipeline.mmsi import is_vessel
from stswatch.pipeline.storage import Store

T0 = datetime(2022, 1, 3, 23, 0, tzinfo=UTC)  # an hour before midnight: days split too
MMSIS = [SHIP_A, SHIP_B, 2190001, 123]
LATS = [10.0, 10.001, 10.002, 11.0, 0.0, 95.0, None]

row_strategy = st.fixed_dictionaries(
    {
        "mmsi": st.sampled_from(MMSIS),
        "minute": st.integers(0, 90),
        "lat": st.sampled_from(LATS),
        "lon": st.sampled_from([20.0, 0.0]),
        "sog_kn": st.sampled_from([1.0, 2.0, None]),
        "has_position": st.sampled_from([True] * 9 + [False]),
        "draught_m": st.sampled_from([None, 5.0, 9.5]),
    }
)


def _obs(rows: list[dict]) -> pa.Table:
    return obs_table(
        [
            {
                **{k: v for k, v in r.items() if k != "minute"},
                "timestamp": T0 + timedelta(minutes=r["minute"]),
            }
            for r in rows
        ]
    )


@settings(max_examples=80, deadline=None)
@given(st.lists(row_strategy, max_size=40))
def test_clean_invariants(rows: list[dict]) -> None:
    from stswatch.pipeline.cleaning import clean

    obs = _obs(rows)
    r = clean(obs)
    # nothing lost, nothing counted twice
    assert r.n_accepted + r.quarantine.num_rows == obs.num_rows
    pos = r.positions
    keys = list(zip(pos["mmsi"].to_pylist(), pos["timestamp"].to_pylist(), strict=True))
    assert len(set(keys)) == len(keys), "duplicate (mmsi, timestamp) in output"
    # each day's rows sorted (days are concatenated in order)
    assert keys == sorted(keys, key=lambda k: (k[1].date(), k[0], k[1]))
    assert is_vessel(pos["mmsi"].to_numpy()).all()
    lat, lon = pos["lat"].to_numpy(), pos["lon"].to_numpy()
    assert (np.abs(lat) <= 90).all() and not ((lat == 0) & (lon == 0)).any()
    # vessel series: one row per (mmsi, timestamp)
    vkeys = list(
        zip(r.vessels["mmsi"].to_pylist(), r.vessels["timestamp"].to_pylist(), strict=True)
    )
    assert len(set(vkeys)) == len(vkeys)


csv_row = st.builds(
    lambda mmsi, minute, lat, draft: mc_row(
        mmsi=mmsi,
        time=(T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S"),
        lat=lat,
        draft=draft,
    ),
    st.sampled_from(MMSIS),
    st.integers(0, 90),
    st.sampled_from([10.0, 10.001, 11.0, 0.0, 91]),
    st.sampled_from(["", "5.0", "9.5"]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(csv_row, min_size=1, max_size=30), st.lists(csv_row, min_size=1, max_size=30))
def test_ingest_tally_idempotence_and_merge(rows_a: list[str], rows_b: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        a = write_mc_csv(tmp_path / "a.csv", rows_a)
        b = write_mc_csv(tmp_path / "b.csv", rows_b)
        store_root = tmp_path / "store"
        first = ingest_files([a, b], store_root)
        assert first.balanced and first.rows_in == len(rows_a) + len(rows_b)
        digest = store_digest(store_root)
        again = ingest_files([a, b], store_root)
        assert store_digest(store_root) == digest, "re-ingest changed the store"
        assert again.accepted == first.accepted
        assert again.quarantined_by_reason == first.quarantined_by_reason
        # A later ingest of part of the input never removes stored positions
        # (jump verdicts may differ without the other file's pings, so the
        # bytes may change; the stored rows may not).
        store = Store(store_root)
        before = {d: store.read("positions", d).to_pylist() for d in store.days("positions")}
        again_b = ingest_files([b], store_root)
        assert again_b.balanced
        for day, rows in before.items():
            after = store.read("positions", day).to_pylist()
            assert all(r in after for r in rows)
        for day in store.days("positions"):
            pos = store.read("positions", day)
            keys = list(zip(pos["mmsi"].to_pylist(), pos["timestamp"].to_pylist(), strict=True))
            assert keys == sorted(set(keys))  # sorted, unique
            assert all(t.date() == day for t in pos["timestamp"].to_pylist())


many_vessels_row = st.builds(
    lambda mmsi, minute, lat: mc_row(
        mmsi=mmsi,
        time=(T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S"),
        lat=lat,
    ),
    st.sampled_from([SHIP_A, SHIP_B, 366000001, 366000002, 538000003, 123]),
    st.integers(0, 90),
    st.sampled_from([10.0, 10.001, 11.0, 91]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(many_vessels_row, min_size=1, max_size=40),
    st.lists(many_vessels_row, min_size=1, max_size=40),
)
def test_day_resolved_in_mmsi_parts_equals_whole_day(rows_a: list[str], rows_b: list[str]) -> None:
    """Big days are resolved in mmsi ranges in parallel: same store, same tallies."""
    from unittest import mock

    from stswatch.pipeline import ingest_day

    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        a = write_mc_csv(Path(tmp) / "a.csv", rows_a)
        b = write_mc_csv(Path(tmp) / "b.csv", rows_b)
        for parts, min_rows in ((1, 10**12), (3, 0)):
            store_root = Path(tmp) / f"store{parts}"
            with (
                mock.patch.object(ingest_day, "DAY_PARTS", parts),
                mock.patch.object(ingest_day, "MIN_PARTS_ROWS", min_rows),
            ):
                first = ingest_files([a], store_root)
                second = ingest_files([b, a], store_root)  # merges with stored rows
            outcomes.append(
                (
                    store_digest(store_root),
                    [(f.accepted, dict(f.quarantined_by_reason)) for f in first.files],
                    [(f.accepted, dict(f.quarantined_by_reason)) for f in second.files],
                    second.partitions_written,
                )
            )
    assert outcomes[0] == outcomes[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**62), max_size=60), st.integers(1, 6))
def test_stable_argsort_is_numpys_stable_sort(values: list[int], modulo: int) -> None:
    """Fast order of batch keys: ties (duplicate pings) keep their input order."""
    from stswatch.pipeline.cleaning import stable_argsort

    key = np.array(values, dtype=np.int64) % modulo  # small modulo: many ties
    assert np.array_equal(stable_argsort(key), np.argsort(key, kind="stable"))


static_row = st.tuples(
    st.sampled_from([SHIP_A, SHIP_B, 366000001]),
    st.integers(0, 120),
    st.sampled_from(["", "5.0", "9.5"]),
    st.sampled_from(["ALPHA", "BRAVO", ""]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(static_row, min_size=1, max_size=40))
def test_vessel_series_same_with_and_without_background_compaction(rows: list) -> None:
    """Static candidates compacted chunk by chunk (time-ordered input) = reduced at once."""
    from unittest import mock

    from stswatch.pipeline import ingest_day
    from stswatch.pipeline.readers import csv_reader

    lines = [
        mc_row(
            mmsi=mmsi,
            time=(T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S"),
            draft=draft,
            name=name,
        )
        for mmsi, minute, draft, name in sorted(rows, key=lambda r: r[1])
    ]
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        path = write_mc_csv(Path(tmp) / "a.csv", lines)
        for chunk_rows in (10**9, 1):
            with (
                mock.patch.object(csv_reader, "BLOCK_SIZE_BYTES", 300),  # a few lines a batch
                mock.patch.object(ingest_day, "STATIC_COMPACT_ROWS", chunk_rows),
            ):
                ingest_files([path], Path(tmp) / f"store{chunk_rows}")
            digests.append(store_digest(Path(tmp) / f"store{chunk_rows}"))
    assert digests[0] == digests[1]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 7)), min_size=2, max_size=40),
    st.sampled_from([pa.int16(), pa.int32(), pa.float32(), pa.string()]),
    st.integers(0, 5),
)
def test_static_comparison_treats_nulls_as_equal(values: list, typ: pa.DataType, skip: int) -> None:
    """Adjacent-row equality of static columns: raw values + validity (and text codes)."""
    from stswatch.pipeline.cleaning.vessel_series import _same_as_next

    # text: "", one-word values that differ in one byte or only in length
    # (a NUL byte), and values longer than a word
    words = ["", "A", "A\x00", "ABCDEFG", "ABCDEFGH", "ABCDEFGX", "ABCDEFGHI", "ABCDEFGHX"]
    raw = [None if v is None else (words[v] if pa.types.is_string(typ) else v) for v in values]
    arr = pa.array(raw, typ).slice(min(skip, len(raw) - 2))  # sliced: non-zero offsets
    sel = np.random.default_rng(len(values)).permutation(len(arr))
    got = _same_as_next(arr, sel)
    picked = [arr[int(i)].as_py() for i in sel]
    assert got.tolist() == [a == b for a, b in zip(picked[1:], picked[:-1], strict=True)]


@pytest.mark.parametrize(
    "values",
    [
        ["A", "A\x00", "A", None, "", None, "ABCDEFGH", "ABCDEFGX", "ABCDEFGH", "ABCDEFGH"],
        ["ABCDEFGHI", "ABCDEFGHX", "ABCDEFGHI", "ABCDEFGHI", None, "", ""],
    ],
    ids=["one-word", "longer"],
)
def test_text_comparison_exact(values: list) -> None:
    """Neighbouring text values are equal only when every byte and the
    length match ("A" is not "A\\0"), and null is not ""."""
    from stswatch.pipeline.cleaning.vessel_series import _same_as_next

    arr = pa.array(values, pa.string())
    got = _same_as_next(arr, np.arange(len(values)))
    assert got.tolist() == [a == b for a, b in zip(values[1:], values[:-1], strict=True)]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["A", "B", "", "AB", "b", "C"])), max_size=30),
    st.integers(0, 3),
)
def test_class_codes_from_string_buffers(values: list, skip: int) -> None:
    """Transceiver class codes read off the string buffers = a vocabulary lookup."""
    from stswatch.pipeline.cleaning.columns import CLASS_VOCAB, _char_codes

    arr = pa.array(values, pa.string()).slice(min(skip, len(values)))
    expected = [CLASS_VOCAB.index(v) if v in CLASS_VOCAB else -1 for v in arr.to_pylist()]
    assert _char_codes(arr, CLASS_VOCAB).tolist() == expected


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["marinecadastre", "dma", "", "x"]),
    st.integers(0, 8),
    st.one_of(st.none(), st.sampled_from(["dma", "marinecadastrex", "", "marinecadastre"])),
    st.integers(0, 8),
    st.integers(0, 3),
)
def test_single_source_read_off_the_buffers(
    value: str, n: int, other: str | None, at: int, skip: int
) -> None:
    """A batch's source column is recognised as one value only when every row
    holds exactly that value (checked on the bytes, not by hashing)."""
    from stswatch.pipeline.cleaning.columns import one_value

    values: list[str | None] = [value] * n
    if n and at < n:
        values[at] = other
    arr = pa.array(values, pa.string()).slice(min(skip, n))
    rows = arr.to_pylist()
    expected = rows[0] if rows and None not in rows and len(set(rows)) == 1 else None
    assert one_value(arr) == expected


MS_PER_DAY = 86_400_000


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([SHIP_A, SHIP_B, 123, 2**31 + 5, -1]),
            st.integers(0, 3),  # day offset, or days apart when ``spread``
            st.integers(0, MS_PER_DAY - 1),
            st.booleans(),  # null timestamp
        ),
        max_size=50,
    ),
    st.sampled_from([1, 40]),
)
def test_batch_order_is_stable_by_day_mmsi_and_time(rows: list, spread: int) -> None:
    """Valid rows in (UTC day, mmsi, timestamp) order, ties in input order; each
    day one slice. ``spread`` 40 spans up to 120 days: past the packed key's
    64, where the exact lexsort takes over."""
    from stswatch.pipeline.cleaning import BatchNumbers, batch_order, day_bounds

    n = len(rows)
    first_day = 19_000
    ts = np.array([(first_day + d * spread) * MS_PER_DAY + ms for _, d, ms, _ in rows], np.int64)
    null = np.array([r[3] for r in rows], dtype=bool)
    ts[null] = 0
    nums = BatchNumbers(
        mmsi=np.array([r[0] for r in rows], dtype=np.int64),
        ts=ts,
        ts_null=null,
        lat=np.zeros(n),
        lon=np.zeros(n),
        has_pos=np.ones(n, dtype=bool),
    )
    order = batch_order(pa.table({"x": np.zeros(n)}), nums)
    assert sorted(order.tolist()) == list(range(n))
    valid = ~null & (nums.mmsi >= 0) & (nums.mmsi < 2**30)
    got = order[valid[order]]
    idx = np.flatnonzero(valid)
    want = idx[np.lexsort((ts[idx], nums.mmsi[idx], ts[idx] // MS_PER_DAY))]
    assert got.tolist() == want.tolist()
    bounds = day_bounds(ts[got])
    assert [d for d, _, _ in bounds] == sorted(set((ts[idx] // MS_PER_DAY).tolist()))
    for d, start, stop in bounds:
        assert np.all(ts[got[start:stop]] // MS_PER_DAY == d)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from([SHIP_A, SHIP_B, 366000001, 538000001]),
                st.integers(0, MS_PER_DAY - 1),
            ),
            max_size=15,
        ),
        max_size=6,
    ),
    st.booleans(),  # the first run was read back from the store
    st.integers(1, 4),
)
def test_day_parts_gather_every_column_by_mmsi_time_stored_first(
    runs: list, first_stored: bool, n_parts: int
) -> None:
    """Parts gathered from the runs hold, in part order, every row of the day
    exactly once, every column in (mmsi, timestamp) order with stored rows
    first and input order on ties: the same as a stable lexsort of the whole
    day, and no mmsi in two parts."""
    from unittest import mock

    from stswatch.pipeline import ingest_day
    from stswatch.pipeline.cleaning import BUFFER_DTYPES, PositionBuffer

    day_start = 19_000 * MS_PER_DAY
    rng = np.random.default_rng(len(runs))
    bufs = []
    for i, rows in enumerate(runs):
        n = len(rows)
        cols = {k: (rng.random(n) * 100).astype(t) for k, t in BUFFER_DTYPES.items()}
        cols["mmsi"] = np.array([r[0] for r in rows], dtype=np.int32)
        cols["ts"] = day_start + np.array([r[1] for r in rows], dtype=np.int64)
        cols["origin"] = np.full(n, -1 if (i == 0 and first_stored) else 0, dtype=np.int16)
        cols["row"] = np.arange(n, dtype=np.int32) + 100 * i  # identifies the row
        bufs.append(PositionBuffer(cols))
    whole = PositionBuffer.concat([PositionBuffer(dict(b.cols)) for b in bufs])
    c = whole.cols
    want = np.lexsort((np.arange(len(whole)), c["origin"] >= 0, c["ts"], c["mmsi"]))
    with mock.patch.object(ingest_day, "MIN_PARTS_ROWS", 0):
        plan = ingest_day.DayRuns.plan(bufs, n_parts)
        parts = [plan.gather(p, day_start) for p in range(len(plan))]
    got = PositionBuffer.concat(parts)
    for k in BUFFER_DTYPES:
        assert got.cols[k].dtype == BUFFER_DTYPES[k]
        assert np.array_equal(got.cols[k], c[k][want]), k
    seen = [set(p.cols["mmsi"].tolist()) for p in parts]
    assert all(not (a & b) for i, a in enumerate(seen) for b in seen[i + 1 :])
