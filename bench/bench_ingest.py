"""Ingest benchmark: MarineCadastre CSV -> Parquet store, rows/s and peak RSS.

Input is **synthetic by replication**: the 99,999 real rows of
``../shared/data/marinecadastre/AIS_2022_01_03_first99999.csv`` are copied as
many times as needed, copy ``k`` with MMSIs shifted inside their own MID
(flags and MMSI classes stay realistic, copies never collide) and times
shifted by ``k`` seconds. All rows stay on (about) one
UTC day, the hard case: one 10-million-row day sorted and de-duplicated.

Each size runs ``ingest_files`` in a fresh Python subprocess; the child
reports its own wall time for the call and ``ru_maxrss`` (peak resident set
of the whole process, interpreter and imports included).

    .venv/bin/python bench/bench_ingest.py                # 1e5, 1e6, 1e7
    .venv/bin/python bench/bench_ingest.py --sizes 100000 1000000
    .venv/bin/python bench/bench_ingest.py --sizes 10000000 --repeat 3

Issue 2 targets on the 2-core reference machine: >= 1 M rows/s and
<= 1.5 GB peak RSS at 1e7 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STSWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
SOURCE = SHARED / "marinecadastre" / "AIS_2022_01_03_first99999.csv"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from stswatch.pipeline.ingest import ingest_files
t0 = time.perf_counter()
report = ingest_files([Path(sys.argv[1])], Path(sys.argv[2]))
elapsed = time.perf_counter() - t0
print(json.dumps({
    "seconds": elapsed,
    "rows_in": report.rows_in,
    "accepted": report.accepted,
    "quarantined": report.quarantined,
    "balanced": report.balanced,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "cpu_s": sum(getattr(resource.getrusage(resource.RUSAGE_SELF), f)
                 for f in ("ru_utime", "ru_stime")),
}))
"""


def make_input(n_rows: int, out: Path) -> None:
    """Write ``n_rows`` replicated MarineCadastre rows to ``out`` (see module doc)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    header = SOURCE.open().readline().strip().split(",")
    types = dict.fromkeys(header, pa.string())
    types["MMSI"] = pa.int64()
    types["BaseDateTime"] = pa.timestamp("s")
    base = pacsv.read_csv(SOURCE, convert_options=pacsv.ConvertOptions(column_types=types))
    mmsi = base["MMSI"].to_numpy()
    mid = mmsi // 1_000_000
    # keep non-ship MMSIs (base stations, AtoN, invalid ids) as they are
    is_ship = (mmsi >= 200_000_000) & (mmsi < 800_000_000)
    # Copy k of a vessel gets serial (rank + k * n) within its own MID, where
    # rank numbers the MID's n distinct vessels: no two copies collide (while
    # n * copies <= 1e6), so the synthetic day has the real file's dirt rate.
    rank = np.zeros(len(mmsi), dtype=np.int64)
    n_per_mid = np.ones(len(mmsi), dtype=np.int64)
    for m in np.unique(mid[is_ship]):
        sel = is_ship & (mid == m)
        uniq, inverse = np.unique(mmsi[sel], return_inverse=True)
        rank[sel] = inverse
        n_per_mid[sel] = len(uniq)
    # Rows are written as plain text joins (no quoting), exactly like the
    # source file, which carries values such as RAY "CHIEF" TONEY unquoted.
    with out.open("wb") as fh:
        fh.write((",".join(header) + "\n").encode())
        written = 0
        k = 0
        while written < n_rows:
            take = min(base.num_rows, n_rows - written)
            serial = (rank + k * n_per_mid) % 1_000_000
            new_mmsi = np.where(is_ship, mid * 1_000_000 + serial, mmsi)
            ts = pc.add(base["BaseDateTime"], pa.scalar(k, pa.duration("s")))
            cols = [
                pa.array(new_mmsi[:take]).cast(pa.string()),
                pc.strftime(ts.slice(0, take), format="%Y-%m-%dT%H:%M:%S"),
            ]
            cols += [pc.fill_null(base[name].slice(0, take), "") for name in header[2:]]
            lines = pc.binary_join_element_wise(*cols, ",")
            fh.write(("\n".join(lines.to_pylist()) + "\n").encode())
            written += take
            k += 1


def run_size(n_rows: int, workdir: Path, repeat: int = 1) -> list[dict[str, float]]:
    """Ingest one generated input ``repeat`` times, each in a fresh process and store."""
    csv_path = workdir / f"AIS_bench_{n_rows}.csv"
    t0 = time.perf_counter()
    make_input(n_rows, csv_path)
    gen_s = time.perf_counter() - t0
    results = []
    for _ in range(repeat):
        store = workdir / f"store_{n_rows}"
        load = os.getloadavg()[0]
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(csv_path), str(store)],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"child failed for {n_rows} rows:\n{proc.stderr}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["csv_mb"] = csv_path.stat().st_size / 1e6
        result["store_mb"] = sum(p.stat().st_size for p in store.rglob("*.parquet")) / 1e6
        result["gen_s"] = gen_s
        result["load"] = load
        shutil.rmtree(store)
        results.append(result)
    csv_path.unlink()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--workdir", type=Path, default=None, help="temp dir (default: system)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per size (one line each): a shared machine's speed drifts between runs",
    )
    args = parser.parse_args(argv)
    if not SOURCE.is_file():
        print(f"shared sample not found: {SOURCE} (set STSWATCH_SHARED_DATA)", file=sys.stderr)
        return 2
    print(f"input: real rows of {SOURCE.name} replicated with shifted MMSIs/times")
    print(f"machine: {os.cpu_count()} cores; one fresh subprocess per size")
    print(
        "seconds = wall time of ingest_files in the child; cpu s = the child's user+sys "
        "time (all threads, imports included); load = 1-min load average at start "
        "(other work on the machine slows wall time, not CPU time)"
    )
    print(
        "quarantined rows are the real file's dirt (invalid/non-vessel MMSIs, duplicates, "
        "jumps), replicated with it"
    )
    print(
        f"{'rows':>12} {'csv MB':>8} {'seconds':>8} {'rows/s':>12} {'cpu s':>7} "
        f"{'peak RSS MiB':>12} {'accepted':>12} {'quarantined':>12} {'store MB':>9} "
        f"{'load':>5} tally"
    )
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="stswatch-bench-") as tmp:
        for n in args.sizes:
            for r in run_size(n, Path(tmp), args.repeat):
                print(
                    f"{r['rows_in']:>12,} {r['csv_mb']:>8.0f} {r['seconds']:>8.2f} "
                    f"{r['rows_in'] / r['seconds']:>12,.0f} {r['cpu_s']:>7.1f} "
                    f"{r['peak_rss_mb']:>12,.0f} {r['accepted']:>12,} {r['quarantined']:>12,} "
                    f"{r['store_mb']:>9.1f} {r['load']:>5.1f} "
                    f"{'ok' if r['balanced'] else 'MISMATCH'}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
