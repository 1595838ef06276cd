"""score_events, the API the spine calls: columns, order, empty input, the shipped model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_scoring import day_of_pings, fitted_model, rendezvous_frame, rendezvous_row

from stswatch.pipeline.detection import DetectionResult
from stswatch.pipeline.scoring import score_events
from stswatch.pipeline.scoring.persistence import ModelLoadError


def _result(rendezvous: pd.DataFrame) -> DetectionResult:
    return DetectionResult(
        rendezvous=rendezvous,
        loitering=pd.DataFrame(),
        gaps=pd.DataFrame(),
        event_tracks=pd.DataFrame(columns=["event_id", "mmsi", "timestamp", "lat", "lon"]),
        positions=day_of_pings(),
    )


@pytest.fixture(scope="module")
def model():
    return fitted_model(n=400)


def test_adds_score_reasons_and_version_keeping_rows_and_order(model):
    rv = rendezvous_frame(
        rendezvous_row(event_id="quiet", min_distance_to_port_m=15_000.0),
        rendezvous_row(
            event_id="odd",
            imo_a=None,
            imo_b=None,
            mmsi_b=511_000_009,
            mean_lat=12.0,
            gap_before_h_b=12.0,
            gap_after_h_a=9.0,
            min_distance_to_port_m=250_000.0,
            draught_after_m_a=9.0,
            draught_after_m_b=14.5,
        ),
    )
    out = score_events(_result(rv), None, model=model)
    assert out["event_id"].tolist() == ["quiet", "odd"]
    assert set(rv.columns) <= set(out.columns)
    assert out["score"].between(0, 1).all()
    assert all(isinstance(r, list) and all(isinstance(s, str) for s in r) for r in out["reasons"])
    assert (out["model_version"] == "test-1").all()
    assert out["score"].iloc[1] > out["score"].iloc[0]


def test_empty_rendezvous_returns_empty_frame_with_score_columns(monkeypatch, tmp_path):
    # an empty day must not even need a model
    monkeypatch.setenv("STSWATCH_MODEL_DIR", str(tmp_path / "no-model-here"))
    out = score_events(_result(rendezvous_frame().iloc[:0]), None)
    assert out.empty
    assert {"score", "reasons", "model_version", "event_id"} <= set(out.columns)


def test_missing_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("STSWATCH_MODEL_DIR", str(tmp_path / "no-model-here"))
    with pytest.raises(ModelLoadError, match="STSWATCH_MODEL_DIR"):
        score_events(_result(rendezvous_frame()), None)


def test_shipped_model_loads_verified_and_scores(monkeypatch):
    monkeypatch.delenv("STSWATCH_MODEL_DIR", raising=False)
    out = score_events(_result(rendezvous_frame()), None)
    assert np.isfinite(out["score"]).all()
    assert out["model_version"].iloc[0].startswith("suspicion-")


def test_scores_what_the_real_detector_emits(model):
    """Hand-built meeting through detect_frames: columns line up, the dark side is
    found, and "no anchorage learned" (infinite distance) is not an invalid input."""
    from helpers_scoring import MMSI_A, MMSI_B, T0, pings, static_report, vessels_frame

    from stswatch.pipeline.detection import detect_frames
    from stswatch.pipeline.scoring import features_from_result

    h = pd.Timedelta(hours=1)
    a = pings(MMSI_A, T0 - 12 * h, T0 + 16 * h, lat=20.0, lon=-40.0, sog_kn=0.3, every_min=5)
    b = pd.concat(
        [
            pings(MMSI_B, T0 - 12 * h, T0 - 9 * h, lat=20.5, lon=-40.5, sog_kn=0.3, every_min=5),
            pings(MMSI_B, T0, T0 + 5 * h, lat=20.00135, lon=-40.0, sog_kn=0.3, every_min=5),
            pings(MMSI_B, T0 + 5.2 * h, T0 + 16 * h, lat=20.6, lon=-40.0, sog_kn=0.3, every_min=5),
        ]
    )
    vessels = vessels_frame(
        static_report(MMSI_A, T0 - 20 * h),
        static_report(MMSI_B, T0 - 20 * h, vessel_name="EAST WIND", imo=None),
    )
    result = detect_frames(pd.concat([a, b], ignore_index=True), vessels)
    assert len(result.rendezvous) == 1
    f = features_from_result(result, vessels).iloc[0]
    assert f["gap_before_h_b"] == pytest.approx(9.0, abs=0.2) and f["gap_before_h_a"] == 0
    assert f["n_missing_imo"] == 1
    assert np.isfinite(f["distance_to_anchorage_m"])
    out = score_events(result, vessels, model=model)
    assert len(out) == 1 and 0 <= out["score"].iloc[0] <= 1
