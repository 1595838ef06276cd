"""Which code shaped a trained model: a fingerprint over exactly that code.

The model card records :func:`code_fingerprint`; a test compares it with the
current code, so a change to the simulator, the cleaner, the detectors or the
features cannot land with a stale shipped model (run ``stswatch train``; when
the change does not alter training in effect, that writes the same model bytes
and only the card's fingerprint moves).

*Exactly* the code that shapes training is found, not listed by hand: the
static import closure (:func:`training_modules`) of the training and
persistence modules inside the ``stswatch`` package, including imports made
inside functions. A hand-kept list drifts the first time someone adds a module.

Each module counts by its syntax tree with docstrings removed
(:func:`_normalised_source`), so comments, docstrings and formatting never make
a model stale, while any change to what the code does does. Package data read
by that code (anything in ``stswatch.data`` other than the model itself) is
hashed byte for byte. Paths are recorded as dotted module names, so an editable
checkout and an installed wheel give the same fingerprint.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import lru_cache
from importlib import resources
from pathlib import Path

PACKAGE = "stswatch"

#: Where training starts: simulating, detecting, featurising, fitting (training)
#: and the bytes written (persistence).
TRAINING_ROOTS: tuple[str, ...] = (
    "stswatch.pipeline.scoring.training",
    "stswatch.pipeline.scoring.persistence",
)

#: Files in ``stswatch.data`` that are outputs of training, not inputs.
_MODEL_DATA_DIR = "model"


def _module_file(name: str) -> Path | None:
    """The source file of module ``name`` (a package's ``__init__.py``), or None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every ``stswatch`` module ``tree`` imports, at any depth (functions too)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.add(target)
            # ``from pkg import mod`` may name a submodule
            names.update(f"{target}.{alias.name}" for alias in node.names)
    out: set[str] = set()
    for name in names:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            continue
        # importing a.b.c runs a/__init__ and a/b/__init__ too
        parts = name.split(".")
        out.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    return out


def training_modules() -> dict[str, Path]:
    """The ``stswatch`` modules reachable by imports from :data:`TRAINING_ROOTS`."""
    found: dict[str, Path] = {}
    todo = list(TRAINING_ROOTS)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        path = _module_file(name)
        if path is None:  # a name imported from a module, not a module
            continue
        found[name] = path
        tree = ast.parse(path.read_bytes(), filename=str(path))
        todo.extend(_imported_names(tree, name, path.name == "__init__.py") - found.keys())
    return dict(sorted(found.items()))


def _normalised_source(path: Path) -> bytes:
    """The module's syntax tree without docstrings: what the code does, not how it reads."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                body[0] = ast.Pass()
    return ast.dump(tree, annotate_fields=False, include_attributes=False).encode()


def _data_files() -> list[tuple[str, bytes]]:
    """Package data that training may read (everything but the model it writes)."""
    root = resources.files("stswatch.data")
    out: list[tuple[str, bytes]] = []

    def walk(node, rel: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            name = f"{rel}/{child.name}" if rel else child.name
            if child.is_dir():
                if name != _MODEL_DATA_DIR and not child.name.startswith(("__", ".")):
                    walk(child, name)
            elif not child.name.endswith((".py", ".pyc")):
                out.append((name, child.read_bytes()))

    walk(root, "")
    return out


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the code (and package data) that produces the training data and model."""
    digest = hashlib.sha256()
    for name, path in training_modules().items():
        digest.update(name.encode() + b"\0")
        digest.update(_normalised_source(path) + b"\0")
    for name, payload in _data_files():
        digest.update(f"data/{name}".encode() + b"\0")
        digest.update(payload + b"\0")
    return digest.hexdigest()
