"""Small helpers shared by CLI commands: argument types and error reporting."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


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


def store_cfg(args: argparse.Namespace):  # -> Config
    """The default config with the lock timeout of ``--lock-timeout-s`` / the environment."""
    from stswatch.pipeline.config import DEFAULT_CONFIG
    from stswatch.pipeline.store_lock import lock_timeout_from_env

    timeout_s = getattr(args, "lock_timeout_s", None)
    if timeout_s is None:
        timeout_s = lock_timeout_from_env(DEFAULT_CONFIG.store.lock_timeout_s)
    return DEFAULT_CONFIG.with_overrides(store={"lock_timeout_s": timeout_s})
