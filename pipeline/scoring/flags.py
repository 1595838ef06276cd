"""Flags by MID (the first three digits of a ship's MMSI): open registries and
registries of concern.

Two lists with two jobs. **Registries of concern** (:data:`CONCERN_MIDS`)
are a model feature: flags that sanctions reporting names for fraudulent or
false registrations and for the shadow fleet's reflagging, plus MIDs that no
state holds (an MMSI no administration issued). The wider ITU **flags of
convenience** list (:data:`FOC_MIDS`) is only used for wording: Liberia,
Panama and the Marshall Islands register most of the world's legitimate
tankers, so "open registry" alone is no evidence.

Open registries let an owner hide behind a shell company and change flag in
days; sanctions-evasion fleets (the "dark fleet") cluster on them. The list is
the International Transport Workers' Federation (ITF) flags of convenience
list, plus the registries public reporting names for the shadow tanker fleet
(Gabon, Cameroon, Sierra Leone, Eswatini, Tuvalu...). MIDs follow ITU's MID table.

Kept here (not in :mod:`stswatch.pipeline.mmsi`) because "convenience" is a scoring
judgement; the plain MID -> country lookup belongs to ingest and is used for
wording when it is available.
"""

from __future__ import annotations

import numpy as np

#: MID -> flag state, for flags of convenience only.
FOC_MIDS: dict[int, str] = {
    **dict.fromkeys((209, 210, 212), "Cyprus"),
    213: "Georgia",
    214: "Moldova",
    **dict.fromkeys((215, 229, 248, 249, 256), "Malta"),
    231: "Faroe Islands",
    236: "Gibraltar",
    305: "Antigua and Barbuda",
    306: "Curaçao",
    **dict.fromkeys((308, 309, 311), "Bahamas"),
    310: "Bermuda",
    312: "Belize",
    314: "Barbados",
    319: "Cayman Islands",
    334: "Honduras",
    339: "Jamaica",
    341: "Saint Kitts and Nevis",
    **dict.fromkeys((351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373, 374), "Panama"),
    **dict.fromkeys((375, 376, 377), "Saint Vincent and the Grenadines"),
    417: "Sri Lanka",
    445: "North Korea",
    450: "Lebanon",
    457: "Mongolia",
    506: "Myanmar",
    511: "Palau",
    **dict.fromkeys((514, 515), "Cambodia"),
    518: "Cook Islands",
    538: "Marshall Islands",
    570: "Tonga",
    572: "Tuvalu",
    **dict.fromkeys((576, 577), "Vanuatu"),
    613: "Cameroon",
    **dict.fromkeys((616, 620), "Comoros"),
    626: "Gabon",
    631: "Equatorial Guinea",
    **dict.fromkeys((636, 637), "Liberia"),
    645: "Mauritius",
    667: "Sierra Leone",
    668: "São Tomé and Príncipe",
    669: "Eswatini",
    671: "Togo",
    **dict.fromkeys((674, 677), "Tanzania"),
    720: "Bolivia",
}

#: MID -> registry named in sanctions reporting: the UN 1718 Panel of Experts
#: (false or fraudulent registrations used by DPRK-linked tankers: Sierra
#: Leone, Togo, Mongolia, Comoros, Tanzania, Cambodia, DPRK itself), IMO's
#: Legal Committee on fraudulent registries (2023-24: Eswatini, Malawi,
#: Guyana, Botswana, Benin, among others), and the 2023-24 shadow-fleet
#: advisories and reporting on reflagging (Gabon, Cameroon, Cook Islands,
#: Palau, São Tomé and Príncipe, Djibouti, Equatorial Guinea, Sierra Leone).
#: Landlocked states (Eswatini, Malawi, Botswana, Mongolia, Moldova, Bolivia)
#: registering ocean-going tankers are in it for the same reason.
CONCERN_MIDS: dict[int, str] = {
    445: "North Korea",
    457: "Mongolia",
    214: "Moldova",
    **dict.fromkeys((514, 515), "Cambodia"),
    511: "Palau",
    518: "Cook Islands",
    572: "Tuvalu",
    610: "Benin",
    611: "Botswana",
    613: "Cameroon",
    **dict.fromkeys((616, 620), "Comoros"),
    621: "Djibouti",
    626: "Gabon",
    630: "Guinea-Bissau",
    631: "Equatorial Guinea",
    655: "Malawi",
    667: "Sierra Leone",
    668: "São Tomé and Príncipe",
    669: "Eswatini",
    671: "Togo",
    **dict.fromkeys((674, 677), "Tanzania"),
    720: "Bolivia",
    750: "Guyana",
}

_CONCERN_ARRAY = np.zeros(1000, dtype=bool)
_CONCERN_ARRAY[list(CONCERN_MIDS)] = True


def mid_of(mmsi: np.ndarray) -> np.ndarray:
    """Maritime Identification Digits of ship MMSIs (9 digits, MID first)."""
    return (np.asarray(mmsi, dtype=np.int64) // 1_000_000) % 1000


def mmsi_country(mmsi: np.ndarray) -> list[str | None]:
    """ISO alpha-2 of the state each MMSI's MID belongs to (None: unallocated)."""
    from stswatch.pipeline.mmsi import flags_of

    iso2, _ = flags_of(np.asarray(mmsi, dtype=np.int64))
    return list(iso2)


def is_registry_of_concern(mmsi: np.ndarray) -> np.ndarray:
    """True where the MID is a registry of concern or allocated to no state at all."""
    unallocated = np.array([c is None for c in mmsi_country(mmsi)], dtype=bool)
    return _CONCERN_ARRAY[mid_of(mmsi)] | unallocated


def flag_name(mid: int) -> str:
    """Country of a MID for wording (ingest's ITU table), else "MID n" (unallocated)."""
    from stswatch.pipeline.mmsi import MID_TABLE

    if mid in FOC_MIDS:
        return FOC_MIDS[mid]
    if mid in CONCERN_MIDS:
        return CONCERN_MIDS[mid]
    flag = MID_TABLE.get(int(mid))
    return str(flag.name) if flag is not None else f"MID {mid}"
