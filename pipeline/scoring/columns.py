"""The feature columns, grouped by the indicator they measure.

Model inputs (:data:`FEATURE_COLUMNS`) are the indicators that compliance
guidance lists (2020 US Global Maritime Sanctions Advisory, UN 1718 Panel of
Experts reports, 2023-24 shadow-fleet advisories), in groups that
``stswatch evaluate`` drops one at a time (:data:`FEATURE_GROUPS`). Context
(:data:`CONTEXT_FEATURES`: where and when) is computed for the analyst but
is **not** a model input: whether a meeting is near a coast, in a recurring
lightering area or at night does not tell a legitimate transfer from an
illicit one (issue 14), and a model that sees it learns the simulator's or
the training data's placement instead of behaviour. Per-feature decisions:

* ``distance_to_coast_m`` / ``_port_m`` / ``_anchorage_m``: context. Illicit
  transfers are reported far offshore *and* in other states' territorial
  waters; legitimate ones anywhere.
* ``recurrence_count`` / ``in_sts_area``: context. A designated lightering
  area hosts legitimate transfers and the illicit ones hiding among them.
* ``night_share``: context. No advisory lists darkness as an indicator.
* ``shared_silence_h``: context. A silence shared by both vessels sitting
  together is a reception hole, not going dark.

All model features are symmetric in the pair (``mmsi_a`` < ``mmsi_b`` is an
arbitrary order); per-vessel ``_a``/``_b`` detail columns word the reasons.
New groups (e.g. watch-list hits) extend :data:`FEATURE_GROUPS`; the model,
the reasons and the ablation follow the mapping.
"""

from __future__ import annotations

SIDES = ("a", "b")

#: Model inputs by indicator group, in model column order.
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "ais_off": (
        "dark_before_max_h",
        "dark_after_max_h",
        "n_vessels_dark",
        "n_switched_at_sea",
        "partner_gap_h",
        "reporting_ratio_min",
    ),
    "identity": (
        "n_missing_imo",
        "n_invalid_imo",
        "n_missing_name",
        "identity_changes_max",
        "n_flag_mismatch",
        "n_registry_of_concern",
        "n_class_b_large",
    ),
    "cargo": ("draught_change_max_m", "opposite_draught_change"),
    "size": ("min_length_m", "length_ratio", "tanker_with_small_or_unknown", "small_receiver"),
    "kinematics": (
        "duration_h",
        "min_distance_m",
        "median_distance_m",
        "separation_std_m",
        "mean_sog_max_kn",
        "heading_alignment",
    ),
}

#: Columns the model sees, in this order.
FEATURE_COLUMNS: tuple[str, ...] = tuple(c for group in FEATURE_GROUPS.values() for c in group)

#: Where and when: shown to analysts, never a model input (see the module doc).
CONTEXT_FEATURES: tuple[str, ...] = (
    "distance_to_coast_m",
    "distance_to_port_m",
    "distance_to_anchorage_m",
    "recurrence_count",
    "night_share",
    "in_sts_area",
    "shared_silence_h",
)
#: The ablation's "location/context" group (the same columns).
LOCATION_FEATURES = CONTEXT_FEATURES

#: Per-vessel 0/1 identity indicators whose count over the pair is a model
#: feature (``n_<name>`` = ``<name>_a`` + ``<name>_b``).
COUNTED_IDENTITY_FLAGS: tuple[str, ...] = (
    "missing_imo",
    "invalid_imo",
    "missing_name",
    "flag_mismatch",
    "registry_of_concern",
    "class_b_large",
)

#: Per-vessel values behind the symmetric features, used to word the reasons.
SIDE_DETAILS: tuple[str, ...] = (
    "mmsi",
    "mean_sog_kn",
    "gap_before_h",
    "gap_after_h",
    "reappeared_m",
    "went_silent_m",
    "switched_on_h",
    "switched_off_h",
    "reporting_ratio",
    "draught_before_m",
    "draught_after_m",
    "draught_change_m",
    "port_call",
    "missing_imo",
    "invalid_imo",
    "imo",
    "missing_name",
    "vessel_name",
    "mid",
    "callsign",
    "callsign_country",
    "flag_mismatch",
    "registry_of_concern",
    "class_b_large",
    "ship_type",
    "length_m",
    "identity_changes",
    "identity_change_text",
)
DETAIL_COLUMNS: tuple[str, ...] = (
    *(f"{name}_{side}" for name in SIDE_DETAILS for side in SIDES),
    "kind",
    "dark_side",
    "partner_last_fix_distance_m",
    "partner_first_fix_distance_m",
    "receiver_side",
    "receiver_length_m",
    "sts_area_name",
    "sts_area_source",
)

#: Where, carried along for recurrence across sets and for the reasons.
CONTEXT_COLUMNS: tuple[str, ...] = ("mean_lat", "mean_lon")
