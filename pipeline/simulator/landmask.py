"""global_land_mask's 1-km land mask, loaded one latitude band at a time.

``import global_land_mask`` inflates the whole 21600 x 43200 mask (~930 MB of
RAM, 5-20 s) at import time. A simulated region needs a 10-20° band of it, so
this module streams the compressed array out of the package's ``.npz``, keeps
only the rows of the requested band, bit-packed (~20 MB for 30° of latitude),
and answers exactly as ``globe.is_land`` does (same index arithmetic), which
the tests check against the library itself. Inflated bands are also cached
on disk (5.4 MB each, beside stswatch.geo.coast's raster in ``$STSWATCH_CACHE_DIR``),
so only the first run on a machine pays the decompression.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np

#: Bands are cached on a 10° latitude grid so neighbouring queries share one.
_BAND_DEG = 10.0


@cache
def _axes() -> tuple[np.ndarray, np.ndarray]:
    with zipfile.ZipFile(_npz_path()) as z:
        lat = np.load(io.BytesIO(z.read("lat.npy")))
        lon = np.load(io.BytesIO(z.read("lon.npy")))
    return lat, lon


def _npz_path() -> Path:
    # find_spec locates the package without importing it (its __init__ would
    # inflate the whole mask, which is what this module avoids).
    spec = find_spec("global_land_mask")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("global_land_mask is not installed")
    return Path(spec.origin).parent / "globe_combined_mask_compressed.npz"


#: Packed bands already inflated, by band index (row 0 is 90° N).
_BANDS: dict[int, np.ndarray] = {}
#: Bump when the cached band format changes.
_CACHE_VERSION = 1


def _cache_dir() -> Path:
    """Same cache folder as stswatch.geo.coast: $STSWATCH_CACHE_DIR or ~/.cache/stswatch."""
    env = os.environ.get("STSWATCH_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "stswatch"


def _band_path(band: int) -> Path:
    return _cache_dir() / f"landmask-v{_CACHE_VERSION}-{_BAND_DEG:g}deg-band{band:02d}.npy"


def _load_cached(band: int) -> np.ndarray | None:
    try:
        arr = np.load(_band_path(band), allow_pickle=False)
    except (OSError, ValueError):
        return None
    return arr if arr.dtype == np.uint8 and arr.ndim == 2 else None


def _save_cached(band: int, packed: np.ndarray) -> None:
    """Best effort, atomic (write aside, rename): a read-only home only costs time."""
    try:
        folder = _cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, packed, allow_pickle=False)
        Path(tmp).replace(_band_path(band))
    except OSError:
        pass


def _load_bands_through(last_band: int, rows_per_band: int) -> None:
    """Inflate the mask from the top down to ``last_band``, packing every band.

    Inflating is sequential, so every band above the one needed costs the same
    time whether kept or not; keeping them bit-packed (5.4 MB per 10°) means a
    later query further north never inflates again.
    """
    with zipfile.ZipFile(_npz_path()) as z, z.open("mask.npy") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if fortran or dtype != np.dtype(bool) or len(shape) != 2:
            raise RuntimeError("unexpected global_land_mask layout")
        n_rows, n_cols = int(shape[0]), int(shape[1])
        for b in range(last_band + 1):
            start = b * rows_per_band
            stop = min(start + rows_per_band, n_rows)
            need = (stop - start) * n_cols
            parts, got = [], 0
            while got < need:
                chunk = f.read(need - got)
                if not chunk:
                    raise RuntimeError("truncated global_land_mask data")
                parts.append(chunk)
                got += len(chunk)
            if b not in _BANDS:
                rows = np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(-1, n_cols)
                # the package stores an *ocean* mask: land is its complement
                _BANDS[b] = np.packbits(rows == 0, axis=1)
                _save_cached(b, _BANDS[b])


def is_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True on land, identical to ``global_land_mask.globe.is_land`` (lon in [-180, 180])."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat_axis, lon_axis = _axes()
    lat_c = np.clip(lat, lat_axis.min(), lat_axis.max())
    lon_c = np.clip(lon, lon_axis.min(), lon_axis.max())
    rows = ((lat_c - lat_axis[0]) / (lat_axis[1] - lat_axis[0])).astype(np.int64)
    cols = ((lon_c - lon_axis[0]) / (lon_axis[1] - lon_axis[0])).astype(np.int64)
    out = np.zeros(lat.shape, dtype=bool)
    if lat.size == 0:
        return out
    rows_per_band = round(_BAND_DEG / abs(lat_axis[1] - lat_axis[0]))
    band_of_row = rows // rows_per_band
    needed = np.unique(band_of_row)
    for b in needed:
        if int(b) not in _BANDS and (cached := _load_cached(int(b))) is not None:
            _BANDS[int(b)] = cached
    if any(int(b) not in _BANDS for b in needed):
        _load_bands_through(int(needed.max()), rows_per_band)
    for b in needed:
        sel = band_of_row == b
        packed = _BANDS[int(b)]
        r = rows[sel] - int(b) * rows_per_band
        c = cols[sel]
        out[sel] = ((packed[r, c >> 3] >> (7 - (c & 7))) & 1).astype(bool)
    return out
