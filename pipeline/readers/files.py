"""Opening input files: compression recognised from magic bytes, zip members, headers.

Inputs come as plain text, ``.gz`` or ``.zip`` (a daily archive with one CSV,
or a DMA monthly archive with one CSV per day), whatever their names say, so
the format is judged from the first bytes. Sniffing reads only the head of
the (decompressed) content.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path
from typing import IO

import pyarrow as pa

from stswatch.pipeline.readers.batch import ReaderError

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


def csv_input(path: Path, member: str | None = None) -> pa.NativeFile | IO[bytes]:
    """A byte stream of a CSV's content for the block reader.

    Plain and gzip files go through Arrow's own streams (decompression
    without the GIL); a zip member through :mod:`zipfile`.
    """
    kind = compression_of(path)
    if kind == "gzip":
        return pa.input_stream(str(path), compression="gzip")
    if kind == "zip":
        if member is None:
            return open_binary(path)
        return zipfile.ZipFile(path).open(member)
    return pa.input_stream(str(path))


def member_header(path: Path, member: str | None) -> list[str]:
    """The header's field names of ``path``, or of its zip member ``member``."""
    if member is None:
        return header_fields(path)
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        line = fh.readline().rstrip(b"\r\n").decode("utf-8", errors="replace").lstrip("\ufeff")
    return [f.strip().strip('"').strip() for f in line.split(",")]
