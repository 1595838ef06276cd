"""global-land-mask's 1 km land/ocean mask: located, streamed, bit-packed and windowed.

Two users: :mod:`stswatch.geo.coast` builds its fine distance-to-coast raster
from the mask, and the evidence cards draw their coastline from it
(:func:`land_mask_window`). The packaged mask is a 933 MB boolean array in a
compressed ``.npz``; it is decompressed once per machine into a 117 MB
bit-packed, memory-mapped copy under ``$STSWATCH_CACHE_DIR`` (default
``~/.cache/stswatch``), from which any window is a cheap random read.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

#: Mask pixels per degree (GLOBE 30 arc-second grid).
MASK_PX_PER_DEG = 120
#: Bump when the packed copy's layout changes so stale caches are ignored.
MASK_CACHE_VERSION = 2

FloatArray = npt.NDArray[np.float64]


def cache_dir() -> Path:
    env = os.environ.get("STSWATCH_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "stswatch"


def mask_path() -> Path:
    # find_spec locates the package without importing it: importing
    # global_land_mask decompresses its own 933 MB copy of the mask.
    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("global-land-mask is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "globe_combined_mask_compressed.npz"


def land_mask_file() -> Path:
    """global-land-mask's mask file, checked to exist (it is read only when rows are built)."""
    path = mask_path()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    return path


def iter_mask_tile_rows() -> Iterator[npt.NDArray[np.bool_]]:
    """global-land-mask's 1 km mask, True over ocean, streamed 1° of latitude at a time.

    Yields 180 arrays of (120, 43200) from 90°N southwards (column 0 = 180°W).
    Streaming the compressed member keeps the build at ~100 MB instead of
    holding the whole 933 MB mask.
    """
    from numpy.lib import format as npy_format

    px = MASK_PX_PER_DEG
    with zipfile.ZipFile(mask_path()) as zf, zf.open("mask.npy") as fh:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
        if shape != (180 * px, 360 * px) or fortran or dtype != np.bool_:
            raise RuntimeError(f"unexpected global_land_mask layout {shape} {dtype}")
        n_bytes = px * shape[1]
        for _ in range(180):
            buf = fh.read(n_bytes)
            if len(buf) != n_bytes:
                raise RuntimeError("truncated global_land_mask data")
            yield np.frombuffer(buf, dtype=np.bool_).reshape(px, shape[1])


@functools.lru_cache(maxsize=1)
def packed_mask() -> npt.NDArray[np.uint8]:
    """The ocean mask bit-packed along longitude, (21600, 5400) uint8, memory-mapped.

    Decompressing the packaged mask takes ~7 s and is sequential, so it is done
    once and kept bit-packed (117 MB) in the cache directory; any latitude row
    is then a cheap random read. Falls back to memory when the cache is not
    writable.
    """
    path = cache_dir() / f"globe_ocean_mask_packed_v{MASK_CACHE_VERSION}.npy"
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        pass
    px = MASK_PX_PER_DEG
    shape = (180 * px, 360 * px // 8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
        os.close(fd)
        packed = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
    except OSError:
        tmp, packed = None, np.empty(shape, dtype=np.uint8)
    for ti, rows in enumerate(iter_mask_tile_rows()):
        packed[ti * px : (ti + 1) * px] = np.packbits(rows, axis=1)
    if tmp is None:
        return packed
    packed.flush()
    del packed
    Path(tmp).replace(path)
    return np.load(path, mmap_mode="r")


def land_mask_window(
    lat_min: float, lat_max: float, lon_min: float, lon_max: float, *, max_px: int = 400
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """The 1 km land mask over a lat/lon box, for drawing a coastline (evidence cards).

    Returns pixel-centre latitudes (north first), longitudes and a boolean
    land array of shape (len(lats), len(lons)). Longitudes may run past ±180
    (an unwrapped box across the antimeridian) and come back in the caller's
    convention. The box is sampled every ``step`` pixels so neither side
    exceeds ``max_px``: a card needs a few hundred pixels, not the mask's
    full resolution. Reads the bit-packed copy :func:`distance_to_coast_m`
    already uses (built once per machine, memory-mapped afterwards).
    """
    px = MASK_PX_PER_DEG
    r0 = int(np.clip(np.floor((90.0 - lat_max) * px), 0, 180 * px - 1))
    r1 = int(np.clip(np.ceil((90.0 - lat_min) * px), r0 + 1, 180 * px))
    c0 = int(np.floor((lon_min + 180.0) * px))
    c1 = max(int(np.ceil((lon_max + 180.0) * px)), c0 + 1)
    step = max(1, int(np.ceil(max(r1 - r0, c1 - c0) / max_px)))
    rows = np.arange(r0, r1, step)
    cols = np.arange(c0, c1, step)
    wrapped = cols % (360 * px)
    packed = np.asarray(packed_mask()[rows][:, wrapped // 8])
    ocean = (packed >> (7 - (wrapped % 8)).astype(np.uint8)) & 1
    lats = 90.0 - (rows + 0.5) / px
    lons = (cols + 0.5) / px - 180.0
    return lats, lons, ocean == 0
