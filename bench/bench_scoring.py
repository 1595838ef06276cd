"""Scoring benchmark: events/s and peak RSS of feature computation + model + reasons.

Usage::

    .venv/bin/python bench/bench_scoring.py                    # 100 1000 10000 events
    .venv/bin/python bench/bench_scoring.py --sizes 1e2 1e3

Data are synthetic: N rendezvous events, each between two fresh vessels that
report every 2 minutes from 12 h before to 16 h after a 4 h meeting (~840
pings per vessel, so 1e4 events = 1.7e7 pings of context), plus a static
report per vessel, spread over a 40° box so recurrence is a real spatial
query. A daily national run has tens to hundreds of candidate events, so
1e4 is far above need. Each size runs in a fresh subprocess so its peak RSS
is its own (input frames included). The model is the shipped one
(data/model), or a model fitted on synthetic features when none is shipped.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def make_inputs(n_events: int, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-03-05T00:00Z")
    start = t0 + pd.to_timedelta(rng.uniform(0, 20 * 3600, n_events).round(), unit="s")
    start = start.floor("10min")
    lat = rng.uniform(-20, 20, n_events)
    lon = rng.uniform(-40, 0, n_events)
    mmsi_a = 200_000_000 + np.arange(n_events) * 2
    mmsi_b = mmsi_a + 1
    rv = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n_events)],
            "mmsi_a": mmsi_a,
            "mmsi_b": mmsi_b,
            "start_time": start,
            "end_time": start + pd.Timedelta(hours=4),
            "duration_h": 4.0,
            "min_distance_m": rng.uniform(30, 300, n_events),
            "median_distance_m": rng.uniform(100, 450, n_events),
            "mean_lat": lat,
            "mean_lon": lon,
            "min_distance_to_coast_m": rng.uniform(5e3, 3e5, n_events),
            "min_distance_to_port_m": rng.uniform(1e4, 3e5, n_events),
            "min_distance_to_anchorage_m": rng.uniform(1e4, 3e5, n_events),
        }
    )
    for side in ("a", "b"):
        rv[f"vessel_name_{side}"] = "BENCH"
        rv[f"imo_{side}"] = np.where(rng.random(n_events) < 0.2, np.nan, 9_000_000.0)
        rv[f"ship_type_{side}"] = 80
        rv[f"length_m_{side}"] = rng.uniform(60, 330, n_events)
        rv[f"draught_before_m_{side}"] = 10.0
        rv[f"draught_after_m_{side}"] = 10.0 + rng.choice([0, 0, 2.0, -2.0], n_events)
        rv[f"gap_before_h_{side}"] = np.nan
        rv[f"gap_after_h_{side}"] = np.nan
    per = 28 * 30 + 1  # 2-minute pings over 28 h
    offs = np.arange(per) * 120_000
    base = (start - pd.Timedelta(hours=12)).as_unit("ms").asi8
    parts = []
    for mm in (mmsi_a, mmsi_b):
        ts = (base[:, None] + offs[None, :]).ravel()
        parts.append(
            pd.DataFrame(
                {
                    "mmsi": np.repeat(mm, per).astype(np.int32),
                    "timestamp": pd.to_datetime(ts, unit="ms", utc=True),
                    "lat": np.repeat(lat, per),
                    "lon": np.repeat(lon, per),
                    "sog_kn": rng.uniform(0, 1.5, per * n_events).astype(np.float32),
                    "cog_deg": np.float32(90),
                    "heading_deg": np.float32(90),
                    "transceiver_class": "A",
                }
            )
        )
    positions = pd.concat(parts, ignore_index=True)
    vessels = pd.DataFrame(
        {
            "mmsi": np.r_[mmsi_a, mmsi_b].astype(np.int32),
            "timestamp": np.r_[start, start] - pd.Timedelta(hours=6),
            "vessel_name": "BENCH",
            "imo": 9_000_000,
            "callsign": "B",
            "draught_m": 10.0,
        }
    )
    return rv, positions, vessels


def child(n_events: int) -> dict:
    import pandas as pd

    from stswatch.pipeline.detection import DetectionResult
    from stswatch.pipeline.scoring import score_events
    from stswatch.pipeline.scoring.persistence import DEFAULT_MODEL_DIR, MODEL_FILE, load_model

    if (DEFAULT_MODEL_DIR / MODEL_FILE).exists():
        model = load_model(DEFAULT_MODEL_DIR)
    else:
        sys.path.insert(0, str(REPO / "tests"))
        from helpers_scoring import fitted_model

        model = fitted_model(n=600)
    rv, positions, vessels = make_inputs(n_events)
    result = DetectionResult(rv, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), positions)
    t = time.perf_counter()
    out = score_events(result, vessels, model=model)
    elapsed = time.perf_counter() - t
    assert len(out) == n_events
    return {
        "events": n_events,
        "pings": len(positions),
        "seconds": round(elapsed, 3),
        "events_per_s": round(n_events / elapsed, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1e2", "1e3", "1e4"])
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return
    print(f"{'events':>8} {'pings':>11} {'seconds':>9} {'events/s':>10} {'peak RSS MB':>12}")
    for size in args.sizes:
        n = int(float(size))
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{r['events']:>8} {r['pings']:>11} {r['seconds']:>9} "
            f"{r['events_per_s']:>10} {r['peak_rss_mb']:>12}"
        )


if __name__ == "__main__":
    main()
