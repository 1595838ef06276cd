"""Simulator benchmark: rows/s and peak RSS of ``simulate`` + ``write_marinecadastre``.

Usage::

    .venv/bin/python bench/bench_simulate.py                  # 1e5 1e6 4e6 rows
    .venv/bin/python bench/bench_simulate.py --sizes 1e5 1e6 --region fiji

Each size runs in a fresh subprocess (so peak RSS is that size alone, not the
largest size seen so far) and simulates one UTC day of the Gulf of Mexico at the
requested ``target_rows`` with the default scenario mix, then writes the
MarineCadastre CSV. Printed: rows produced, simulate seconds, write seconds,
total rows/s, CPU seconds and peak RSS. Fixed costs (land-mask band and coast
raster from the on-disk cache, port list) are inside the simulate time: they
are what a user pays per run. The machine's load average is printed too,
because a busy 2-core box inflates wall-clock figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one(target_rows: int, region: str, seed: int) -> dict:
    """Run inside the child process: simulate, write, report."""
    from stswatch.pipeline.simulator import SimulationConfig, simulate, write_marinecadastre

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    data = simulate(SimulationConfig(seed=seed, region=region, target_rows=target_rows))
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_marinecadastre(data, tmp)
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": len(data.positions),
        "simulate_s": t1 - t0,
        "write_s": t2 - t1,
        "cpu_s": time.process_time() - cpu0,
        "csv_mb": size_mb,
        "peak_rss_mb": peak_mb,
        "true_rendezvous": int(data.truth["is_rendezvous"].sum()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1e5", "1e6", "4e6"])
    parser.add_argument("--region", default="gulf_of_mexico")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one(args.child, args.region, args.seed)))
        return 0
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; region {args.region}")
    print(
        f"{'target':>9} {'rows':>10} {'sim s':>7} {'write s':>8} {'total s':>8} "
        f"{'rows/s':>10} {'cpu s':>7} {'CSV MB':>7} {'peak RSS MB':>12}"
    )
    for size in args.sizes:
        n = int(float(size))
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(n),
                "--region",
                args.region,
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        total = r["simulate_s"] + r["write_s"]
        print(
            f"{n:>9.0e} {r['rows']:>10,} {r['simulate_s']:>7.1f} {r['write_s']:>8.1f} "
            f"{total:>8.1f} {r['rows'] / total:>10,.0f} {r['cpu_s']:>7.1f} "
            f"{r['csv_mb']:>7.0f} {r['peak_rss_mb']:>12,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
