"""``stswatch run FILE... --store DIR --out OUT.geojson``: the whole spine in one call."""

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
    store_cfg,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="AIS files: MarineCadastre/DMA CSV or NMEA logs (.zip/.gz accepted)",
    )
    parser.add_argument(
        "--store",
        type=Path,
        required=True,
        metavar="DIR",
        help="Parquet store root (created if missing)",
    )
    add_output_arguments(parser)
    add_detection_arguments(parser)
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is only shown on a terminal anyway)",
    )
    add_lock_argument(parser)


def run(args: argparse.Namespace) -> int:
    missing = [str(f) for f in args.files if not f.exists()]
    if missing:
        return fail(f"no such file: {', '.join(missing)}")
    try:  # both checked before any work starts: one line and exit code 2
        cfg = store_cfg(args, detection_config(args))
        options = analyst_options(args)
    except ValueError as exc:
        return fail(str(exc))
    from stswatch.pipeline.ingest import IngestError
    from stswatch.pipeline.preflight import PreflightError
    from stswatch.pipeline.spine import run_files
    from stswatch.pipeline.storage import StoreError

    try:
        result = run_files(
            args.files,
            args.store,
            args.out,
            cfg=cfg,
            # tqdm's carriage returns belong on a terminal, not in log files
            progress=not args.no_progress and sys.stderr.isatty(),
            top_n=args.top,
            **options,
        )
    except (PreflightError, IngestError, StoreError, ValueError, OSError) as exc:
        return fail(str(exc))
    print(result.ingest.summary())
    if result.publish is None:
        print(f"no positions accepted; wrote an empty FeatureCollection to {args.out}")
        return 0
    print()
    print(result.publish.summary_markdown())
    sys.stdout.flush()
    return 0
