"""End-to-end benchmark: ``stswatch run`` (CSV in, GeoJSON out) on simulated days.

For each size, a simulated MarineCadastre day is written by ``stswatch
simulate`` (not timed), then ``stswatch run FILE --store DIR --out OUT`` runs
in a fresh process; the script prints wall time, rows/s and the child's peak
RSS. This is the figure the README quotes for the whole spine.

    python bench/bench_run.py                 # 1e5, 1e6, 4e6 rows
    python bench/bench_run.py --sizes 4000000 --keep /tmp/bench
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


def run_size(rows: int, work: Path, seed: int) -> dict[str, float]:
    sim_dir = work / f"sim-{rows}"
    subprocess.run(
        [sys.executable, "-m", "stswatch", "simulate", "--out", str(sim_dir),
         "--target-rows", str(rows), "--seed", str(seed)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    files = sorted(sim_dir.glob("AIS_*.csv")) + sorted(sim_dir.glob("AIS_*.zip"))
    csv_rows = sum(sum(1 for _ in f.open("rb")) - 1 for f in files if f.suffix == ".csv")
    store, out = work / f"store-{rows}", work / f"out-{rows}.geojson"
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
    res = subprocess.run(
        [sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True
    )
    measured = json.loads(res.stdout.strip().splitlines()[-1])
    n_features = len(json.loads(out.read_text())["features"])
    return {
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
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="stswatch-bench-run-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"stswatch run end-to-end on simulated MarineCadastre days; cpus={os.cpu_count()}")
    print(f"{'rows':>10} {'seconds':>8} {'rows/s':>12} {'peak RSS MB':>12} {'features':>9}")
    try:
        for rows in args.sizes:
            r = run_size(rows, work, args.seed)
            print(
                f"{r['rows']:>10,} {r['seconds']:>8.2f} {r['rows_per_s']:>12,.0f} "
                f"{r['peak_rss_mb']:>12,.0f} {r['features']:>9}",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
