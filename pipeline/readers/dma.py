"""Danish Maritime Authority ``aisdk-YYYY-MM-DD.csv`` / ``.zip``.

26 columns starting ``# Timestamp,Type of mobile,MMSI,...``; times are
``dd/mm/YYYY HH:MM:SS`` UTC; status, class and ship type are *text*
("Under way using engine", "Class A", "Cargo"), mapped here to ITU codes.
IMO is ``Unknown`` when not available.

Rows whose "Type of mobile" is a base station, aid to navigation or SAR
aircraft are quarantined as ``non_vessel_mmsi`` by the reader itself: DMA
already knows what the station is, even when its MMSI looks like a ship's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stswatch.pipeline.readers.batch import ReaderBatch
from stswatch.pipeline.readers.common import (
    CsvLayout,
    csv_observations,
    empty_rejects,
    float_array,
    imo_from_text,
    map_text,
    position_columns,
    read_csv_batches,
    rejects_from_observations,
    text_column,
    to_float,
)
from stswatch.pipeline.schemas import QuarantineReason, Source

TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
HEADER_START = "# Timestamp"

COLUMN_TYPES: dict[str, pa.DataType] = {
    "# Timestamp": pa.timestamp("ms"),
    "Type of mobile": pa.string(),
    "MMSI": pa.float64(),
    "Latitude": pa.float64(),
    "Longitude": pa.float64(),
    "Navigational status": pa.string(),
    "SOG": pa.float64(),
    "COG": pa.float64(),
    "Heading": pa.float64(),
    "IMO": pa.string(),
    "Callsign": pa.string(),
    "Name": pa.string(),
    "Ship type": pa.string(),
    "Cargo type": pa.string(),
    "Width": pa.float64(),
    "Length": pa.float64(),
    "Draught": pa.float64(),
}

#: ITU-R M.1371 navigational status, as DMA spells it (both spellings of
#: manoeuvrability seen in the wild).
NAV_STATUS: dict[str, int] = {
    "Under way using engine": 0,
    "At anchor": 1,
    "Not under command": 2,
    "Restricted maneuverability": 3,
    "Restricted manoeuverability": 3,
    "Restricted manoeuvrability": 3,
    "Constrained by her draught": 4,
    "Moored": 5,
    "Aground": 6,
    "Engaged in fishing": 7,
    "Under way sailing": 8,
    "Reserved for future amendment [HSC]": 9,
    "Reserved for future amendment [WIG]": 10,
    "Power-driven vessel towing astern": 11,
    "Power-driven vessel pushing ahead or towing alongside": 12,
    "Reserved for future use": 13,
    "AIS-SART": 14,
    "Unknown value": 15,
}

#: DMA ship type text -> ITU first code of the category (second digit refined
#: by "Cargo type" for cargo/tanker/HSC/passenger, where ITU defines it).
SHIP_TYPE: dict[str, int] = {
    "WIG": 20,
    "Fishing": 30,
    "Towing": 31,
    "Towing long/wide": 32,
    "Dredging": 33,
    "Diving": 34,
    "Military": 35,
    "Sailing": 36,
    "Pleasure": 37,
    "HSC": 40,
    "Pilot": 50,
    "SAR": 51,
    "Tug": 52,
    "Port tender": 53,
    "Anti-pollution": 54,
    "Law enforcement": 55,
    "Spare 1": 56,
    "Spare 2": 57,
    "Medical": 58,
    "Not party to conflict": 59,
    "Passenger": 60,
    "Cargo": 70,
    "Tanker": 80,
    "Other": 90,
}
#: Hazard category (MARPOL) -> ITU second digit, for types 20/40/60/70/80/90.
CARGO_DIGIT: dict[str, int] = {
    "Category X": 1,
    "Category Y": 2,
    "Category Z": 3,
    "Category OS": 4,
}
_CATEGORY_TYPES = np.array([20, 40, 60, 70, 80, 90])

CLASS: dict[str, str] = {"Class A": "A", "Class B": "B"}
NON_VESSEL_MOBILE = ("Base Station", "AtoN", "SAR Airborne")


def looks_like(header: list[str]) -> bool:
    return bool(header) and header[0].strip() == HEADER_START and "MMSI" in header


#: DMA column of each canonical name that position_columns reads.
_COLUMN = {
    "mmsi": "MMSI",
    "timestamp": "# Timestamp",
    "lat": "Latitude",
    "lon": "Longitude",
    "sog": "SOG",
    "cog": "COG",
    "heading": "Heading",
    "length": "Length",
    "width": "Width",
    "draught": "Draught",
}


def _convert(raw: pa.Table, rows: pa.Array, source_file: str) -> tuple[pa.Table, pa.Table]:
    n = raw.num_rows
    col = raw.column
    out = position_columns(
        lambda canon: col(_COLUMN[canon]) if _COLUMN[canon] in raw.column_names else None
    )
    out["nav_status"] = map_text(col("Navigational status"), NAV_STATUS, pa.int8())
    mobile = text_column(col("Type of mobile"))
    out["transceiver_class"] = pc.take(
        pa.array(list(CLASS.values()), pa.string()),
        pc.index_in(mobile, value_set=pa.array(list(CLASS))),
    )
    out["vessel_name"] = text_column(col("Name"))
    out["callsign"] = text_column(col("Callsign"))
    out["imo"] = imo_from_text(col("IMO"))
    ship = to_float(map_text(col("Ship type"), SHIP_TYPE, pa.int16()))
    if "Cargo type" in raw.column_names:
        digit = to_float(map_text(col("Cargo type"), CARGO_DIGIT, pa.int8()))
        refine = np.isin(ship, _CATEGORY_TYPES) & ~np.isnan(digit)
        ship = np.where(refine, ship + np.nan_to_num(digit), ship)
    out["ship_type"] = float_array(ship, pa.int16())
    obs = csv_observations(out, n, Source.DMA.value, source_file, rows)

    non_vessel = pc.fill_null(pc.is_in(mobile, value_set=pa.array(NON_VESSEL_MOBILE)), False)
    if not pc.any(non_vessel).as_py():
        return obs, empty_rejects()
    rej = obs.filter(non_vessel)
    details = pc.binary_join_element_wise("type of mobile: ", mobile.filter(non_vessel), "")
    rejects = rejects_from_observations(rej, QuarantineReason.NON_VESSEL_MMSI.value, details)
    return obs.filter(pc.invert(non_vessel)), rejects


def read_dma(path: Path) -> Iterator[ReaderBatch]:
    """Stream a DMA aisdk CSV (plain, .gz or .zip) as reader batches."""
    path = Path(path)
    from stswatch.pipeline.readers.common import header_fields

    header = header_fields(path)
    layout = CsvLayout(
        source=Source.DMA.value,
        column_types={k: v for k, v in COLUMN_TYPES.items() if k in header},
        timestamp_format=TIME_FORMAT,
    )
    return read_csv_batches(path, layout, _convert)
