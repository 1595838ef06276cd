"""Readers: one module per AIS format, each yielding :class:`ReaderBatch` objects.

:func:`read_any` picks the reader from the file's *content* (header line or
NMEA sentence shape), never from its name alone, and accepts ``.gz``/``.zip``
(detected from magic bytes). Unknown content raises :class:`ReaderError`
with a message naming the file and the formats that were expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.common import ReaderError, read_head

__all__ = ["FORMATS", "ReaderBatch", "ReaderError", "read_any", "sniff_format"]

#: What :func:`sniff_format` can return.
FORMATS = ("marinecadastre", "dma", "stonesoup", "gfw", "nmea")

EXPECTED = (
    "expected a MarineCadastre CSV (MMSI,BaseDateTime,LAT,LON,...), a DMA aisdk CSV "
    "('# Timestamp,Type of mobile,MMSI,...'), a Stone Soup AIS CSV "
    "(Time,MMSI,Latitude_degrees,...), a Global Fishing Watch position CSV "
    "(ssvid|mmsi,timestamp,lat,lon,...) or an NMEA 0183 AIS log (!AIVDM...), "
    "optionally .gz or .zip"
)

# An AIS sentence anywhere on a line: optional tag block / prefix, then !xxVDM/VDO.
_NMEA_RE = re.compile(rb"[!$][A-Z]{2}VD[MO],")


def sniff_format(path: Path) -> str:
    """Name the format of ``path`` from its content; raise ReaderError if unknown."""
    from stswatch.pipeline.readers import dma, gfw, marinecadastre, stonesoup

    path = Path(path)
    if not path.exists():
        raise ReaderError(f"{path}: no such file")
    if path.is_dir():
        raise ReaderError(f"{path}: is a directory, {EXPECTED}")
    head = read_head(path)
    if not head.strip():
        raise ReaderError(f"{path}: file is empty; {EXPECTED}")
    if _NMEA_RE.search(head):
        return "nmea"
    line = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    header = [f.strip().strip('"').strip() for f in line.lstrip("\ufeff").split(",")]
    if dma.looks_like(header):
        return "dma"
    if stonesoup.looks_like(header):
        return "stonesoup"
    if gfw.looks_like(header):  # before MarineCadastre, whose names match case-insensitively
        return "gfw"
    if marinecadastre.looks_like(header):
        return "marinecadastre"
    raise ReaderError(f"{path}: unrecognised content (first line {line[:80]!r}); {EXPECTED}")


def read_any(path: Path, *, default_time: datetime | None = None) -> Iterator[ReaderBatch]:
    """Stream any supported AIS file as :class:`ReaderBatch` objects.

    ``default_time`` is only used by the NMEA reader (logs without any
    timestamp); CSV formats always carry their own times.
    """
    path = Path(path)
    fmt = sniff_format(path)
    if fmt == "nmea":
        from stswatch.pipeline.readers.nmea import read_nmea  # written separately; lazy on purpose

        return read_nmea(path, default_time=default_time)
    if fmt == "dma":
        from stswatch.pipeline.readers.dma import read_dma

        return read_dma(path)
    if fmt == "stonesoup":
        from stswatch.pipeline.readers.stonesoup import read_stonesoup

        return read_stonesoup(path)
    if fmt == "gfw":
        from stswatch.pipeline.readers.gfw import read_gfw

        return read_gfw(path)
    from stswatch.pipeline.readers.marinecadastre import read_marinecadastre

    return read_marinecadastre(path)
