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

#: flag name -> plain-words description (used by ``evaluate`` and the docs). The
#: checklist of the 2020 US Global Maritime Sanctions Advisory and the UN 1718
#: Panel of Experts, as an analyst would tick it; location (remote spot,
#: one-off spot) and night are not on it (issue 14: they are context).
RED_FLAGS: dict[str, str] = {
    "dark_before": "AIS off (gap or switched on at sea) of either vessel before the meeting",
    "dark_after": "AIS off (gap or switched off at sea) of either vessel after the meeting",
    "dark_partner": "the partner's AIS off during the meeting (dark rendezvous)",
    "reporting_drop": "reporting rate fell during the meeting",
    "cargo_moved": "one vessel deeper, the other lighter, no port call",
    "small_receiver": "the receiving ship is small",
    "missing_identity": "missing IMO or name",
    "invalid_imo": "IMO fails its check digit",
    "identity_changes": "name, call sign or IMO changed",
    "flag_mismatch": "call sign (reported flag) of another country than the MMSI",
    "registry_of_concern": "registry of concern or unallocated MID",
    "class_b_large": "Class B transponder on a large ship",
    "odd_pair": "tanker meeting a small or unidentified vessel",
}


def red_flags(
    features: pd.DataFrame, cfg: ScoringConfig | None = None, gap_cfg: GapConfig | None = None
) -> pd.DataFrame:
    """One boolean column per red flag (see :data:`RED_FLAGS`), NaN counted as not raised."""
    gap_cfg = gap_cfg or GapConfig()
    cfg = cfg or ScoringConfig()

    def col(name: str) -> pd.Series:
        if name not in features.columns:
            return pd.Series(np.nan, index=features.index)
        return pd.to_numeric(features[name], errors="coerce")

    flags = pd.DataFrame(index=features.index)
    flags["dark_before"] = col("dark_before_max_h") >= gap_cfg.min_gap_h
    flags["dark_after"] = col("dark_after_max_h") >= gap_cfg.min_gap_h
    flags["dark_partner"] = col("partner_gap_h") >= gap_cfg.min_gap_h
    flags["reporting_drop"] = col("reporting_ratio_min") < cfg.max_reporting_ratio
    flags["cargo_moved"] = col("opposite_draught_change") > 0
    flags["small_receiver"] = col("small_receiver") > 0
    flags["missing_identity"] = (col("n_missing_imo") + col("n_missing_name")) > 0
    flags["invalid_imo"] = col("n_invalid_imo") > 0
    flags["identity_changes"] = col("identity_changes_max") > 0
    flags["flag_mismatch"] = col("n_flag_mismatch") > 0
    flags["registry_of_concern"] = col("n_registry_of_concern") > 0
    flags["class_b_large"] = col("n_class_b_large") > 0
    flags["odd_pair"] = col("tanker_with_small_or_unknown") > 0
    return flags.fillna(False).astype(bool)


def rule_score(
    features: pd.DataFrame, cfg: ScoringConfig | None = None, gap_cfg: GapConfig | None = None
) -> pd.Series:
    """Share of red flags raised (0 = none, 1 = all), indexed like ``features``."""
    flags = red_flags(features, cfg, gap_cfg)
    if flags.shape[1] == 0:
        return pd.Series(np.zeros(len(features)), index=features.index, name="rule_score")
    return (flags.sum(axis=1) / flags.shape[1]).astype(np.float64).rename("rule_score")
