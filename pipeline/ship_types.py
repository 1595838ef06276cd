"""ITU-R M.1371 "type of ship and cargo" codes (AIS message 5 / 24B) in words.

AIS carries the type as a number (84 = tanker, hazardous category D); the map
and the evidence cards show the words. First digit = class, second digit =
cargo hazard category (for 2x-4x and 6x-9x) or a specific use (3x, 5x).
"""

from __future__ import annotations

#: First digit -> class of ship, for codes 20-99 without a specific entry.
_CLASSES = {
    2: "wing in ground",
    4: "high-speed craft",
    6: "passenger",
    7: "cargo",
    8: "tanker",
    9: "other",
}
#: Second digit -> hazard category (ITU: 1 = X/A, 2 = Y/B, 3 = Z/C, 4 = OS/D).
_HAZARD = {1: "hazardous A", 2: "hazardous B", 3: "hazardous C", 4: "hazardous D"}
#: Codes with a meaning of their own.
_SPECIFIC = {
    30: "fishing",
    31: "towing",
    32: "towing (large)",
    33: "dredging / underwater ops",
    34: "diving ops",
    35: "military ops",
    36: "sailing",
    37: "pleasure craft",
    50: "pilot vessel",
    51: "search and rescue",
    52: "tug",
    53: "port tender",
    54: "anti-pollution",
    55: "law enforcement",
    58: "medical transport",
    59: "non-combatant (RR 18)",
}


def ship_type_name(code: object) -> str | None:
    """``84`` -> ``"tanker, hazardous D"``; None for missing, 0 or unknown codes."""
    try:
        value = int(code)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    if value in _SPECIFIC:
        return _SPECIFIC[value]
    kind = _CLASSES.get(value // 10)
    if kind is None or not 20 <= value <= 99:
        return None
    hazard = _HAZARD.get(value % 10)
    return f"{kind}, {hazard}" if hazard else kind
