"""Throughput and memory of the reference-geography queries.

Prints points/s of ``stswatch.geo.coast.distance_to_coast_m`` and
``stswatch.geo.ports.distance_to_port_m`` at 1e4, 1e5 and 1e6 points (best of 3 after
warm-up), the cold-start cost of each (first call in a fresh process: raster
load or build, port list merge) and peak RSS.

Points: real positions of the shared MarineCadastre day (US coasts, mostly
within 50 km of shore) replicated with ~1 km jitter when the shared data is
present, else uniform over the world's oceans; the source is printed.

    .venv/bin/python bench/bench_geo.py            # warm cache
    .venv/bin/python bench/bench_geo.py --build    # also time a from-scratch raster build
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000, 1_000_000)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _shared_data() -> Path:
    env = os.environ.get("STSWATCH_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def sample_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    rng = np.random.default_rng(seed)
    csv = _shared_data() / "marinecadastre" / "AIS_2022_01_03_first99999.csv"
    if csv.exists():
        import pandas as pd

        real = pd.read_csv(csv, usecols=["LAT", "LON"]).dropna()
        idx = rng.integers(0, len(real), n)
        lat = real["LAT"].to_numpy()[idx] + rng.normal(0, 0.01, n)
        lon = real["LON"].to_numpy()[idx] + rng.normal(0, 0.01, n)
        return np.clip(lat, -89.9, 89.9), lon, f"MarineCadastre 2022-01-03 x{n / len(real):.1f}"
    lat = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-60)), np.sin(np.radians(70)), n)))
    return lat, rng.uniform(-180, 180, n), "uniform random (shared data absent)"


def _cold(what: str, cache_dir: str | None) -> None:
    """Child process: time the first call, print seconds and peak RSS."""
    if cache_dir:
        os.environ["STSWATCH_CACHE_DIR"] = cache_dir
    t0 = time.perf_counter()
    if what == "coast-all":
        from stswatch.geo.coast import warm_up

        warm_up()
    else:
        if what == "coast":
            from stswatch.geo.coast import distance_to_coast_m as fn
        else:
            from stswatch.geo.ports import distance_to_port_m as fn
        fn(np.array([27.0]), np.array([-90.0]))
    print(f"{time.perf_counter() - t0:.2f} {_peak_rss_mb():.0f}")


def _run_cold(what: str, cache_dir: str | None) -> str:
    cmd = [sys.executable, __file__, "--_cold", what]
    if cache_dir:
        cmd += ["--_cache", cache_dir]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    secs, rss = res.stdout.split()
    return f"{float(secs):6.2f} s, peak RSS {rss} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="time a from-scratch raster build")
    parser.add_argument("--_cold", help=argparse.SUPPRESS)
    parser.add_argument("--_cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._cold:
        _cold(args._cold, args._cache)
        return

    print("cold start (fresh process, first call):")
    if args.build:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"  coast, empty cache, one point (1 row):  {_run_cold('coast', tmp)}")
        with tempfile.TemporaryDirectory() as tmp:
            print(f"  coast, empty cache, all 180 rows:       {_run_cold('coast-all', tmp)}")
    print(f"  coast, cached, one point:               {_run_cold('coast', None)}")
    print(f"  coast, cached, all 180 rows:            {_run_cold('coast-all', None)}")
    print(f"  ports, merge lists + KD-tree:           {_run_cold('ports', None)}")

    from stswatch.geo.coast import distance_to_coast_m
    from stswatch.geo.ports import distance_to_port_m

    lat_all, lon_all, source = sample_points(max(SIZES))
    print(f"points: {source}")
    distance_to_coast_m(lat_all[:10], lon_all[:10])
    distance_to_port_m(lat_all[:10], lon_all[:10])
    print(f"{'function':<22}{'points':>10}{'best s':>10}{'points/s':>14}")
    for name, fn in (
        ("distance_to_coast_m", distance_to_coast_m),
        ("distance_to_port_m", distance_to_port_m),
    ):
        for n in SIZES:
            lat, lon = lat_all[:n], lon_all[:n]
            best = min(_timed(fn, lat, lon) for _ in range(3))
            print(f"{name:<22}{n:>10,}{best:>10.3f}{n / best:>14,.0f}")
    _bench_detectors()
    print(f"peak RSS (this process): {_peak_rss_mb():.0f} MB")


def synthetic_ticks(n_rows: int, seed: int = 1) -> pd.DataFrame:
    """A resampled-like frame: vessels of one day (144 ticks) in the open Gulf of Mexico.

    Vessels alternate 6 h slow (0.5 kn) and 6 h fast (12 kn), with phases set so
    half of them have a 6 h slow run (a loitering event) far offshore.
    """
    rng = np.random.default_rng(seed)
    per_vessel = 144
    n_vessels = max(n_rows // per_vessel, 1)
    vessel = np.repeat(np.arange(n_vessels), per_vessel)
    k = np.tile(np.arange(per_vessel), n_vessels)
    slow = (k // 36 + vessel) % 2 == 0
    lat0 = np.repeat(rng.uniform(24.0, 27.0, n_vessels), per_vessel)
    lon0 = np.repeat(rng.uniform(-93.0, -86.0, n_vessels), per_vessel)
    t0 = np.datetime64("2024-03-01T00:00", "ms")
    return pd.DataFrame(
        {
            "mmsi": (vessel + 200_000_000).astype(np.int32),
            "timestamp": pd.Series(t0 + k * np.timedelta64(600_000, "ms")).dt.tz_localize("UTC"),
            "lat": lat0 + k * 0.002,
            "lon": lon0 + k * 0.002,
            "sog_kn": np.where(slow, 0.5, 12.0).astype(np.float32),
            "segment": vessel.astype(np.int32),
            "interpolated": False,
        }
    )


def _bench_detectors() -> None:
    """Rows/s of the single-vessel detectors over synthetic frames (one day per vessel)."""
    from stswatch.detectors.anchorages import learn_anchorages
    from stswatch.detectors.gaps import detect_gaps
    from stswatch.detectors.loitering import detect_loitering
    from stswatch.pipeline.config import Config

    cfg = Config()
    print("detectors (synthetic: one day of 10-min ticks per vessel in the open Gulf;")
    print("gaps: every 3rd tick, 1 vessel in 16 silent for 7 h):")
    print(f"{'function':<22}{'rows':>10}{'best s':>10}{'rows/s':>14}{'events':>9}")
    for n in (100_000, 1_000_000):
        frame = synthetic_ticks(n)
        # drop a 7 h block from every 16th vessel to create gaps
        v = frame["mmsi"].to_numpy() - 200_000_000
        k = np.tile(np.arange(144), len(frame) // 144)
        holes = (v % 16 == 0) & (k >= 30) & (k < 72)
        sparse = frame[~holes].iloc[::3]
        for name, call, data in (
            ("detect_loitering", lambda f: detect_loitering(f, cfg), frame),
            ("detect_gaps", lambda f: detect_gaps(f, cfg.gaps), sparse),
            ("learn_anchorages", lambda f: learn_anchorages(f, cfg.port_filter), frame),
        ):
            times, out = [], None
            for _ in range(2):
                t0 = time.perf_counter()
                out = call(data)
                times.append(time.perf_counter() - t0)
            best = min(times)
            print(
                f"{name:<22}{len(data):>10,}{best:>10.3f}{len(data) / best:>14,.0f}{len(out):>9,}"
            )


def _timed(fn, lat: np.ndarray, lon: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn(lat, lon)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
