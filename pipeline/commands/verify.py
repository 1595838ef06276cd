"""``stswatch verify --store DIR [--repair]``: check every file and tally of a store.

Exit codes: 0 the store is clean (or every problem was repaired), 1 problems
found (each printed with its path), 2 usage error or no store.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stswatch.pipeline.commands._common import add_lock_argument, fail, store_cfg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", type=Path, required=True, metavar="DIR", help="Parquet store root"
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="re-derive damaged days from their recorded inputs where those are still there, "
        "and remove temporary files of killed writers",
    )
    add_lock_argument(parser)


def run(args: argparse.Namespace) -> int:
    from stswatch.pipeline.storage import Store, StoreError
    from stswatch.pipeline.verify import check_store

    cfg = store_cfg(args)
    if not args.store.is_dir():
        return fail(f"no store at {args.store}")
    store = Store(args.store, lock_timeout_s=cfg.store.lock_timeout_s)
    try:
        if args.repair:
            from stswatch.pipeline.store_repair import repair_store

            report = repair_store(store, cfg=cfg)
        else:
            report = check_store(store)
    except StoreError as exc:
        return fail(str(exc))
    print(report.summary())
    return 0 if report.clean else 1
