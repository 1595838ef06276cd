"""The ``stswatch`` command line.

Each sub-command lives in its own module under :mod:`stswatch.pipeline.commands`
exposing ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Command modules keep heavy imports (Prefect, scikit-learn, geopandas) inside
``run`` so that building the parser stays fast and ``stswatch ingest`` never
pays for importing Prefect.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: sub-command name -> module under stswatch.pipeline.commands
COMMANDS: dict[str, str] = {
    "ingest": "ingest",
    "detect": "detect",
    "run": "run",
    "simulate": "simulate",
    "train": "train",
    "evaluate": "evaluate",
    "demo": "demo",
    "serve": "serve",
    "verify": "verify",
    "review": "review",
}

_HELP: dict[str, str] = {
    "ingest": "ingest AIS files (MarineCadastre, DMA, NMEA) or download days into the store",
    "detect": "detect rendezvous, loitering and AIS gaps over store days; write GeoJSON",
    "run": "ingest files, detect and score every day they cover, write one GeoJSON",
    "simulate": "write simulated AIS days (MarineCadastre CSV) with a truth file",
    "train": "train the suspicion model from simulated data (reproducible from a seed)",
    "evaluate": "evaluate the suspicion model against the rule-based score",
    "demo": "run the daily Prefect flow on a simulated day (embedded default)",
    "serve": "serve the daily and backfill Prefect deployments",
    "verify": "check every file and tally of a store (exit 1 on problems); --repair re-derives",
    "review": "record analysts' verdicts (illicit / legitimate / unsure) on ranked events",
}


def build_parser() -> argparse.ArgumentParser:
    from stswatch import __version__

    parser = argparse.ArgumentParser(
        prog="stswatch",
        description="Rank candidate ship-to-ship transfers from public AIS data.",
    )
    parser.add_argument("--version", action="version", version=f"stswatch {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback when a command fails (default: one line)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"stswatch.pipeline.commands.{module_name}")
        p = sub.add_parser(name, help=_HELP[name], description=_HELP[name])
        module.add_arguments(p)
        # also after the command (`stswatch run ... --debug`); SUPPRESS keeps the
        # top-level value when the flag is not repeated here
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; any failure is one line on stderr and exit code 2 (``--debug``: traceback).

    Commands report the failures they expect themselves (bad input, a missing
    model, ...). Anything else that escapes them is still a failure a person
    sees, so it gets the same one-line form, with a pointer to ``--debug``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("stswatch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"stswatch: error: {type(exc).__name__}: {detail} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
