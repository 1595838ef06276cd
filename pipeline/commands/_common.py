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
    add_watchlist_argument(parser)
    parser.add_argument(
        "--cards",
        type=int,
        default=None,
        metavar="N",
        help="evidence cards (PNG + Markdown) for the N most suspicious events, beside the "
        "GeoJSON in OUT_cards/ (default 50; 0: none)",
    )


def add_watchlist_argument(parser: argparse.ArgumentParser) -> None:
    """``--watchlist FILE`` (repeatable): CSV or OpenSanctions FollowTheMoney JSON lines."""
    parser.add_argument(
        "--watchlist",
        type=Path,
        action="append",
        default=None,
        metavar="FILE",
        help="screen events against a watchlist: CSV (imo,mmsi,name,list,note) or "
        "OpenSanctions FollowTheMoney JSON lines; repeat for several lists",
    )


def load_watchlist_args(paths: list[Path] | None):  # -> Watchlist | None
    """Read the ``--watchlist`` files (WatchlistError names the file and line)."""
    from stswatch.pipeline.watchlist import load_watchlists

    watchlist = load_watchlists(paths or [])
    if watchlist is not None:
        print(f"watchlist: {watchlist.describe()}")
    return watchlist


def analyst_options(args: argparse.Namespace) -> dict:
    """``watchlist`` and ``cards_top_n`` for the spine from ``--watchlist`` and ``--cards``.

    Raises ValueError (a malformed list's WatchlistError is one) with the
    message to show; checked before any work starts.
    """
    if args.cards is not None and args.cards < 0:
        raise ValueError("--cards must be >= 0")
    return {"watchlist": load_watchlist_args(args.watchlist), "cards_top_n": args.cards}


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
