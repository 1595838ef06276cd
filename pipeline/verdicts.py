"""Analysts' verdicts on ranked events, kept in the store (``STORE/labels/``).

An analyst marks an event ``illicit``, ``legitimate`` or ``unsure`` with a
note, by editing the GeoJSON (QGIS) and importing it, or one at a time from
the command line. Verdicts are the only ground truth this tool ever gets about
real traffic, so they are kept as an **append-only log**: every recorded
verdict is a row with its reviewer and time, nothing is rewritten, and the
latest row per event wins (:func:`latest_verdicts`). Event ids are stable
across re-runs (hash of the ordered pair and the grid start), so a verdict
keeps applying to the same meeting in every later GeoJSON, card and artifact.

Rules that keep the log clean:

* only events the store has recorded (``STORE/rendezvous/``, see
  :mod:`stswatch.pipeline.event_history`) can get a verdict; an unknown id or
  value is an error and **nothing** is written (all-or-nothing per command);
* a verdict equal to the event's latest (same verdict and note) is not
  written again, so importing the same file twice changes nothing;
* an imported file that shows an *older* verdict than the store holds (its
  ``reviewed_at`` predates a later verdict by another reviewer) does not
  override the newer one: the event is reported as stale and skipped.

Each write is one new Parquet file, written aside and renamed into place
(:func:`_append_part`), so a crash never leaves half a verdict and readers
never see a partial file.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stswatch.pipeline.schemas import LABEL_SCHEMA, LABELS, RENDEZVOUS
from stswatch.pipeline.storage import Store
from stswatch.pipeline.store_commit import new_owner, temp_path

#: What an analyst can say about an event.
VERDICT_VALUES = ("illicit", "legitimate", "unsure")
#: Feature kinds that carry a verdict (the ranked list).
RANKED_KINDS = ("rendezvous", "dark_rendezvous")
#: Properties every later output carries for a reviewed event.
VERDICT_PROPERTIES = ("verdict", "note", "reviewed_by", "reviewed_at")


class VerdictError(ValueError):
    """A verdict cannot be recorded; the message says which event and why."""


@dataclass(frozen=True)
class VerdictInput:
    """One verdict to record, before validation."""

    event_id: str
    verdict: str
    note: str | None = None
    #: ``reviewed_at`` the source showed for this event (an imported file); None if none.
    seen_reviewed_at: pd.Timestamp | None = None


@dataclass
class RecordResult:
    """What a review command did."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: event id -> why it was skipped (the store holds a newer verdict)
    stale: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def summary(self) -> str:
        text = f"{len(self.written)} verdict(s) recorded, {len(self.unchanged)} unchanged"
        if self.stale:
            text += f", {len(self.stale)} skipped (the store has a newer verdict)"
        return text


def normalise_verdict(value: object, event_id: str) -> str | None:
    """``"Illicit "`` -> ``"illicit"``; blank -> None; anything else -> VerdictError."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    if text not in VERDICT_VALUES:
        raise VerdictError(
            f"event {event_id}: verdict {value!r} is not one of {', '.join(VERDICT_VALUES)}"
        )
    return text


def _note(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------- reading


def labels_dir(store: Store | Path | str) -> Path:
    root = store.root if isinstance(store, Store) else Path(store)
    return root / LABELS


def read_labels(store: Store | Path | str) -> pd.DataFrame:
    """Every verdict ever recorded, in the order it was recorded (the whole log)."""
    folder = labels_dir(store)
    parts = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    if not parts:
        return LABEL_SCHEMA.empty_table().to_pandas()
    tables = [read_label_part(p) for p in parts]
    return pa.concat_tables(tables).to_pandas()


def read_label_part(path: Path) -> pa.Table:
    """One verdict file, page checksums verified: damage is an error naming it, never data."""
    from stswatch.pipeline.store_format import DamagedPartitionError

    try:
        return pq.read_table(path, schema=LABEL_SCHEMA, page_checksum_verification=True)
    except (OSError, pa.ArrowException, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DamagedPartitionError(path, detail) from None


def latest_verdicts(store: Store | Path | str) -> pd.DataFrame:
    """One row per reviewed event: its latest verdict (log order breaks time ties)."""
    log = read_labels(store)
    if log.empty:
        return log
    log = log.reset_index(names="_order").sort_values(["reviewed_at", "_order"], kind="stable")
    latest = log.groupby("event_id", sort=True).tail(1)
    return latest.drop(columns="_order").sort_values("event_id").reset_index(drop=True)


def known_events(store: Store) -> pd.DataFrame:
    """Every event the store has recorded: event_id, start_time, mean_lat, mean_lon."""
    days = store.days(RENDEZVOUS)
    columns = ["event_id", "start_time", "mean_lat", "mean_lon"]
    if not days:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return store.read(RENDEZVOUS, days[0], days[-1], columns=columns).to_pandas()


def verdict_columns(events: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """``verdict``, ``note``, ``reviewed_by``, ``reviewed_at`` for ``events`` (same index).

    Unreviewed events get None in all four: the columns are always there, so
    a QGIS attribute table shows ``verdict`` and ``note`` ready to edit.
    """
    out = pd.DataFrame(index=events.index, columns=list(VERDICT_PROPERTIES), dtype=object)
    if latest.empty or events.empty:
        return out
    by_id = latest.set_index("event_id")
    ids = events["event_id"].astype(str)
    hit = ids.isin(by_id.index)
    if hit.any():
        rows = by_id.loc[ids[hit]]
        out.loc[hit, "verdict"] = rows["verdict"].to_numpy()
        out.loc[hit, "note"] = rows["note"].to_numpy()
        out.loc[hit, "reviewed_by"] = rows["reviewer"].to_numpy()
        out.loc[hit, "reviewed_at"] = list(rows["reviewed_at"])
    return out.astype(object).where(out.notna(), None)


# --------------------------------------------------------------------------- writing


def _append_part(folder: Path, table: pa.Table) -> Path:
    """Write ``table`` as a new log file: aside under a hidden name, fsync, rename.

    The one place verdicts touch the disk; callers hold the store's write lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    final = folder / f"part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = temp_path(final, new_owner())  # .part-...parquet.<pid>-<token>.tmp
    try:
        with tmp.open("wb") as fh:
            pq.write_table(table, fh, compression="zstd", write_page_checksum=True)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def _stale_reason(current: pd.Series, incoming: VerdictInput, reviewer: str) -> str | None:
    """Why an imported verdict must not override the store's, or None.

    A file is stale for an event when someone *else* recorded a verdict after
    the one the file shows (its ``reviewed_at``, or none): re-importing an old
    copy must not undo a colleague's later decision. The same reviewer editing
    and importing the same file again is just continuing their own review.
    """
    if current["reviewer"] == reviewer:
        return None
    seen = incoming.seen_reviewed_at
    if seen is not None and current["reviewed_at"].floor("s") <= seen.floor("s"):
        return None
    return (
        f"the store has {current['verdict']} by {current['reviewer']} at "
        f"{current['reviewed_at']:%Y-%m-%d %H:%M:%S} UTC, newer than this file shows"
    )


def record_verdicts(
    store: Store | Path | str,
    verdicts: Sequence[VerdictInput],
    *,
    reviewer: str,
    origin: str,
    now: datetime | None = None,
) -> RecordResult:
    """Validate every verdict, then append the changed ones in one file (or nothing).

    ``origin`` says where they came from (``review set``, ``review import FILE``).
    ``now`` is the review time (default: the wall clock; a review is a
    person's action, its time is when they made it).
    """
    store = store if isinstance(store, Store) else Store(store)
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise VerdictError("a reviewer name is needed (--reviewer NAME)")
    # the store's write lock: two reviewers importing at once each see the
    # other's verdicts before judging theirs stale or not (read-check-append)
    with store.write_lock("stswatch review"):
        return _record_locked(store, verdicts, reviewer=reviewer, origin=origin, now=now)


def _record_locked(
    store: Store,
    verdicts: Sequence[VerdictInput],
    *,
    reviewer: str,
    origin: str,
    now: datetime | None,
) -> RecordResult:
    cleaned = [
        (v, normalise_verdict(v.verdict, v.event_id))
        for v in verdicts
        if v.verdict is not None and str(v.verdict).strip()
    ]
    known = known_events(store).drop_duplicates("event_id").set_index("event_id")
    unknown = sorted({v.event_id for v, _ in cleaned} - set(known.index.astype(str)))
    if unknown:
        shown = ", ".join(unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise VerdictError(
            f"unknown event id(s) {shown}: not in {store.root / RENDEZVOUS} "
            "(was the day published into this store?)"
        )
    latest = latest_verdicts(store).set_index("event_id")
    result = RecordResult()
    rows: list[dict[str, Any]] = []
    at = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC").floor("ms")
    imported = origin.startswith("review import")
    for v, verdict in dict((v.event_id, (v, verdict)) for v, verdict in cleaned).values():
        note = _note(v.note)
        if v.event_id in latest.index:
            cur = latest.loc[v.event_id]
            if cur["verdict"] == verdict and _note(cur["note"]) == note:
                result.unchanged.append(v.event_id)
                continue
            stale = _stale_reason(cur, v, reviewer) if imported else None
            if stale:
                result.stale[v.event_id] = stale
                continue
        event = known.loc[v.event_id]
        rows.append(
            {
                "event_id": v.event_id,
                "verdict": verdict,
                "note": note,
                "reviewer": reviewer,
                "reviewed_at": at,
                "origin": origin,
                "event_start": event["start_time"],
                "mean_lat": event["mean_lat"],
                "mean_lon": event["mean_lon"],
            }
        )
        result.written.append(v.event_id)
    if rows:
        table = pa.Table.from_pylist(rows, schema=LABEL_SCHEMA)
        result.path = _append_part(labels_dir(store), table)
    return result


# --------------------------------------------------------------------------- GeoJSON


def _timestamp(value: object) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def verdicts_from_features(features: Iterable[dict[str, Any]]) -> list[VerdictInput]:
    """Verdicts set on ranked features (``verdict`` not blank); validates the values."""
    out = []
    for feature in features:
        props = feature.get("properties") or {}
        if props.get("kind") not in RANKED_KINDS:
            continue
        event_id = str(props.get("event_id") or feature.get("id") or "")
        verdict = normalise_verdict(props.get("verdict"), event_id or "(no event_id)")
        if verdict is None:
            continue
        if not event_id:
            raise VerdictError(f"a {props.get('kind')} feature with a verdict has no event_id")
        out.append(
            VerdictInput(event_id, verdict, props.get("note"), _timestamp(props.get("reviewed_at")))
        )
    return out


def verdicts_from_geojson(path: Path | str) -> list[VerdictInput]:
    """The verdicts an analyst set in a GeoJSON FeatureCollection (e.g. edited in QGIS)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise VerdictError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VerdictError(f"{path} is not a GeoJSON file ({exc})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise VerdictError(f"{path} is not a GeoJSON FeatureCollection")
    return verdicts_from_features(document.get("features") or [])


def verdicts_from_geopackage(path: Path | str) -> list[VerdictInput]:
    """The verdicts set in the ranked layers of a stswatch GeoPackage (edited in QGIS)."""
    from pyogrio import list_layers
    from pyogrio.errors import DataSourceError
    from pyogrio.raw import read

    path = Path(path)
    try:
        layers = {str(name) for name, _ in list_layers(path)}
    except (DataSourceError, OSError) as exc:
        raise VerdictError(f"{path} is not a readable GeoPackage ({exc})") from None
    features = []
    for kind in RANKED_KINDS:
        if kind not in layers:
            continue
        meta, _, _, values = read(path, layer=kind, read_geometry=False)
        names = list(meta["fields"])
        for row in zip(*values, strict=True):
            props = dict(zip(names, row, strict=True))
            props["kind"] = kind
            features.append({"properties": props})
    return verdicts_from_features(features)


def verdicts_from_file(path: Path | str) -> list[VerdictInput]:
    """GeoJSON or GeoPackage, by suffix: whichever the analyst edited."""
    if Path(path).suffix.lower() == ".gpkg":
        return verdicts_from_geopackage(path)
    return verdicts_from_geojson(path)
