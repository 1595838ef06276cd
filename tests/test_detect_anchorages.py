"""Anchorages learned from where many vessels sit still (GFW-style)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stswatch.detectors.anchorages import distance_to_anchorage_m, learn_anchorages
from stswatch.pipeline.config import PortFilterConfig

CFG = PortFilterConfig()
T0 = pd.Timestamp("2024-03-01T00:00:00Z")


def anchored_vessels(
    n_vessels: int,
    hours: float,
    *,
    lat: float = 29.0,
    lon: float = -94.5,
    sog_kn: float = 0.1,
    step_min: int = 10,
    spread_deg: float = 0.004,
) -> pd.DataFrame:
    """``n_vessels`` swinging at anchor around (lat, lon), one fix every ``step_min``."""
    n_fix = int(hours * 60 / step_min) + 1
    rng = np.random.default_rng(n_vessels)
    frames = []
    for k in range(n_vessels):
        off_lat, off_lon = rng.uniform(-spread_deg, spread_deg, 2)
        frames.append(
            pd.DataFrame(
                {
                    "mmsi": np.int32(366_000_000 + k),
                    "timestamp": T0 + pd.to_timedelta(np.arange(n_fix) * step_min, unit="min"),
                    "lat": lat + off_lat + rng.normal(0, 0.0003, n_fix),
                    "lon": lon + off_lon + rng.normal(0, 0.0003, n_fix),
                    "sog_kn": np.float32(sog_kn),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["lon"] = (out["lon"] + 180.0) % 360.0 - 180.0
    return out


def test_crowd_of_six_anchored_for_five_hours_is_learned() -> None:
    anchorages = learn_anchorages(anchored_vessels(6, 5.0), CFG)
    assert list(anchorages.columns) == ["lat", "lon", "n_vessels", "stationary_h"]
    assert len(anchorages) >= 1
    assert anchorages["n_vessels"].max() == 6
    assert np.isclose(anchorages["stationary_h"].sum(), 6 * 5.0)
    d = distance_to_anchorage_m(np.array([29.0, 29.0]), np.array([-94.5, -94.5 + 0.15]), anchorages)
    assert d[0] < 1_000
    assert 12_000 < d[1] < 16_000  # 0.15 deg of longitude at 29 N is ~14.6 km


def test_two_vessels_are_not_an_anchorage() -> None:
    assert learn_anchorages(anchored_vessels(2, 5.0), CFG).empty


def test_moving_vessels_are_not_an_anchorage() -> None:
    assert learn_anchorages(anchored_vessels(6, 5.0, sog_kn=8.0), CFG).empty


def test_short_stays_are_not_an_anchorage() -> None:
    assert learn_anchorages(anchored_vessels(6, 1.5), CFG).empty


def test_long_silence_is_not_counted_as_presence() -> None:
    # Two fixes 8 h apart per vessel: nothing observed in between.
    sparse = anchored_vessels(6, 8.0, step_min=480)
    assert learn_anchorages(sparse, CFG).empty


def test_crowd_across_the_antimeridian() -> None:
    crowd = anchored_vessels(6, 5.0, lat=-16.0, lon=179.999)
    assert (crowd["lon"] < 0).any() and (crowd["lon"] > 0).any()
    anchorages = learn_anchorages(crowd, CFG)
    assert not anchorages.empty
    d = distance_to_anchorage_m(np.array([-16.0, -16.0]), np.array([179.999, -179.999]), anchorages)
    assert np.all(d < 2_000)


def test_no_anchorages_means_infinite_distance() -> None:
    empty = learn_anchorages(anchored_vessels(2, 5.0), CFG)
    d = distance_to_anchorage_m(np.array([29.0, np.nan]), np.array([-94.5, 0.0]), empty)
    assert np.isinf(d[0]) and np.isnan(d[1])


def test_row_order_does_not_change_what_is_learned() -> None:
    """Sorted input (resampled tracks) skips the sort; any other order must agree."""
    fixes = anchored_vessels(6, 5.0)
    in_order = learn_anchorages(fixes.sort_values(["mmsi", "timestamp"]), CFG)
    shuffled = learn_anchorages(fixes.sample(frac=1.0, random_state=4), CFG)
    assert len(in_order) >= 1
    pd.testing.assert_frame_equal(in_order, shuffled)
