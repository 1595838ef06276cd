"""Watchlist benchmark: reading a list of 100,000 vessels and screening a day's events against it.

Usage::

    .venv/bin/python bench/bench_watchlist.py                      # 1e4 1e5 entries, both formats
    .venv/bin/python bench/bench_watchlist.py --entries 1e5 --events 50 500 5000

Lists are synthetic but shaped like real ones: every entry has a name, ~80%
an IMO, ~40% an MMSI; the FollowTheMoney file also carries a second name
(alias) for a third of the vessels, a flag, topics and datasets, and a
person entity every tenth line (skipped, as in OpenSanctions exports). Events
have two vessels each, with three static reports per vessel (identity
changes); one event in ten has a vessel on the list (by IMO, MMSI or name).
"entries" counts a FollowTheMoney vessel's aliases as extra rows. Each
(format, size) runs in a fresh subprocess so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WORDS = ("OCEAN", "SEA", "STAR", "GLORY", "PRINCESS", "FORTUNE", "NOBLE", "GRAND", "PEARL", "WIND")


def _name(i: int) -> str:
    return f"{WORDS[i % 10]} {WORDS[(i // 10) % 10]} {i}"


def write_list(folder: Path, fmt: str, n: int) -> Path:
    rng = np.random.default_rng(0)
    has_imo = rng.random(n) < 0.8
    has_mmsi = rng.random(n) < 0.4
    if fmt == "csv":
        path = folder / "list.csv"
        with path.open("w") as fh:
            fh.write("imo,mmsi,name,list,note\n")
            for i in range(n):
                imo = 9_000_000 + i if has_imo[i] else ""
                mmsi = 200_000_000 + i if has_mmsi[i] else ""
                fh.write(f"{imo},{mmsi},{_name(i)},BENCH LIST,entry {i}\n")
        return path
    path = folder / "list.ftm.json"
    with path.open("w") as fh:
        for i in range(n):
            if i % 10 == 0:
                fh.write(json.dumps({"id": f"p{i}", "schema": "Person", "properties": {}}) + "\n")
            props = {
                "name": [_name(i)] + ([f"EX {_name(i)}"] if i % 3 == 0 else []),
                "imoNumber": [f"IMO{9_000_000 + i}"] if has_imo[i] else [],
                "mmsi": [str(200_000_000 + i)] if has_mmsi[i] else [],
                "flag": ["pa"],
                "topics": ["sanction"],
            }
            entity = {"id": f"v{i}", "schema": "Vessel", "datasets": ["bench"], "properties": props}
            fh.write(json.dumps(entity) + "\n")
    return path


def make_events(n_events: int, n_entries: int):
    import pandas as pd

    rng = np.random.default_rng(1)
    mmsi_a = 300_000_000 + np.arange(n_events) * 2
    mmsi_b = mmsi_a + 1
    imo_a = np.full(n_events, np.nan)
    listed = np.arange(n_events) % 10 == 0
    imo_a[listed] = 9_000_000 + rng.integers(0, n_entries, listed.sum())
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n_events)],
            "mmsi_a": mmsi_a,
            "mmsi_b": mmsi_b,
            "imo_a": imo_a,
            "imo_b": np.nan,
            "vessel_name_a": [f"SHIP {i}" for i in range(n_events)],
            "vessel_name_b": [_name(i) if i % 20 == 5 else f"BOAT {i}" for i in range(n_events)],
        }
    )
    mmsi = np.r_[mmsi_a, mmsi_b]
    vessels = pd.DataFrame(
        {
            "mmsi": np.repeat(mmsi, 3).astype(np.int32),
            "imo": np.nan,
            "vessel_name": [f"V{m} {k}" for m in mmsi for k in range(3)],
        }
    )
    return events, vessels


def child(fmt: str, n_entries: int, n_events: list[int]) -> dict:
    from stswatch.pipeline.screening import screen_events
    from stswatch.pipeline.watchlist import read_watchlist

    with tempfile.TemporaryDirectory() as tmp:
        path = write_list(Path(tmp), fmt, n_entries)
        size_mb = path.stat().st_size / 1e6
        t = time.perf_counter()
        wl = read_watchlist(path)
        read_s = time.perf_counter() - t
    screens = {}
    for n in n_events:
        events, vessels = make_events(n, n_entries)
        t = time.perf_counter()
        hits = screen_events(events, vessels, wl)
        screens[n] = {
            "seconds": round(time.perf_counter() - t, 3),
            "events_with_hits": int(sum(bool(h) for h in hits)),
        }
    return {
        "format": fmt,
        "vessels": n_entries,
        "entries": len(wl),
        "file_mb": round(size_mb, 1),
        "read_s": round(read_s, 3),
        "screen": screens,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", nargs="+", default=["1e4", "1e5"])
    parser.add_argument("--events", nargs="+", type=int, default=[50, 500, 5000])
    parser.add_argument("--formats", nargs="+", default=["csv", "ftm"])
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        fmt, n = args.child
        print(json.dumps(child(fmt, int(n), args.events)))
        return
    head = f"{'format':>6} {'vessels':>8} {'entries':>8} {'file MB':>8} {'read s':>7}"
    head += "".join(f" {f'screen {n} ev s':>16}" for n in args.events) + f" {'peak RSS MB':>12}"
    print(head)
    for fmt in args.formats:
        for size in args.entries:
            n = int(float(size))
            cmd = [sys.executable, __file__, "--child", fmt, str(n), "--events"]
            proc = subprocess.run(
                cmd + [str(e) for e in args.events],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            line = f"{r['format']:>6} {r['vessels']:>8} {r['entries']:>8} {r['file_mb']:>8}"
            line += f" {r['read_s']:>7}"
            line += "".join(f" {r['screen'][str(e)]['seconds']:>16}" for e in args.events)
            print(line + f" {r['peak_rss_mb']:>12}")


if __name__ == "__main__":
    main()
