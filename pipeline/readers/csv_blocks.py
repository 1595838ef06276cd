"""Block-parallel CSV parsing: whole-line blocks, parsed on a few threads, in file order.

Why not ``pyarrow.csv.open_csv``: the streaming reader parses one block at a
time on one thread, which caps a 10-million-row day at one core. Reading the
whole file with ``read_csv(use_threads=True)`` would use every core but hold
the entire day in memory. Here the byte stream is cut into blocks that end at
a line end, and each block is parsed with its own ``read_csv`` call on a
small thread pool (pyarrow parses and converts without the GIL); results come
back in file order with a bounded number of blocks in flight.

Cutting at line ends is exact because the readers parse with
``newlines_in_values=False``: pyarrow ends a record at every ``\\n`` or
``\\r`` outside quotes. (A quoted value spanning lines is only kept whole
when its lines fall in one block; the streaming reader had the same limit and
failed with "parser got out of sync with chunker" otherwise.)
A ``\\r\\n`` split between two blocks is harmless: the lone ``\\n`` opening the
next block is an empty line, which pyarrow skips.

Record numbers: pyarrow skips empty lines and numbers the remaining records
of a buffer from 1 (malformed lines included, reported through
``InvalidRow.number``). A block's records are numbered from 1 by its worker;
the caller adds the number of records of the blocks before it.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

_T = TypeVar("_T")
_R = TypeVar("_R")

_BOM = b"\xef\xbb\xbf"
_LF, _CR = 10, 13
#: Bytes searched at a time for a line end (lines are ~100-200 bytes).
_SCAN = 1 << 16


class LineBlocks:
    """A CSV byte stream as its header line plus blocks of whole lines.

    ``header`` is the first non-empty line (BOM and line end removed), or
    None for a stream without any. Iterating yields the data after it as
    :class:`pyarrow.Buffer` blocks of about ``block_size`` bytes, each ending
    right after a line end (the last block may lack one). Each block owns its
    memory, so blocks can be parsed on other threads while reading goes on.
    """

    def __init__(self, stream: pa.NativeFile | IO[bytes], block_size: int) -> None:
        self._stream = stream
        self._block_size = max(int(block_size), 1)
        self._carry = b""  # start of a line whose end is not read yet
        self._eof = False
        #: arrays of blocks handed back by :meth:`recycle`, and of blocks out
        self._free: deque[np.ndarray] = deque()
        self._out: dict[int, np.ndarray] = {}
        self.header = self._read_header()

    def recycle(self, block: pa.Buffer) -> None:
        """Hand back a block this iterator yielded once nothing uses it any more.

        Its memory is then reused for a later block. Why: a fresh 8 MiB
        array per block costs ~2,000 page faults (and pages zeroed by the
        kernel) when first written: ~250k faults at 1e7 rows, on a
        high-fault day a quarter of them all. Parsed tables do not point into the
        block (pyarrow copies values into the columns it builds), so a
        block can be recycled as soon as its parse is done. Thread-safe.
        """
        array = self._out.pop(block.address, None)
        if array is not None:
            self._free.append(array)

    def _new_block(self, size: int) -> np.ndarray:
        while self._free:
            array = self._free.pop()
            if len(array) >= size:
                return array[:size]
        # room for a typical carried line start, so the array can be reused
        return np.empty(size + _SCAN, dtype=np.uint8)[:size]

    def _read_header(self) -> bytes | None:
        text = b""
        start = 0  # where the header may begin in ``text``
        while True:
            more = self._read_bytes()
            if more is None:
                break
            text += more
            if len(text) == len(more) and text.startswith(_BOM):
                text = text[len(_BOM) :]  # pyarrow drops a UTF-8 BOM
            while start < len(text) and text[start] in (_LF, _CR):
                start += 1  # pyarrow skips empty lines before the header too
            ends = [i for i in (text.find(b"\n", start), text.find(b"\r", start)) if i >= 0]
            if ends:
                end = min(ends)
                self._carry = text[end:]  # the line end is an empty line to pyarrow
                return text[start:end]
        self._carry = b""
        return text[start:] or None

    def _read_bytes(self) -> bytes | None:
        if self._eof:
            return None
        data = self._stream.read(min(_SCAN, self._block_size))
        if not data:
            self._eof = True
            return None
        return bytes(data)

    def __iter__(self) -> Iterator[pa.Buffer]:
        while True:
            carry = self._carry
            head = len(carry)
            block = self._new_block(head + self._block_size)
            block[:head] = np.frombuffer(carry, dtype=np.uint8)
            end = head if self._eof else _fill(self._stream, block, head)
            if end == head:  # end of stream
                self._eof = True
                self._carry = b""
                if carry:
                    yield pa.py_buffer(carry)
                return
            cut = _after_last_line_end(block, 0, end)
            if cut < 0:  # a line longer than the block: read on
                self._carry = block[:end].tobytes()
                continue
            self._carry = block[cut:end].tobytes()
            out = pa.py_buffer(block).slice(0, cut)
            self._out[out.address] = block.base if block.base is not None else block
            yield out


def _fill(stream: pa.NativeFile | IO[bytes], block: np.ndarray, start: int) -> int:
    """Read into ``block[start:]`` until it is full or the stream ends; the end offset."""
    view = memoryview(block)
    pos = start
    while pos < len(block):
        n = stream.readinto(view[pos:])
        if not n:
            break
        pos += n
    return pos


def _after_last_line_end(block: np.ndarray, lo: int, hi: int) -> int:
    """Index just after the last ``\\n``/``\\r`` in ``block[lo:hi]``, or -1."""
    top = hi
    while top > lo:
        bottom = max(lo, top - _SCAN)
        window = block[bottom:top]
        hits = np.flatnonzero((window == _LF) | (window == _CR))
        if len(hits):
            return bottom + int(hits[-1]) + 1
        top = bottom
    return -1


def header_names(header: bytes) -> list[str]:
    """Column names of a CSV header line, as pyarrow's own reader names them."""
    table = pacsv.read_csv(
        pa.py_buffer(header + b"\n"), read_options=pacsv.ReadOptions(use_threads=False)
    )
    return table.column_names


def _quiet_undecodable_invalid_rows(unraisable: Any) -> None:
    """``sys.unraisablehook`` that drops one known, handled message.

    pyarrow decodes a malformed line to UTF-8 before it calls the
    invalid-row handler of :func:`parse_block`; when the line holds other
    bytes, the decoding fails inside pyarrow, which prints the error as
    "Exception ignored" and fails the parse. The caller handles that parse
    failure (``csv_values.mend_utf8``), so the message is noise on a user's
    terminal. Everything else goes to the previous hook.
    """
    handler = getattr(unraisable.object, "__qualname__", "")
    if isinstance(unraisable.exc_value, UnicodeDecodeError) and handler.startswith(
        "parse_block.<locals>.collect"
    ):
        return
    _PREVIOUS_HOOK(unraisable)


_PREVIOUS_HOOK = sys.unraisablehook
sys.unraisablehook = _quiet_undecodable_invalid_rows


def parse_block(
    block: pa.Buffer,
    column_names: list[str],
    convert_options: pacsv.ConvertOptions,
) -> tuple[pa.Table, list[pacsv.InvalidRow]]:
    """Parse one block of whole lines (no header) serially: (table, malformed lines).

    Malformed lines (wrong column count) are skipped and returned; their
    ``number`` is the 1-based record number within the block.
    """
    invalid: list[pacsv.InvalidRow] = []

    def collect(row: pacsv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    table = pacsv.read_csv(
        block,
        read_options=pacsv.ReadOptions(
            column_names=column_names,
            # one parser block for the whole buffer; serial parsing is what
            # numbers malformed lines
            use_threads=False,
            block_size=min(max(block.size, 1) + 1, 2**31 - 1),
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=collect),
        convert_options=convert_options,
    )
    return table, invalid


def record_numbers(n_rows: int, invalid: list[pacsv.InvalidRow]) -> tuple[np.ndarray, int]:
    """1-based record numbers (within the block) of the ``n_rows`` parsed rows.

    Parsed rows take, in order, the numbers not used by malformed lines.
    Returns (numbers, records in the block including malformed lines).
    """
    known = np.array([r.number for r in invalid if r.number is not None], dtype=np.int64)
    total = n_rows + len(known)
    if not len(known):
        return np.arange(1, n_rows + 1, dtype=np.int64), total
    free = np.ones(total, dtype=bool)
    free[known - 1] = False
    return np.flatnonzero(free).astype(np.int64) + 1, total


def ordered_map(
    func: Callable[[_T], _R], items: Iterable[_T], *, workers: int, in_flight: int
) -> Iterator[_R]:
    """``func`` over ``items`` on ``workers`` threads; results in input order.

    At most ``in_flight`` items are submitted and not yet handed back, which
    bounds memory; items are pulled from ``items`` (the file is read) in the
    caller's thread. Closing the iterator early cancels what has not started.
    """
    in_flight = max(in_flight, 1)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="csv")
    pending: deque[Future[_R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
