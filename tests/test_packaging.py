"""What the distribution installs: one ``stswatch`` namespace covering every package folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_installed_under_stswatch():
    cfg = _setuptools()
    listed = set(cfg["packages"])
    mapping = cfg["package-dir"]
    found = set()
    for dotted, folder in mapping.items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root).parts
            found.add(".".join((dotted, *rel)))
    missing = found - listed
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"
    # data-only folders (no __init__.py) are listed too, so setuptools ships them quietly
    data_dirs = {
        ".".join(("stswatch.data", *d.relative_to(REPO / "data").parts))
        for d in (REPO / "data").rglob("*")
        if d.is_dir() and d.name != "__pycache__"
    }
    assert listed <= found | data_dirs, f"listed but not on disk: {listed - found - data_dirs}"
    assert all(name == "stswatch" or name.startswith("stswatch.") for name in listed)


def test_package_data_ships_the_model_and_its_card():
    data = _setuptools()["package-data"]["stswatch.data.model"]
    assert "*.skops" in data and "*.json" in data
    assert (REPO / "data" / "model" / "suspicion.skops").is_file()
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License")


#: A module past this many lines holds more than one concept: split it by concept.
MAX_MODULE_LINES = 500


def test_no_module_holds_more_than_a_few_hundred_lines():
    too_long = {
        str(path.relative_to(REPO)): n
        for folder in ("pipeline", "detectors", "geo", "flows")
        for path in (REPO / folder).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"split these by concept: {too_long}"
