"""``simulate(cfg)``: one deterministic function from a config to rows and truth.

Pure: no file I/O (the writer does that). Same config, same bytes: every
random draw comes from one ``numpy.random.Generator`` seeded by ``cfg.seed``
and consumed in a fixed order; rows are sorted by (time, MMSI) with a stable
sort.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

import numpy as np
import pandas as pd

from stswatch.pipeline.simulator.decoys import BUILDERS
from stswatch.pipeline.simulator.dirty import dirty_rows
from stswatch.pipeline.simulator.geometry import is_land, wrap_lon
from stswatch.pipeline.simulator.motion import interpolate_tracks, report_times, sensor_noise
from stswatch.pipeline.simulator.regions import get_region
from stswatch.pipeline.simulator.scenarios import DEFAULT_LOCATION_MIX, Context
from stswatch.pipeline.simulator.traffic import (
    ReportClock,
    expected_rows_per_vessel_day,
    lane_traffic,
    report_interval_s,
)
from stswatch.pipeline.simulator.truth import truth_frame

#: Column order of ``SimulatedData.positions`` (MarineCadastre meaning, stswatch names).
POSITION_COLUMNS = (
    "mmsi",
    "timestamp",
    "lat",
    "lon",
    "sog_kn",
    "cog_deg",
    "heading_deg",
    "nav_status",
    "vessel_name",
    "imo",
    "callsign",
    "ship_type",
    "length_m",
    "width_m",
    "draught_m",
    "transceiver_class",
)


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Counts are totals over the whole window."""

    seed: int = 0
    start_date: date = date(2024, 1, 15)
    n_days: int = 1
    region: str = "gulf_of_mexico"
    #: Background fleet size; ``target_rows`` (if set) overrides it.
    n_background_vessels: int = 600
    #: Approximate total row count wanted; sizes the background fleet.
    target_rows: int | None = None
    #: Share of background / scenario vessels on satellite-like reporting.
    sparse_vessel_fraction: float = 0.05
    sparse_event_vessel_fraction: float = 0.1
    #: Every vessel on satellite-like reporting (the "shifted" evaluation set).
    satellite_like: bool = False
    #: Report interval distribution (Class A / Class B / satellite-like).
    report_clock: ReportClock = field(default_factory=ReportClock)
    n_illicit_rendezvous: int = 4
    n_legit_transfers: int = 4
    n_anchorage_crowds: int = 2
    n_passing: int = 4
    n_convoys: int = 2
    n_pair_trawls: int = 2
    n_short_meetings: int = 3
    n_loitering_dark_partner: int = 1
    #: Transfers whose partner keeps AIS off (mostly illicit, see
    #: ``transfers.DARK_TRANSFER_ILLICIT_SHARE``).
    n_dark_transfers: int = 1
    #: Where transfers happen, as (zone, offshore, coastal) shares per class.
    #: The same mix for both classes (the default) means location carries no
    #: label; evaluation sets may couple or reverse them on purpose.
    location_mix_illicit: tuple[float, float, float] = DEFAULT_LOCATION_MIX
    location_mix_legit: tuple[float, float, float] = DEFAULT_LOCATION_MIX
    #: Share of rows made dirty (sentinels, bad MMSIs, duplicates, glitches).
    dirty_row_fraction: float = 0.002

    def __post_init__(self) -> None:
        get_region(self.region)  # raises with the known names
        if self.n_days < 1:
            raise ValueError("n_days must be >= 1")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.startswith("n_") and v < 0:
                raise ValueError(f"{f.name} must be >= 0")
        for name in ("location_mix_illicit", "location_mix_legit"):
            mix = tuple(getattr(self, name))
            if len(mix) != 3 or min(mix) < 0 or sum(mix) <= 0:
                raise ValueError(f"{name} must be 3 shares (zone, offshore, coastal) >= 0")
        for name in (
            "sparse_vessel_fraction",
            "sparse_event_vessel_fraction",
            "dirty_row_fraction",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")

    @property
    def scenario_counts(self) -> dict[str, int]:
        return {
            "illicit_rendezvous": self.n_illicit_rendezvous,
            "legit_transfer": self.n_legit_transfers,
            "anchorage_crowd": self.n_anchorage_crowds,
            "passing": self.n_passing,
            "convoy": self.n_convoys,
            "pair_trawl": self.n_pair_trawls,
            "short_meeting": self.n_short_meetings,
            "loitering_dark_partner": self.n_loitering_dark_partner,
            "dark_transfer": self.n_dark_transfers,
        }

    @property
    def window_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.start_date, tz="UTC")


@dataclass(frozen=True)
class SimulatedData:
    """Simulated AIS rows (time-ordered) and one truth row per scenario instance."""

    config: SimulationConfig
    positions: pd.DataFrame
    truth: pd.DataFrame
    dirty_counts: dict[str, int] = field(default_factory=dict)
    #: Scenarios requested but not placed (no room in a small region/window).
    unplaced: dict[str, int] = field(default_factory=dict)


def _scenario_vessels(ctx: Context, rng: np.random.Generator, clock: ReportClock):
    """Report rows of every scenario vessel (identity changes applied per row)."""
    vs = ctx.vessels
    n = len(vs)
    cls = np.array([v.identity.transceiver_class for v in vs])
    sparse = np.array([v.identity.sparse for v in vs])
    interval, jitter = report_interval_s(rng, cls, sparse, clock)
    vessel, t = report_times(rng, np.zeros(n), np.full(n, ctx.window_s), interval, jitter)
    keep = np.ones(len(t), dtype=bool)
    for i, v in enumerate(vs):
        for a, b in v.identity.dark:
            keep &= ~((vessel == i) & (t >= a) & (t <= b))
    vessel, t = vessel[keep], t[keep]
    interp = interpolate_tracks([v.track for v in vs], vessel, t)
    # Safety net: legs are checked every 500 m against the 1 km mask, so this
    # should drop nothing; a ship ashore would be a worse defect than a gap.
    at_sea = ~is_land(interp.lat, interp.lon)
    if not at_sea.all():
        vessel, t = vessel[at_sea], t[at_sea]
        interp = interpolate_tracks([v.track for v in vs], vessel, t)
    offsets = np.array([v.heading_offset_deg for v in vs])[vessel]
    sog, cog, heading = sensor_noise(rng, interp.speed_kn, interp.course_deg, offsets)
    return vessel, t, interp.lat, interp.lon, sog, cog, heading, interp.status


def _static_table(background: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """One row per vessel: static fields, and the values/times of in-window changes."""
    rows = []
    for v in ctx.vessels:
        d = v.identity
        rows.append(
            {
                "mmsi": d.mmsi,
                "vessel_name": d.vessel_name,
                "imo": d.imo,
                "callsign": d.callsign,
                "ship_type": d.ship_type,
                "length_m": d.length_m,
                "width_m": d.width_m,
                "draught_m": d.draught_m,
                "transceiver_class": d.transceiver_class,
                "name_after": d.name_after,
                "name_change_s": d.name_change_s,
                "callsign_after": d.callsign_after,
                "callsign_change_s": d.callsign_change_s,
                "draught_after_m": d.draught_after_m,
                "draught_change_s": d.draught_change_s,
            }
        )
    changes = [
        "name_after",
        "name_change_s",
        "callsign_after",
        "callsign_change_s",
        "draught_after_m",
        "draught_change_s",
    ]
    ev = pd.DataFrame(rows, columns=[*background.columns, *changes])
    bg = background.copy()
    for c in changes:
        bg[c] = None
    table = pd.concat([bg.astype(object), ev.astype(object)], ignore_index=True)
    return table


def simulate(cfg: SimulationConfig) -> SimulatedData:
    """Generate positions and truth for ``cfg`` (deterministic from ``cfg.seed``)."""
    rng = np.random.default_rng(cfg.seed)
    region = get_region(cfg.region)
    window_s = cfg.n_days * 86_400.0
    sparse_bg = 1.0 if cfg.satellite_like else cfg.sparse_vessel_fraction
    sparse_ev = 1.0 if cfg.satellite_like else cfg.sparse_event_vessel_fraction
    # warm the land mask for the whole region band in one pass
    is_land(np.array([region.lat_min - 1.0, region.lat_max + 1.0]), np.array([region.lon_min] * 2))

    taken: set[int] = set()
    ctx = Context(
        rng=np.random.default_rng(rng.integers(2**63)),
        region=region,
        window_s=window_s,
        taken_mmsis=taken,
        sparse_event_share=sparse_ev,
        location_mix={True: cfg.location_mix_illicit, False: cfg.location_mix_legit},
    )
    unplaced: dict[str, int] = {}
    for kind, count in cfg.scenario_counts.items():
        for _ in range(count):
            if not BUILDERS[kind](ctx):
                unplaced[kind] = unplaced.get(kind, 0) + 1

    n_bg = cfg.n_background_vessels
    if cfg.target_rows is not None:
        # scenario vessels are placed first; the background fleet fills the rest
        clock = cfg.report_clock
        per_vessel = expected_rows_per_vessel_day(0.16, sparse_bg, clock) * cfg.n_days * 0.97
        per_event_vessel = expected_rows_per_vessel_day(0.0, sparse_ev, clock) * cfg.n_days
        remaining = cfg.target_rows - per_event_vessel * len(ctx.vessels)
        n_bg = max(1, round(remaining / per_vessel))
    bg = lane_traffic(
        np.random.default_rng(rng.integers(2**63)),
        region,
        n_bg,
        window_s,
        sparse_share=sparse_bg,
        taken_mmsis=taken,
        clock=cfg.report_clock,
    )
    static = _static_table(bg.vessels, ctx)
    n_bg_v = len(bg.vessels)
    n_bg_rows = len(bg.t_s)
    if ctx.vessels:
        ev = _scenario_vessels(ctx, np.random.default_rng(rng.integers(2**63)), cfg.report_clock)
    else:
        ev = (np.array([], dtype=np.int64), *(np.array([]) for _ in range(7)))
    cols = {
        "vessel": np.r_[bg.vessel, ev[0] + n_bg_v].astype(np.int64),
        "t_s": np.r_[bg.t_s, ev[1]],
        "lat": np.r_[bg.lat, ev[2]],
        "lon": np.r_[bg.lon, ev[3]],
        "sog": np.r_[bg.sog_kn, ev[4]],
        "cog": np.r_[bg.cog_deg, ev[5]],
        "heading": np.r_[bg.heading_deg, ev[6]],
        "status": np.r_[bg.nav_status, ev[7]].astype(np.int8),
    }
    mmsi_of_vessel = static["mmsi"].to_numpy(dtype=np.int64)
    del bg, ev  # the concatenated copies above are all that is needed now
    cols["mmsi"] = mmsi_of_vessel[cols["vessel"]]
    cols["lon"] = wrap_lon(cols["lon"])
    cols, dirty_counts = dirty_rows(
        np.random.default_rng(rng.integers(2**63)),
        cols,
        np.arange(n_bg_rows),
        cfg.dirty_row_fraction,
    )
    positions = _assemble(cfg, static, cols)
    truth = truth_frame(ctx.truth, cfg.window_start, region.name)
    return SimulatedData(cfg, positions, truth, dirty_counts, unplaced)


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Categorical codes (-1 for missing) and the sorted categories."""
    cat = pd.Categorical(values.where(values.notna(), None))
    return np.asarray(cat.codes), cat.categories


def _assemble(
    cfg: SimulationConfig, static: pd.DataFrame, cols: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Row frame in time order, static fields looked up per row with changes applied."""
    # one int64 key (seconds << 31 | MMSI) sorts faster than a two-key lexsort
    mmsi_key = np.clip(cols["mmsi"], 0, 2**31 - 1)
    order = np.argsort(cols["t_s"].astype(np.int64) * 2**31 + mmsi_key, kind="stable")
    # columns are popped as they are reordered, so at most one spare copy lives
    v = cols.pop("vessel")[order]
    t = cols.pop("t_s")[order]
    n_v = len(static)

    names = pd.concat([static["vessel_name"], static["name_after"]], ignore_index=True)
    name_codes, name_cats = _codes(names.astype(object))
    before, after = name_codes[:n_v], name_codes[n_v:]
    change = pd.to_numeric(static["name_change_s"], errors="coerce").fillna(np.inf).to_numpy()
    row_name = np.where(t >= change[v], after[v], before[v])
    callsigns = pd.concat([static["callsign"], static["callsign_after"]], ignore_index=True)
    cs_codes, cs_cats = _codes(callsigns.astype(object))
    cs_before, cs_after = cs_codes[:n_v], cs_codes[n_v:]
    cs_change = (
        pd.to_numeric(static["callsign_change_s"], errors="coerce").fillna(np.inf).to_numpy()
    )
    row_callsign = np.where(t >= cs_change[v], cs_after[v], cs_before[v])

    draught = pd.to_numeric(static["draught_m"], errors="coerce").to_numpy(dtype=np.float64)
    d_after = pd.to_numeric(static["draught_after_m"], errors="coerce").to_numpy(dtype=np.float64)
    d_change = pd.to_numeric(static["draught_change_s"], errors="coerce").fillna(np.inf).to_numpy()
    row_draught = np.where(t >= d_change[v], d_after[v], draught[v]).astype(np.float32)

    cls = static["transceiver_class"].to_numpy(dtype=object)
    is_b_v = cls == "B"
    # some Class A units never send a heading (no gyro link): 511 all day
    no_heading_v = is_b_v | (np.random.default_rng(cfg.seed + 1).random(n_v) < 0.06)
    heading = cols.pop("heading")[order].astype(np.float32)
    heading[no_heading_v[v]] = np.nan
    status = pd.array(cols.pop("status")[order], dtype="Int8")
    status[is_b_v[v]] = pd.NA

    imo = pd.array(pd.to_numeric(static["imo"], errors="coerce"), dtype="Int64")
    ship_type = pd.array(pd.to_numeric(static["ship_type"], errors="coerce"), dtype="Int16")
    ts = cfg.window_start.as_unit("ms") + pd.to_timedelta(t.astype(np.int64), unit="s")
    del t
    frame = pd.DataFrame(
        {
            "mmsi": cols.pop("mmsi")[order],
            "timestamp": pd.DatetimeIndex(ts).as_unit("ms"),
            "lat": cols.pop("lat")[order],
            "lon": cols.pop("lon")[order],
            "sog_kn": cols.pop("sog")[order].astype(np.float32),
            "cog_deg": cols.pop("cog")[order].astype(np.float32),
            "heading_deg": heading,
            "nav_status": status,
            "vessel_name": pd.Categorical.from_codes(row_name, name_cats),
            "imo": imo[v],
            "callsign": pd.Categorical.from_codes(row_callsign, cs_cats),
            "ship_type": ship_type[v],
            "length_m": pd.to_numeric(static["length_m"], errors="coerce").to_numpy(np.float32)[v],
            "width_m": pd.to_numeric(static["width_m"], errors="coerce").to_numpy(np.float32)[v],
            "draught_m": row_draught,
            "transceiver_class": pd.Categorical.from_codes(is_b_v[v].astype(np.int8), ["A", "B"]),
        },
        copy=False,
    )
    if tuple(frame.columns) != POSITION_COLUMNS:
        raise AssertionError("position columns out of order")
    return frame
