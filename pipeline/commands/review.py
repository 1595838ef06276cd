"""``stswatch review``: record analysts' verdicts on ranked events in the store.

    stswatch review import FILE.geojson --store DIR --reviewer NAME
    stswatch review set EVENT_ID --verdict illicit|legitimate|unsure [--note TEXT]
                        --store DIR [--reviewer NAME]
    stswatch review list --store DIR

``import`` reads the ``verdict`` and ``note`` attributes an analyst filled in
(QGIS edits them in the attribute table) of the ranked features of a GeoJSON
that stswatch wrote, or of the GeoPackage beside it. Unknown event ids or
verdict values: one error line, exit code 2, nothing written. Importing the
same file twice changes nothing.
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

from stswatch.pipeline.commands._common import fail

HELP = "record analysts' verdicts (illicit / legitimate / unsure) on ranked events"
VERDICT_CHOICES = ("illicit", "legitimate", "unsure")


def _default_reviewer() -> str | None:
    """``$STSWATCH_REVIEWER``, else the login name (a verdict always names its author)."""
    try:
        return os.environ.get("STSWATCH_REVIEWER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    store_help = "Parquet store root the events were published from"

    imp = sub.add_parser(
        "import", help="record the verdicts set in a GeoJSON (edited in QGIS, geojson.io...)"
    )
    imp.add_argument(
        "file",
        type=Path,
        metavar="FILE.geojson",
        help="a GeoJSON stswatch wrote, or the GeoPackage beside it (.gpkg), with verdicts set",
    )
    imp.add_argument("--store", type=Path, required=True, metavar="DIR", help=store_help)
    imp.add_argument("--reviewer", required=True, metavar="NAME", help="who made the verdicts")

    one = sub.add_parser("set", help="record one verdict")
    one.add_argument("event_id", metavar="EVENT_ID")
    one.add_argument("--verdict", required=True, type=str.lower, choices=VERDICT_CHOICES)
    one.add_argument("--note", default=None, help="why (shown on the card and in the GeoJSON)")
    one.add_argument("--store", type=Path, required=True, metavar="DIR", help=store_help)
    one.add_argument(
        "--reviewer",
        default=_default_reviewer(),
        metavar="NAME",
        help="who made the verdict (default: $STSWATCH_REVIEWER, else your login name)",
    )

    show = sub.add_parser("list", help="print the latest verdict of every reviewed event")
    show.add_argument("--store", type=Path, required=True, metavar="DIR", help=store_help)


def _list(store: Path) -> int:
    from stswatch.pipeline.verdicts import latest_verdicts

    latest = latest_verdicts(store)
    if latest.empty:
        print(f"no verdicts in {store}")
        return 0
    for row in latest.to_dict("records"):
        note = f"  {row['note']}" if isinstance(row["note"], str) and row["note"] else ""
        print(
            f"{row['event_id']}  {row['verdict']:<10}  {row['reviewer']}  "
            f"{row['reviewed_at']:%Y-%m-%d %H:%M} UTC{note}"
        )
    counts = latest["verdict"].value_counts()
    print(", ".join(f"{v}: {counts.get(v, 0)}" for v in VERDICT_CHOICES))
    return 0


def run(args: argparse.Namespace) -> int:
    from stswatch.pipeline.verdicts import (
        VerdictError,
        VerdictInput,
        record_verdicts,
        verdicts_from_file,
    )

    if not (args.store / "rendezvous").is_dir():
        return fail(
            f"{args.store} has no recorded events (no rendezvous/ folder); "
            "publish days into it with `stswatch run` or `stswatch detect` first"
        )
    if args.review_command == "list":
        return _list(args.store)
    try:
        if args.review_command == "import":
            verdicts = verdicts_from_file(args.file)
            origin = f"review import {args.file.name}"
        else:
            verdicts = [VerdictInput(args.event_id, args.verdict, args.note)]
            origin = "review set"
        result = record_verdicts(args.store, verdicts, reviewer=args.reviewer or "", origin=origin)
    except VerdictError as exc:
        return fail(f"{exc}; nothing was recorded")
    except OSError as exc:
        return fail(f"cannot write verdicts into {args.store}: {exc}", code=1)
    for event_id, why in sorted(result.stale.items()):
        print(f"skipped {event_id}: {why}")
    print(f"stswatch review: {result.summary()}")
    return 0
