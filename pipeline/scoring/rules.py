"""The transparent rule-based score: a count of red flags, scaled to 0..1.

It is what an analyst would do by hand with a checklist (and what Global
Fishing Watch-style tools publish), kept as the yardstick the learned model
must beat: ``stswatch evaluate`` prints both side by side, so the model's
value is measured, not assumed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stswatch.pipeline.config import GapConfig, ScoringConfig

#: flag name -> plain-words description (used by ``evaluate`` and the docs).
RED_FLAGS: dict[str, str] = {
    "dark_before": "AIS gap of either vessel before the meeting",
    "dark_after": "AIS gap of either vessel after the meeting",
    "reporting_drop": "reporting rate fell during the meeting",
    "remote": "far from any port",
    "one_off_spot": "no other meeting at this spot",
    "night": "mostly at night",
    "cargo_moved": "one vessel deeper, the other lighter, no port call",
    "missing_identity": "missing IMO or name",
    "flag_of_convenience": "flag of convenience",
    "class_b_large": "Class B transponder on a large ship",
    "odd_pair": "tanker meeting a small or unidentified vessel",
    "identity_changes": "name, callsign or IMO changed",
}


def red_flags(
    features: pd.DataFrame, cfg: ScoringConfig | None = None, gap_cfg: GapConfig | None = None
) -> pd.DataFrame:
    """One boolean column per red flag (see :data:`RED_FLAGS`), NaN counted as not raised."""
    cfg = cfg or ScoringConfig()
    gap_cfg = gap_cfg or GapConfig()

    def col(name: str) -> pd.Series:
        return pd.to_numeric(features[name], errors="coerce")

    flags = pd.DataFrame(index=features.index)
    flags["dark_before"] = col("gap_before_max_h") >= gap_cfg.min_gap_h
    flags["dark_after"] = col("gap_after_max_h") >= gap_cfg.min_gap_h
    flags["reporting_drop"] = col("reporting_ratio_min") < cfg.max_reporting_ratio
    flags["remote"] = col("distance_to_port_m") >= cfg.min_remote_distance_to_port_m
    flags["one_off_spot"] = col("recurrence_count") == 0
    flags["night"] = col("night_share") > 0.5
    flags["cargo_moved"] = col("opposite_draught_change") > 0
    flags["missing_identity"] = (col("n_missing_imo") + col("n_missing_name")) > 0
    flags["flag_of_convenience"] = col("n_flag_of_convenience") > 0
    flags["class_b_large"] = col("n_class_b_large") > 0
    flags["odd_pair"] = col("tanker_with_small_or_unknown") > 0
    flags["identity_changes"] = col("identity_changes_max") > 0
    return flags.fillna(False).astype(bool)


def rule_score(
    features: pd.DataFrame, cfg: ScoringConfig | None = None, gap_cfg: GapConfig | None = None
) -> pd.Series:
    """Share of red flags raised (0 = none, 1 = all), indexed like ``features``."""
    flags = red_flags(features, cfg, gap_cfg)
    if flags.shape[1] == 0:
        return pd.Series(np.zeros(len(features)), index=features.index, name="rule_score")
    return (flags.sum(axis=1) / flags.shape[1]).astype(np.float64).rename("rule_score")
