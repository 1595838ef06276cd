"""Safe, reproducible persistence of the suspicion model (skops + a model card).

Why skops and not pickle/joblib: unpickling runs arbitrary code, and a model
file is exactly the kind of artefact people download and share. skops stores
the object graph as JSON plus ``.npy`` arrays and refuses to build any type it
was not told to trust. We trust *exactly* the types a ``SuspicionModel``
contains (:data:`ALLOWED_TYPES`), so a file carrying anything else - a tampered
file, or a model from another code base - fails with :class:`ModelLoadError`
before a single object is built.

The model card (``model_card.json``) records the version, the feature list,
how the model was trained and how it scored, and the SHA-256 of the skops file:
the file is verified against it before it is even parsed.

Reproducibility: skops names arrays and memo entries after Python ``id()``s and
stamps zip entries with the wall clock, so two identical models give different
bytes. :func:`canonical_skops_bytes` renumbers both in order of appearance and
fixes the timestamps, so ``stswatch train --seed S`` writes the same bytes (and
SHA-256) every time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
import zipfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import skops.io as sio

from stswatch.pipeline.scoring.model import SuspicionModel

MODEL_FILE = "suspicion.skops"
CARD_FILE = "model_card.json"
CARD_FORMAT = 1

#: The shipped model: package data (``stswatch.data``, the repository's
#: ``data/model/``), found through :mod:`importlib.resources` so editable
#: checkouts, wheels and site-packages installs all read the same files.
#: Override with the environment variable ``STSWATCH_MODEL_DIR``.
DEFAULT_MODEL_DIR = Path(str(resources.files("stswatch.data") / "model"))

#: Types skops does not trust by default but a SuspicionModel legitimately
#: holds (plain scikit-learn/numpy types are trusted by skops itself). Anything
#: else in a file is refused.
ALLOWED_TYPES: tuple[str, ...] = (
    "stswatch.pipeline.scoring.model.SuspicionModel",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",  # the default calibration map
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.StratifiedKFold",
    "numpy.dtype",  # the logistic variant's imputer stores its dtype
)


class ModelLoadError(RuntimeError):
    """The model file is missing, tampered with, of an unexpected type or version."""


def model_dir_default() -> Path:
    """``STSWATCH_MODEL_DIR`` when set, else the model shipped inside the package."""
    env = os.environ.get("STSWATCH_MODEL_DIR")
    return Path(env) if env else DEFAULT_MODEL_DIR


def is_source_checkout(model_dir: Path = DEFAULT_MODEL_DIR) -> bool:
    """True when the shipped model lives in a source tree (an editable install).

    ``stswatch train`` writes there by default; in an installed wheel the model
    is read-only package data, and overwriting it in site-packages would leave
    an installation whose model no longer matches its release.
    """
    return (model_dir.parent.parent / "pyproject.toml").is_file()


_ID_RE = re.compile(r'"__id__": (\d+)')
_NPY_RE = re.compile(r'"(\d+)\.npy"')
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def canonical_skops_bytes(raw: bytes) -> bytes:
    """Rewrite skops bytes so they depend only on the model, not on memory addresses
    or the clock (see module docstring). The result loads exactly like ``raw``."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    schema = src.read("schema.json").decode("utf-8")
    ids: dict[str, str] = {}
    files: dict[str, str] = {}

    def new_id(m: re.Match[str]) -> str:
        return f'"__id__": {ids.setdefault(m.group(1), str(len(ids) + 1))}'

    def new_file(m: re.Match[str]) -> str:
        return f'"{files.setdefault(m.group(1), f"{len(files):06d}")}.npy"'

    schema = _NPY_RE.sub(new_file, _ID_RE.sub(new_id, schema))
    out = io.BytesIO()
    # deflate at a fixed level: same zlib, same bytes (and a tenth of the size)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        entries = [("schema.json", schema.encode("utf-8"))]
        for info in src.infolist():
            if info.filename == "schema.json":
                continue
            stem = info.filename.removesuffix(".npy")
            name = f"{files[stem]}.npy" if stem in files else info.filename
            entries.append((name, src.read(info.filename)))
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # no umask dependence
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str]:
    import numpy
    import sklearn
    import skops

    return {
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": numpy.__version__,
    }


def content_version(model: SuspicionModel) -> str:
    """The digest part of a model version: SHA-256 of the model's bytes with the version blank.

    The version is stored inside the file, so it cannot be a hash of the file
    itself; hashing everything *but* the version makes it a function of the
    model's content: any change to the bytes changes the version, and the same
    model always gets the same one.
    """
    stamped = model.version
    try:
        model.version = ""
        return sha256_hex(canonical_skops_bytes(sio.dumps(model)))[:VERSION_DIGEST_CHARS]
    finally:
        model.version = stamped


#: Hex digits of the content digest in a model version.
VERSION_DIGEST_CHARS = 10


def stamp_version(model: SuspicionModel, prefix: str) -> str:
    """Set ``model.version`` to ``<prefix>-<content digest>`` and return it."""
    model.version = f"{prefix}-{content_version(model)}"
    return model.version


def save_model(
    model: SuspicionModel,
    out_dir: str | Path,
    card: dict[str, Any],
    *,
    version_prefix: str | None = None,
) -> Path:
    """Write ``suspicion.skops`` and ``model_card.json`` into ``out_dir``; return the card path.

    ``card`` holds the training description and metrics; the version, feature
    list, library versions and SHA-256 are filled in here so they cannot drift.
    With ``version_prefix`` the model's version becomes ``<prefix>-<content
    digest>`` (:func:`stamp_version`), so it changes whenever the bytes do.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if version_prefix is not None:
        stamp_version(model, version_prefix)
    data = canonical_skops_bytes(sio.dumps(model))
    full = {
        "format": CARD_FORMAT,
        "model_version": model.version,
        "file": MODEL_FILE,
        "sha256": sha256_hex(data),
        "features": [str(c) for c in model.feature_names_in_],
        "libraries": library_versions(),
        **{k: v for k, v in card.items() if k not in {"format", "model_version", "file", "sha256"}},
    }
    for name, payload in ((MODEL_FILE, data), (CARD_FILE, _card_bytes(full))):
        tmp = out_dir / f".{name}.tmp"
        tmp.write_bytes(payload)
        tmp.replace(out_dir / name)  # atomic: a reader never sees half a model
    return out_dir / CARD_FILE


def _card_bytes(card: dict[str, Any]) -> bytes:
    return (json.dumps(card, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def read_card(path: str | Path) -> dict[str, Any]:
    """The model card next to a model file (or in a model directory)."""
    path = Path(path)
    card_path = path / CARD_FILE if path.is_dir() else path.with_name(CARD_FILE)
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError(f"model card {card_path} is missing; cannot verify the model") from exc
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"model card {card_path} is unreadable: {exc}") from exc
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise ModelLoadError(
            f"model card {card_path} has an unknown format (expected {CARD_FORMAT})"
        )
    return card


def load_model(path: str | Path) -> SuspicionModel:
    """Load and verify a suspicion model (a ``.skops`` file or a directory holding one).

    Checks, in order, before trusting anything: the card exists and names this
    file; the file's SHA-256 matches the card; the file holds only
    :data:`ALLOWED_TYPES` beyond skops' defaults; the result is a
    ``SuspicionModel`` whose version and features match the card. Any failure
    raises :class:`ModelLoadError` with the reason.
    """
    path = Path(path)
    model_path = path / MODEL_FILE if path.is_dir() else path
    card = read_card(model_path)
    try:
        data = model_path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read model file {model_path}: {exc}") from exc
    digest = sha256_hex(data)
    if digest != card.get("sha256"):
        raise ModelLoadError(
            f"{model_path} does not match its model card (sha256 {digest[:12]}... != "
            f"{str(card.get('sha256'))[:12]}...): the file was modified or replaced; "
            "retrain with `stswatch train` or restore the shipped file"
        )
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ModelLoadError(f"{model_path} is not a valid skops file: {exc}") from exc
    unexpected = sorted(set(untrusted) - set(ALLOWED_TYPES))
    if unexpected:
        raise ModelLoadError(
            f"{model_path} contains types outside the allow-list, refusing to load: {unexpected}"
        )
    try:
        model = sio.loads(data, trusted=list(ALLOWED_TYPES))
    except Exception as exc:
        raise ModelLoadError(f"{model_path} could not be loaded safely: {exc}") from exc
    if not isinstance(model, SuspicionModel):
        raise ModelLoadError(f"{model_path} holds a {type(model).__name__}, not a SuspicionModel")
    if model.version != card.get("model_version"):
        raise ModelLoadError(
            f"{model_path} is version {model.version!r} but its card says "
            f"{card.get('model_version')!r}"
        )
    if [str(c) for c in getattr(model, "feature_names_in_", [])] != card.get("features"):
        raise ModelLoadError(f"{model_path}: feature list differs from the model card")
    trained_with = card.get("libraries", {}).get("scikit-learn")
    current = library_versions()["scikit-learn"]
    if trained_with and trained_with.split(".")[:2] != current.split(".")[:2]:
        warnings.warn(
            f"suspicion model trained with scikit-learn {trained_with}, running {current}: "
            "scores may differ slightly; retrain with `stswatch train` to be sure",
            stacklevel=2,
        )
    return model


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> SuspicionModel:
    return load_model(path)


def load_default_model(path: str | Path | None = None) -> SuspicionModel:
    """The shipped model (cached per file and modification time)."""
    model_path = Path(path) if path is not None else model_dir_default()
    if model_path.is_dir():
        model_path = model_path / MODEL_FILE
    try:
        mtime = model_path.stat().st_mtime_ns
    except OSError as exc:
        hint = (
            "check STSWATCH_MODEL_DIR, or unset it to use the model shipped with stswatch"
            if os.environ.get("STSWATCH_MODEL_DIR") and path is None
            else "pass the directory holding suspicion.skops and model_card.json"
            if path is not None
            else "the installation is incomplete; reinstall stswatch"
        )
        raise ModelLoadError(f"no suspicion model at {model_path}: {hint}") from exc
    return _cached(str(model_path), mtime)
