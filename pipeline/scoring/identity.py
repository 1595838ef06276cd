"""Weak or changing identity: the identity indicators of sanctions guidance.

The 2020 US Global Maritime Sanctions Advisory and the UN 1718 Panel of
Experts list the ways a ship hides who it is: no IMO number or one that
fails its check digit (made up, or borrowed from a scrapped hull), names and
call signs changed around a transfer, a flag that does not match the MMSI
(:mod:`.callsigns`), registries known for fraudulent or open registration
(:mod:`.flags`), and a Class B transponder (meant for small craft, without
IMO or draught fields) on a large tanker. Each helper here answers one of
those for arrays of vessels; pure, no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stswatch.pipeline.scoring.frames import HOUR_MS, epoch_ms

#: Identity fields whose changes are tracked, with the words used for them.
TRACKED_FIELDS = {"vessel_name": "name", "callsign": "call sign", "imo": "IMO"}


def missing_imo(imo: np.ndarray) -> np.ndarray:
    """IMO numbers are 7 digits; null, 0 or out-of-range means no IMO."""
    return ~((imo >= 1_000_000) & (imo <= 9_999_999))


def imo_check_digit_ok(imo: np.ndarray) -> np.ndarray:
    """True where a 7-digit IMO's last digit is its weighted check digit (7..2 weights).

    IMO numbers are issued with ``sum(d_i * w_i) mod 10 == d_7`` for weights
    7, 6, 5, 4, 3, 2: a number that fails it was not issued by IHS/IMO.
    """
    values = np.asarray(imo, dtype=np.float64)
    ok = np.isfinite(values)
    digits_src = np.where(ok, values, 0).astype(np.int64)
    digits = (digits_src[:, None] // 10 ** np.arange(6, -1, -1)) % 10
    check = (digits[:, :6] * np.arange(7, 1, -1)).sum(axis=1) % 10
    return ok & (check == digits[:, 6])


def invalid_imo(imo: np.ndarray) -> np.ndarray:
    """A reported 7-digit IMO that fails its check digit (missing IMOs are not invalid)."""
    values = np.asarray(imo, dtype=np.float64)
    return ~missing_imo(values) & ~imo_check_digit_ok(values)


def missing_name(frame: pd.DataFrame, side: str) -> np.ndarray:
    col = f"vessel_name_{side}"
    if col not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    name = frame[col].astype("string").str.strip()
    return (name.isna() | (name == "")).to_numpy(dtype=bool, na_value=True)


def _normalised(vessels: pd.DataFrame) -> pd.DataFrame:
    """mmsi, t (epoch ms) and the tracked fields, text upper-cased, blanks and 0 as null."""
    v = pd.DataFrame(
        {"mmsi": vessels["mmsi"].to_numpy(np.int64), "t": epoch_ms(vessels["timestamp"])}
    )
    for c in ("vessel_name", "callsign"):
        if c in vessels.columns:
            text = vessels[c].astype("string").str.strip().str.upper()
            v[c] = text.where(text != "", pd.NA).to_numpy(dtype=object, na_value=None)
    if "imo" in vessels.columns:
        imo = pd.to_numeric(vessels["imo"], errors="coerce")
        v["imo"] = imo.where(imo > 0).to_numpy(dtype=np.float64, na_value=np.nan)
    return v.sort_values(["mmsi", "t"], kind="stable")


def identity_change_log(vessels: pd.DataFrame | None) -> pd.DataFrame:
    """Every change of name, call sign or IMO in the static-report series.

    Columns: ``mmsi``, ``t_ms`` (first report of the new value), ``field``,
    ``old``, ``new``. A null report is not a change (Class B ships send
    their name rarely): a value changes when the next *reported* value differs.
    """
    cols = ["mmsi", "t_ms", "field", "old", "new"]
    if vessels is None or vessels.empty or "mmsi" not in vessels.columns:
        return pd.DataFrame(columns=cols)
    v = _normalised(vessels)
    parts = []
    for field in TRACKED_FIELDS:
        if field not in v.columns:
            continue
        f = v.loc[v[field].notna(), ["mmsi", "t", field]]
        prev = f.groupby("mmsi", sort=False)[field].shift()
        changed = prev.notna() & (f[field] != prev)
        if changed.any():
            parts.append(
                pd.DataFrame(
                    {
                        "mmsi": f.loc[changed, "mmsi"].to_numpy(),
                        "t_ms": f.loc[changed, "t"].to_numpy(),
                        "field": field,
                        "old": prev[changed].to_numpy(dtype=object),
                        "new": f.loc[changed, field].to_numpy(dtype=object),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True).sort_values(["mmsi", "t_ms"], kind="stable")


def count_changes(log: pd.DataFrame, mmsi: np.ndarray) -> np.ndarray:
    """How many identity changes each MMSI shows in the window read."""
    if log.empty:
        return np.zeros(len(mmsi), dtype=np.float64)
    counts = log.groupby("mmsi").size()
    return pd.Series(np.asarray(mmsi, dtype=np.int64)).map(counts).fillna(0.0).to_numpy(np.float64)


def _word_value(field: str, value: object) -> str:
    if field == "imo":
        return f"{int(value)}" if isinstance(value, float | int) and np.isfinite(value) else "?"
    return str(value)


def nearest_change_text(
    log: pd.DataFrame,
    mmsi: np.ndarray,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    window_ms: float,
) -> list[str | None]:
    """Per leg, the identity change closest to the meeting, in words with its timing.

    "name changed from OCEAN SPIRIT to SEA DREAM 1 h after" (hours after the
    end, before the start, or "during"); None when no change falls within
    ``window_ms`` of the meeting.
    """
    out: list[str | None] = [None] * len(mmsi)
    if log.empty:
        return out
    by_mmsi = {int(m): g for m, g in log.groupby("mmsi", sort=False)}
    for i, m in enumerate(np.asarray(mmsi, dtype=np.int64).tolist()):
        g = by_mmsi.get(m)
        if g is None:
            continue
        t = g["t_ms"].to_numpy(np.float64)
        dist = np.where(t < start_ms[i], start_ms[i] - t, np.where(t > end_ms[i], t - end_ms[i], 0))
        k = int(np.argmin(dist))
        if dist[k] > window_ms:
            continue
        row = g.iloc[k]
        when = (
            "during the meeting"
            if dist[k] == 0
            else f"{dist[k] / HOUR_MS:.0f} h {'before' if t[k] < start_ms[i] else 'after'}"
        )
        field = str(row["field"])
        out[i] = (
            f"{TRACKED_FIELDS[field]} changed from {_word_value(field, row['old'])} "
            f"to {_word_value(field, row['new'])} {when}"
        )
    return out
