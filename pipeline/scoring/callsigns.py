"""Which country a radio call sign belongs to (ITU Radio Regulations, Appendix 42).

A ship's call sign is issued by its flag state's radio administration from
that state's ITU series, and its MMSI starts with the same state's MID. A
call sign of one country on an MMSI of another is the "MMSI country versus
reported flag" indicator of sanctions guidance: a ship that re-flagged
without re-registering its radio licence, or a fraudulent or false
registration. The call sign is the flag evidence AIS itself carries (static
message 5); where a vessel table also has a reported ``flag`` column, the
scorer compares that instead.

The table covers the flag states that register most merchant tonnage, the
registries named in sanctions reporting, and the coastal states of the
simulated regions; a prefix outside it is *unknown*, never a mismatch.
Overseas territories share their state's series (``FAMILIES``), so a
Gibraltar ship with a UK call sign is no mismatch.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

#: ISO 3166 alpha-2 -> ITU series (single prefixes or ranges of the last character).
_SERIES: dict[str, str] = {
    "LR": "A8 D5 EL 5L 5M 6Z",
    "MH": "V7",
    "PA": "3E 3F H3 H8 H9 HO HP",
    "SG": "9V S6",
    "GR": "SV-SZ J4",
    "MT": "9H",
    "BS": "C6",
    "NO": "LA-LN JW JX 3Y",
    "HK": "VR",
    "CN": "B 3H-3U XS",
    "JP": "JA-JS 7J-7N 8J-8N",
    "KR": "DS DT D7-D9 6K-6N HL",
    "KP": "HM P5-P9",
    "US": "K N W AA-AL",
    "RU": "R UA-UI",
    "GB": "G M 2 ZB-ZJ ZN ZO ZQ",
    "CY": "5B C4 H2 P3",
    "AG": "V2",
    "BZ": "V3",
    "KN": "V4",
    "VC": "J8",
    "BB": "8P",
    "KM": "D6",
    "TG": "5V",
    "SL": "9L",
    "CM": "TJ",
    "GA": "TR",
    "PW": "T8",
    "TV": "T2",
    "CK": "E5",
    "TZ": "5H 5I",
    "MN": "JT-JV",
    "KH": "XU",
    "VU": "YJ",
    "HN": "HQ HR",
    "MD": "ER",
    "BO": "CP",
    "SZ": "3DA-3DM",
    "FJ": "3DN-3DZ",
    "DJ": "J2",
    "GQ": "3C",
    "ST": "S9",
    "GW": "J5",
    "MW": "7Q",
    "GY": "8R",
    "BJ": "TY",
    "BW": "A2 8O",
    "IR": "EP EQ 9B-9D",
    "AE": "A6",
    "OM": "A4",
    "SA": "HZ 7Z 8Z",
    "QA": "A7",
    "KW": "9K",
    "BH": "A9",
    "IN": "AT-AW VT-VW 8T-8Y",
    "ID": "PK-PO YB-YH 7A-7I 8A-8I",
    "MY": "9M 9W",
    "TH": "HS E2",
    "VN": "XV 3W",
    "PH": "DU-DZ 4D-4I",
    "NG": "5N 5O",
    "GH": "9G",
    "CI": "TU",
    "TR": "TA-TC YM",
    "IT": "I",
    "FR": "F TH TK TM TO-TQ",
    "DE": "DA-DR",
    "NL": "PA-PI",
    "BE": "ON-OT",
    "DK": "OU-OZ 5P 5Q",
    "SE": "SA-SM 7S 8S",
    "FI": "OF-OJ",
    "ES": "AM-AO EA-EH",
    "PT": "CQ-CU",
    "MX": "XA-XI 4A-4C 6D-6J",
    "CU": "CL CM CO T4",
    "VE": "YV-YY 4M",
    "BR": "PP-PY ZV-ZZ",
    "CA": "CF-CK CY CZ VA-VG VO VX VY XJ-XO",
    "AU": "AX VH-VN VZ",
    "NZ": "ZK-ZM",
    "KI": "T3",
    "JM": "6Y",
    "CW": "PJ",
    "GE": "4L",
    "LK": "4P-4S",
    "LB": "OD",
    "MM": "XY XZ",
    "MU": "3B",
    "TO": "A3",
    "UA": "EM-EO UR-UZ",
    "PL": "HF SN-SR 3Z",
    "EG": "SS-SU 6A 6B",
    "IL": "4X 4Z",
    "LY": "5A",
    "DZ": "7R 7T-7Y",
    "MA": "CN 5C-5G",
    "TN": "TS 3V",
    "PK": "AP-AS 6P-6S",
    "BD": "S2 S3",
    "AR": "AY AZ L2-L9 LO-LW",
    "CL": "CA-CE XQ XR 3G",
    "PE": "OA-OC 4T",
    "CO": "HJ HK 5J 5K",
    "EC": "HC HD",
    "UY": "CV-CX",
    "IE": "EI EJ",
    "EE": "ES",
    "LV": "YL",
    "LT": "LY",
    "HR": "9A",
    "BG": "LZ",
    "RO": "YO-YR",
    "AZ": "4J 4K",
    "KZ": "UN-UQ",
    "TM": "EZ",
    "SC": "S7",
    "MV": "8Q",
    "KE": "5Y 5Z",
    "ZA": "ZR-ZU S8",
    "MZ": "C8 C9",
    "AO": "D2 D3",
    "CV": "D4",
    "SN": "6V 6W",
    "GN": "3X",
    "MR": "5T",
    "TT": "9Y 9Z",
    "DO": "HI",
    "HT": "HH 4V",
    "SB": "H4",
    "PG": "P2",
    "FM": "V6",
    "NR": "C2",
    "WS": "5W",
    "DM": "J7",
    "NU": "E6",
    "SO": "6O T5",
    "PY": "ZP",
}

#: States whose territories or associated registries share one series.
FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({"GB", "GI", "BM", "KY", "IM", "VG", "FK", "MS", "TC", "AI", "GG", "JE", "SH"}),
    frozenset({"FR", "PF", "NC", "RE", "GP", "MQ", "WF", "PM", "TF", "YT", "GF", "BL", "MF"}),
    frozenset({"NL", "CW", "SX", "AW", "BQ"}),
    frozenset({"DK", "FO", "GL"}),
    frozenset({"NO", "SJ"}),
    frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM"}),
    frozenset({"CN", "TW", "HK", "MO"}),
    frozenset({"AU", "NF", "CX", "CC"}),
    frozenset({"NZ", "NU", "TK"}),
)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CHARS = "0123456789" + _LETTERS


def _expand(token: str) -> list[str]:
    """'SV-SZ' -> SV, SW, SX, SY, SZ; '3DA-3DM' -> 3DA..3DM; 'B' -> B."""
    if "-" not in token:
        return [token]
    lo, hi = token.split("-")
    head = lo[:-1]
    i0, i1 = _CHARS.index(lo[-1]), _CHARS.index(hi[-1])
    return [head + _CHARS[i] for i in range(i0, i1 + 1)]


@cache
def prefix_table() -> dict[str, str]:
    """Call-sign prefix (1-3 characters) -> ISO alpha-2 country."""
    table: dict[str, str] = {}
    for iso2, series in _SERIES.items():
        for token in series.split():
            for prefix in _expand(token):
                table[prefix] = iso2
    return table


def callsign_country(callsign: str | None) -> str | None:
    """The country whose ITU series holds ``callsign`` (longest prefix wins), else None."""
    if callsign is None or (isinstance(callsign, float) and np.isnan(callsign)):
        return None
    text = str(callsign).strip().upper()
    if len(text) < 3:  # too short to be a real call sign
        return None
    table = prefix_table()
    for n in (3, 2, 1):
        country = table.get(text[:n])
        if country is not None:
            return country
    return None


@cache
def _names() -> dict[str, str]:
    from stswatch.pipeline.mmsi import MID_TABLE

    return {flag.iso2: flag.name for flag in MID_TABLE.values()}


def country_name(iso2: str | None) -> str:
    """English name of an ISO alpha-2 code (the code itself when unknown)."""
    if not iso2:
        return "unknown"
    return _names().get(str(iso2), str(iso2))


def same_flag_state(a: str | None, b: str | None) -> bool | None:
    """True when two ISO codes are one state or one family; None when either is unknown."""
    if not a or not b:
        return None
    if a == b:
        return True
    return any(a in fam and b in fam for fam in FAMILIES)


def flag_mismatch(mmsi_country: pd.Series, reported_country: pd.Series) -> np.ndarray:
    """1.0 where both are known and differ, else 0.0 (unknown is not evidence)."""
    out = np.zeros(len(mmsi_country), dtype=np.float64)
    for i, (m, r) in enumerate(zip(mmsi_country.tolist(), reported_country.tolist(), strict=True)):
        if same_flag_state(m, r) is False:
            out[i] = 1.0
    return out
