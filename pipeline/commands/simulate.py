"""``stswatch simulate``: write simulated AIS days (MarineCadastre CSV) and a truth file.

    stswatch simulate --out DIR [--date YYYY-MM-DD] [--days N] [--seed S]
                      [--region NAME] [--vessels N] [--target-rows N] [--zip]

The same arguments always write the same bytes. Prints each file written and a
one-line summary of rows and labelled scenarios.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from stswatch.pipeline.commands._common import fail, iso_date

HELP = "write simulated AIS days (MarineCadastre CSV) with a truth file"
#: Known region names, listed here so `--help` stays fast (no numpy import).
REGION_NAMES = (
    "gulf_of_mexico",
    "east_china_sea",
    "gulf_of_oman",
    "west_africa",
    "malacca",
    "fiji",
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--date",
        type=iso_date,
        default=date(2024, 1, 15),
        help="first UTC day (default 2024-01-15)",
    )
    parser.add_argument("--days", type=_positive_int, default=1, help="number of days (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--region", choices=REGION_NAMES, default="gulf_of_mexico", help="simulated sea"
    )
    parser.add_argument(
        "--vessels", type=_positive_int, default=None, help="background vessels (default 600)"
    )
    parser.add_argument(
        "--target-rows",
        type=_positive_int,
        default=None,
        help="approximate total rows; sizes the background fleet (overrides --vessels)",
    )
    parser.add_argument("--zip", action="store_true", help="write AIS_YYYY_MM_DD.zip archives")


def run(args: argparse.Namespace) -> int:
    import time

    from stswatch.pipeline.simulator import SimulationConfig, simulate, write_marinecadastre

    kwargs = {
        "seed": args.seed,
        "start_date": args.date,
        "n_days": args.days,
        "region": args.region,
        "target_rows": args.target_rows,
    }
    if args.vessels is not None:
        kwargs["n_background_vessels"] = args.vessels
    try:
        cfg = SimulationConfig(**kwargs)
    except ValueError as exc:
        return fail(str(exc))
    t0 = time.perf_counter()
    data = simulate(cfg)
    try:
        paths = write_marinecadastre(data, args.out, compress=args.zip)
    except OSError as exc:
        return fail(f"cannot write to {args.out}: {exc}")
    elapsed = time.perf_counter() - t0
    for p in paths:
        print(f"wrote {p}")
    kinds = data.truth["kind"].value_counts().sort_index()
    summary = ", ".join(f"{k} {v}" for k, v in kinds.items())
    print(
        f"stswatch simulate: {len(data.positions):,} rows over {cfg.n_days} day(s) in "
        f"{cfg.region} (seed {cfg.seed}) in {elapsed:.1f} s; "
        f"{int(data.truth['is_rendezvous'].sum())} true rendezvous; scenarios: {summary}"
    )
    if data.unplaced:
        print(f"  not placed (no room): {data.unplaced}")
    return 0
