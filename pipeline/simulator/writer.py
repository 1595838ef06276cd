"""Write simulated data as MarineCadastre daily CSV files plus the truth files.

The layout is NOAA MarineCadastre's exactly (17 columns, ``BaseDateTime``
``2022-01-03T00:00:00``, ``IMO1234567``, Heading 511 when unknown, blanks for
missing values, fixed decimals), so the simulator exercises the same reader
as real downloads. Formatting is vectorised in Arrow compute kernels (no
Python loop per row) and each file is written aside and renamed, so a crash
never leaves a half-written day behind. Zip archives get fixed timestamps so
that the same seed gives the same bytes.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from stswatch.pipeline.simulator.engine import SimulatedData

#: The exact MarineCadastre header (2015+ daily files).
MARINECADASTRE_COLUMNS = (
    "MMSI",
    "BaseDateTime",
    "LAT",
    "LON",
    "SOG",
    "COG",
    "Heading",
    "VesselName",
    "IMO",
    "CallSign",
    "VesselType",
    "Status",
    "Length",
    "Width",
    "Draft",
    "Cargo",
    "TransceiverClass",
)
HEADER = ",".join(MARINECADASTRE_COLUMNS) + "\n"


#: Rows formatted per chunk: bounds memory (~100 MB of scratch per chunk).
CHUNK_ROWS = 500_000

# A CSV line is assembled in a (rows x width) byte matrix: every field is a
# row of a small table of NUL-padded byte strings, copied in by fancy indexing;
# the NUL padding is then squeezed out in one boolean compress. No Python loop
# per row and no per-row string objects: ~1 s per million rows on one core.


def _table(strings: list[str]) -> np.ndarray:
    """NUL-padded fixed-width byte table (numpy 'S' dtype pads with NUL)."""
    return np.array([x.encode() for x in strings], dtype=np.bytes_)


@cache
def _whole_table(max_whole: int) -> np.ndarray:
    """ "0".."max_whole", then "-0".."-max_whole" (-0.5 needs its sign), then ""."""
    pos = [str(i) for i in range(max_whole + 1)]
    return _table([*pos, *("-" + p for p in pos), ""])


@cache
def _frac_table(decimals: int) -> np.ndarray:
    return _table([f".{i:0{decimals}d}" for i in range(10**decimals)] + [""])


def _fixed(values: np.ndarray, decimals: int, max_whole: int = 1_000):
    """Fixed-decimal fields ("30.37060", "-0.5", "" for NaN) as (table, codes) pairs."""
    x = np.asarray(values, dtype=np.float64)
    missing = np.isnan(x)
    scale = 10**decimals
    n = np.rint(np.abs(np.where(missing, 0.0, x)) * scale).astype(np.int64)
    whole = n // scale
    if (whole > max_whole).any():
        raise ValueError(f"value too large to format: {np.nanmax(np.abs(x))}")
    neg = (x < 0) & (n > 0)
    key = np.where(missing, 2 * (max_whole + 1), whole + neg * (max_whole + 1))
    parts = [(_whole_table(max_whole), key)]
    if decimals:
        parts.append((_frac_table(decimals), np.where(missing, scale, n % scale)))
    return parts


def _factorized(values, fmt=str):
    """Any column as a (table, codes) pair, "" for missing."""
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    table = _table([*(fmt(u) for u in uniques), ""])
    return [(table, np.where(codes < 0, len(uniques), codes))]


@cache
def _clock_table(t0: np.datetime64) -> np.ndarray:
    """BaseDateTime strings for every second of a day (and a spill-over day)."""
    stamps = t0 + np.arange(2 * 86_400).astype("timedelta64[s]")
    return np.datetime_as_string(stamps, unit="s").astype(np.bytes_)


def _lines(fields: list[list[tuple[np.ndarray, np.ndarray]]], n: int) -> bytes:
    """Assemble ``n`` CSV lines from per-field (table, codes) parts."""
    width = sum(t.dtype.itemsize for f in fields for t, _ in f) + len(fields)
    buf = np.zeros((n, width), dtype=np.uint8)
    off = 0
    for i, parts in enumerate(fields):
        for table, codes in parts:
            w = table.dtype.itemsize
            buf[:, off : off + w] = table.view(np.uint8).reshape(-1, w)[codes]
            off += w
        buf[:, off] = ord(",") if i < len(fields) - 1 else ord("\n")
        off += 1
    flat = buf.reshape(-1)
    return flat[flat != 0].tobytes()


def _as_int(v) -> str:
    return str(int(v))


def _static_fields(rows: pd.DataFrame) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """VesselName..TransceiverClass: the per-row copy of the vessel's static report."""
    is_a = (rows["transceiver_class"] == "A").to_numpy()
    ship_type = pd.Series(rows["ship_type"])
    cargo = ship_type.where(pd.Series(is_a, index=ship_type.index))
    return [
        _factorized(rows["vessel_name"]),
        _factorized(rows["imo"], lambda v: f"IMO{int(v):07d}"),
        _factorized(rows["callsign"]),
        _factorized(ship_type, _as_int),
        _factorized(rows["nav_status"], _as_int),
        _fixed(np.round(rows["length_m"].to_numpy(dtype=np.float64)), 0),
        _fixed(np.round(rows["width_m"].to_numpy(dtype=np.float64)), 0),
        _fixed(rows["draught_m"].to_numpy(), 1),
        _factorized(cargo, _as_int),
        _factorized(rows["transceiver_class"]),
    ]


def _static_tail(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The last ten columns as one field: few distinct combinations, formatted once.

    A vessel repeats the same static fields on every row (until a draught,
    name or status change), so formatting each distinct combination once and
    indexing it per row halves the writer's work.
    """
    key = np.zeros(len(rows), dtype=np.int64)
    for col in ("mmsi", "vessel_name", "nav_status", "draught_m", "transceiver_class"):
        codes, uniques = pd.factorize(pd.Series(rows[col]), use_na_sentinel=False)
        key, _ = pd.factorize(key * (len(uniques) + 1) + codes)
        key = key.astype(np.int64)
    n_uniq = int(key.max()) + 1 if len(key) else 0
    first = np.empty(n_uniq, dtype=np.int64)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1)  # first row of each combination
    text = _lines(_static_fields(rows.iloc[first]), n_uniq)
    table = np.array(text.split(b"\n")[:-1], dtype=np.bytes_)
    return table, key


def marinecadastre_bytes(rows: pd.DataFrame, day_start: pd.Timestamp) -> bytes:
    """Format rows as MarineCadastre CSV lines (newline-terminated), vectorised."""
    t0 = np.datetime64(day_start.tz_localize(None), "s")
    ts = rows["timestamp"].to_numpy(dtype="datetime64[ms]").astype("datetime64[s]")
    secs = (ts - t0).astype(np.int64)
    heading = rows["heading_deg"].to_numpy(dtype=np.float64)
    # AIS angles are 0..359(.9): round first, then wrap, so 359.6 prints as 0
    heading = np.where(np.isnan(heading), 511.0, np.round(heading) % 360.0)
    cog = np.round(rows["cog_deg"].to_numpy(dtype=np.float64), 1) % 360.0
    fields = [
        _factorized(rows["mmsi"], _as_int),
        [(_clock_table(t0), secs)],
        _fixed(rows["lat"].to_numpy(), 5),
        _fixed(rows["lon"].to_numpy(), 5),
        _fixed(rows["sog_kn"].to_numpy(), 1),
        _fixed(cog, 1),
        _fixed(heading, 0),
        [_static_tail(rows)],
    ]
    return _lines(fields, len(rows))


def _atomic_write_bytes(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as f:
            write(f)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_marinecadastre(
    data: SimulatedData, out_dir: Path | str, *, compress: bool = False
) -> list[Path]:
    """Write ``AIS_YYYY_MM_DD.csv`` (or ``.zip``) per UTC day plus ``truth.csv``/``truth.json``.

    Rows within a day are in time order. Returns every path written, days first.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pos = data.positions
    day_index = (pos["timestamp"].to_numpy(dtype="datetime64[ms]").astype("datetime64[D]")).astype(
        np.int64
    )
    written: list[Path] = []
    starts = np.flatnonzero(np.r_[True, day_index[1:] != day_index[:-1]])
    if not (np.diff(day_index) >= 0).all():
        raise ValueError("positions must be in time order")
    bounds = list(zip(starts, np.r_[starts[1:], len(pos)], strict=True))
    for lo, hi in bounds:
        day = pd.Timestamp(np.datetime64(int(day_index[lo]), "D"), tz="UTC")
        stem = f"AIS_{day:%Y_%m_%d}"

        def write_csv(f, lo=lo, hi=hi, day=day) -> None:
            f.write(HEADER.encode())
            for c in range(lo, hi, CHUNK_ROWS):
                f.write(marinecadastre_bytes(pos.iloc[c : min(c + CHUNK_ROWS, hi)], day))

        if compress:
            path = out / f"{stem}.zip"

            def write_zip(f, stem=stem, write_csv=write_csv, day=day) -> None:
                info = zipfile.ZipInfo(
                    f"{stem}.csv", date_time=(day.year, day.month, day.day, 0, 0, 0)
                )
                info.compress_type = zipfile.ZIP_DEFLATED
                with zipfile.ZipFile(f, "w") as z, z.open(info, "w", force_zip64=True) as member:
                    write_csv(member)

            _atomic_write_bytes(path, write_zip)
        else:
            path = out / f"{stem}.csv"
            _atomic_write_bytes(path, write_csv)
        written.append(path)
    written += write_truth(data, out)
    return written


def write_truth(data: SimulatedData, out_dir: Path) -> list[Path]:
    """``truth.csv`` (one row per scenario) and ``truth.json`` (config, counts, rows)."""
    truth = data.truth.copy()
    csv_path = out_dir / "truth.csv"
    json_path = out_dir / "truth.json"
    for c in ("start_time", "end_time"):
        truth[c] = truth[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    _atomic_write_bytes(
        csv_path, lambda f: f.write(truth.to_csv(index=False, lineterminator="\n").encode())
    )
    # dates become ISO strings
    cfg = json.loads(json.dumps(asdict(data.config), default=str))
    records = json.loads(truth.to_json(orient="records"))
    doc = {
        "generator": "stswatch.simulator",
        "config": cfg,
        "n_rows": len(data.positions),
        "dirty_counts": data.dirty_counts,
        "unplaced": data.unplaced,
        "scenario_counts": truth["kind"].value_counts().sort_index().to_dict(),
        "truth": records,
    }
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    _atomic_write_bytes(json_path, lambda f: f.write(text.encode()))
    return [csv_path, json_path]
