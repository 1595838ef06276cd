"""The shipped model is current, reproducible and versioned by its content.

``test_shipped_model_is_current_with_the_training_code`` is the guard the
packaging issue asked for: a change to the simulator, cleaner, detectors,
features or training code fails here until the model is retrained
(``stswatch train``), so a stale model cannot land unnoticed.
"""

from __future__ import annotations

import ast
import json

import pytest

from stswatch.pipeline.scoring.persistence import (
    CARD_FILE,
    DEFAULT_MODEL_DIR,
    MODEL_FILE,
    VERSION_DIGEST_CHARS,
    content_version,
    library_versions,
    load_model,
)
from stswatch.pipeline.scoring.provenance import (
    _normalised_source,
    code_fingerprint,
    training_modules,
)


def _card() -> dict:
    return json.loads((DEFAULT_MODEL_DIR / CARD_FILE).read_text())


def test_shipped_model_is_current_with_the_training_code():
    recorded = _card()["training"]["code_fingerprint"]
    assert code_fingerprint() == recorded, (
        "the code that shapes training changed since the shipped model was trained: "
        "run `stswatch train` and commit data/model (a change that does not alter training "
        "in effect rewrites the same model bytes and only moves the card's fingerprint)"
    )


def test_model_version_is_a_digest_of_the_models_content():
    model = load_model(DEFAULT_MODEL_DIR)
    version = _card()["model_version"]
    assert model.version == version
    assert version.endswith("-" + content_version(model))
    assert len(version.rsplit("-", 1)[1]) == VERSION_DIGEST_CHARS


def test_fingerprint_covers_what_training_imports_and_nothing_of_io_or_flows():
    modules = training_modules()
    for needed in (
        "stswatch.pipeline.simulator.engine",
        "stswatch.pipeline.scoring.features",
        "stswatch.pipeline.detection",
        "stswatch.detectors.rendezvous",
        "stswatch.pipeline.scoring.persistence",
    ):
        assert needed in modules
    assert not any(m.startswith("stswatch.flows") for m in modules)
    assert "stswatch.pipeline.cli" not in modules and "stswatch.pipeline.export" not in modules


def test_fingerprint_ignores_docstrings_and_comments_but_not_code(tmp_path):
    one = tmp_path / "one.py"
    two = tmp_path / "two.py"
    three = tmp_path / "three.py"
    one.write_text('"""Doc."""\n\ndef f(x):\n    """Old words."""\n    return x + 1\n')
    two.write_text(
        '"""Other doc."""\n# a comment\n\ndef f(x):\n    """New words."""\n    return x + 1\n'
    )
    three.write_text('"""Doc."""\n\ndef f(x):\n    """Old words."""\n    return x + 2\n')
    assert _normalised_source(one) == _normalised_source(two)
    assert _normalised_source(one) != _normalised_source(three)
    ast.parse(one.read_text())  # the fixtures are valid Python


@pytest.mark.e2e
def test_stswatch_train_reproduces_the_shipped_model_bit_for_bit(tmp_path):
    from stswatch.pipeline.scoring.training import plan_from_card, train_and_save

    card = _card()
    if card["libraries"] != library_versions():
        pytest.skip(
            f"model trained with {card['libraries']}, running {library_versions()}: "
            "bytes are only comparable with the same libraries"
        )
    train_and_save(plan_from_card(card), tmp_path, workers=2)
    assert (tmp_path / MODEL_FILE).read_bytes() == (DEFAULT_MODEL_DIR / MODEL_FILE).read_bytes()
    assert json.loads((tmp_path / CARD_FILE).read_text()) == card
