"""Small simulated AIS days for the demo and the flow tests (no internet needed).

A thin adapter over :mod:`stswatch.pipeline.simulator`: the demo and the tests ask for
"n small days from this date with this seed" and get MarineCadastre-named
files (``AIS_YYYY_MM_DD.csv``) that the flows pick up with source ``local``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

#: Background pings per day; labelled scenarios add their own on top.
SMALL_DAY_ROWS = 5_000

#: Fewer labelled scenarios for tests: ~22k rows a day instead of ~70k, still
#: with two illicit rendezvous among a legitimate transfer and decoys.
LEAN_SCENARIOS = {
    "n_illicit_rendezvous": 2,
    "n_legit_transfers": 1,
    "n_anchorage_crowds": 1,
    "n_passing": 1,
    "n_convoys": 0,
    "n_pair_trawls": 0,
    "n_short_meetings": 1,
    "n_loitering_dark_partner": 0,
}


def simulate_small_days(
    out_dir: Path,
    start: date,
    n_days: int,
    *,
    seed: int,
    target_rows: int = SMALL_DAY_ROWS,
    lean: bool = False,
) -> list[Path]:
    """Write ``n_days`` simulated days from ``start`` into ``out_dir``; return the CSVs.

    ``lean`` keeps only a few labelled scenarios (tests); the default keeps the
    simulator's full mix (the demo: every kind of event and decoy).
    """
    from stswatch.pipeline.simulator import SimulationConfig, simulate, write_marinecadastre

    out_dir.mkdir(parents=True, exist_ok=True)
    scenarios = LEAN_SCENARIOS if lean else {}
    cfg = SimulationConfig(
        start_date=start, n_days=n_days, seed=seed, target_rows=target_rows * n_days, **scenarios
    )
    written = write_marinecadastre(simulate(cfg), out_dir)
    return sorted(Path(p) for p in written if Path(p).name.startswith("AIS_"))
