"""Small helpers shared by CLI commands: argument types and error reporting."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from stswatch.pipeline.config import Config


def iso_date(text: str) -> date:
    """argparse type for YYYY-MM-DD with a clear message."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def fail(message: str, code: int = 2) -> int:
    """Print an error for a person (no traceback) and return the exit code."""
    print(f"stswatch: error: {message}", file=sys.stderr)
    return code


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out`` and ``--top``: what ``run`` and ``detect`` publish and summarise."""
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="OUT.geojson",
        help="GeoJSON FeatureCollection to write",
    )
    parser.add_argument("--top", type=int, default=10, help="events listed in the summary")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, got {text!r}")
    return value


def add_lock_argument(parser: argparse.ArgumentParser) -> None:
    """``--lock-timeout-s``: how long a command that writes the store waits for another writer."""
    parser.add_argument(
        "--lock-timeout-s",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="wait this long for another writer of the store to finish "
        "(default: $STSWATCH_LOCK_TIMEOUT_S or 1800)",
    )


def store_cfg(args: argparse.Namespace, cfg: Config | None = None) -> Config:
    """``cfg`` (default: the defaults) with the lock timeout of ``--lock-timeout-s``,
    else ``$STSWATCH_LOCK_TIMEOUT_S``, else the config's own."""
    from stswatch.pipeline.config import DEFAULT_CONFIG
    from stswatch.pipeline.store_lock import lock_timeout_from_env

    cfg = cfg if cfg is not None else DEFAULT_CONFIG
    timeout_s = getattr(args, "lock_timeout_s", None)
    if timeout_s is None:
        timeout_s = lock_timeout_from_env(cfg.store.lock_timeout_s)
    return cfg.with_overrides(store={"lock_timeout_s": timeout_s})


def add_detection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--sts-areas``: what ``run`` and ``detect`` take into account when detecting."""
    parser.add_argument(
        "--sts-areas",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help=(
            "GeoJSON of your own STS/lightering areas (Polygon/MultiPolygon features, or Points "
            "with a radius_m property; each with a name), added to the shipped reference; "
            "repeatable"
        ),
    )


def detection_config(args: argparse.Namespace) -> Config:
    """The run's Config: defaults plus ``--sts-areas`` files, each checked now.

    Checking before anything runs keeps the promise of one clear line and exit
    code 2 for a bad file, with nothing ingested or half-published.
    """
    from stswatch.pipeline.sts_areas import config_with_area_files

    return config_with_area_files(tuple(str(f) for f in args.sts_areas))
