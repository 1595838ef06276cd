"""Small simulated AIS days for the demo and the flow tests (no internet needed).

A thin adapter over :mod:`pipeline.simulator`: the demo and the tests ask for
"n small days from this date with this seed" and get MarineCadastre-named
files (``AIS_YYYY_MM_DD.csv``) that the flows pick up with source ``local``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

#: A few thousand pings per day: seconds to simulate and process, yet enough
#: traffic for the simulator to place a rendezvous among decoys.
SMALL_DAY_ROWS = 20_000


def simulate_small_days(
    out_dir: Path, start: date, n_days: int, *, seed: int, target_rows: int = SMALL_DAY_ROWS
) -> list[Path]:
    """Write ``n_days`` simulated days from ``start`` into ``out_dir``; return the CSVs."""
    from pipeline.simulator import SimulationConfig, simulate, write_marinecadastre

    out_dir.mkdir(parents=True, exist_ok=True)
    data = simulate(
        SimulationConfig(start=start, days=n_days, seed=seed, target_rows=target_rows * n_days)
    )
    written = write_marinecadastre(data, out_dir)
    files = sorted(Path(p) for p in written) if written else sorted(out_dir.glob("AIS_*.csv"))
    return [p for p in files if p.name.startswith("AIS_")]
