"""Anchorages learned from the AIS data itself (Global Fishing Watch style).

Port lists name berths, not the waiting areas off them: tankers queue at
anchor 5-15 km off Galveston, Fujairah or Singapore, and lightering zones move
with trade. GFW's anchorage pipeline learns these places from where many
distinct vessels sit still; an encounter within 10 km of one is discarded.
stswatch does the same over whatever window it is given: a grid cell of
``anchorage_cell_size_m`` is an anchorage when at least
``anchorage_min_vessels`` distinct vessels each spend at least
``anchorage_min_stationary_h`` stationary (SOG <= ``anchorage_max_speed_kn``)
in it or in its 8 neighbouring cells (so a crowd straddling a cell border is
still one crowd).

Everything is vectorised: one sort, a diff, and group-bys over integer keys.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from stswatch.detectors.tracks import sort_positions
from stswatch.geo.ports import EARTH_RADIUS_M, chord_to_m, unit_vectors
from stswatch.pipeline.config import PortFilterConfig

ANCHORAGE_COLUMNS = ["lat", "lon", "n_vessels", "stationary_h"]

_M_PER_DEG = EARTH_RADIUS_M * np.pi / 180.0

FloatArray = npt.NDArray[np.float64]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lat": pd.Series(dtype="float64"),
            "lon": pd.Series(dtype="float64"),
            "n_vessels": pd.Series(dtype="int64"),
            "stationary_h": pd.Series(dtype="float64"),
        }
    )


def _n_cols(row: np.ndarray, cell_m: float) -> np.ndarray:
    """Cells around the parallel of grid row ``row`` (fewer towards the poles)."""
    row_lat = np.clip((row + 0.5) * cell_m / _M_PER_DEG, -89.999, 89.999)
    return np.maximum(
        np.floor(360.0 * _M_PER_DEG * np.cos(np.radians(row_lat)) / cell_m), 1
    ).astype(np.int64)


def _cells(lat: FloatArray, lon: FloatArray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer (row, col) of a roughly square metric grid; cols wrap at the antimeridian."""
    row = np.floor(lat * _M_PER_DEG / cell_m).astype(np.int64)
    n_cols = _n_cols(row, cell_m)
    lon_w = (lon + 180.0) % 360.0
    col = np.minimum(np.floor(lon_w / 360.0 * n_cols).astype(np.int64), n_cols - 1)
    return row, col


def learn_anchorages(positions: pd.DataFrame, cfg: PortFilterConfig) -> pd.DataFrame:
    """Learn anchorage points from clean positions (mmsi, timestamp, lat, lon, sog_kn).

    Returns one row per anchorage cell: ``lat``/``lon`` (mean position of the
    stationary fixes in the cell), ``n_vessels`` (distinct vessels stationary
    long enough in the cell or its neighbours) and ``stationary_h`` (their total
    stationary hours in the cell). Stationary time is the interval between two
    consecutive fixes of one vessel, both slow, credited to the first fix's cell; intervals
    longer than ``anchorage_max_fix_interval_h`` count nothing, since a long
    silence is a gap, not observed presence. Row order is deterministic (by cell).
    """
    if positions.empty:
        return _empty()
    # Detection passes the resampled tracks, already sorted by (mmsi, time):
    # sort_positions checks that in one pass and only sorts other input,
    # sparing a sort and a copy of every column.
    order, t_ms = sort_positions(positions)
    mmsi = positions["mmsi"].to_numpy(np.int64)
    t_s = t_ms / 1000.0
    lat = positions["lat"].to_numpy(np.float64)
    lon = positions["lon"].to_numpy(np.float64)
    sog = positions["sog_kn"].to_numpy(np.float64, na_value=np.nan)
    if order is not None:
        mmsi, t_s, lat, lon, sog = mmsi[order], t_s[order], lat[order], lon[order], sog[order]

    still = sog <= cfg.anchorage_max_speed_kn  # NaN SOG is not evidence of rest
    # An interval belongs to the cell of its first fix: a ship swinging round
    # its anchor across a cell border (or the antimeridian) is still at rest.
    same = (mmsi[1:] == mmsi[:-1]) & still[1:] & still[:-1]
    dt_h = np.diff(t_s) / 3600.0
    dt_h = np.where(dt_h <= cfg.anchorage_max_fix_interval_h, dt_h, 0.0)
    idx = np.nonzero(same)[0]
    if idx.size == 0:
        return _empty()
    # Grid cells only for the intervals' first fixes: moving ships never need one.
    row, col = _cells(lat[idx], lon[idx], cfg.anchorage_cell_size_m)
    iv = pd.DataFrame(
        {
            "mmsi": mmsi[idx],
            "row": row,
            "col": col,
            "hours": dt_h[idx],
            # position of the interval = mean of its two fixes (unit-vector safe lon)
            "lat": 0.5 * (lat[idx] + lat[idx + 1]),
            "sin": 0.5 * (np.sin(np.radians(lon[idx])) + np.sin(np.radians(lon[idx + 1]))),
            "cos": 0.5 * (np.cos(np.radians(lon[idx])) + np.cos(np.radians(lon[idx + 1]))),
        }
    )
    per_vessel = iv.groupby(["row", "col", "mmsi"], sort=True).agg(
        hours=("hours", "sum"), lat=("lat", "mean"), sin=("sin", "mean"), cos=("cos", "mean")
    )
    qualified = per_vessel[per_vessel["hours"] >= cfg.anchorage_min_stationary_h].reset_index()
    if qualified.empty:
        return _empty()

    # Distinct qualified vessels in each cell's 3x3 neighbourhood.
    offsets = np.array([(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)])
    q_row = qualified["row"].to_numpy()
    q_col = qualified["col"].to_numpy()
    n_row = np.repeat(q_row, 9) + np.tile(offsets[:, 0], len(qualified))
    n_col = np.repeat(q_col, 9) + np.tile(offsets[:, 1], len(qualified))
    spread = pd.DataFrame(
        {
            "row": n_row,
            "col": n_col % _n_cols(n_row, cfg.anchorage_cell_size_m),
            "mmsi": np.repeat(qualified["mmsi"].to_numpy(), 9),
        }
    ).drop_duplicates()
    crowd = spread.groupby(["row", "col"]).size().rename("n_vessels")

    cells = qualified.groupby(["row", "col"], sort=True).agg(
        stationary_h=("hours", "sum"), lat=("lat", "mean"), sin=("sin", "mean"), cos=("cos", "mean")
    )
    cells = cells.join(crowd, how="left")
    cells = cells[cells["n_vessels"] >= cfg.anchorage_min_vessels]
    if cells.empty:
        return _empty()
    out = pd.DataFrame(
        {
            "lat": cells["lat"].to_numpy(np.float64),
            "lon": np.degrees(np.arctan2(cells["sin"].to_numpy(), cells["cos"].to_numpy())),
            "n_vessels": cells["n_vessels"].to_numpy(np.int64),
            "stationary_h": cells["stationary_h"].to_numpy(np.float64),
        }
    )
    return out[ANCHORAGE_COLUMNS]


def distance_to_anchorage_m(
    lat: npt.ArrayLike, lon: npt.ArrayLike, anchorages: pd.DataFrame
) -> FloatArray:
    """Great-circle metres from each position to the nearest learned anchorage.

    ``inf`` everywhere when ``anchorages`` is empty (nothing learned means
    nothing to stay away from); NaN positions give NaN.
    """
    shape = np.broadcast_shapes(np.shape(lat), np.shape(lon))
    la, lo = np.broadcast_arrays(
        np.asarray(lat, dtype=np.float64).ravel(), np.asarray(lon, dtype=np.float64).ravel()
    )
    out = np.full(la.shape, np.inf)
    if anchorages is None or len(anchorages) == 0:
        out[~(np.isfinite(la) & np.isfinite(lo))] = np.nan
        return out.reshape(shape)
    ok = np.isfinite(la) & np.isfinite(lo)
    out[~ok] = np.nan
    if ok.any():
        tree = cKDTree(
            unit_vectors(
                anchorages["lat"].to_numpy(np.float64), anchorages["lon"].to_numpy(np.float64)
            )
        )
        chord, _ = tree.query(unit_vectors(la[ok], lo[ok]), k=1)
        out[ok] = chord_to_m(chord)
    return out.reshape(shape)
