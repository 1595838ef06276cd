"""Checks that run before a command changes anything: a run that cannot finish changes nothing.

``stswatch run`` ingests first and publishes last; without these checks a
missing model, a broken reference dataset or an unwritable output folder
surfaced only after the store's partitions had been rewritten. Each check
raises :class:`PreflightError` with one line a person can act on; the CLI
prints it and exits with code 2.

Everything checked here is needed anyway (the model and reference data are
cached by their loaders), so checking first costs a run no extra time.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any


class PreflightError(RuntimeError):
    """Something a run needs is missing or unusable; nothing was changed."""


def check_writable_dir(folder: Path, what: str) -> None:
    """``folder`` exists or can be created, is a directory, and accepts a new file."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise PreflightError(f"{what} {folder} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".stswatch-write-check-"):
            pass
    except OSError as exc:
        raise PreflightError(f"{what} {folder} is not writable: {exc.strerror or exc}") from exc


def check_output_path(out_path: Path) -> Path:
    """The GeoJSON path is not a folder; return its folder (checked by :func:`preflight`)."""
    out_path = Path(out_path)
    if out_path.is_dir():
        raise PreflightError(f"--out {out_path} is a folder; give a file name such as out.geojson")
    return out_path.parent


def load_model_checked(model: Any = None) -> Any:
    """The model to score with (``model``, or the configured default), verified and loaded."""
    from stswatch.pipeline.scoring.persistence import ModelLoadError, load_default_model

    if model is not None:
        return model
    try:
        return load_default_model()
    except ModelLoadError as exc:
        raise PreflightError(str(exc)) from exc


def check_reference() -> None:
    from stswatch.geo.reference import ReferenceDataError, check_reference_data

    try:
        check_reference_data()
    except ReferenceDataError as exc:
        raise PreflightError(str(exc)) from exc


@dataclass(frozen=True)
class Ready:
    """What the checks loaded, handed on so nothing is loaded twice."""

    model: Any


def preflight(*, store_root: Path, out_dir: Path, model: Any = None) -> Ready:
    """Every check a run that writes a store and GeoJSON into ``out_dir`` needs, cheapest first."""
    check_writable_dir(out_dir, "output folder")
    check_writable_dir(store_root, "store")
    loaded = load_model_checked(model)
    check_reference()
    return Ready(model=loaded)


def held_days(store_root: Path, start: date, end: date) -> tuple[list[date], list[date]]:
    """(days of ``start``..``end`` the store holds positions for, days it does not)."""
    from stswatch.pipeline.storage import Store

    stored = set(Store(Path(store_root)).days("positions"))
    wanted = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [d for d in wanted if d in stored], [d for d in wanted if d not in stored]


def describe_days(days: list[date]) -> str:
    """``2024-01-15`` or ``2024-01-15..2024-01-20 (6 days)`` or a short list."""
    if not days:
        return "none"
    if len(days) == 1:
        return days[0].isoformat()
    contiguous = (days[-1] - days[0]).days + 1 == len(days)
    if contiguous:
        return f"{days[0]}..{days[-1]} ({len(days)} days)"
    shown = ", ".join(d.isoformat() for d in days[:5])
    return shown + (f" and {len(days) - 5} more" if len(days) > 5 else "")
