"""Evidence-card benchmark: the card phase of a national day, its time and memory.

Usage::

    .venv/bin/python bench/bench_cards.py                        # 3.9 M-row day, top 50, 2 workers
    .venv/bin/python bench/bench_cards.py --top 10 50 100 --workers 1 2 --work /tmp/cards

The day is a national-size simulated day like ``bench/bench_run.py``'s
(``--target-rows 4000000 --seed 7``: ~3.9 M rows) but with ``--scenarios``
times the simulator's default labelled scenarios, so it holds more ranked
events than the default 50 cards (the default mix gives ~10). It is ingested
once with ``stswatch run --cards 0``. Each measurement runs in a fresh
process the way ``stswatch run`` does: card workers started (``card_pool``),
the day detected and scored meanwhile (not timed), then :func:`write_cards`
for the top N events (timed). Reported: wall seconds, CPU seconds of the
process and of its card workers, the process's RSS before the cards and its
peak, the largest worker's peak RSS, and the PNG bytes written.

``--run-ab`` also times whole ``stswatch run`` calls on the same day with
``--cards 0`` and ``--cards N``, interleaved (A, B, A, B ...: this shared
machine changes speed within minutes), each into a fresh store.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def simulate_day(sim: Path, rows: int, seed: int, scenarios: int) -> None:
    from dataclasses import fields

    from stswatch.pipeline.simulator import SimulationConfig, simulate, write_marinecadastre

    base = SimulationConfig()
    scaled = [f.name for f in fields(base) if f.name.startswith("n_")]
    scaled = [n for n in scaled if n not in ("n_days", "n_background_vessels")]
    counts = {name: getattr(base, name) * scenarios for name in scaled}
    write_marinecadastre(simulate(SimulationConfig(seed=seed, target_rows=rows, **counts)), sim)


def prepare(work: Path, rows: int, seed: int, scenarios: int) -> tuple[Path, list[Path], str]:
    sim = work / f"sim-{rows}-x{scenarios}"
    if not sim.is_dir():
        simulate_day(sim, rows, seed, scenarios)
    store = work / f"store-{rows}-x{scenarios}"
    files = sorted(sim.glob("AIS_*.csv"))
    if not store.is_dir():
        subprocess.run(
            [sys.executable, "-m", "stswatch", "run", *map(str, files), "--store", str(store),
             "--out", str(work / "ingest.geojson"), "--no-progress", "--cards", "0"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    day = files[0].stem.removeprefix("AIS_").replace("_", "-")
    return store, files, day


def _descendants() -> tuple[float, float]:
    """CPU seconds of all descendant processes (forkserver, workers), largest peak RSS in MB.

    The workers are the forkserver's children, not ours: getrusage never
    sees them, so they are read from /proc (VmHWM: the peak resident set).
    """
    import psutil

    cpu, peak = 0.0, 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            times = proc.cpu_times()
            cpu += times.user + times.system
            status = Path(f"/proc/{proc.pid}/status").read_text()
            hwm = next(ln for ln in status.splitlines() if ln.startswith("VmHWM:"))
            peak = max(peak, int(hwm.split()[1]) / 1024)
        except (psutil.Error, OSError, StopIteration):
            continue
    return cpu, peak


def child(store: Path, day: str, top: int, workers: int, out: Path) -> dict:
    from datetime import date

    import psutil

    from stswatch.pipeline.analyst import annotate_for_review, rank_events
    from stswatch.pipeline.cards.pool import card_pool
    from stswatch.pipeline.cards.writer import write_cards
    from stswatch.pipeline.config import DEFAULT_CONFIG
    from stswatch.pipeline.detection import detect_range
    from stswatch.pipeline.map_output import nearest_ports
    from stswatch.pipeline.scoring import score_events

    d = date.fromisoformat(day)
    cfg = DEFAULT_CONFIG
    with card_pool(workers, top) as pool:  # as the spine does: workers start with detection
        result = detect_range(store, d, d, cfg)
        scored = score_events(result, result.vessels)
        ranked = annotate_for_review(scored, result.vessels, store, watchlist=None, cfg=cfg)
        ranked = rank_events(ranked)
        ports = nearest_ports(ranked)
        rss_before = psutil.Process().memory_info().rss / 2**20
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cpu0, t0 = time.process_time(), time.perf_counter()
        paths = write_cards(
            ranked,
            result.positions,
            result.vessels,
            out,
            top_n=top,
            workers=workers,
            ports=ports,
            pool=pool,
        )
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        workers_cpu, workers_peak = _descendants()
    return {
        "events": len(ranked),
        "pings": len(result.positions),
        "cards": len(paths),
        "seconds": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "workers_cpu_s": round(workers_cpu, 2),
        "rss_before_mb": round(rss_before),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_before_mb": round(peak_before),
        "worker_peak_rss_mb": round(workers_peak),
        "png_mb": round(sum((out.parent / p).stat().st_size for p in paths.values()) / 1e6, 1),
    }


def run_ab(work: Path, files: list[Path], cards: list[int], repeat: int) -> None:
    """``stswatch run`` with each card count in turn, fresh store each time."""
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(json.dumps({'s': time.perf_counter() - t, 'rss_mb': "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n"
    )
    print(f"stswatch run, interleaved (load {os.getloadavg()[0]:.2f})")
    print(f"{'cards':>6} {'seconds':>8} {'peak RSS MB':>12}")
    for _ in range(repeat):
        for n in cards:
            store = work / f"ab-store-{n}"
            shutil.rmtree(store, ignore_errors=True)
            cmd = [sys.executable, "-m", "stswatch", "run", *map(str, files), "--store",
                   str(store), "--out", str(work / f"ab-{n}.geojson"), "--no-progress",
                   "--cards", str(n)]  # fmt: skip
            res = subprocess.run(
                [sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True
            )
            m = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"{n:>6} {m['s']:>8.2f} {m['rss_mb']:>12,.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, nargs="+", default=[50])
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scenarios", type=int, default=6, help="x the default event mix")
    parser.add_argument("--run-ab", action="store_true", help="also time stswatch run A/B")
    parser.add_argument("--work", type=Path, default=None, help="work folder (kept)")
    parser.add_argument("--child", nargs=5, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        store, day, top, workers, out = args.child
        print(json.dumps(child(Path(store), day, int(top), int(workers), Path(out))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="stswatch-bench-cards-"))
    work.mkdir(parents=True, exist_ok=True)
    store, files, day = prepare(work, args.rows, args.seed, args.scenarios)
    print(f"evidence cards on the {day} day in {store} (load {os.getloadavg()[0]:.2f})")
    head = "   top workers events     pings cards seconds  cpu_s wrk_cpu_s "
    print(head + "rss_before peak_before peak  wrk_peak png_MB")
    for _ in range(args.repeat):
        for top in args.top:
            for workers in args.workers:
                out = work / f"cards-{top}-{workers}" / "day.geojson"
                cmd = [sys.executable, __file__, "--child", str(store), day, str(top)]
                proc = subprocess.run(
                    [*cmd, str(workers), str(out)],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=REPO,
                )
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(
                    f"{top:>6} {workers:>7} {r['events']:>6} {r['pings']:>9,} {r['cards']:>5} "
                    f"{r['seconds']:>7} {r['cpu_s']:>6} {r['workers_cpu_s']:>9} "
                    f"{r['rss_before_mb']:>10} {r['peak_before_mb']:>11} {r['peak_rss_mb']:>5} "
                    f"{r['worker_peak_rss_mb']:>9} {r['png_mb']:>6}",
                    flush=True,
                )
    if args.run_ab:
        run_ab(work, files, [0, *args.top], args.repeat)


if __name__ == "__main__":
    main()
