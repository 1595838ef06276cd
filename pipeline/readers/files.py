"""Opening input files: compression recognised from magic bytes, zip members, headers.

Inputs come as plain text, ``.gz`` or ``.zip`` (a daily archive with one CSV,
or a DMA monthly archive with one CSV per day), whatever their names say, so
the format is judged from the first bytes. Sniffing reads only the head of
the (decompressed) content.

Every decompressed stream a reader consumes goes through
:class:`LimitedStream`: it refuses an input that expands beyond
:class:`InputLimits` (a 509 KB zip of 200 MB of empty rows, a gzip of
millions of blank lines) and turns a damaged archive (bad CRC, truncated
gzip) into one :class:`ReaderError` naming the file.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from stswatch.pipeline.readers.batch import ReaderError

#: What reading a damaged compressed input may raise, from zipfile, gzip, zlib or Arrow.
ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, pa.ArrowException)


class InputTooLargeError(ReaderError):
    """An input expands beyond the configured limits (one line naming the file)."""


@dataclass(frozen=True)
class InputLimits:
    """Caps on what one input may decompress to (see ``InputLimitsConfig``)."""

    max_bytes: int
    max_expansion_ratio: float
    min_bytes_for_ratio: int

    @classmethod
    def of(cls, cfg: Any) -> InputLimits:
        """From an ``InputLimitsConfig``."""
        return cls(cfg.max_bytes_per_input, cfg.max_expansion_ratio, cfg.min_bytes_for_ratio)


class LimitedStream:
    """A decompressed byte stream that counts what it hands out and enforces limits.

    ``compressed_bytes`` is the size on disk; for an uncompressed file the
    ratio is 1 and only ``max_bytes`` applies.
    """

    def __init__(
        self, raw: Any, path: Path, compressed_bytes: int, limits: InputLimits | None
    ) -> None:
        self._raw = raw
        self._path = path
        self._compressed = max(compressed_bytes, 1)
        self._limits = limits
        self.bytes_read = 0

    def _count(self, n: int) -> None:
        self.bytes_read += n
        limits = self._limits
        if limits is None:
            return
        if self.bytes_read > limits.max_bytes:
            raise InputTooLargeError(
                f"{self._path}: expands to more than {limits.max_bytes:,} bytes; refused "
                "(raise InputLimitsConfig.max_bytes_per_input if the file is genuine)"
            )
        ratio = self.bytes_read / self._compressed
        if self.bytes_read >= limits.min_bytes_for_ratio and ratio > limits.max_expansion_ratio:
            raise InputTooLargeError(
                f"{self._path}: expands more than {limits.max_expansion_ratio:g}x "
                f"({self.bytes_read:,} bytes from {self._compressed:,} so far): empty rows "
                "or a decompression bomb; refused (raise "
                "InputLimitsConfig.max_expansion_ratio if the file is genuine)"
            )

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n)
        except ARCHIVE_ERRORS as exc:
            raise ReaderError(f"{self._path}: damaged or unreadable ({exc})") from None
        self._count(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        try:
            n = self._raw.readinto(buffer)
        except ARCHIVE_ERRORS as exc:
            raise ReaderError(f"{self._path}: damaged or unreadable ({exc})") from None
        self._count(n or 0)
        return n

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> LimitedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"zip"`` or None, judged from the first bytes, not the name."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(GZIP_MAGIC):
        return "gzip"
    if magic.startswith(ZIP_MAGIC):
        return "zip"
    return None


def _zip_member(zf: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    members = [
        m
        for m in zf.infolist()
        if not m.is_dir() and not Path(m.filename).name.startswith((".", "__MACOSX"))
    ]
    if not members:
        raise ReaderError(f"{path}: zip archive is empty")
    # A daily archive holds one data file; prefer .csv/.nmea-like text members.
    members.sort(key=lambda m: (not m.filename.lower().endswith((".csv", ".txt")), m.filename))
    return members[0]


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading, transparently decompressing gzip or zip."""
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "zip":
        zf = zipfile.ZipFile(path)
        return zf.open(_zip_member(zf, path))
    return path.open("rb")


def read_head(path: Path, n_bytes: int = 64 * 1024) -> bytes:
    """The first bytes of the (decompressed) content, for format sniffing."""
    try:
        with open_binary(path) as fh:
            return fh.read(n_bytes)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ReaderError(f"{path}: cannot read ({exc})") from exc


def first_line(path: Path) -> str:
    """The content's first line as text (BOM removed, undecodable bytes replaced)."""
    head = read_head(path)
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    return line.decode("utf-8", errors="replace").lstrip("\ufeff")


def header_fields(path: Path) -> list[str]:
    """The CSV header's field names (quotes stripped, BOM removed)."""
    return [f.strip().strip('"').strip() for f in first_line(path).split(",")]


def zip_data_members(path: Path) -> list[str]:
    """Data files inside a zip archive, in name order (a DMA monthly archive
    holds one CSV per day; a daily archive holds one)."""
    with zipfile.ZipFile(path) as zf:
        names = [
            m.filename
            for m in zf.infolist()
            if not m.is_dir() and not Path(m.filename).name.startswith((".", "__MACOSX"))
        ]
    return sorted(names)


def csv_input(
    path: Path, member: str | None = None, limits: InputLimits | None = None
) -> LimitedStream:
    """A byte stream of a CSV's content for the block reader, within ``limits``.

    Plain and gzip files go through Arrow's own streams (decompression
    without the GIL); a zip member through :mod:`zipfile`.
    """
    kind = compression_of(path)
    size = path.stat().st_size
    if kind == "gzip":
        raw: Any = pa.input_stream(str(path), compression="gzip")
    elif kind == "zip":
        if member is None:
            raw = open_binary(path)
        else:
            zf = zipfile.ZipFile(path)
            info = zf.getinfo(member)
            raw, size = zf.open(member), info.compress_size
    else:
        raw = pa.input_stream(str(path))
    return LimitedStream(raw, path, size, limits)


def limited_binary(path: Path, limits: InputLimits | None) -> LimitedStream:
    """:func:`open_binary` within ``limits`` (damaged archives: ReaderError)."""
    try:
        raw = open_binary(path)
    except ARCHIVE_ERRORS as exc:
        raise ReaderError(f"{path}: damaged or unreadable ({exc})") from None
    return LimitedStream(raw, path, path.stat().st_size, limits)


def member_header(path: Path, member: str | None) -> list[str]:
    """The header's field names of ``path``, or of its zip member ``member``."""
    if member is None:
        return header_fields(path)
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        line = fh.readline().rstrip(b"\r\n").decode("utf-8", errors="replace").lstrip("\ufeff")
    return [f.strip().strip('"').strip() for f in line.split(",")]
