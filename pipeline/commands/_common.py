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
