"""The CSV reader every CSV dialect runs on: a layout read in parallel blocks, nothing lost.

Why a shared CSV engine: MarineCadastre, DMA and the Stone Soup track files
differ only in headers, vocabularies and time formats. The hard parts are the
same for all of them and live here once:

* **Block-parallel parsing with explicit types** (:mod:`.csv_blocks`): a
  day of national AIS is ~10 million rows, which must never exist as Python
  objects nor all at once in memory; blocks of whole lines are parsed and
  converted on both cores and yielded in file order.
* **Nothing lost**: a malformed line (wrong column count) or a field that
  cannot be typed becomes a quarantine row with the raw text, never a crash
  and never a silent drop. Typed parsing is fast but fails a whole block on
  one bad field; when that happens that block alone is re-parsed in *string
  mode* (every column as text, typed with vectorised validation), so clean
  blocks pay nothing for the safety net.
* **Compressed inputs** (``.gz``, ``.zip``, :mod:`.files`) recognised from magic bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from stswatch.pipeline.readers.batch import (
    ReaderBatch,
    ReaderError,
    empty_obs,
    empty_rejects,
    raw_rejects,
)
from stswatch.pipeline.readers.csv_blocks import (
    LineBlocks,
    header_names,
    ordered_map,
    parse_block,
    record_numbers,
)
from stswatch.pipeline.readers.files import (
    compression_of,
    csv_input,
    member_header,
    zip_data_members,
)
from stswatch.pipeline.schemas import QuarantineReason

#: Bytes per CSV block: ~80k MarineCadastre rows. Small enough to keep the
#: reader's memory flat (a few batches in flight), large enough that the
#: fixed cost of the ~100 vectorised calls per batch is negligible.
BLOCK_SIZE_BYTES = 8 << 20

#: Threads parsing and converting blocks (one task = parse + convert of a block).
PARSE_WORKERS = 2

#: Blocks read but not yet handed to the caller: bounds the reader's memory.
BLOCKS_IN_FLIGHT = 4


#: converter(raw typed table, row_numbers, source_file) -> (observations, rejects)
Converter = Callable[[pa.Table, pa.Array, str], tuple[pa.Table, pa.Table]]


@dataclass(frozen=True)
class CsvLayout:
    """How to read one CSV dialect: which columns, read as which Arrow type."""

    source: str
    #: header name -> Arrow type to read it as (only these columns are read)
    column_types: dict[str, pa.DataType]
    #: strptime format of timestamp columns (None = ISO 8601)
    timestamp_format: str | None = None
    null_values: tuple[str, ...] = ("",)


def _present(layout: CsvLayout, header: list[str]) -> dict[str, pa.DataType]:
    return {name: typ for name, typ in layout.column_types.items() if name in header}


def read_csv_batches(path: Path, layout: CsvLayout, convert: Converter) -> Iterator[ReaderBatch]:
    """Stream ``path`` as :class:`ReaderBatch` objects using ``layout``.

    Row numbers are 1-based data-record numbers as pyarrow counts records:
    the header and empty lines are not records, malformed lines are (and
    keep their number in the quarantine). A zip archive with several data
    files is read member by member, each named ``archive.zip!member.csv`` in
    ``source_file`` (so file and row number still identify a record).
    """
    members: list[str | None] = [None]
    if compression_of(path) == "zip":
        found = zip_data_members(path)
        csvs = [m for m in found if m.lower().endswith(".csv")]
        found = csvs or found  # skip READMEs and the like beside the data
        if len(found) > 1:
            members = list(found)
    for member in members:
        yield from _read_member(path, member, layout, convert)


@dataclass(frozen=True)
class _Member:
    """What every block task of one CSV member needs."""

    path: Path
    layout: CsvLayout
    types: dict[str, pa.DataType]
    convert: Converter
    source_file: str
    column_names: list[str]
    typed_options: pacsv.ConvertOptions
    string_options: pacsv.ConvertOptions


def _read_member(
    path: Path, member: str | None, layout: CsvLayout, convert: Converter
) -> Iterator[ReaderBatch]:
    types = _present(layout, member_header(path, member))
    with csv_input(path, member) as stream:
        blocks = LineBlocks(stream, BLOCK_SIZE_BYTES)
        ctx = _Member(
            path=path,
            layout=layout,
            types=types,
            convert=convert,
            source_file=str(path) if member is None else f"{path}!{member}",
            column_names=_column_names(path, layout, blocks.header),
            typed_options=_convert_options(layout, types, as_strings=False),
            string_options=_convert_options(layout, types, as_strings=True),
        )
        _check_header(ctx, blocks.header or b"")
        done = 0  # records in the blocks already yielded

        def read_block(block: pa.Buffer) -> tuple[ReaderBatch, int]:
            try:
                return _read_block(ctx, block)
            finally:
                blocks.recycle(block)

        tasks = ordered_map(
            read_block,
            blocks,
            workers=PARSE_WORKERS,
            in_flight=BLOCKS_IN_FLIGHT,
        )
        with closing(tasks) as results:
            for batch, n_records in results:
                yield _offset_rows(batch, done)
                done += n_records


def _column_names(path: Path, layout: CsvLayout, header: bytes | None) -> list[str]:
    """The header's names as pyarrow's own reader would name the columns."""
    if header is None:
        raise ReaderError(f"{path}: not a readable {layout.source} CSV (Empty CSV file)")
    try:
        return header_names(header)
    except pa.ArrowInvalid as exc:
        raise ReaderError(f"{path}: not a readable {layout.source} CSV ({exc})") from None


def _convert_options(
    layout: CsvLayout, types: dict[str, pa.DataType], *, as_strings: bool
) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types=dict.fromkeys(types, pa.string()) if as_strings else dict(types),
        include_columns=list(types),
        null_values=list(layout.null_values),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        timestamp_parsers=[layout.timestamp_format] if layout.timestamp_format else None,
    )


def _check_header(ctx: _Member, header: bytes) -> None:
    """Fail on a header the layout cannot be read with, even without data rows."""
    buf = pa.py_buffer(header + b"\n")
    read = pacsv.ReadOptions(use_threads=False)
    try:
        pacsv.read_csv(buf, read_options=read, convert_options=ctx.typed_options)
        return
    except pa.ArrowInvalid:
        pass
    try:
        pacsv.read_csv(buf, read_options=read, convert_options=ctx.string_options)
    except pa.ArrowInvalid as exc:
        raise _unreadable(ctx, exc) from None


def _unreadable(ctx: _Member, exc: Exception) -> ReaderError:
    return ReaderError(f"{ctx.path}: not a readable {ctx.layout.source} CSV ({exc})")


def _read_block(ctx: _Member, block: pa.Buffer) -> tuple[ReaderBatch, int]:
    """Parse and convert one block: (batch with block-relative row numbers, records).

    Typed parsing is fast but fails the whole block on one bad field; then
    only this block is re-parsed in string mode, so clean blocks pay nothing
    for the safety net.
    """
    try:
        return _typed_block(ctx, block)
    except pa.ArrowInvalid:
        pass  # a field failed to convert: redo this block in string mode
    try:
        return _string_block(ctx, block)
    except pa.ArrowInvalid as exc:
        raise _unreadable(ctx, exc) from None


def _typed_block(ctx: _Member, block: pa.Buffer) -> tuple[ReaderBatch, int]:
    table, invalid = parse_block(block, ctx.column_names, ctx.typed_options)
    rows, n_records = record_numbers(table.num_rows, invalid)
    bad = _invalid_rejects(invalid, ctx)
    if table.num_rows == 0:
        return ReaderBatch(empty_obs(), bad), n_records
    obs, rej = ctx.convert(table, pa.array(rows), ctx.source_file)
    if bad.num_rows:
        rej = pa.concat_tables([bad, rej])
    return ReaderBatch(obs, rej), n_records


def _string_block(ctx: _Member, block: pa.Buffer) -> tuple[ReaderBatch, int]:
    """Parse with every column as text, typing each value defensively.

    Fields that cannot be typed quarantine their record (``invalid_timestamp``
    or ``parse_error``, with the raw text and the offending field).
    """
    table, invalid = parse_block(block, ctx.column_names, ctx.string_options)
    rows, n_records = record_numbers(table.num_rows, invalid)
    bad = _invalid_rejects(invalid, ctx)
    if table.num_rows == 0:
        return ReaderBatch(empty_obs(), bad), n_records
    layout, types = ctx.layout, ctx.types
    typed_cols = {}
    bad_mask = np.zeros(table.num_rows, dtype=bool)
    detail = np.full(table.num_rows, None, dtype=object)
    ts_bad = np.zeros(table.num_rows, dtype=bool)
    for name, typ in types.items():
        col = table.column(name).combine_chunks()
        parsed, col_bad = parse_strings(col, typ, layout.timestamp_format)
        typed_cols[name] = parsed
        new = col_bad & ~bad_mask
        if new.any():
            texts = col.to_numpy(zero_copy_only=False)
            detail[new] = [f"{name}={t!r}" for t in texts[new]]
            if pa.types.is_timestamp(typ):
                ts_bad |= new
        bad_mask |= col_bad
    typed = pa.table(typed_cols)
    rejects = [bad]
    if bad_mask.any():
        sel = np.flatnonzero(bad_mask)
        raw_cols = [pc.fill_null(table.column(n).combine_chunks().take(sel), "") for n in types]
        raws = pc.binary_join_element_wise(*raw_cols, ",")
        for reason, mask in (
            (QuarantineReason.INVALID_TIMESTAMP, ts_bad),
            (QuarantineReason.PARSE_ERROR, bad_mask & ~ts_bad),
        ):
            if not mask[sel].any():
                continue
            pick = mask[sel]
            rejects.append(
                raw_rejects(
                    reason,
                    list(detail[sel][pick]),
                    raws.filter(pa.array(pick)).to_pylist(),
                    rows[sel][pick].tolist(),
                    source=layout.source,
                    source_file=ctx.source_file,
                )
            )
        typed = typed.filter(pa.array(~bad_mask))
        rows = rows[~bad_mask]
    obs, rej = ctx.convert(typed, pa.array(rows), ctx.source_file)
    rejects.append(rej)
    return ReaderBatch(obs, pa.concat_tables(rejects)), n_records


def _invalid_rejects(invalid: list[pacsv.InvalidRow], ctx: _Member) -> pa.Table:
    """Malformed lines (wrong column count) as parse_error rows with their raw text."""
    if not invalid:
        return empty_rejects()
    return raw_rejects(
        QuarantineReason.PARSE_ERROR,
        [f"expected {r.expected_columns} columns, got {r.actual_columns}" for r in invalid],
        [r.text for r in invalid],
        [r.number for r in invalid],  # record number within the block
        source=ctx.layout.source,
        source_file=ctx.source_file,
    )


def _offset_rows(batch: ReaderBatch, offset: int) -> ReaderBatch:
    """Block-relative row numbers -> file row numbers (``offset`` records before)."""
    if not offset:
        return batch
    return ReaderBatch(
        _add_to_rows(batch.observations, offset), _add_to_rows(batch.rejects, offset)
    )


def _add_to_rows(table: pa.Table, offset: int) -> pa.Table:
    if not table.num_rows:
        return table
    i = table.schema.get_field_index("row_number")
    shifted = pc.add(table.column(i), pa.scalar(offset, pa.int64()))
    return table.set_column(i, table.schema.field(i), shifted)


# --------------------------------------------------------------- vectorised typing
_FLOAT_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_ISO_RE = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]00:?00)?\s*$"


def parse_strings(
    values: pa.Array, typ: pa.DataType, timestamp_format: str | None = None
) -> tuple[pa.Array, np.ndarray]:
    """Type a string column without raising: (typed array, bad-value mask).

    Null/blank input is a null output and *not* bad; a non-blank value that
    does not parse is null in the output and True in the mask.
    """
    values = pc.utf8_trim_whitespace(values)
    blank = pc.fill_null(pc.equal(values, ""), True)
    values = pc.if_else(blank, pa.scalar(None, pa.string()), values)
    if pa.types.is_string(typ):
        return values, np.zeros(len(values), dtype=bool)
    if pa.types.is_timestamp(typ):
        if timestamp_format is not None:
            parsed = pc.strptime(values, format=timestamp_format, unit="ms", error_is_null=True)
            ok = pc.is_valid(parsed)
        else:
            ok = pc.fill_null(pc.match_substring_regex(values, _ISO_RE), False)
            cleaned = pc.replace_substring_regex(
                pc.if_else(ok, values, pa.scalar(None, pa.string())), r"(Z|[+-]00:?00)\s*$", ""
            )
            try:
                parsed = pc.cast(cleaned, pa.timestamp("ms"))
            except pa.ArrowInvalid:  # e.g. month 13: fall back to value by value
                parsed = pa.array([_try_iso(v) for v in cleaned.to_pylist()], pa.timestamp("ms"))
                ok = pc.is_valid(parsed)
        parsed = parsed.cast(pa.timestamp("ms"))
    else:
        ok = pc.fill_null(pc.match_substring_regex(values, _FLOAT_RE), False)
        parsed = pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.float64())
        if not pa.types.is_floating(typ):
            parsed = parsed.cast(typ, safe=False)
    bad = ~np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool) & ~np.asarray(
        pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool
    )
    return parsed, bad


def _try_iso(value: str | None) -> object:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
