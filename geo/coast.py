"""Distance from sea positions to the nearest coast, in metres, vectorised.

Why distance to coast at all: port lists miss small harbours (Hvide Sande,
Denmark, is absent from the World Port Index), fishing villages and private
terminals, and a meeting 2 km off a beach is a pilot
boarding or a harbour manoeuvre, not a covert transfer. A coast-distance rule
(``PortFilterConfig.min_distance_to_coast_m``) closes that hole for free.

Two packaged sources, combined for accuracy *and* speed:

* ``landmetrics`` ships a global signed distance-to-GSHHG-coast grid at 0.1°
  (exact at its nodes, full-resolution GSHHG). Bilinear interpolation between
  nodes 11 km apart is accurate far offshore but errs by 1-5 km near
  headlands, bays and small islands, which is exactly where the 5-10 km
  thresholds bite (measured against a 1 km land mask: 35-55 % of points 3-12
  km offshore off by more than 1 km).
* ``global-land-mask`` ships the 1 km (30") GLOBE land/ocean mask. From it we
  build, once, a *fine* raster for every 1° tile that touches a coast: a
  Euclidean distance transform (scipy) per tile window, sampled every 2 mask
  pixels (~1.85 km) and stored in metres up to :data:`FINE_CAP_M`. Bilinear
  interpolation of that raster is within ~0.5 km of the mask's coast.

Beyond :data:`FINE_CAP_M` (or poleward of :data:`FINE_MAX_ABS_LAT`) the
landmetrics grid answers. The fine raster is built lazily, one 1° latitude
row at a time, only for rows that queries touch, and cached on disk under
``$STSWATCH_CACHE_DIR`` (default ``~/.cache/stswatch``; written atomically, so
parallel test workers are safe) and in memory. The first build on a machine
decompresses the packaged mask once (~7 s) into a 117 MB bit-packed copy in
the cache (:mod:`stswatch.geo.land_mask`); each row then costs ~0.1-0.3 s, all
180 rows ~20-25 s on an idle 2-core machine, peak ~0.35 GB. Loading cached rows
takes < 1 s; queries then run at 2-7 million points per second. :func:`warm_up` builds everything up
front (a CI or deployment set-up step).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stswatch.geo.land_mask import MASK_PX_PER_DEG, cache_dir, packed_mask

#: Fine raster is only kept up to this distance; the thresholds that matter
#: are 5-10 km, and beyond 30 km the 0.1° GSHHG grid is accurate to a few %.
FINE_CAP_M = 30_000.0
#: Tiles poleward of this use landmetrics only: a 30 km window spans many
#: degrees of longitude near the poles and AIS traffic there is negligible.
FINE_MAX_ABS_LAT = 80
#: Fine-raster nodes per degree (every second mask pixel, ~1.85 km).
_NODES_PER_DEG = 60
_STRIDE = MASK_PX_PER_DEG // _NODES_PER_DEG
#: Metres per degree of latitude on the sphere used throughout stswatch.
_M_PER_DEG = 6_371_008.8 * np.pi / 180.0
#: Bump when the raster construction changes so stale caches are ignored.
_CACHE_VERSION = 2

#: Longest run of neighbouring tiles transformed in one window.
_MAX_RUN_TILES = 12

_TILE_FAR_OCEAN = -1
_TILE_LAND = -2
_TILE_COARSE_ONLY = -3
_TILE_UNBUILT = -4

FloatArray = npt.NDArray[np.float64]


class _CoastRaster:
    """Fine per-tile distance raster, built lazily one 1° latitude row at a time.

    ``state`` is an immutable pair replaced as a whole when rows are added, so
    concurrent readers (Dask/Prefect threads) always see a consistent pair:

    * ``tile_index`` (180, 360) int32: index into ``tiles`` for coastal tiles,
      or _TILE_FAR_OCEAN / _TILE_LAND / _TILE_COARSE_ONLY / _TILE_UNBUILT.
      Row 0 is latitude 89..90 (north first).
    * ``tiles`` (n_tiles, 61, 61) uint16 metres (0 on land, capped at
      FINE_CAP_M); node (k, l) sits at the centre of mask pixel (2k, 2l) of the
      tile, the 61st row/column duplicating the neighbouring tile's first node
      so that bilinear interpolation never crosses a tile.

    ``coarse_km`` is the landmetrics signed distance (km, negative on land),
    (1801, 3600): lat -90..90 step 0.1, lon -180..179.9 step 0.1.
    """

    def __init__(self, coarse_km: npt.NDArray[np.float32]) -> None:
        self.coarse_km = coarse_km
        self.state: tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]] = (
            np.full((180, 360), _TILE_UNBUILT, dtype=np.int32),
            np.zeros((0, 61, 61), dtype=np.uint16),
        )
        self._lock = threading.Lock()

    def ensure_rows(self, rows: npt.ArrayLike) -> None:
        """Load from the disk cache, or build, every requested tile row not yet in memory."""
        wanted = np.unique(np.asarray(rows, dtype=np.intp))
        with self._lock:
            index, tiles = self.state
            missing = [int(r) for r in wanted if index[r, 0] == _TILE_UNBUILT]
            if not missing:
                return
            rows_data = {r: _load_row(r) for r in missing}
            if any(v is None for v in rows_data.values()):
                # Another process (a pytest-xdist worker, a Dask worker) may be
                # building the same rows: take turns, then reuse its files.
                with _cache_lock():
                    for r in [r for r, v in rows_data.items() if v is None]:
                        rows_data[r] = _load_row(r)
                    to_build = {r for r, v in rows_data.items() if v is None}
                    if to_build:
                        for r, built in _build_rows(to_build).items():
                            _save_row(r, *built)
                            rows_data[r] = built
            index = index.copy()
            parts = [tiles]
            n = tiles.shape[0]
            for r in sorted(rows_data):
                row_index, row_tiles = rows_data[r]  # type: ignore[misc]
                index[r] = np.where(row_index >= 0, row_index + n, row_index)
                parts.append(row_tiles)
                n += row_tiles.shape[0]
            self.state = (index, np.concatenate(parts))


def _load_coarse_km() -> npt.NDArray[np.float32]:
    """The bundled landmetrics 0.1° signed distance grid, fully in memory (50 MB)."""
    import netCDF4
    from landmetrics.data import grid_path

    path = grid_path("distance_to_land", 0.1, 0.0)
    with netCDF4.Dataset(path) as ds:
        var = ds.variables["distance_to_land"]
        var.set_auto_mask(False)
        var.set_auto_scale(False)
        raw = np.asarray(var[:])
        scale = float(getattr(var, "scale_factor", 1.0))
        offset = float(getattr(var, "add_offset", 0.0))
        lat = np.asarray(ds.variables["lat"][:], dtype=np.float64)
        lon = np.asarray(ds.variables["lon"][:], dtype=np.float64)
    if not (np.isclose(lat[0], -90) and np.isclose(lon[0], -180) and raw.shape == (1801, 3600)):
        raise RuntimeError(f"unexpected landmetrics grid layout in {path}")
    return (raw.astype(np.float32) * np.float32(scale) + np.float32(offset)).astype(np.float32)


def _mask_tile_row(ti: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ocean mask rows (120, 43200) bool, any ocean per tile, any land per tile) of row ti."""
    px = MASK_PX_PER_DEG
    rows = np.unpackbits(packed_mask()[ti * px : (ti + 1) * px], axis=1).view(np.bool_)
    n_ocean = rows.reshape(px, 360, px).sum(axis=(0, 2))
    return rows, n_ocean > 0, n_ocean < px * px


def _build_rows(rows: set[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Distance transform of the 1 km mask around every coastal tile of ``rows``.

    Each tile row is transformed with the rows above and below it for the
    windows' margins (30 km < 1° of latitude).
    """
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for ti in sorted(rows):
        above = _mask_tile_row(ti - 1) if ti > 0 else None
        below = _mask_tile_row(ti + 1) if ti < 179 else None
        out[ti] = _build_tile_row(ti, above, _mask_tile_row(ti), below)
    return out


def _build_tile_row(
    ti: int,
    above: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    cur: tuple[np.ndarray, np.ndarray, np.ndarray],
    below: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]]:
    """Row ``ti`` of the tile index (local tile numbers or markers) and its fine tiles."""
    from scipy import ndimage

    px = MASK_PX_PER_DEG
    rows_cur, any_ocean, any_land = cur
    n_cols = rows_cur.shape[1]
    row_index = np.full(360, _TILE_FAR_OCEAN, dtype=np.int32)
    row_index[~any_ocean] = _TILE_LAND
    tiles: list[npt.NDArray[np.uint16]] = []
    lat_centre = 89.5 - ti
    if abs(lat_centre) > FINE_MAX_ABS_LAT:
        row_index[any_ocean] = _TILE_COARSE_ONLY
        return row_index, np.zeros((0, 61, 61), dtype=np.uint16)
    margin_rows = int(np.ceil(FINE_CAP_M / (_M_PER_DEG / px))) + 2
    coslat = np.cos(np.radians(lat_centre))
    margin_cols = int(np.ceil(FINE_CAP_M / (_M_PER_DEG * coslat / px))) + 2
    margin_tiles_lon = int(np.ceil(margin_cols / px))
    # Which tiles in this row have land within the margin (wrapping in lon).
    rows_near = any_land.copy()
    for other in (above, below):
        if other is not None:
            rows_near |= other[2]
    land_near = np.zeros(360, dtype=bool)
    for s in range(-margin_tiles_lon, margin_tiles_lon + 1):
        land_near |= np.roll(rows_near, s)
    parts = []
    row_off = 0
    if above is not None:
        parts.append(above[0][-margin_rows:])
        row_off = margin_rows
    parts.append(rows_cur)
    if below is not None:
        parts.append(below[0][: margin_rows + 1])
    band = np.concatenate(parts)
    sampling = (_M_PER_DEG / px, _M_PER_DEG * coslat / px)
    wanted = np.nonzero(any_ocean & land_near)[0]
    # Neighbouring coastal tiles share one window: the margins overlap, so
    # one transform over a run costs far less than one per tile.
    runs = np.split(wanted, np.nonzero(np.diff(wanted) != 1)[0] + 1) if wanted.size else []
    for run in runs:
        for chunk in np.array_split(run, int(np.ceil(run.size / _MAX_RUN_TILES))):
            t0 = int(chunk[0])
            cols = np.arange(t0 * px - margin_cols, (t0 + chunk.size) * px + 1 + margin_cols)
            win = band[:, cols % n_cols]
            if win.all():  # no land within the margin after all
                continue
            dist = ndimage.distance_transform_edt(win, sampling=sampling)
            # Nearest land *pixel centre* is ~half a pixel beyond the coast line.
            dist = np.clip(dist - 0.5 * _M_PER_DEG / px, 0.0, FINE_CAP_M)
            dist[~win] = 0.0
            for n, tj in enumerate(chunk):
                c0 = margin_cols + n * px
                sub = dist[row_off : row_off + px + 1 : _STRIDE, c0 : c0 + px + 1 : _STRIDE]
                if (sub >= FINE_CAP_M).all():
                    continue  # land lies within the margin but not within the cap
                row_index[tj] = len(tiles)
                tiles.append(np.rint(sub).astype(np.uint16))
    stacked = np.stack(tiles) if tiles else np.zeros((0, 61, 61), dtype=np.uint16)
    return row_index, stacked


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """An exclusive inter-process lock on the cache directory (no-op if unavailable)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: builds may be duplicated, results are identical
        yield
        return
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        fh = (cache_dir() / f"coast_v{_CACHE_VERSION}.lock").open("a")
    except OSError:
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _row_path(ti: int) -> Path:
    return cache_dir() / f"coast_v{_CACHE_VERSION}_cap{int(FINE_CAP_M)}" / f"row_{ti:03d}.npz"


def _load_row(ti: int) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(_row_path(ti)) as npz:
            return npz["row_index"], npz["tiles"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _save_row(ti: int, row_index: np.ndarray, tiles: np.ndarray) -> None:
    """Atomic write (aside, then rename): parallel workers never read half a file."""
    path = _row_path(ti)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, row_index=row_index, tiles=tiles)
        Path(tmp).replace(path)
    except OSError:
        pass  # read-only home: keep the in-memory copy only


#: Serialises the first load: ``lru_cache`` lets two threads compute at once,
#: and netCDF4/HDF5 crash the process when two threads read the grid together
#: (seen when a backfill's first days start in parallel).
_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _raster_once() -> _CoastRaster:
    return _CoastRaster(_load_coarse_km())


def _raster() -> _CoastRaster:
    with _LOAD_LOCK:
        return _raster_once()


def load_coarse_grid() -> None:
    """Load the coarse distance grid now (cached; used to check an installation)."""
    _raster()


def warm_up() -> None:
    """Build or load the whole fine raster now (~20-25 s the first time per machine).

    Queries otherwise build only the 1° latitude rows they touch, on demand.
    """
    _raster().ensure_rows(np.arange(180))


def _coarse_m(raster: _CoastRaster, lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Bilinear landmetrics distance in metres (0 on land), lon already in [-180, 180)."""
    grid = raster.coarse_km
    y = (lat + 90.0) * 10.0
    x = (lon + 180.0) * 10.0
    i = np.clip(np.floor(y).astype(np.intp), 0, grid.shape[0] - 2)
    j = np.floor(x).astype(np.intp) % grid.shape[1]
    j1 = (j + 1) % grid.shape[1]  # wraps across the antimeridian
    wy = y - i
    wx = x - np.floor(x)
    top = grid[i, j] * (1 - wx) + grid[i, j1] * wx
    bot = grid[i + 1, j] * (1 - wx) + grid[i + 1, j1] * wx
    km = top * (1 - wy) + bot * wy
    return np.maximum(km, 0.0) * 1000.0


#: Points per block: keeps the dozen temporaries of a block in CPU cache
#: (measured ~1.5-2x faster at 1e6 points than one pass over everything).
_BLOCK = 1 << 16


def distance_to_coast_m(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    """Distance in metres from each position to the nearest coast; 0 on land.

    Vectorised over arrays of any shape (``lat`` and ``lon`` broadcast);
    longitudes in any convention (wrapped into [-180, 180), so 180.2 and
    -179.8 are the same sea). NaN in, NaN out. Accuracy near the 5-10 km
    thresholds is ~0.5-1 km (the 1 km mask's pixel size), which is why the
    fine raster exists: the 0.1° grid alone errs by several km there.

    Inland waters count as land in both sources (GSHHG level 1 and the GLOBE
    mask): the Caspian Sea and the Great Lakes give 0 m, so the away-from-port
    rule never flags events there.
    """
    lat_a, lon_a = np.broadcast_arrays(
        np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    )
    shape = lat_a.shape
    la_all = lat_a.ravel()
    lo_all = lon_a.ravel()
    out = np.empty(la_all.shape)
    for i in range(0, la_all.size, _BLOCK):
        out[i : i + _BLOCK] = _distance_block(la_all[i : i + _BLOCK], lo_all[i : i + _BLOCK])
    return out.reshape(shape)


def _distance_block(la: FloatArray, lo_raw: FloatArray) -> FloatArray:
    """distance_to_coast_m over one flat block of points."""
    lo = (lo_raw + 180.0) % 360.0 - 180.0
    out = np.full(la.shape, np.nan)
    ok = np.isfinite(la) & np.isfinite(lo) & (np.abs(la) <= 90.0)
    if not ok.all():
        la, lo = la[ok], lo[ok]
    raster = _raster()
    coarse = _coarse_m(raster, la, lo)
    # Fine raster: node (k, l) of tile (ti, tj) is at the centre of mask pixel
    # (2k, 2l), i.e. lat = 90 - ti - (2k + 0.5) / 120.
    ry = (90.0 - la) * _NODES_PER_DEG - 0.5 / _STRIDE
    rx = (lo + 180.0) * _NODES_PER_DEG - 0.5 / _STRIDE
    ry = np.clip(ry, 0.0, 180 * _NODES_PER_DEG - 1e-9)
    rx = rx % (360 * _NODES_PER_DEG)
    gy = np.floor(ry).astype(np.intp)
    # float modulo can return exactly the modulus for tiny negatives: clamp.
    gx = np.minimum(np.floor(rx).astype(np.intp), 360 * _NODES_PER_DEG - 1)
    ti = gy // _NODES_PER_DEG
    tj = gx // _NODES_PER_DEG
    tile_index, tiles = raster.state
    idx = tile_index[ti, tj]
    unbuilt = idx == _TILE_UNBUILT
    if unbuilt.any():
        raster.ensure_rows(ti[unbuilt])
        tile_index, tiles = raster.state
        idx = tile_index[ti, tj]
    fine = idx >= 0
    result = np.where(idx == _TILE_FAR_OCEAN, np.maximum(coarse, FINE_CAP_M), coarse)
    result[idx == _TILE_LAND] = 0.0
    if tiles.shape[0] and fine.any():
        t = idx[fine]
        k = gy[fine] - ti[fine] * _NODES_PER_DEG
        m = gx[fine] - tj[fine] * _NODES_PER_DEG
        wy = ry[fine] - gy[fine]
        wx = rx[fine] - gx[fine]
        flat = tiles.reshape(-1)
        side = _NODES_PER_DEG + 1
        base = t.astype(np.intp) * side * side + k * side + m
        v00 = flat[base].astype(np.float64)
        v01 = flat[base + 1]
        v10 = flat[base + side]
        v11 = flat[base + side + 1]
        d = (v00 * (1 - wx) + v01 * wx) * (1 - wy) + (v10 * (1 - wx) + v11 * wx) * wy
        # At the cap the fine raster knows only "far": defer to the global grid.
        far = d >= FINE_CAP_M - 1.0
        result[fine] = np.where(far, np.maximum(coarse[fine], FINE_CAP_M), d)
    out[ok] = result
    return out
