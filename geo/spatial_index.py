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


def _no_pairs() -> tuple[IntArray, IntArray, FloatArray]:
    return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)


def _column(lon_frac: FloatArray, n_cols: IntArray) -> IntArray:
    """Column of each longitude fraction in rows of ``n_cols`` columns."""
    return np.minimum((lon_frac * n_cols).astype(np.int64), n_cols - 1)


def _key_shifts(n_rows: int, n_cols_of_row: IntArray, tick0: IntArray) -> tuple[int, int]:
    """Bit offsets of the row and the tick in a cell key ``(tick, row, col)`` packed in an int64."""
    col_bits = int(n_cols_of_row.max()).bit_length()
    row_bits = int(n_rows).bit_length()
    tick_bits = max(int(tick0.max()).bit_length(), 1)
    if tick_bits + row_bits + col_bits > 62:
        raise ValueError("tick range too large for the spatial hash key")
    return col_bits, col_bits + row_bits


class _CellSearch:
    """The points sorted by cell key ``(tick, row, col)``, and the bracketing of their neighbours.

    Work happens in sorted order: the neighbour queries are then (nearly)
    sorted too, which lets np.searchsorted reuse its last bracket and keeps
    memory access sequential (5x faster than random order). ``order`` maps
    sorted positions back to input positions; ``lat``/``lon`` are sorted.
    """

    def __init__(self, tick: IntArray, lat: FloatArray, lon: FloatArray, cell_size_m: float):
        n_rows, n_cols_of_row = _grid(cell_size_m)
        row_height_deg = cell_size_m / METRES_PER_DEGREE
        row = np.clip(((lat + 90.0) / row_height_deg).astype(np.int64), 0, n_rows - 1)
        lon_frac = ((lon + 180.0) % 360.0) / 360.0  # [0, 1)
        tick0 = tick - tick.min()
        self.n_rows, self.n_cols_of_row = n_rows, n_cols_of_row
        self.row_shift, self.tick_shift = _key_shifts(n_rows, n_cols_of_row, tick0)

        keys = self.cell_key(row, _column(lon_frac, n_cols_of_row[row]), tick0)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        del keys
        row = row[order]
        tick0 = tick0[order]
        lon_frac = lon_frac[order]
        self.order, self.lat, self.lon = order, lat[order], lon[order]
        self.sorted_keys, self.row, self.tick0, self.lon_frac = sorted_keys, row, tick0, lon_frac

    def cell_key(self, r: IntArray, c: IntArray, t: IntArray) -> IntArray:
        return (t << self.tick_shift) | (r << self.row_shift) | c

    def candidate_ranges(self) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.integer], IntArray]:
        """``(lo, src, counts)``: sorted positions ``lo .. lo + counts`` may be near point ``src``.

        Brackets, per point and neighbour row, a contiguous run of sorted keys:
        columns c-1..c+1 of one (tick, row) are adjacent in key order. Wrapped
        columns (the antimeridian seam) are added as separate one-column ranges.
        Each pair is kept from the point that sorts first (j > i later), so only
        keys >= the point's own can matter: the row above (all of c-1..c+1) and
        the own row from column c on, plus the seam column nc-1 when c == 0.
        The row below never holds a later key and is not searched at all.
        Empty ranges are dropped. The per-point cell arrays are released here,
        before the ranges are joined, to keep the peak memory low.
        """
        n = self.row.size
        # Positions fit in int32 for any realistic day; halves the bracket arrays.
        pos_dtype = np.int32 if n < 2**31 - 1 else np.int64
        lo_parts: list[npt.NDArray[np.integer]] = []
        hi_parts: list[npt.NDArray[np.integer]] = []
        src_parts: list[npt.NDArray[np.integer]] = []
        for dr in (0, 1):
            self._bracket_row(dr, pos_dtype, lo_parts, hi_parts, src_parts)
        del self.row, self.tick0, self.lon_frac, self.sorted_keys
        lo = np.concatenate(lo_parts)
        del lo_parts
        counts = np.concatenate(hi_parts)
        del hi_parts
        counts -= lo
        src = np.concatenate(src_parts)
        del src_parts
        keep = np.flatnonzero(counts > 0)
        return lo[keep], src[keep], counts[keep].astype(np.int64)

    def _bracket_row(
        self,
        dr: int,
        pos_dtype: type[np.integer],
        lo_parts: list[npt.NDArray[np.integer]],
        hi_parts: list[npt.NDArray[np.integer]],
        src_parts: list[npt.NDArray[np.integer]],
    ) -> None:
        """Append the key ranges of neighbour row ``row + dr`` (main run and seam columns)."""
        sorted_keys, cell_key = self.sorted_keys, self.cell_key
        r2 = self.row + dr
        ok = (r2 >= 0) & (r2 < self.n_rows)
        if ok.all():
            src = np.arange(self.row.size, dtype=pos_dtype)
            t2, lf = self.tick0, self.lon_frac
        else:
            src = np.flatnonzero(ok).astype(pos_dtype)
            r2, t2, lf = r2[ok], self.tick0[ok], self.lon_frac[ok]
        nc = self.n_cols_of_row[r2]
        c = _column(lf, nc)
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


def _pairs_in_ranges(
    cells: _CellSearch,
    lo: npt.NDArray[np.integer],
    src: npt.NDArray[np.integer],
    counts: IntArray,
    max_distance_m: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Expand the candidate ranges into pairs, chunk by chunk, and keep those within range.

    Returns input positions ``(i, j, distance_m)``, ``i < j``, sorted by ``(i, j)``.
    """
    lat_s, lon_s, order = cells.lat, cells.lon, cells.order
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
        return _no_pairs()
    i = np.concatenate(out_i)
    j = np.concatenate(out_j)
    d = np.concatenate(out_d)
    o = np.lexsort((j, i))
    return i[o], j[o], d[o]


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

    Steps: sort the points by cell key (:class:`_CellSearch`), bracket each
    point's later neighbours in the sorted keys
    (:meth:`_CellSearch.candidate_ranges`), then expand and test the
    candidates by distance (:func:`_pairs_in_ranges`).
    """
    if cell_size_m < max_distance_m:
        raise ValueError("cell_size_m must be >= max_distance_m")
    tick = np.asarray(tick, dtype=np.int64)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if tick.size < 2:
        return _no_pairs()
    cells = _CellSearch(tick, lat, lon, cell_size_m)
    lo, src, counts = cells.candidate_ranges()
    return _pairs_in_ranges(cells, lo, src, counts, max_distance_m)
