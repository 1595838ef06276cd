"""Detection benchmark: pings/s and peak RSS of ``detect_frames`` at 1e5, 1e6, 1e7 pings.

Usage::

    .venv/bin/python bench/bench_detect.py                 # 1e5 1e6 1e7
    .venv/bin/python bench/bench_detect.py --sizes 1e5 1e6 --breakdown

Data are synthetic (the shared samples hold at most 1e5 real rows): one UTC
day of vessels reporting ~every 3 minutes on average (random instants): 45 %
steaming at 8-15 kn on gently turning courses, 14 % slow "fishing" drift and
1 % in meeting pairs (steam in, drift 200 m apart for 2-8 h, steam away, to
be found), all in a mid-ocean box far from land; and 40 % sitting in
anchorage crowds of ~40 ships 2-5 km off real ports between 30 and 45 N (the
dense, quadratic-prone case for the pair search and what the learned
anchorage rule must remove). Until issue 14 the crowds sat in the mid-ocean
box too; a crowd sitting still 500 km out at sea is now, rightly, a learned
STS area whose meetings are reported, so that workload no longer measured
the anchorage rule: compare versions on the same generator.

Columns: ``detect s`` is wall-clock, ``CPU s`` the process's CPU time over
the same call (all threads): on a shared machine the wall clock also measures
the neighbours' load, so compare CPU seconds between runs (``stages_cpu_s``
splits them per stage like ``stages_s`` does the wall clock).
``true found`` = planted meeting pairs reported; ``other`` = reported pairs
that were not planted (chance encounters of slow drifting "fishing"
vessels that really are < 500 m apart and slow for hours).

Each size runs in two fresh subprocesses: one generates the pings into a
Parquet file (cached under ``--cache``), the other reads it and times
``detect_frames``; so the reported peak RSS is the detection process alone
(input frame included), unpolluted by generation or by earlier sizes.
Reference data (coast raster rows of the data's waters, ports) is loaded
before timing, as in a long-running worker; its load time is printed
separately.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PINGS_PER_VESSEL = 480  # ~ every 3 minutes over a day
DAY0 = np.datetime64("2024-03-05T00:00:00", "ms")
M_PER_DEG = 111_195.0


def generate(n_pings: int, seed: int = 0):  # -> pd.DataFrame
    """Vectorised synthetic day: see module docstring. Returns the true meeting pairs too."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_v = max(n_pings // PINGS_PER_VESSEL, 10)
    per = n_pings // n_v
    t_s = np.sort(rng.uniform(0, 86_400, size=(n_v, per)), axis=1)
    kind = rng.choice(4, size=n_v, p=[0.45, 0.40, 0.14, 0.01])  # steam, crowd, fish, meet
    lat0 = rng.uniform(30.0, 45.0, n_v)
    lon0 = rng.uniform(-50.0, -30.0, n_v)
    lat = np.empty((n_v, per))
    lon = np.empty((n_v, per))
    sog = np.empty((n_v, per), dtype=np.float32)

    # Steaming: speed along a gently turning course, integrated over the fixes.
    s = kind == 0
    if s.any():
        k = int(s.sum())
        speed = rng.uniform(8, 15, k)[:, None]
        head = rng.uniform(0, 2 * np.pi, k)[:, None] + 0.5 * np.sin(
            t_s[s] / rng.uniform(3_000, 20_000, k)[:, None]
        )
        dt = np.diff(t_s[s], axis=1, prepend=t_s[s][:, :1])
        step_m = speed * 0.514444 * dt
        north = np.cumsum(step_m * np.cos(head), axis=1)
        east = np.cumsum(step_m * np.sin(head), axis=1)
        lat[s] = lat0[s, None] + north / M_PER_DEG
        lon[s] = lon0[s, None] + east / (M_PER_DEG * np.cos(np.radians(lat0[s, None])))
        sog[s] = speed + rng.normal(0, 0.3, (k, per))

    # Anchorage crowds: ~40 ships within 3 km of a centre 2-5 km off a real port,
    # barely moving.
    c = kind == 1
    if c.any():
        k = int(c.sum())
        n_crowds = max(k // 40, 1)
        centre = rng.integers(0, n_crowds, k)
        crowd_lat, crowd_lon = _port_anchorages(rng, n_crowds)
        clat, clon = crowd_lat[centre], crowd_lon[centre]
        r = 3_000 * np.sqrt(rng.random(k))
        a = rng.uniform(0, 2 * np.pi, k)
        lat[c] = (clat + r * np.cos(a) / M_PER_DEG)[:, None] + rng.normal(0, 1e-4, (k, per))
        lon[c] = (clon + r * np.sin(a) / (M_PER_DEG * np.cos(np.radians(clat))))[
            :, None
        ] + rng.normal(0, 1e-4, (k, per))
        sog[c] = rng.uniform(0, 0.3, (k, per))

    # Fishing: slow random-walk drift.
    f = kind == 2
    if f.any():
        k = int(f.sum())
        lat[f] = lat0[f, None] + np.cumsum(rng.normal(0, 2e-4, (k, per)), axis=1)
        lon[f] = lon0[f, None] + np.cumsum(rng.normal(0, 2e-4, (k, per)), axis=1)
        sog[f] = rng.uniform(0.5, 4.0, (k, per))

    # Meeting pairs: consecutive "meet" vessels pair up at a point P.
    m_idx = np.flatnonzero(kind == 3)
    m_idx = m_idx[: m_idx.size // 2 * 2]
    truth = []
    if m_idx.size:
        a_idx, b_idx = m_idx[0::2], m_idx[1::2]
        k = a_idx.size
        h0 = rng.uniform(2, 14, k) * 3600
        # >= 2.5 h so the gridded close ticks surely span the 2 h rule.
        h1 = h0 + rng.uniform(2.5, 8, k) * 3600
        plat, plon = lat0[a_idx], lon0[a_idx]
        if c.any():
            # Meet > 25 km from any anchorage crowd: a meeting inside a learned
            # anchorage is (rightly) not reported, which would blur the check.
            for _ in range(20):
                d_deg = np.hypot(
                    plat[:, None] - crowd_lat[None, :],
                    (plon[:, None] - crowd_lon[None, :]) * np.cos(np.radians(plat[:, None])),
                )
                near = (d_deg * M_PER_DEG < 25_000).any(axis=1)
                if not near.any():
                    break
                plat[near] = rng.uniform(30.0, 45.0, int(near.sum()))
                plon[near] = rng.uniform(-50.0, -30.0, int(near.sum()))
        for idx, sep in ((a_idx, 0.0), (b_idx, 200.0)):
            head_in = rng.uniform(0, 2 * np.pi, k)[:, None]
            head_out = rng.uniform(0, 2 * np.pi, k)[:, None]
            t = t_s[idx]
            before = np.minimum(t - h0[:, None], 0) * 10 * 0.514444  # metres (<= 0)
            after = np.maximum(t - h1[:, None], 0) * 10 * 0.514444
            north = before * np.cos(head_in) + after * np.cos(head_out)
            east = before * np.sin(head_in) + after * np.sin(head_out) + sep
            lat[idx] = plat[:, None] + north / M_PER_DEG
            lon[idx] = plon[:, None] + east / (M_PER_DEG * np.cos(np.radians(plat[:, None])))
            stopped = (t >= h0[:, None]) & (t <= h1[:, None])
            sog[idx] = np.where(stopped, 0.4, 10.0)
        truth = list(
            zip((a_idx + 200_000_000).tolist(), (b_idx + 200_000_000).tolist(), strict=True)
        )

    mmsi = np.repeat(np.arange(n_v, dtype=np.int32) + 200_000_000, per)
    ts = DAY0 + (t_s.ravel() * 1000).astype("timedelta64[ms]")
    frame = pd.DataFrame(
        {
            "mmsi": mmsi,
            "timestamp": pd.Series(ts).dt.tz_localize("UTC"),
            "lat": lat.ravel(),
            "lon": ((lon.ravel() + 180.0) % 360.0) - 180.0,
            "sog_kn": np.clip(sog.ravel(), 0, None).astype(np.float32),
        }
    )
    return frame, truth


def _port_anchorages(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres 2-5 km from ``n`` real ports (World Port Index and more) between 30 and 45 N."""
    from stswatch.geo.ports import load_ports

    ports = load_ports()
    band = ports[(ports["lat"] > 30.0) & (ports["lat"] < 45.0)]
    pick = band.iloc[rng.integers(0, len(band), n)]
    d = rng.uniform(2_000, 5_000, n)
    a = rng.uniform(0, 2 * np.pi, n)
    lat = pick["lat"].to_numpy() + d * np.cos(a) / M_PER_DEG
    lon = pick["lon"].to_numpy() + d * np.sin(a) / (M_PER_DEG * np.cos(np.radians(lat)))
    return lat, lon


def _proc_status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    """High-water mark of resident memory (VmHWM), MB."""
    value = _proc_status_mb("VmHWM")
    return value if value == value else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    return _proc_status_mb("VmRSS")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _child_generate(n: int, path: Path) -> None:
    frame, truth = generate(n)
    frame.to_parquet(path, index=False)
    path.with_suffix(".truth.json").write_text(json.dumps(truth))


def _child_detect(path: Path, breakdown: bool) -> None:
    from stswatch.pipeline.config import Config
    from stswatch.pipeline.detection import detect_frames

    t = time.perf_counter()
    import stswatch.geo.coast
    import stswatch.geo.ports

    for name in (
        "stswatch.detectors.anchorages",
        "stswatch.detectors.gaps",
        "stswatch.detectors.loitering",
    ):
        # Sibling detectors (scipy etc.) are imported once per worker, not per run.
        with contextlib.suppress(ImportError):
            __import__(name)

    probe = np.array([40.0]), np.array([-40.0])
    stswatch.geo.coast.distance_to_coast_m(*probe)
    stswatch.geo.ports.distance_to_port_m(*probe)
    ref_s = time.perf_counter() - t

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    positions = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    pa.default_memory_pool().release_unused()  # as detect_range does
    truth = {tuple(p) for p in json.loads(path.with_suffix(".truth.json").read_text())}
    # A long-running worker has the fine coast raster rows of its waters in
    # memory after its first day: load those the data touch (a sparse sample
    # reaches every 1° row) so that the timing below is detection's own.
    t = time.perf_counter()
    stswatch.geo.coast.distance_to_coast_m(
        positions["lat"].to_numpy()[::997], positions["lon"].to_numpy()[::997]
    )
    ref_s += time.perf_counter() - t
    load_peak_mb = _peak_rss_mb()
    rss_input_mb = _current_rss_mb()
    # Reset the high-water mark so the peak below is detection's own (input
    # frame resident, Parquet decoding transients excluded).
    reset = _reset_peak_rss()
    cfg = Config()
    t, cpu = time.perf_counter(), time.process_time()
    result = detect_frames(positions, None, cfg)
    detect_s = time.perf_counter() - t
    cpu_s = time.process_time() - cpu
    peak_mb = _peak_rss_mb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = set(
        zip(result.rendezvous["mmsi_a"].tolist(), result.rendezvous["mmsi_b"].tolist(), strict=True)
    )
    out = {
        "pings": len(positions),
        "vessels": int(positions["mmsi"].nunique()),
        "ticks": len(result.resampled),
        "detect_s": detect_s,
        "cpu_s": cpu_s,
        "pings_per_s": len(positions) / detect_s,
        "peak_rss_mb": peak_mb,
        "rss_after_load_mb": rss_input_mb,
        "load_peak_rss_mb": load_peak_mb,
        "reference_load_s": ref_s,
        "events": len(result.rendezvous),
        "true_pairs": len(truth),
        "true_found": len(truth & found),
        "other_events": len(found - truth),
        "stages_s": {k: round(v, 2) for k, v in result.timings_s.items()},
        "stages_cpu_s": {k: round(v, 2) for k, v in getattr(result, "cpu_timings_s", {}).items()},
    }
    if breakdown:
        from stswatch.detectors.rendezvous import find_rendezvous
        from stswatch.detectors.tracks import resample_tracks

        t = time.perf_counter()
        resampled = resample_tracks(positions, cfg.tracks)
        out["resample_s"] = time.perf_counter() - t
        t = time.perf_counter()
        cands = find_rendezvous(
            resampled, cfg.rendezvous, resample_interval_min=cfg.tracks.resample_interval_min
        )
        out["pairs_s"] = time.perf_counter() - t
        out["candidate_events"] = len(cands.events)
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", default=["1e5", "1e6", "1e7"])
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "stswatch-bench")
    p.add_argument("--breakdown", action="store_true", help="also time resampling and pairs")
    p.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._child:
        mode, value = args._child
        if mode == "generate":
            n, path = value.split(":", 1)
            _child_generate(int(n), Path(path))
        else:
            _child_detect(Path(value), args.breakdown)
        return 0

    args.cache.mkdir(parents=True, exist_ok=True)
    print(
        f"{'pings':>10} {'vessels':>8} {'detect s':>9} {'CPU s':>6} {'pings/s':>11} "
        f"{'peak RSS MB':>12} "
        f"{'events':>7} {'true found':>10} {'other':>6}"
    )
    for size in args.sizes:
        n = int(float(size))
        path = args.cache / f"pings_{n}.parquet"
        if not path.exists() or not path.with_suffix(".truth.json").exists():
            subprocess.run(
                [sys.executable, __file__, "--_child", "generate", f"{n}:{path}"],
                check=True,
                cwd=REPO,
            )
        cmd = [sys.executable, __file__, "--_child", "detect", str(path)]
        if args.breakdown:
            cmd.append("--breakdown")
        res = subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, text=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(
            f"{r['pings']:>10,} {r['vessels']:>8,} {r['detect_s']:>9.2f} {r['cpu_s']:>6.2f} "
            f"{r['pings_per_s']:>11,.0f} {r['peak_rss_mb']:>12,.0f} {r['events']:>7} "
            f"{r['true_found']:>4}/{r['true_pairs']:<5} {r['other_events']:>6}"
        )
        extra = {
            k: r[k]
            for k in (
                "ticks",
                "stages_s",
                "stages_cpu_s",
                "rss_after_load_mb",
                "load_peak_rss_mb",
                "reference_load_s",
                "resample_s",
                "pairs_s",
                "candidate_events",
            )
            if k in r
        }
        print("           " + json.dumps(extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
