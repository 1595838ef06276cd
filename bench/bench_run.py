"""End-to-end benchmark: ``stswatch run`` (CSV in, GeoJSON out) on simulated days.

For each size, a simulated MarineCadastre day is written by ``stswatch
simulate`` (not timed), then ``stswatch run FILE --store DIR --out OUT`` runs
in a fresh process; the script prints wall time, rows/s and the child's peak
RSS. This is the figure the README quotes for the whole spine.

    python bench/bench_run.py                 # 1e5, 1e6, 4e6 rows
    python bench/bench_run.py --sizes 4000000 --keep /tmp/bench
    python bench/bench_run.py --sizes 4000000 --cards 0 50 --repeat 3   # cards A/B, interleaved

With several ``--cards`` values each size is simulated once and the runs
alternate between them (A, B, A, B ...: this shared machine changes speed
within minutes), each into a fresh store; the time of the card phase is
what ``--cards 50`` adds over ``--cards 0``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def simulate_day(rows: int, work: Path, seed: int) -> list[Path]:
    sim_dir = work / f"sim-{rows}"
    if not sim_dir.is_dir():
        subprocess.run(
            [sys.executable, "-m", "stswatch", "simulate", "--out", str(sim_dir),
             "--target-rows", str(rows), "--seed", str(seed)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return sorted(sim_dir.glob("AIS_*.csv")) + sorted(sim_dir.glob("AIS_*.zip"))


def run_size(rows: int, work: Path, seed: int, cards: int | None = None) -> dict[str, float]:
    files = simulate_day(rows, work, seed)
    csv_rows = sum(sum(1 for _ in f.open("rb")) - 1 for f in files if f.suffix == ".csv")
    tag = f"{rows}" if cards is None else f"{rows}-cards{cards}"
    store, out = work / f"store-{tag}", work / f"out-{tag}.geojson"
    shutil.rmtree(store, ignore_errors=True)
    # measure the child in a wrapper so each size gets its own ru_maxrss
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "dt = time.perf_counter() - t\n"
        "print(json.dumps({'s': dt, 'rss_mb': "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n"
    )
    cmd = [sys.executable, "-m", "stswatch", "run", *map(str, files),
           "--store", str(store), "--out", str(out), "--no-progress"]  # fmt: skip
    if cards is not None:
        cmd += ["--cards", str(cards)]
    res = subprocess.run(
        [sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True
    )
    measured = json.loads(res.stdout.strip().splitlines()[-1])
    n_features = len(json.loads(out.read_text())["features"])
    cards_dir = out.parent / f"{out.stem}_cards"
    n_cards = len(list(cards_dir.glob("*.png"))) if cards_dir.is_dir() else 0
    return {
        "cards": n_cards,
        "rows": csv_rows,
        "seconds": measured["s"],
        "rows_per_s": csv_rows / measured["s"],
        "peak_rss_mb": measured["rss_mb"],
        "features": n_features,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    parser.add_argument(
        "--cards", type=int, nargs="+", default=[None], help="evidence cards per run (A/B)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and --cards value")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="stswatch-bench-run-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"stswatch run end-to-end on simulated MarineCadastre days; cpus={os.cpu_count()}")
    print(
        f"{'rows':>10} {'cards':>6} {'seconds':>8} {'rows/s':>12} {'peak RSS MB':>12} "
        f"{'features':>9}"
    )
    try:
        for rows in args.sizes:
            for _ in range(args.repeat):
                for cards in args.cards:
                    r = run_size(rows, work, args.seed, cards)
                    print(
                        f"{r['rows']:>10,} {r['cards']:>6} {r['seconds']:>8.2f} "
                        f"{r['rows_per_s']:>12,.0f} {r['peak_rss_mb']:>12,.0f} "
                        f"{r['features']:>9}",
                        flush=True,
                    )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
