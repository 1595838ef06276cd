"""MMSI classification and flag state (ITU-R M.585), vectorised over numpy arrays.

Why this matters for stswatch: only *ships* may form tracks and rendezvous. A
base station, an aid to navigation or a search-and-rescue aircraft never
transfers cargo, and a daughter craft (``98MIDxxxx``) sitting alongside its
mother ship is the most trivial "rendezvous" there is. Those identities are
kept out of the position table but counted in the quarantine
(``non_vessel_mmsi``), so the ingest tally still adds up.

The flag state (from the Maritime Identification Digits, MID) feeds the
scorer's flags-of-convenience feature. Note the MID is the flag the vessel
*claims*: spoofed or re-used MMSIs are common among the vessels stswatch looks
for, which is one more reason a flag is a feature, never a verdict.

MMSI formats (9 digits; leading zeros are part of the number, so a base
station ``002190001`` arrives as the integer 2190001):

=================  =========================  ====================
pattern            meaning                    :class:`MmsiKind`
=================  =========================  ====================
``MIDxxxxxx``      ship station (MID 2..7)    ``SHIP``
``0MIDxxxxx``      group call of ships        ``GROUP``
``00MIDxxxx``      coast / base station       ``BASE_STATION``
``111MIDxxx``      SAR aircraft               ``SAR_AIRCRAFT``
``970xxyyyy``      AIS-SART                   ``SART_MOB_EPIRB``
``972xxyyyy``      man overboard device       ``SART_MOB_EPIRB``
``974xxyyyy``      EPIRB-AIS                  ``SART_MOB_EPIRB``
``98MIDxxxx``      craft of a parent ship     ``AUXILIARY_CRAFT``
``99MIDxxxx``      aid to navigation          ``AID_TO_NAVIGATION``
``8MIDxxxxx``      handheld VHF               ``HANDHELD``
=================  =========================  ====================

A ship MMSI whose MID is not allocated (e.g. ``200000000``, ``777777777``)
is ``INVALID``: such numbers are default or made-up transponder settings and
would merge unrelated vessels into one track.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt


class MmsiKind(IntEnum):
    """What kind of station an MMSI identifies (int8 codes for numpy arrays)."""

    INVALID = 0
    SHIP = 1
    GROUP = 2
    BASE_STATION = 3
    SAR_AIRCRAFT = 4
    SART_MOB_EPIRB = 5
    AUXILIARY_CRAFT = 6
    AID_TO_NAVIGATION = 7
    HANDHELD = 8


class Flag(NamedTuple):
    """A flag state: ISO 3166-1 alpha-2 code and English short name."""

    iso2: str
    name: str


#: ITU Maritime Identification Digits -> flag (ITU MARS table). Overseas
#: territories with their own MID keep their own ISO code (Gibraltar GI,
#: Bermuda BM...), since registries such as these behave as separate flags.
MID_TABLE: dict[int, Flag] = {
    mid: Flag(iso2, name)
    for iso2, name, mids in [
        # Europe
        ("AL", "Albania", [201]),
        ("AD", "Andorra", [202]),
        ("AT", "Austria", [203]),
        ("PT", "Portugal", [204, 255, 263]),  # 204 Azores, 255 Madeira
        ("BE", "Belgium", [205]),
        ("BY", "Belarus", [206]),
        ("BG", "Bulgaria", [207]),
        ("VA", "Vatican City", [208]),
        ("CY", "Cyprus", [209, 210, 212]),
        ("DE", "Germany", [211, 218]),
        ("GE", "Georgia", [213]),
        ("MD", "Moldova", [214]),
        ("MT", "Malta", [215, 229, 248, 249, 256]),
        ("AM", "Armenia", [216]),
        ("DK", "Denmark", [219, 220]),
        ("ES", "Spain", [224, 225]),
        ("FR", "France", [226, 227, 228]),
        ("FI", "Finland", [230]),
        ("FO", "Faroe Islands", [231]),
        ("GB", "United Kingdom", [232, 233, 234, 235]),
        ("GI", "Gibraltar", [236]),
        ("GR", "Greece", [237, 239, 240, 241]),
        ("HR", "Croatia", [238]),
        ("MA", "Morocco", [242]),
        ("HU", "Hungary", [243]),
        ("NL", "Netherlands", [244, 245, 246]),
        ("IT", "Italy", [247]),
        ("IE", "Ireland", [250]),
        ("IS", "Iceland", [251]),
        ("LI", "Liechtenstein", [252]),
        ("LU", "Luxembourg", [253]),
        ("MC", "Monaco", [254]),
        ("NO", "Norway", [257, 258, 259]),
        ("PL", "Poland", [261]),
        ("ME", "Montenegro", [262]),
        ("RO", "Romania", [264]),
        ("SE", "Sweden", [265, 266]),
        ("SK", "Slovakia", [267]),
        ("SM", "San Marino", [268]),
        ("CH", "Switzerland", [269]),
        ("CZ", "Czechia", [270]),
        ("TR", "Türkiye", [271]),
        ("UA", "Ukraine", [272]),
        ("RU", "Russia", [273]),
        ("MK", "North Macedonia", [274]),
        ("LV", "Latvia", [275]),
        ("EE", "Estonia", [276]),
        ("LT", "Lithuania", [277]),
        ("SI", "Slovenia", [278]),
        ("RS", "Serbia", [279]),
        # North and Central America, Caribbean
        ("AI", "Anguilla", [301]),
        ("US", "United States", [303, 338, 366, 367, 368, 369]),  # 303 Alaska
        ("AG", "Antigua and Barbuda", [304, 305]),
        ("CW", "Curaçao", [306]),  # also Sint Maarten and Caribbean Netherlands
        ("AW", "Aruba", [307]),
        ("BS", "Bahamas", [308, 309, 311]),
        ("BM", "Bermuda", [310]),
        ("BZ", "Belize", [312]),
        ("BB", "Barbados", [314]),
        ("CA", "Canada", [316]),
        ("KY", "Cayman Islands", [319]),
        ("CR", "Costa Rica", [321]),
        ("CU", "Cuba", [323]),
        ("DM", "Dominica", [325]),
        ("DO", "Dominican Republic", [327]),
        ("GP", "Guadeloupe", [329]),
        ("GD", "Grenada", [330]),
        ("GL", "Greenland", [331]),
        ("GT", "Guatemala", [332]),
        ("HN", "Honduras", [334]),
        ("HT", "Haiti", [336]),
        ("JM", "Jamaica", [339]),
        ("KN", "Saint Kitts and Nevis", [341]),
        ("LC", "Saint Lucia", [343]),
        ("MX", "Mexico", [345]),
        ("MQ", "Martinique", [347]),
        ("MS", "Montserrat", [348]),
        ("NI", "Nicaragua", [350]),
        ("PA", "Panama", [351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373, 374]),
        ("PR", "Puerto Rico", [358]),
        ("SV", "El Salvador", [359]),
        ("PM", "Saint Pierre and Miquelon", [361]),
        ("TT", "Trinidad and Tobago", [362]),
        ("TC", "Turks and Caicos Islands", [364]),
        ("VC", "Saint Vincent and the Grenadines", [375, 376, 377]),
        ("VG", "British Virgin Islands", [378]),
        ("VI", "United States Virgin Islands", [379]),
        # Asia
        ("AF", "Afghanistan", [401]),
        ("SA", "Saudi Arabia", [403]),
        ("BD", "Bangladesh", [405]),
        ("BH", "Bahrain", [408]),
        ("BT", "Bhutan", [410]),
        ("CN", "China", [412, 413, 414]),
        ("TW", "Taiwan", [416]),
        ("LK", "Sri Lanka", [417]),
        ("IN", "India", [419]),
        ("IR", "Iran", [422]),
        ("AZ", "Azerbaijan", [423]),
        ("IQ", "Iraq", [425]),
        ("IL", "Israel", [428]),
        ("JP", "Japan", [431, 432]),
        ("TM", "Turkmenistan", [434]),
        ("KZ", "Kazakhstan", [436]),
        ("UZ", "Uzbekistan", [437]),
        ("JO", "Jordan", [438]),
        ("KR", "South Korea", [440, 441]),
        ("PS", "Palestine", [443]),
        ("KP", "North Korea", [445]),
        ("KW", "Kuwait", [447]),
        ("LB", "Lebanon", [450]),
        ("KG", "Kyrgyzstan", [451]),
        ("MO", "Macao", [453]),
        ("MV", "Maldives", [455]),
        ("MN", "Mongolia", [457]),
        ("NP", "Nepal", [459]),
        ("OM", "Oman", [461]),
        ("PK", "Pakistan", [463]),
        ("QA", "Qatar", [466]),
        ("SY", "Syria", [468]),
        ("AE", "United Arab Emirates", [470, 471]),
        ("TJ", "Tajikistan", [472]),
        ("YE", "Yemen", [473, 475]),
        ("HK", "Hong Kong", [477]),
        ("BA", "Bosnia and Herzegovina", [478]),
        # Oceania and South-East Asia
        ("TF", "French Southern Territories", [501, 607, 618, 635]),  # Adélie, Crozet...
        ("AU", "Australia", [503]),
        ("MM", "Myanmar", [506]),
        ("BN", "Brunei", [508]),
        ("FM", "Micronesia", [510]),
        ("PW", "Palau", [511]),
        ("NZ", "New Zealand", [512]),
        ("KH", "Cambodia", [514, 515]),
        ("CX", "Christmas Island", [516]),
        ("CK", "Cook Islands", [518]),
        ("FJ", "Fiji", [520]),
        ("CC", "Cocos (Keeling) Islands", [523]),
        ("ID", "Indonesia", [525]),
        ("KI", "Kiribati", [529]),
        ("LA", "Laos", [531]),
        ("MY", "Malaysia", [533]),
        ("MP", "Northern Mariana Islands", [536]),
        ("MH", "Marshall Islands", [538]),
        ("NC", "New Caledonia", [540]),
        ("NU", "Niue", [542]),
        ("NR", "Nauru", [544]),
        ("PF", "French Polynesia", [546]),
        ("PH", "Philippines", [548]),
        ("TL", "Timor-Leste", [550]),
        ("PG", "Papua New Guinea", [553]),
        ("PN", "Pitcairn Islands", [555]),
        ("SB", "Solomon Islands", [557]),
        ("AS", "American Samoa", [559]),
        ("WS", "Samoa", [561]),
        ("SG", "Singapore", [563, 564, 565, 566]),
        ("TH", "Thailand", [567]),
        ("TO", "Tonga", [570]),
        ("TV", "Tuvalu", [572]),
        ("VN", "Vietnam", [574]),
        ("VU", "Vanuatu", [576, 577]),
        ("WF", "Wallis and Futuna", [578]),
        # Africa
        ("ZA", "South Africa", [601]),
        ("AO", "Angola", [603]),
        ("DZ", "Algeria", [605]),
        ("SH", "Saint Helena, Ascension and Tristan da Cunha", [608, 665]),
        ("BI", "Burundi", [609]),
        ("BJ", "Benin", [610]),
        ("BW", "Botswana", [611]),
        ("CF", "Central African Republic", [612]),
        ("CM", "Cameroon", [613]),
        ("CG", "Congo", [615]),
        ("KM", "Comoros", [616, 620]),
        ("CV", "Cabo Verde", [617]),
        ("CI", "Côte d'Ivoire", [619]),
        ("DJ", "Djibouti", [621]),
        ("EG", "Egypt", [622]),
        ("ET", "Ethiopia", [624]),
        ("ER", "Eritrea", [625]),
        ("GA", "Gabon", [626]),
        ("GH", "Ghana", [627]),
        ("GM", "Gambia", [629]),
        ("GW", "Guinea-Bissau", [630]),
        ("GQ", "Equatorial Guinea", [631]),
        ("GN", "Guinea", [632]),
        ("BF", "Burkina Faso", [633]),
        ("KE", "Kenya", [634]),
        ("LR", "Liberia", [636, 637]),
        ("SS", "South Sudan", [638]),
        ("LY", "Libya", [642]),
        ("LS", "Lesotho", [644]),
        ("MU", "Mauritius", [645]),
        ("MG", "Madagascar", [647]),
        ("ML", "Mali", [649]),
        ("MZ", "Mozambique", [650]),
        ("MR", "Mauritania", [654]),
        ("MW", "Malawi", [655]),
        ("NE", "Niger", [656]),
        ("NG", "Nigeria", [657]),
        ("NA", "Namibia", [659]),
        ("RE", "Réunion", [660]),
        ("RW", "Rwanda", [661]),
        ("SD", "Sudan", [662]),
        ("SN", "Senegal", [663]),
        ("SC", "Seychelles", [664]),
        ("SO", "Somalia", [666]),
        ("SL", "Sierra Leone", [667]),
        ("ST", "Sao Tome and Principe", [668]),
        ("SZ", "Eswatini", [669]),
        ("TD", "Chad", [670]),
        ("TG", "Togo", [671]),
        ("TN", "Tunisia", [672]),
        ("TZ", "Tanzania", [674, 677]),
        ("UG", "Uganda", [675]),
        ("CD", "DR Congo", [676]),
        ("ZM", "Zambia", [678]),
        ("ZW", "Zimbabwe", [679]),
        # South America
        ("AR", "Argentina", [701]),
        ("BR", "Brazil", [710]),
        ("BO", "Bolivia", [720]),
        ("CL", "Chile", [725]),
        ("CO", "Colombia", [730]),
        ("EC", "Ecuador", [735]),
        ("FK", "Falkland Islands", [740]),
        ("GF", "French Guiana", [745]),
        ("GY", "Guyana", [750]),
        ("PY", "Paraguay", [755]),
        ("PE", "Peru", [760]),
        ("SR", "Suriname", [765]),
        ("UY", "Uruguay", [770]),
        ("VE", "Venezuela", [775]),
    ]
    for mid in mids
}

#: Boolean lookup: _MID_VALID[mid] is True for allocated MIDs (index 0..999).
_MID_VALID = np.zeros(1000, dtype=bool)
_MID_VALID[list(MID_TABLE)] = True

#: Kinds that may appear in vessel tracks.
VESSEL_KINDS = frozenset({MmsiKind.SHIP})


def _as_int64(mmsi: npt.ArrayLike) -> np.ndarray:
    arr = np.asarray(mmsi)
    if arr.dtype.kind == "f":  # nullable ints arrive as float with NaN
        arr = np.where(np.isfinite(arr), arr, -1)
    return arr.astype(np.int64, copy=False)


def _valid_mid(mid: np.ndarray) -> np.ndarray:
    return _MID_VALID[np.clip(mid, 0, 999)] & (mid >= 0) & (mid <= 999)


def classify_mmsi(mmsi: npt.ArrayLike) -> np.ndarray:
    """Classify MMSIs into :class:`MmsiKind` codes (int8 array of the same shape).

    Vectorised: one pass of integer arithmetic, no Python object per value.
    Negative, zero and > 9-digit values are ``INVALID``.
    """
    m = _as_int64(mmsi)
    # Nearly every row of a day is a ship: find those with one division and
    # a lookup, and run the full set of rules on the others only (~5x less
    # work per batch; no other kind overlaps MID 200-799 nine-digit numbers).
    mid = m // 1_000_000
    ship = (m >= 200_000_000) & (m < 800_000_000) & _MID_VALID[np.clip(mid, 0, 999)]
    if ship.all():
        return np.full(m.shape, MmsiKind.SHIP, dtype=np.int8)
    kind = np.full(m.shape, MmsiKind.SHIP, dtype=np.int8)
    rest = ~ship
    kind[rest] = _classify_all(m[rest])
    return kind


def _classify_all(m: np.ndarray) -> np.ndarray:
    """Every rule of :func:`classify_mmsi`, on an int64 array."""
    kind = np.zeros(m.shape, dtype=np.int8)
    nine = (m >= 100_000_000) & (m <= 999_999_999)
    d1 = m // 100_000_000
    d12 = m // 10_000_000
    d123 = m // 1_000_000

    ship = nine & (d1 >= 2) & (d1 <= 7) & _valid_mid(d123)
    kind[ship] = MmsiKind.SHIP
    # 0MIDxxxxx: 10_000_000 <= m < 100_000_000, MID = m // 100_000
    group = (m >= 10_000_000) & (m < 100_000_000) & _valid_mid(m // 100_000)
    kind[group] = MmsiKind.GROUP
    # 00MIDxxxx: MID = m // 10_000
    base = (m >= 1_000_000) & (m < 10_000_000) & _valid_mid(m // 10_000)
    kind[base] = MmsiKind.BASE_STATION
    # 111MIDxxx
    sar = nine & (d123 == 111) & _valid_mid((m // 1_000) % 1_000)
    kind[sar] = MmsiKind.SAR_AIRCRAFT
    kind[nine & np.isin(d123, (970, 972, 974))] = MmsiKind.SART_MOB_EPIRB
    aux = nine & (d12 == 98) & _valid_mid((m // 10_000) % 1_000)
    kind[aux] = MmsiKind.AUXILIARY_CRAFT
    aton = nine & (d12 == 99) & _valid_mid((m // 10_000) % 1_000)
    kind[aton] = MmsiKind.AID_TO_NAVIGATION
    handheld = nine & (d1 == 8) & _valid_mid((m // 100_000) % 1_000)
    kind[handheld] = MmsiKind.HANDHELD
    return kind


def is_vessel(mmsi: npt.ArrayLike) -> np.ndarray:
    """True where the MMSI is a ship station allowed into vessel tracks."""
    return classify_mmsi(mmsi) == MmsiKind.SHIP


def mid_of(mmsi: npt.ArrayLike) -> np.ndarray:
    """The MID embedded in each MMSI (int16; -1 where the format carries none).

    The MID sits at a different place per format (``MID...``, ``00MID...``,
    ``111MID...``, ``98MID...``, ``99MID...``, ``8MID...``, ``0MID...``).
    """
    m = _as_int64(mmsi)
    kind = classify_mmsi(m)
    mid = np.full(m.shape, -1, dtype=np.int64)
    picks = {
        MmsiKind.SHIP: m // 1_000_000,
        MmsiKind.GROUP: m // 100_000,
        MmsiKind.BASE_STATION: m // 10_000,
        MmsiKind.SAR_AIRCRAFT: (m // 1_000) % 1_000,
        MmsiKind.AUXILIARY_CRAFT: (m // 10_000) % 1_000,
        MmsiKind.AID_TO_NAVIGATION: (m // 10_000) % 1_000,
        MmsiKind.HANDHELD: (m // 100_000) % 1_000,
    }
    for k, values in picks.items():
        sel = kind == k
        mid[sel] = values[sel]
    return mid.astype(np.int16)


def flag_of(mmsi: int) -> Flag | None:
    """The flag state claimed by one MMSI, or None (no MID, or unallocated MID).

    >>> flag_of(636092733)
    Flag(iso2='LR', name='Liberia')
    """
    mid = int(mid_of(np.array([mmsi]))[0])
    return MID_TABLE.get(mid)


# iso2 / name lookup arrays indexed by MID, for the vectorised version
_ISO2_BY_MID = np.full(1000, None, dtype=object)
_NAME_BY_MID = np.full(1000, None, dtype=object)
for _mid, _flag in MID_TABLE.items():
    _ISO2_BY_MID[_mid] = _flag.iso2
    _NAME_BY_MID[_mid] = _flag.name


def flags_of(mmsi: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`flag_of`: (iso2, name) object arrays, None where unknown."""
    mid = mid_of(mmsi).astype(np.int64)
    ok = mid >= 0
    iso2 = np.full(mid.shape, None, dtype=object)
    name = np.full(mid.shape, None, dtype=object)
    iso2[ok] = _ISO2_BY_MID[mid[ok]]
    name[ok] = _NAME_BY_MID[mid[ok]]
    return iso2, name
