"""``stswatch detect --store DIR --start D [--end D] --out OUT.geojson``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stswatch.pipeline.commands._common import (
    add_detection_arguments,
    add_lock_argument,
    add_output_arguments,
    analyst_options,
    detection_config,
    fail,
    iso_date,
    store_cfg,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", type=Path, required=True, metavar="DIR", help="Parquet store root"
    )
    parser.add_argument(
        "--start",
        type=iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="first UTC day (events starting on or after it)",
    )
    parser.add_argument(
        "--end",
        type=iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="last UTC day, inclusive (default: --start)",
    )
    add_output_arguments(parser)
    add_detection_arguments(parser)
    add_lock_argument(parser)


def run(args: argparse.Namespace) -> int:
    end = args.end or args.start
    if end < args.start:
        return fail(f"--end {end} is before --start {args.start}")
    if not (args.store / "positions").is_dir():
        return fail(
            f"{args.store} is not an stswatch store (no positions/ folder); "
            "run `stswatch ingest` first"
        )
    try:  # both checked before any work starts: one line and exit code 2
        cfg = store_cfg(args, detection_config(args))
        options = analyst_options(args)
    except ValueError as exc:
        return fail(str(exc))
    from stswatch.pipeline.preflight import (
        PreflightError,
        check_output_path,
        describe_days,
        held_days,
        preflight,
    )
    from stswatch.pipeline.spine import detect_and_publish
    from stswatch.pipeline.storage import StoreError

    held, missing = held_days(args.store, args.start, end)
    if not held:
        stored = held_days_in_store(args.store)
        return fail(
            f"the store {args.store} holds no positions for {describe_days(missing)} "
            f"(it holds {describe_days(stored)}); nothing written"
        )
    if missing:
        print(
            f"stswatch: warning: no positions stored for {describe_days(missing)}", file=sys.stderr
        )
    try:
        ready = preflight(store_root=args.store, out_dir=check_output_path(args.out), model=None)
        result = detect_and_publish(
            args.store,
            args.start,
            end,
            args.out,
            cfg=cfg,
            model=ready.model,
            top_n=args.top,
            **options,
        )
    except (PreflightError, StoreError, ValueError, OSError) as exc:
        return fail(str(exc))
    print(result.summary_markdown())
    return 0


def held_days_in_store(store: Path) -> list:
    """Every day the store holds positions for (for the error message)."""
    from stswatch.pipeline.storage import Store

    return Store(store).days("positions")
