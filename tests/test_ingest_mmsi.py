"""MMSI classification and flag lookup (stswatch.pipeline.mmsi)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stswatch.pipeline.mmsi import MmsiKind, classify_mmsi, flag_of, flags_of, is_vessel, mid_of


@pytest.mark.parametrize(
    ("mmsi", "kind"),
    [
        (636092733, MmsiKind.SHIP),  # Liberia
        (219029708, MmsiKind.SHIP),  # Denmark
        (2190001, MmsiKind.BASE_STATION),  # 002190001
        (992191234, MmsiKind.AID_TO_NAVIGATION),
        (111219501, MmsiKind.SAR_AIRCRAFT),
        (970012345, MmsiKind.SART_MOB_EPIRB),
        (972012345, MmsiKind.SART_MOB_EPIRB),
        (974012345, MmsiKind.SART_MOB_EPIRB),
        (982191234, MmsiKind.AUXILIARY_CRAFT),
        (821912345, MmsiKind.HANDHELD),
        (21912345, MmsiKind.GROUP),  # 021912345
        (123456789, MmsiKind.INVALID),  # first digit 1
        (200000000, MmsiKind.INVALID),  # unallocated MID 200
        (777777777, MmsiKind.INVALID),
        (0, MmsiKind.INVALID),
        (-5, MmsiKind.INVALID),
        (1_000_000_000, MmsiKind.INVALID),  # 10 digits
    ],
)
def test_classify_mmsi_each_format(mmsi: int, kind: MmsiKind) -> None:
    assert classify_mmsi(np.array([mmsi]))[0] == kind


def test_only_ships_are_vessels() -> None:
    got = is_vessel([367379190, 2190001, 992191234, 982191234, 123456789])
    assert got.tolist() == [True, False, False, False, False]


def test_flag_of_ship_and_other_formats() -> None:
    assert flag_of(636092733) == ("LR", "Liberia")
    assert flag_of(351000000).iso2 == "PA"
    assert flag_of(2190001).iso2 == "DK"  # base station carries a MID too
    assert flag_of(970012345) is None
    assert flag_of(123456789) is None


def test_flags_of_vectorised_matches_scalar() -> None:
    mmsis = np.array([636092733, 273000000, 970012345, 538000001])
    iso2, name = flags_of(mmsis)
    assert iso2.tolist() == ["LR", "RU", None, "MH"]
    assert name[3] == "Marshall Islands"
    assert mid_of(mmsis).tolist() == [636, 273, -1, 538]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-10, 2 * 10**9), max_size=50))
def test_ship_fast_path_classifies_like_the_full_rules(values: list[int]) -> None:
    """classify_mmsi short-cuts ship MMSIs; every other number gets all the rules."""
    from stswatch.pipeline.mmsi import _classify_all

    arr = np.array([*values, 366123456, 2190001, 992191234], dtype=np.int64)
    assert np.array_equal(classify_mmsi(arr), _classify_all(arr))
