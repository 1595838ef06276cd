"""The model file: safe skops loading, verified against its model card."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import skops.io as sio
from helpers_scoring import fitted_model, synthetic_features

from stswatch.pipeline.scoring.features import FEATURE_COLUMNS
from stswatch.pipeline.scoring.model import as_feature_matrix
from stswatch.pipeline.scoring.persistence import (
    CARD_FILE,
    MODEL_FILE,
    ModelLoadError,
    canonical_skops_bytes,
    load_model,
    save_model,
    sha256_hex,
)


class Payload:
    """Stands for any foreign object an attacker smuggles into a model file."""

    def __init__(self) -> None:
        self.command = "rm -rf /"


@pytest.fixture(scope="module")
def model():
    return fitted_model(n=200)


@pytest.fixture
def saved(tmp_path, model):
    save_model(model, tmp_path, {"training": {"seed": 0}})
    return tmp_path


def _rewrite_card(directory, **changes):
    card = json.loads((directory / CARD_FILE).read_text())
    card.update(changes)
    (directory / CARD_FILE).write_text(json.dumps(card))


def test_round_trip_gives_identical_predictions_and_a_complete_card(saved, model):
    loaded = load_model(saved)
    features, _ = synthetic_features(50, seed=4)
    X = as_feature_matrix(features, FEATURE_COLUMNS)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    card = json.loads((saved / CARD_FILE).read_text())
    assert card["model_version"] == "test-1"
    assert card["features"] == list(FEATURE_COLUMNS)
    assert card["sha256"] == sha256_hex((saved / MODEL_FILE).read_bytes())
    assert card["training"] == {"seed": 0}
    assert "scikit-learn" in card["libraries"]
    assert load_model(saved / MODEL_FILE).version == "test-1"  # the file path works too


def test_saving_twice_writes_identical_bytes(tmp_path, model):
    save_model(model, tmp_path / "one", {})
    save_model(model, tmp_path / "two", {})
    assert (tmp_path / "one" / MODEL_FILE).read_bytes() == (
        tmp_path / "two" / MODEL_FILE
    ).read_bytes()


def test_flipped_byte_is_refused_by_the_hash_check(saved):
    path = saved / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="does not match its model card"):
        load_model(saved)


def test_foreign_type_is_refused_even_when_the_card_was_forged(saved, model):
    evil = fitted_model(n=200)
    evil.payload_ = Payload()  # an object skops would have to construct on load
    data = canonical_skops_bytes(sio.dumps(evil))
    (saved / MODEL_FILE).write_bytes(data)
    _rewrite_card(saved, sha256=sha256_hex(data))
    with pytest.raises(ModelLoadError, match=r"outside the allow-list.*Payload"):
        load_model(saved)


def test_not_a_skops_file_is_refused(saved):
    junk = b"\x80\x04\x95 this is a pickle, not a zip"
    (saved / MODEL_FILE).write_bytes(junk)
    _rewrite_card(saved, sha256=sha256_hex(junk))
    with pytest.raises(ModelLoadError, match="not a valid skops file"):
        load_model(saved)


def test_wrong_object_type_is_refused(saved):
    data = canonical_skops_bytes(sio.dumps({"weights": np.zeros(3)}))
    (saved / MODEL_FILE).write_bytes(data)
    _rewrite_card(saved, sha256=sha256_hex(data))
    with pytest.raises(ModelLoadError, match="not a SuspicionModel"):
        load_model(saved)


def test_version_mismatch_with_the_card_is_refused(saved):
    _rewrite_card(saved, model_version="2.0-other")
    with pytest.raises(ModelLoadError, match="version"):
        load_model(saved)


def test_missing_card_or_model_is_a_clear_error(saved, tmp_path):
    (saved / CARD_FILE).unlink()
    with pytest.raises(ModelLoadError, match=r"model card .* is missing"):
        load_model(saved)
    with pytest.raises(ModelLoadError):
        load_model(tmp_path / "nowhere" / MODEL_FILE)


def test_canonical_bytes_have_no_wall_clock_or_memory_addresses(model):
    data = canonical_skops_bytes(sio.dumps(model))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "schema.json" in names
    assert all(n == "schema.json" or len(n) == len("000000.npy") for n in names)
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {
        (1980, 1, 1, 0, 0, 0)
    }
