"""Builders shared by the ingest, cleaning, reader and storage tests.

Tiny hand-built inputs: a MarineCadastre CSV writer, an observation-table
builder with sensible defaults, and a store digest for byte-identity checks.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from stswatch.pipeline.schemas import OBSERVATION_SCHEMA

MC_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,"
    "VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass"
)
#: A valid ship MMSI (Liberia) and a second one (Panama).
SHIP_A = 636092733
SHIP_B = 351234567


def shared_data_dir() -> Path:
    env = os.environ.get("STSWATCH_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def mc_row(
    mmsi: int = SHIP_A,
    time: str = "2022-01-03T10:00:00",
    lat: float | str = 10.0,
    lon: float | str = 20.0,
    sog: float | str = 5.0,
    cog: float | str = 90.0,
    heading: float | str = 511,
    name: str = "TEST SHIP",
    imo: str = "IMO9192612",
    callsign: str = "ABCD",
    vessel_type: str = "70",
    status: str = "0",
    length: str = "100",
    width: str = "20",
    draft: str = "5.5",
    cls: str = "A",
) -> str:
    """One MarineCadastre CSV line; every field overridable."""
    return (
        f"{mmsi},{time},{lat},{lon},{sog},{cog},{heading},{name},{imo},{callsign},"
        f"{vessel_type},{status},{length},{width},{draft},,{cls}"
    )


def write_mc_csv(path: Path, rows: list[str], header: str = MC_HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def obs_table(rows: list[dict[str, Any]]) -> pa.Table:
    """OBSERVATION_SCHEMA table; unspecified fields get defaults for a valid ping."""
    defaults: dict[str, Any] = {
        "mmsi": SHIP_A,
        "timestamp": datetime(2022, 1, 3, 10, 0, tzinfo=UTC),
        "lat": 10.0,
        "lon": 20.0,
        "sog_kn": 5.0,
        "cog_deg": 90.0,
        "heading_deg": None,
        "nav_status": 0,
        "transceiver_class": "A",
        "vessel_name": None,
        "imo": None,
        "callsign": None,
        "ship_type": None,
        "length_m": None,
        "width_m": None,
        "draught_m": None,
        "has_position": True,
        "source": "simulated",
        "source_file": "hand-built",
    }
    full = []
    for i, row in enumerate(rows, start=1):
        r = {**defaults, "row_number": i, **row}
        full.append(r)
    return pa.Table.from_pylist(full, schema=OBSERVATION_SCHEMA)


def store_digest(root: Path, *, data_only: bool = False) -> str:
    """Hash of every file's relative path and bytes under ``root``.

    ``data_only``: the table files only, not the store's bookkeeping
    (``_stswatch/``: manifests record when each input was ingested, so two
    stores built at different times differ there, never in their data).
    """
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        if data_only and "_stswatch" in p.relative_to(root).parts:
            continue
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()
