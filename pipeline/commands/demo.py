"""``stswatch demo``: the per-day Prefect flow on one simulated day, no server needed.

Simulates one small day into ``./.stswatch/demo/input``, runs the
``stswatch-day`` flow on it with source ``local`` in Prefect's ephemeral mode
(a temporary local API on SQLite under ``PREFECT_HOME``), then prints the run
summary and where the GeoJSON is. Works on a fresh machine with no server.
"""

from __future__ import annotations

import argparse
import os
import shutil
from datetime import date
from pathlib import Path

from stswatch.pipeline.commands._common import fail, iso_date

HELP = "run the daily Prefect flow on a simulated day (embedded default)"

#: A fixed, past day: the demo is reproducible and never "in the future".
DEMO_DAY = date(2024, 6, 3)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(".stswatch/demo"),
        help="demo folder (input/, store/, out/); default ./.stswatch/demo",
    )
    parser.add_argument("--day", type=iso_date, default=DEMO_DAY, help="simulated UTC day")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    parser.add_argument(
        "--keep", action="store_true", help="keep earlier demo outputs (default: start fresh)"
    )


def _prefect_env(home: Path) -> None:
    """Offline, private Prefect defaults, set before Prefect is imported."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str((home.parent / "prefect").absolute()))
    # The temporary API runs its database migrations on first use; on a busy
    # 2-core machine that takes longer than Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def run(args: argparse.Namespace) -> int:
    home: Path = args.home.absolute()
    _prefect_env(home)
    input_dir, store, out_dir = home / "input", home / "store", home / "out"
    if not args.keep:
        for folder in (input_dir, store, out_dir):
            shutil.rmtree(folder, ignore_errors=True)

    from stswatch.flows.demo_data import simulate_small_days

    print(f"stswatch demo: simulating {args.day} (seed {args.seed}) into {input_dir}")
    files = simulate_small_days(input_dir, args.day, 1, seed=args.seed, lean=True)
    if not files:
        return fail(f"the simulator wrote no AIS_*.csv into {input_dir}")
    api = os.environ.get("PREFECT_API_URL")
    print(
        f"stswatch demo: running flow stswatch-day on {files[0].name} "
        + (f"against {api}" if api else "(Prefect ephemeral mode, no server)")
    )

    from stswatch.flows.day import day_flow

    state = day_flow(
        args.day,
        source="local",
        store=str(store),
        out_dir=str(out_dir),
        input_dir=str(input_dir),
        overwrite=True,
        return_state=True,
    )
    data = state.result(raise_on_failure=False)
    print()
    if isinstance(data, dict):
        print(data.get("summary_markdown", ""))
        print()
        top = data.get("top_events", [])[:5]
        if top:
            print("most suspicious events:")
            for e in top:
                dark = "  (dark transfer)" if e.get("kind") == "dark_rendezvous" else ""
                print(
                    f"  {e['score']:.2f}  {e['vessel_a']} / {e['vessel_b']}{dark}  "
                    f"{e['start_utc']}  {e['duration_h']} h  at {e['lat']}, {e['lon']}"
                )
                if e.get("reasons"):
                    print(f"        {e['reasons']}")
            print()
        for path in data.get("geojson", []):
            print(f"GeoJSON: {path}")
    print(f"store:   {store}")
    if not state.is_completed():
        return fail(f"flow run ended {state.name}: {state.message}", code=1)
    print("open the GeoJSON in QGIS or https://geojson.io; UI: README 'Operating with Prefect'")
    return 0
