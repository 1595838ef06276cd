"""Dirty rows, as real archives carry them, at a small configurable fraction.

Kinds (each counted, so a cleaning test can check its quarantine tally):
``sentinel`` (lat 91 / lon 181, the AIS "not available" values, in place),
``bad_mmsi`` (a copy under an MMSI that is not 9 digits or not a ship MID),
``duplicate`` (an exact copy of a row) and ``glitch`` (one fix moved 0.5-2°,
an implied speed of hundreds of knots to both neighbours, in place).
Only background traffic is dirtied, so labelled scenario tracks stay intact.
"""

from __future__ import annotations

import numpy as np

from stswatch.pipeline.simulator.geometry import is_land

DIRTY_KINDS = ("sentinel", "bad_mmsi", "duplicate", "glitch")
#: Invalid MMSIs seen in real feeds: zeros, test ids, 8 and 10 digits, AtoN-like.
BAD_MMSIS = np.array([0, 1, 123456789, 12345678, 1234567890, 999999999, 111111111, 993660001])


def dirty_rows(
    rng: np.random.Generator,
    columns: dict[str, np.ndarray],
    candidates: np.ndarray,
    fraction: float,
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Dirty ``fraction`` of all rows, choosing among row indices ``candidates``.

    ``columns`` is a dict of equal-length row arrays (must hold mmsi, lat, lon
    and t_s) and is modified in place; returns the arrays (copies appended at
    the end) and counts.
    """
    n_rows = len(columns["mmsi"])
    n_dirty = min(round(fraction * n_rows), len(candidates))
    counts = dict.fromkeys(DIRTY_KINDS, 0)
    if n_dirty == 0:
        return columns, counts
    chosen = rng.choice(candidates, size=n_dirty, replace=False)
    kind = rng.integers(0, len(DIRTY_KINDS), size=n_dirty)
    out = columns  # modified in place: the caller's arrays are fresh and private

    sent = chosen[kind == 0]
    out["lat"][sent] = 91.0
    out["lon"][sent] = 181.0
    counts["sentinel"] = len(sent)

    glitch = chosen[kind == 3]
    dlat = rng.uniform(0.5, 2.0, len(glitch)) * rng.choice([-1.0, 1.0], len(glitch))
    dlon = rng.uniform(0.5, 2.0, len(glitch)) * rng.choice([-1.0, 1.0], len(glitch))
    new_lat = np.clip(out["lat"][glitch] + dlat, -89.0, 89.0)
    new_lon = (out["lon"][glitch] + dlon + 180.0) % 360.0 - 180.0
    at_sea = ~is_land(new_lat, new_lon)  # a glitch is bad data, but never on land
    out["lat"][glitch[at_sea]] = new_lat[at_sea]
    out["lon"][glitch[at_sea]] = new_lon[at_sea]
    counts["glitch"] = int(at_sea.sum())

    bad = chosen[kind == 1]
    dup = chosen[kind == 2]
    extra = np.r_[bad, dup]
    for k, v in out.items():
        out[k] = np.concatenate([v, v[extra]])
    out["mmsi"][n_rows : n_rows + len(bad)] = rng.choice(BAD_MMSIS, size=len(bad))
    counts["bad_mmsi"] = len(bad)
    counts["duplicate"] = len(dup)
    return out, counts
