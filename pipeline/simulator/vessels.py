"""Vessel identities: MMSI by flag (MID), IMO with a valid check digit, names,
call signs, ship types and dimensions, report intervals.

Identity is what the suspicion model reads (issue 4): flags of convenience,
missing IMO, a Class B transponder on a large ship, a name that changes. The
helpers here produce clean identities; scenarios degrade them on purpose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Flags typical of large, well-documented tanker fleets (Liberia, Marshall
#: Islands, Panama, Singapore, Greece, Malta, Bahamas, Norway, Hong Kong).
MAJOR_TANKER_MIDS: tuple[int, ...] = (636, 538, 352, 563, 241, 240, 229, 248, 311, 257, 477)

#: Call-sign prefixes by MID (ITU Radio Regulations Appendix 42, simplified).
_CALLSIGN_PREFIX: dict[int, str] = {
    636: "D5",
    538: "V7",
    352: "3E",
    353: "3F",
    563: "9V",
    564: "9V",
    241: "SV",
    240: "SV",
    229: "9H",
    248: "9H",
    311: "C6",
    257: "LA",
    477: "VR",
    511: "T8",
    667: "9L",
    572: "T2",
    613: "TJ",
    620: "D6",
    671: "5V",
    626: "TR",
    457: "JV",
    366: "WD",
    367: "WD",
    368: "WD",
    369: "WD",
    412: "BQ",
    413: "BR",
    414: "BS",
    440: "DS",
    441: "DS",
    431: "JL",
    470: "A6",
    461: "A4",
    422: "EP",
    419: "AT",
    657: "5N",
    627: "9G",
    610: "TY",
    619: "TU",
    533: "9M",
    525: "PK",
    520: "3DN",
    529: "T3",
    512: "ZM",
    345: "XC",
    565: "9V",
    566: "9V",
    518: "E5",
    669: "3DA",
    668: "S9",
    677: "5H",
    214: "ER",
    621: "J2",
    616: "D6",
    273: "UB",
}

_A_WORDS = (
    "OCEAN SEA STAR PACIFIC ATLANTIC GOLDEN SILVER BLUE GREEN ROYAL GRAND NORTHERN "
    "SOUTHERN EASTERN WESTERN CAPE MARINE ORIENT LUCKY PRIME NOBLE BRIGHT CRYSTAL EVER "
    "NEW UNITED GLOBAL ALPHA DELTA SIGMA AURORA CORAL PEARL JADE RUBY AMBER SUMMIT "
    "HORIZON ZEPHYR"
)
_B_WORDS = (
    "SPIRIT GLORY PRIDE VOYAGER TRADER CARRIER PIONEER FORTUNE HARMONY VENTURE EXPRESS "
    "DREAM WIND WAVE PHOENIX EAGLE FALCON DRAGON LION TIGER HOPE GRACE UNITY LEGEND "
    "QUEEN KING PRINCESS SPLENDOR BREEZE DAWN JOURNEY NAVIGATOR MERCHANT GUARDIAN"
)
_NAME_A = np.array(_A_WORDS.split())
_NAME_B = np.array(_B_WORDS.split())
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def make_mmsis(rng: np.random.Generator, mids: np.ndarray, taken: set[int]) -> np.ndarray:
    """One unique 9-digit ship MMSI per requested MID (MID * 10^6 + 6 digits)."""
    mids = np.asarray(mids, dtype=np.int64)
    out = mids * 1_000_000 + rng.integers(100_000, 1_000_000, size=len(mids))
    for i in range(len(out)):  # collisions are rare: a Python fix-up loop is fine
        while int(out[i]) in taken:
            out[i] = mids[i] * 1_000_000 + rng.integers(100_000, 1_000_000)
        taken.add(int(out[i]))
    return out


def make_imos(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid 7-digit IMO numbers (the 7th digit is the weighted check digit)."""
    body = rng.integers(900_000, 999_999, size=n)  # 90xxxxx-99xxxxx: modern hulls
    digits = (body[:, None] // 10 ** np.arange(5, -1, -1)) % 10
    check = (digits * np.arange(7, 1, -1)).sum(axis=1) % 10
    return (body * 10 + check).astype(np.int64)


def imo_is_valid(imo: int) -> bool:
    """IMO check digit rule (used by tests and by anyone reading the output)."""
    d = [int(c) for c in f"{imo:07d}"]
    return sum(x * w for x, w in zip(d[:6], range(7, 1, -1), strict=True)) % 10 == d[6]


def make_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible, mostly unique merchant names ("GOLDEN SPIRIT 7")."""
    a = rng.choice(_NAME_A, size=n)
    b = rng.choice(_NAME_B, size=n)
    num = rng.integers(1, 30, size=n)
    with_num = rng.random(n) < 0.45
    names = np.char.add(np.char.add(a, " "), b)
    return np.where(with_num, np.char.add(np.char.add(names, " "), num.astype(str)), names)


def make_callsigns(rng: np.random.Generator, mmsis: np.ndarray) -> np.ndarray:
    """Call signs with the flag's ITU prefix plus 2-4 random letters/digits."""
    mids = np.asarray(mmsis) // 1_000_000
    prefix = np.array([_CALLSIGN_PREFIX.get(int(m), "XX") for m in mids])
    tail_len = rng.integers(2, 5, size=len(mids))
    chars = np.concatenate([_LETTERS, np.array(list("0123456789"))])
    tails = rng.choice(chars, size=(len(mids), 4))
    tail = np.array(["".join(t[:k]) for t, k in zip(tails, tail_len, strict=True)])
    return np.char.add(prefix, tail)


#: (ship_type codes, share, length range m, speed range kn, class B share)
BACKGROUND_MIX: tuple[
    tuple[tuple[int, ...], float, tuple[float, float], tuple[float, float], float], ...
] = (
    ((70, 71, 72, 79), 0.38, (120.0, 366.0), (11.0, 19.0), 0.0),  # cargo / container
    ((80, 81, 82, 84, 89), 0.24, (100.0, 333.0), (9.0, 14.5), 0.0),  # tankers
    ((60, 69), 0.04, (80.0, 300.0), (14.0, 22.0), 0.0),  # passenger
    ((30,), 0.10, (15.0, 60.0), (6.0, 11.0), 0.35),  # fishing in transit
    ((52, 31), 0.05, (20.0, 45.0), (7.0, 12.0), 0.1),  # tugs
    ((37, 36), 0.14, (8.0, 25.0), (5.0, 9.0), 1.0),  # pleasure / sailing: Class B
    ((90, 0), 0.05, (30.0, 150.0), (6.0, 13.0), 0.3),  # other / unknown
)


def width_for_length(rng: np.random.Generator, length_m: np.ndarray) -> np.ndarray:
    """Beam from length (merchant hulls are ~1/6 to 1/5.5 as wide as long)."""
    return np.round(length_m / rng.uniform(5.2, 6.8, size=len(length_m)))


def draught_for_length(rng: np.random.Generator, length_m: np.ndarray) -> np.ndarray:
    """Loaded-ish draught from length (VLCC 330 m ~ 20 m, coaster 80 m ~ 5 m)."""
    base = 0.062 * length_m * rng.uniform(0.6, 1.0, size=len(length_m))
    return np.round(np.clip(base, 1.5, 22.0), 1)


def background_vessels(
    rng: np.random.Generator, n: int, mids: tuple[int, ...], taken: set[int]
) -> pd.DataFrame:
    """Identities and cruising speeds of ``n`` ordinary vessels (vectorised)."""
    shares = np.array([m[1] for m in BACKGROUND_MIX])
    group = rng.choice(len(BACKGROUND_MIX), size=n, p=shares / shares.sum())
    ship_type = np.empty(n, dtype=np.int16)
    length = np.empty(n)
    speed = np.empty(n)
    class_b = np.zeros(n, dtype=bool)
    for g, (types, _, (lo, hi), (s_lo, s_hi), b_share) in enumerate(BACKGROUND_MIX):
        sel = group == g
        k = int(sel.sum())
        ship_type[sel] = rng.choice(np.array(types, dtype=np.int16), size=k)
        length[sel] = np.round(rng.uniform(lo, hi, size=k))
        speed[sel] = rng.uniform(s_lo, s_hi, size=k)
        class_b[sel] = rng.random(k) < b_share
    mmsi = make_mmsis(rng, rng.choice(np.array(mids), size=n), taken)
    imo = make_imos(rng, n).astype(float)
    # small craft rarely carry an IMO number; some merchant rows miss it too
    no_imo = (length < 80) | (rng.random(n) < 0.08)
    imo[no_imo] = np.nan
    draught = draught_for_length(rng, length)
    draught[class_b | (rng.random(n) < 0.1)] = np.nan  # Class B has no draught field
    callsign = make_callsigns(rng, mmsi).astype(object)
    callsign[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "mmsi": mmsi,
            "vessel_name": make_names(rng, n).astype(object),
            "imo": pd.array(imo, dtype="Int64"),
            "callsign": callsign,
            "ship_type": ship_type,
            "length_m": length.astype(np.float32),
            "width_m": width_for_length(rng, length).astype(np.float32),
            "draught_m": draught.astype(np.float32),
            "transceiver_class": np.where(class_b, "B", "A"),
            "speed_kn": speed,
        }
    )
