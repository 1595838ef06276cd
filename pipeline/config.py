"""Every threshold stswatch uses, in one frozen, validated config object.

The unit is in every name (``_m``, ``_km``, ``_h``, ``_kn``, ``_min``), the
same name is used from CLI flag to config field to output column, and each
default sits next to the reasoning behind it. Validation raises
:class:`ConfigError` (never ``assert``, which vanishes under ``python -O``).

Detectors and the cleaner take the section they need (``cfg.cleaning``,
``cfg.rendezvous``...); nothing else in the code base hard-codes a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any


class ConfigError(ValueError):
    """A threshold is out of its meaningful range."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _positive(obj: object) -> None:
    """Every numeric field of a section must be > 0 unless its name says otherwise."""
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if f.name.startswith(("min_", "max_")) or f.name.endswith(("_m", "_h", "_kn", "_min")):
            _require(value > 0, f"{type(obj).__name__}.{f.name} must be > 0, got {value!r}")


@dataclass(frozen=True)
class CleaningConfig:
    """Ingest cleaning rules (issue 2)."""

    #: A single ping that implies more than this speed to *both* neighbours is a
    #: glitch. 50 kn is above any merchant ship (fast ferries reach ~40 kn) yet
    #: far below the hundreds of knots a GPS glitch implies.
    max_jump_speed_kn: float = 50.0
    #: Below this distance an implied speed is not trusted (two fixes 1 s apart
    #: 30 m apart "move" at 58 kn): GPS noise, not a jump.
    min_jump_distance_m: float = 1_000.0
    #: A time before this is a broken clock or a placeholder (1970-01-01,
    #: 1900, year 1), never AIS: the system went into service in the early
    #: 2000s and no public archive predates 2000. ``invalid_timestamp``.
    earliest_valid_date: date = date(2000, 1, 1)
    #: A time more than this after the time of ingest (``ingest_files(now=)``,
    #: the wall clock at the command line) is ``invalid_timestamp`` too:
    #: receivers stamp at most seconds ahead, a year 2100 or an epoch in 2286
    #: is a corrupted field. A day leaves room for clocks set to another time
    #: zone and for feeds ingested as they arrive.
    max_future_h: float = 24.0

    def __post_init__(self) -> None:
        _positive(self)


@dataclass(frozen=True)
class TrackConfig:
    """Track segmentation and resampling (GFW encounter pipeline defaults)."""

    #: Resampling grid. GFW uses 10 minutes: fine enough for a 2 h meeting to
    #: span 12 ticks, coarse enough to keep a national day small.
    resample_interval_min: int = 10
    #: Interpolate only across gaps shorter than this; longer gaps stay gaps,
    #: so a vessel that went dark is never "seen" meeting anyone.
    max_interpolation_gap_h: float = 1.0
    #: Split a vessel's track when the implied speed between fixes exceeds this
    #: (two vessels sharing one MMSI, or a spoofed position).
    max_segment_speed_kn: float = 50.0

    def __post_init__(self) -> None:
        _positive(self)


@dataclass(frozen=True)
class RendezvousConfig:
    """Two-vessel loitering meeting (GFW: 500 m, 2 h, < 2 kn, merge < 4 h, > 10 km)."""

    #: Two hulls moored alongside are < 100 m apart; 500 m allows GPS antenna
    #: offsets and hose-length stand-off transfers while excluding ships merely
    #: sharing an anchorage area.
    max_distance_m: float = 500.0
    #: Both vessels must be slower than this (judged on *both*, unlike GFW).
    max_speed_kn: float = 2.0
    #: A cargo transfer takes hours; brief approaches are traffic, not transfers.
    min_duration_h: float = 2.0
    #: Fragments of one pair closer than this in time are one event; the merge
    #: happens *before* the duration rule so split meetings are not lost.
    max_merge_gap_h: float = 4.0
    #: Spatial hash cell size for the per-tick neighbour search: must be >=
    #: max_distance_m so neighbours lie in adjacent cells. It changes speed,
    #: never results; GFW uses ~2 km, but each candidate block is 3 x 3 cells,
    #: so in an anchorage crowd 2 km cells compare 16x more pairs than 500 m
    #: cells (measured: pair search 2.3x faster at 500 m). Raise it together
    #: with max_distance_m.
    cell_size_m: float = 500.0
    #: detect_range reads one day past the requested range; while an event
    #: still runs at the end of what was read, it reads further days, up to
    #: this much past the range's last midnight. Large crude lighterings take
    #: 24-48 h: without this, a daily run and a backfill would report the same
    #: event (same id) with different end times.
    max_lookahead_h: float = 72.0
    #: Reception holes: when *both* vessels fall silent together and reappear
    #: still close and slow, the meeting went on unseen (GFW's real
    #: Mozambique Channel encounter has a shared 8 h silence mid-transfer).
    #: Fragments are merged across such a shared silence up to this long, on
    #: top of ``max_merge_gap_h`` for the part where at least one of them was
    #: seen; the event reports the silence as ``shared_silence_h``. 12 h
    #: bridges a night outside terrestrial range or between satellite passes
    #: while staying far below a separate meeting on another day.
    max_shared_silence_h: float = 12.0

    def __post_init__(self) -> None:
        _positive(self)
        _require(
            self.cell_size_m >= self.max_distance_m,
            "RendezvousConfig.cell_size_m must be >= max_distance_m",
        )


@dataclass(frozen=True)
class LoiteringConfig:
    """Single vessel drifting slowly far offshore (a partner may be dark)."""

    max_speed_kn: float = 2.0
    #: Longer than a rendezvous: one slow ship for a short while is common.
    min_duration_h: float = 4.0
    max_merge_gap_h: float = 1.0

    def __post_init__(self) -> None:
        _positive(self)


@dataclass(frozen=True)
class GapConfig:
    """AIS gaps ("going dark")."""

    #: GFW's gap default is 6 h (their `pipe-gaps` threshold); shorter gaps are
    #: common with terrestrial reception holes.
    min_gap_h: float = 6.0
    #: A gap is linked to a rendezvous when it ends/starts this close to it.
    link_window_h: float = 24.0
    #: Only a one-sided silence is evidence of going dark: a silence shared
    #: with the partner (both fell silent within this distance of each other
    #: *and* reappeared within it) is a reception hole, and its shared part is
    #: not counted in ``gap_before_h_*``/``gap_after_h_*``. Two hulls together
    #: are < 500 m apart and a drifting pair moves a few km in hours; 5 km
    #: keeps two ships that merely went dark in the same sea apart.
    max_shared_silence_distance_m: float = 5_000.0

    def __post_init__(self) -> None:
        _positive(self)


@dataclass(frozen=True)
class DarkTransferConfig:
    """A loitering vessel paired with a partner whose AIS was off alongside it (issue 14).

    Observer comparisons found a two-vessel rule matching ~30 % of real
    transshipments and a loitering rule ~81 %: the one-sided case is the common one.
    """

    #: The partner's last fix before and first fix after its silence must lie
    #: this close to the loitering position. A partner switches AIS off some
    #: 0.2-1 h before arriving (up to ~20 km at 12 kn), and offshore its last
    #: *received* fix may be a satellite pass 15-45 min earlier still: 30 km.
    #: Ends this close cannot both belong to a ship passing at transit speed
    #: (10 kn or more): the time test below needs a silence whose ends lie
    #: farther apart than 60 km for such a ship (ships under ~7 kn can pair).
    max_partner_fix_distance_m: float = 30_000.0
    #: Speed assumed for the partner's legs in and out of the meeting. The top
    #: of tanker service speeds (12-15 kn), so no real partner is rejected for
    #: lack of time; a ship merely passing by still is (its ends lie too far).
    partner_speed_kn: float = 14.0
    #: Time alongside the silence must leave after the legs in and out; the
    #: same 2 h as a visible rendezvous (a cargo transfer takes hours).
    min_duration_h: float = 2.0
    #: Shortest partner silence considered: the 2 h alongside plus short legs.
    #: Shorter silences are routine dropouts. Below ``GapConfig.min_gap_h`` on
    #: purpose: a partner off for 4 h hides a transfer as well as one off for 8 h.
    min_partner_gap_h: float = 3.0

    def __post_init__(self) -> None:
        _positive(self)


@dataclass(frozen=True)
class StsAreaConfig:
    """Where ship-to-ship transfers recur: listed STS/lightering areas and learned ones.

    An anchorage is where ships wait for a port; a recurring *offshore*
    meeting area is an STS area, and transfers there are the population this
    tool ranks: they are reported with the area as context, never dropped.
    """

    #: Use the shipped reference of designated and widely reported STS areas
    #: (``data/sts_areas.geojson``, provenance in ``data/PROVENANCE.md``).
    use_listed: bool = True
    #: Users' own areas: GeoJSON files of Polygon/MultiPolygon features, or
    #: Point features with a ``radius_m`` property, each with a ``name``.
    extra_files: tuple[str, ...] = ()
    #: A learned anchorage at least this far from the coast is an STS area, not a
    #: port anchorage: 12 nautical miles, the territorial sea's outer limit. Port
    #: authorities anchor waiting ships inside their waters; a crowd of
    #: stationary ships beyond them waits to transfer cargo, not for a berth.
    learned_min_distance_to_coast_m: float = 22_224.0
    #: ...or this far from every listed port: a port's waiting anchorages lie
    #: within ~25 km of it (Galveston's 10-20 km, Fujairah's up to 25 km); a
    #: crowd nearer the coast but far from any port (an offshore lightering
    #: area 15 km off an empty shore) waits for a transfer, not for a berth.
    learned_min_distance_to_port_m: float = 30_000.0
    #: An event this close to a learned STS area's cell is in that area (the
    #: same 10 km a port anchorage keeps meetings away).
    learned_area_radius_m: float = 10_000.0

    def __post_init__(self) -> None:
        _positive(self)
        _require(
            all(isinstance(f, str) and f for f in self.extra_files),
            "StsAreaConfig.extra_files must be a tuple of file paths",
        )


@dataclass(frozen=True)
class PortFilterConfig:
    """Away-from-port rule, applied to every tick of an event, not its mean."""

    #: GFW keeps encounters at least 10 km from an anchorage.
    min_distance_to_anchorage_m: float = 10_000.0
    #: Distance from a listed port.
    min_distance_to_port_m: float = 10_000.0
    #: Distance from the coast: catches small harbours missing from port lists.
    min_distance_to_coast_m: float = 5_000.0
    #: Learned anchorages (GFW-style): a cell is an anchorage when at least this
    #: many distinct vessels sit still in it...
    anchorage_min_vessels: int = 5
    #: ...for at least this long each, within the data window.
    anchorage_min_stationary_h: float = 2.0
    #: Speed below which a vessel counts as stationary for anchorage learning.
    anchorage_max_speed_kn: float = 0.5
    #: Cell size of the anchorage grid.
    anchorage_cell_size_m: float = 2_000.0
    #: Stationary time between two fixes counts only up to this interval: a
    #: longer silence is a gap (GapConfig.min_gap_h), not observed presence.
    anchorage_max_fix_interval_h: float = 6.0

    def __post_init__(self) -> None:
        _positive(self)


@dataclass(frozen=True)
class ScoringConfig:
    """Suspicion features and the transparent rule-based red flags (issue 4)."""

    #: Radius within which other rendezvous count as the same spot. Lightering
    #: areas (e.g. off Galveston, Skaw, Ceuta) span tens of km; 20 km groups one
    #: area without merging neighbouring ones.
    recurrence_radius_m: float = 20_000.0
    #: Below this an identity/size rule treats a ship as small; Class B kits are
    #: meant for small craft, so a Class B ship of >= 100 m hides its identity.
    large_ship_length_m: float = 100.0
    #: Draught changes under this are sensor/entry noise (crews round to 0.1 m).
    min_draught_change_m: float = 0.3
    #: A vessel stationary this long somewhere else between its draught reports
    #: made a port/anchorage call, which explains a draught change.
    min_port_call_h: float = 2.0
    #: ...when that stop lies at least this far from the rendezvous.
    min_port_call_distance_m: float = 20_000.0
    #: Rule flag: reporting during the event below this share of the vessel's
    #: usual rate (transmitter throttled or switched off at the meeting).
    max_reporting_ratio: float = 0.5
    #: Rule flag: farther than this from any port is "remote".
    min_remote_distance_to_port_m: float = 50_000.0
    #: Distances to coast/port/anchorage are clipped here: beyond 1,000 km "how
    #: remote" no longer changes, and "no anchorage learned at all" (infinite
    #: distance) becomes simply "very far" instead of an invalid model input.
    max_feature_distance_m: float = 1_000_000.0
    #: How far back the store's recorded meetings count towards "recurring
    #: spot": designated lightering areas see transfers every week, so a
    #: quarter of history finds them; older traffic patterns may have moved.
    recurrence_lookback_days: int = 90
    #: A vessel's first (last) fix in the window read that lies within this
    #: distance of a meeting, hours after the window began (before it ended),
    #: is AIS switched on (off) at sea next to the meeting. 30 km is about
    #: 1.5 h at a tanker's 11 kn: the approach, not a passage elsewhere.
    switch_at_sea_radius_m: float = 30_000.0
    #: ...and only this far off the coast: a track starting inshore is a ship
    #: leaving harbour or entering a coastal receiver's range.
    switch_at_sea_min_distance_to_coast_m: float = 10_000.0

    def __post_init__(self) -> None:
        _positive(self)
        _require(self.recurrence_lookback_days >= 0, "recurrence_lookback_days must be >= 0")


@dataclass(frozen=True)
class OrchestrationConfig:
    """Scheduling windows and retries of the Prefect flows (issue 5)."""

    #: Days between a UTC day ending and its file being published. DMA posts
    #: the previous day's aisdk file the next morning; 2 days leaves a margin.
    #: MarineCadastre releases in batches weeks later: raise it for that source
    #: (``--publication-delay-days``); the look-back window fills late days.
    publication_delay_days: int = 2
    #: The daily run also processes any day missing from the store within this
    #: many days before its target day: Prefect never creates runs for past
    #: schedule slots, so days lost while ``serve`` was down heal themselves.
    lookback_days: int = 7
    #: Longest range one backfill run accepts: a year of national AIS is a few
    #: hours of work on 2 cores; longer is usually a typo in a year.
    max_backfill_days: int = 366
    #: Days processed at once: each day needs ~1 core and up to ~1.5 GB, and
    #: the machines this targets have 2 cores.
    max_concurrency: int = 2
    #: Retries of a day's download on top of download_day's own quick retries
    #: (a publisher's outage lasts minutes, not seconds)...
    download_retries: int = 2
    #: ...waiting this long before the first retry, doubling each time.
    download_retry_delay_s: float = 30.0
    #: Rows in the "top rendezvous" table artifact of a run.
    top_events_shown: int = 20

    def __post_init__(self) -> None:
        _positive(self)
        _require(self.publication_delay_days >= 0, "publication_delay_days must be >= 0")
        _require(self.lookback_days >= 0, "lookback_days must be >= 0")
        _require(self.download_retries >= 0, "download_retries must be >= 0")
        _require(self.download_retry_delay_s >= 0, "download_retry_delay_s must be >= 0")
        _require(self.top_events_shown > 0, "top_events_shown must be > 0")


@dataclass(frozen=True)
class InputLimitsConfig:
    """What a single input file may expand to (issue 12: bounded work per input)."""

    #: Records one input may hold. A national day is 5-20 M (MarineCadastre
    #: 7-10 M, DMA up to ~20 M) and needs ~130 bytes a row of memory while it
    #: is merged, so 50 M is a generous ceiling that still refuses a file
    #: that would exhaust a 16 GB machine.
    max_rows_per_input: int = 50_000_000
    #: Decompressed bytes one input may hold (50 M CSV rows are ~6 GB).
    max_bytes_per_input: int = 16 * 1024**3
    #: Decompressed / compressed size. AIS CSV compresses 5-10x, NMEA 3-5x;
    #: an archive that expands hundreds of times is empty rows or a
    #: decompression bomb (509 KB -> 200 MB of commas).
    max_expansion_ratio: float = 100.0
    #: The ratio is judged once this much has been decompressed, so a small,
    #: very regular file is never refused.
    min_bytes_for_ratio: int = 64 * 1024**2

    def __post_init__(self) -> None:
        _positive(self)
        _require(self.max_bytes_per_input > 0, "max_bytes_per_input must be > 0")
        _require(self.min_bytes_for_ratio >= 0, "min_bytes_for_ratio must be >= 0")


@dataclass(frozen=True)
class StoreConfig:
    """How writers share a store (issue 12)."""

    #: A writer waits this long for another to finish before giving up with a
    #: one-line error (``--lock-timeout-s``, ``$STSWATCH_LOCK_TIMEOUT_S``). An
    #: ingest of a national day takes about a minute, a ``run`` a few; 30 min
    #: lets a backfill's ingests queue behind each other on a busy machine,
    #: yet a writer stuck for good (a stopped process) is reported the same
    #: morning. 0: fail at once when the store is busy.
    lock_timeout_s: float = 1800.0

    def __post_init__(self) -> None:
        _require(self.lock_timeout_s >= 0, "StoreConfig.lock_timeout_s must be >= 0")


class OutputConfig:
    """What a run publishes for analysts beyond the ranked list (issue 13)."""

    #: Evidence cards for this many of the most suspicious events per run: a
    #: reviewer's day. 50 cards take a few CPU seconds; 0 writes none.
    cards_top_n: int = 50
    #: A card shows both tracks this long before the meeting and after it:
    #: long enough for the approach, a silence before and the departure.
    card_window_h: float = 12.0
    #: Worker processes drawing cards (matplotlib is CPU-bound Python).
    card_workers: int = 2
    #: GeoJSON tracks include this much approach and departure around each
    #: meeting, with per-fix times and speeds; 6 h shows where each came from
    #: without turning a 2 h meeting into a 24 h line.
    track_leg_h: float = 6.0

    def __post_init__(self) -> None:
        _positive(self)
        _require(self.cards_top_n >= 0, "cards_top_n must be >= 0")
        _require(self.card_workers >= 1, "card_workers must be >= 1")


@dataclass(frozen=True)
class ReviewConfig:
    """Watchlist hits and analysts' verdicts: how they move the score and the training."""

    #: Odds multiplier for a vessel on a watchlist by IMO or MMSI: a likelihood
    #: ratio P(listed | illicit) / P(listed | legitimate). Listed tankers are a
    #: few hundred in a fleet of ~10,000 (a few % of legitimate transfers
    #: involve one), while sanctions-evasion networks use them in a large
    #: share of their transfers (public reporting: roughly a third to a half):
    #: ~0.4 / 0.05 = 8.
    watchlist_exact_likelihood_ratio: float = 8.0
    #: A name-only match is weak (names are reused): 2.
    watchlist_name_likelihood_ratio: float = 2.0
    #: Verdicts on earlier meetings within this distance count for a spot;
    #: the same scale as "recurring spot" (ScoringConfig.recurrence_radius_m).
    spot_radius_m: float = 20_000.0
    #: Each analyst-confirmed legitimate transfer at a spot halves the odds of
    #: later meetings there, ((1 + illicit) / (1 + legitimate)), never below
    #: this factor: strong evidence of its own still ranks a meeting high.
    min_legitimate_spot_factor: float = 0.25
    #: The Prefect review queue lists unreviewed events from this score up...
    review_queue_min_score: float = 0.5
    #: ...at most this many per run, most suspicious first.
    review_queue_max_rows: int = 50
    #: ``stswatch train --store``: one analyst verdict on a real event weighs
    #: as much as this many simulated events (real labels are scarce and are
    #: the only ones drawn from the sea itself)...
    real_label_weight: float = 5.0
    #: ...but all real labels together never weigh more than this share of the
    #: simulated training set, so a few hundred verdicts cannot drown the
    #: behaviours only the simulator covers.
    max_real_label_share: float = 0.5

    def __post_init__(self) -> None:
        _positive(self)
        _require(self.min_legitimate_spot_factor <= 1.0, "min_legitimate_spot_factor must be <= 1")
        _require(0 <= self.review_queue_min_score <= 1, "review_queue_min_score must be in [0, 1]")


@dataclass(frozen=True)
class Config:
    """The whole pipeline's thresholds. ``Config()`` is the documented default."""

    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    tracks: TrackConfig = field(default_factory=TrackConfig)
    rendezvous: RendezvousConfig = field(default_factory=RendezvousConfig)
    loitering: LoiteringConfig = field(default_factory=LoiteringConfig)
    gaps: GapConfig = field(default_factory=GapConfig)
    dark_transfers: DarkTransferConfig = field(default_factory=DarkTransferConfig)
    sts_areas: StsAreaConfig = field(default_factory=StsAreaConfig)
    port_filter: PortFilterConfig = field(default_factory=PortFilterConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    orchestration: OrchestrationConfig = field(default_factory=OrchestrationConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    input_limits: InputLimitsConfig = field(default_factory=InputLimitsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)

    def with_overrides(self, **sections: dict[str, Any]) -> Config:
        """Return a copy with some fields of some sections replaced.

        ``cfg.with_overrides(rendezvous={"max_distance_m": 300})``
        """
        updates = {}
        for name, values in sections.items():
            _require(hasattr(self, name), f"unknown config section {name!r}")
            updates[name] = replace(getattr(self, name), **values)
        return replace(self, **updates)


DEFAULT_CONFIG = Config()
