"""``stswatch ingest``: files, or days downloaded by date, into the Parquet store.

    stswatch ingest PATH... --store DIR
    stswatch ingest --source marinecadastre|dma --date YYYY-MM-DD [--end YYYY-MM-DD]
                    --store DIR [--cache DIR] [--base-url URL]

Prints the closing tally (rows in, accepted, quarantined by reason,
partitions written). Bad input (missing file, unknown format, bad dates)
gives a one-line error and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from stswatch.pipeline.commands._common import add_lock_argument, fail, iso_date, store_cfg

SOURCES = ("marinecadastre", "dma")


def _iso_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="AIS files (MarineCadastre/DMA CSV, NMEA log; .gz/.zip accepted)",
    )
    parser.add_argument("--store", type=Path, required=True, metavar="DIR", help="store root")
    parser.add_argument(
        "--source", choices=SOURCES, help="download days from this public source instead"
    )
    parser.add_argument(
        "--date", type=iso_date, metavar="YYYY-MM-DD", help="first UTC day to download"
    )
    parser.add_argument(
        "--end",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="last UTC day to download, inclusive (default: --date)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="download cache (default: DIR/../cache beside the store)",
    )
    parser.add_argument("--base-url", metavar="URL", help="override the source's base URL")
    parser.add_argument(
        "--default-time",
        type=_iso_datetime,
        metavar="ISO8601",
        help="time for NMEA lines that carry none (otherwise they are quarantined)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is only shown on a terminal anyway)",
    )
    add_lock_argument(parser)


def run(args: argparse.Namespace) -> int:
    if args.source is None:
        if args.date is not None or args.end is not None:
            return fail("--date/--end need --source marinecadastre|dma")
        if not args.paths:
            return fail("give input files, or --source with --date to download days")
        paths = list(args.paths)
    else:
        if args.paths:
            return fail("give either input files or --source/--date, not both")
        if args.date is None:
            return fail(f"--source {args.source} needs --date YYYY-MM-DD")
        end = args.end or args.date
        if end < args.date:
            return fail(f"--end {end} is before --date {args.date}")
        cache = args.cache or args.store.resolve().parent / "cache"
        try:
            from stswatch.pipeline.download import download_range
        except ImportError:
            return fail(
                "downloads are not available in this installation (stswatch.pipeline.download)"
            )
        try:
            paths = download_range(args.source, args.date, end, cache, base_url=args.base_url)
        except (OSError, ValueError, RuntimeError) as exc:
            return fail(f"download failed: {exc}", code=1)

    from stswatch.pipeline.ingest import IngestError, ingest_files
    from stswatch.pipeline.storage import StoreError

    cfg = store_cfg(args)
    try:
        report = ingest_files(
            paths,
            args.store,
            cfg=cfg,
            progress=not args.no_progress and sys.stderr.isatty(),
            default_time=args.default_time,
        )
    except (IngestError, StoreError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write the store at {args.store}: {exc}", code=1)
    print(report.summary())
    return 0 if report.balanced else 1
