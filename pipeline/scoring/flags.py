"""Flags of convenience by MID (the first three digits of a ship's MMSI).

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

_FOC_ARRAY = np.zeros(1000, dtype=bool)
_FOC_ARRAY[list(FOC_MIDS)] = True


def mid_of(mmsi: np.ndarray) -> np.ndarray:
    """Maritime Identification Digits of ship MMSIs (9 digits, MID first)."""
    return (np.asarray(mmsi, dtype=np.int64) // 1_000_000) % 1000


def is_flag_of_convenience(mmsi: np.ndarray) -> np.ndarray:
    """True where the MMSI's MID belongs to a flag-of-convenience registry."""
    return _FOC_ARRAY[mid_of(mmsi)]


def flag_name(mid: int) -> str:
    """Country of a MID for wording; falls back to ingest's table, then "MID n"."""
    if mid in FOC_MIDS:
        return FOC_MIDS[mid]
    try:  # stswatch.pipeline.mmsi is the ingest engineer's full MID table
        from stswatch.pipeline.mmsi import flag_of

        flag = flag_of(int(mid) * 1_000_000)
        if flag is not None:
            return str(flag.name)
    except Exception:  # wording only: never fail scoring over a name
        pass
    return f"MID {mid}"
