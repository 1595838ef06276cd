"""Per-tick spatial hash neighbour search: all pairs of points closer than a distance.

Why a hash and not a tree: the points come as (tick, lat, lon) for a whole
day at once, and the search must stay vectorised and near-linear. Sorting
integer cell keys ``(tick, row, col)`` once and bracketing each point's
neighbourhood with ``np.searchsorted`` does the whole day in a handful of
numpy passes, with no Python loop per tick.

Grid: rows are latitude bands ``cell_size_m`` high; each row is cut into a
whole number of columns at least ``cell_size_m`` wide at the row's poleward
edge *plus one row* (so a neighbour in the adjacent, more poleward row is
still at most one column away). Column indices wrap around modulo the row's
column count, so two ships either side of the antimeridian share
neighbouring cells. Any pair within ``cell_size_m >= max_distance_m`` lies in
the 3 × 3 block around either point's cell (columns counted in each row's own
grid); each pair is taken from the point whose key sorts first, so only the
later half of that block (own row from its column on, the row above) is
searched, and every close pair is found exactly once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from stswatch.geo.distance import METRES_PER_DEGREE, haversine_m

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Candidate pairs processed per chunk: bounds peak memory in dense crowds
#: (an anchorage of hundreds of slow ships) to ~50 MB per chunk.
_CHUNK_CANDIDATES = 1_000_000


def _grid(cell_size_m: float) -> tuple[int, IntArray]:
    """Number of latitude rows and the column count of each row."""
    row_height_deg = cell_size_m / METRES_PER_DEGREE
    n_rows = int(np.ceil(180.0 / row_height_deg))
    r = np.arange(n_rows, dtype=np.float64)
    lat_lo = -90.0 + r * row_height_deg
    lat_hi = np.minimum(lat_lo + row_height_deg, 90.0)
    poleward = np.maximum(np.abs(lat_lo), np.abs(lat_hi)) + row_height_deg
    cos_guard = np.cos(np.radians(np.minimum(poleward, 90.0)))
    circumference_m = 360.0 * METRES_PER_DEGREE * cos_guard
    n_cols = np.maximum(np.floor(circumference_m / cell_size_m), 1).astype(np.int64)
    return n_rows, n_cols


def close_pairs(
    tick: npt.ArrayLike,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    *,
    max_distance_m: float,
    cell_size_m: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every unordered pair of points at the same tick within ``max_distance_m``.

    ``tick`` is any integer time key (e.g. the resampling grid index); only
    points sharing a tick are compared. Returns ``(i, j, distance_m)`` with
    ``i < j`` as positions into the input arrays, each close pair exactly once,
    sorted by ``(i, j)``. Cost is linear in the number of points plus the
    number of candidates in neighbouring cells (never all pairs).
    """
    if cell_size_m < max_distance_m:
        raise ValueError("cell_size_m must be >= max_distance_m")
    tick = np.asarray(tick, dtype=np.int64)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    n = tick.size
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if n < 2:
        return empty

    n_rows, n_cols_of_row = _grid(cell_size_m)
    row_height_deg = cell_size_m / METRES_PER_DEGREE
    row = np.clip(((lat + 90.0) / row_height_deg).astype(np.int64), 0, n_rows - 1)
    lon_frac = ((lon + 180.0) % 360.0) / 360.0  # [0, 1)

    col_bits = int(n_cols_of_row.max()).bit_length()
    row_bits = int(n_rows).bit_length()
    tick0 = tick - tick.min()
    tick_bits = max(int(tick0.max()).bit_length(), 1)
    if tick_bits + row_bits + col_bits > 62:
        raise ValueError("tick range too large for the spatial hash key")
    row_shift = col_bits
    tick_shift = col_bits + row_bits

    def cell_key(r: IntArray, c: IntArray, t: IntArray) -> IntArray:
        return (t << tick_shift) | (r << row_shift) | c

    own_cols = n_cols_of_row[row]
    own_col = np.minimum((lon_frac * own_cols).astype(np.int64), own_cols - 1)
    keys = cell_key(row, own_col, tick0)
    del own_cols, own_col
    order = np.argsort(keys, kind="stable")
    # Work in sorted order from here on: the neighbour queries below are then
    # (nearly) sorted too, which lets np.searchsorted reuse its last bracket
    # and keeps memory access sequential (5x faster than random order).
    sorted_keys = keys[order]
    del keys
    row = row[order]
    tick0 = tick0[order]
    lon_frac = lon_frac[order]
    lat_s = lat[order]
    lon_s = lon[order]
    # Positions fit in int32 for any realistic day; halves the bracket arrays.
    pos_dtype = np.int32 if n < 2**31 - 1 else np.int64

    # Bracket, per point and neighbour row, a contiguous run of sorted keys:
    # columns c-1..c+1 of one (tick, row) are adjacent in key order. Wrapped
    # columns (the antimeridian seam) are added as separate one-column ranges.
    # Each pair is kept from the point that sorts first (j > i below), so only
    # keys >= the point's own can matter: the row above (all of c-1..c+1) and
    # the own row from column c on, plus the seam column nc-1 when c == 0.
    # The row below never holds a later key and is not searched at all.
    lo_parts: list[npt.NDArray[np.integer]] = []
    hi_parts: list[npt.NDArray[np.integer]] = []
    src_parts: list[npt.NDArray[np.integer]] = []
    for dr in (0, 1):
        r2 = row + dr
        ok = (r2 >= 0) & (r2 < n_rows)
        if ok.all():
            src = np.arange(n, dtype=pos_dtype)
            t2, lf = tick0, lon_frac
        else:
            src = np.flatnonzero(ok).astype(pos_dtype)
            r2, t2, lf = r2[ok], tick0[ok], lon_frac[ok]
        nc = n_cols_of_row[r2]
        c = np.minimum((lf * nc).astype(np.int64), nc - 1)
        c_lo = c if dr == 0 else np.maximum(c - 1, 0)
        lo_parts.append(
            np.searchsorted(sorted_keys, cell_key(r2, c_lo, t2), side="left").astype(pos_dtype)
        )
        c_hi = np.minimum(c + 1, nc - 1)
        hi_parts.append(
            np.searchsorted(sorted_keys, cell_key(r2, c_hi, t2), side="right").astype(pos_dtype)
        )
        src_parts.append(src)
        # Seam: column c-1 wrapped to nc-1, or c+1 wrapped to 0, when distinct
        # from the main range [c_lo, c_hi].
        seams = [(True, (c - 1 < 0) & (nc - 1 > c_hi))]
        if dr == 1:  # in the own row, column 0 sorts before the point
            seams.append((False, (c + 1 >= nc) & (c_lo > 0)))
        for wrap_last, need in seams:
            if need.any():
                wc = nc[need] - 1 if wrap_last else np.zeros(int(need.sum()), np.int64)
                key = cell_key(r2[need], wc, t2[need])
                lo_parts.append(np.searchsorted(sorted_keys, key, side="left").astype(pos_dtype))
                hi_parts.append(np.searchsorted(sorted_keys, key, side="right").astype(pos_dtype))
                src_parts.append(src[need])
        del r2, ok, t2, lf, nc, c, c_lo, c_hi, src
    del row, tick0, lon_frac, sorted_keys
    lo = np.concatenate(lo_parts)
    del lo_parts
    counts = np.concatenate(hi_parts)
    del hi_parts
    counts -= lo
    src = np.concatenate(src_parts)
    del src_parts
    keep = np.flatnonzero(counts > 0)
    lo, src, counts = lo[keep], src[keep], counts[keep].astype(np.int64)
    del keep

    max_dlat_deg = max_distance_m / METRES_PER_DEGREE * (1 + 1e-9)
    out_i: list[IntArray] = []
    out_j: list[IntArray] = []
    out_d: list[FloatArray] = []
    cum = np.cumsum(counts)
    start = 0
    while start < counts.size:
        # Chunk boundaries so that each chunk expands to <= _CHUNK_CANDIDATES.
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + _CHUNK_CANDIDATES, side="right"))
        stop = max(stop, start + 1)
        cnt = counts[start:stop]
        total = int(cnt.sum())
        first = np.repeat(np.cumsum(cnt) - cnt, cnt)
        offset = np.arange(total, dtype=np.int64) - first
        i = np.repeat(src[start:stop], cnt)
        j = np.repeat(lo[start:stop], cnt) + offset
        # Each pair once (from its smaller sorted position), and a cheap latitude
        # test before the trigonometry: it discards most of the 3 x 3 block.
        m = (j > i) & (np.abs(lat_s[j] - lat_s[i]) <= max_dlat_deg)
        i, j = i[m], j[m]
        d = haversine_m(lat_s[i], lon_s[i], lat_s[j], lon_s[j])
        m = d <= max_distance_m
        # Back to input positions, smaller first.
        a, b = order[i[m]], order[j[m]]
        out_i.append(np.minimum(a, b))
        out_j.append(np.maximum(a, b))
        out_d.append(d[m])
        start = stop
    if not out_i:
        return empty
    i = np.concatenate(out_i)
    j = np.concatenate(out_j)
    d = np.concatenate(out_d)
    o = np.lexsort((j, i))
    return i[o], j[o], d[o]
