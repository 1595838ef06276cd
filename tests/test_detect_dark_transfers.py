"""Dark transfers: a loitering vessel paired with a partner whose AIS was off alongside it.

Each case is a small hand-built track (the loiterer drifts at the mid-Atlantic
OFFSHORE spot; the partner steams in, goes silent, steams out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_tracks import OFFSHORE, at, drifting, offset, positions, steaming, vessels

from stswatch.detectors.dark_transfers import find_dark_transfers
from stswatch.detectors.gaps import detect_gaps
from stswatch.detectors.loitering import detect_loitering
from stswatch.detectors.tracks import resample_tracks
from stswatch.pipeline.config import Config
from stswatch.pipeline.detection import detect_frames

CFG = Config()
TANKER, PARTNER, PASSER = 636000001, 511000002, 538000003


def loitering_tanker(hours: float = 12.0) -> pd.DataFrame:
    """A tanker idling (0.5 kn reported) at OFFSHORE from 00:00 for ``hours``."""
    return drifting(TANKER, at(0), hours, *OFFSHORE)


def dark_partner(
    off_h: float, on_h: float, last_fix_west_m: float, first_fix_east_m: float
) -> pd.DataFrame:
    """A ship steaming east at 11 kn: last fix ``last_fix_west_m`` west of the tanker at
    ``off_h``, silent, first fix ``first_fix_east_m`` east of it at ``on_h``."""
    lat, lon = OFFSHORE
    leg_h = 1.0
    approach = steaming(
        PARTNER,
        at(off_h - leg_h),
        leg_h,
        *offset(lat, lon, east_m=-last_fix_west_m - 11 * 1852 * leg_h),
        sog_kn=11.0,
    )
    depart = steaming(PARTNER, at(on_h), leg_h, *offset(lat, lon, east_m=first_fix_east_m))
    return positions(approach, depart)


def test_dark_partner_pairs_with_loitering_tanker() -> None:
    pos = positions(loitering_tanker(), dark_partner(1.0, 9.0, 6_000.0, 3_000.0))
    ves = vessels(
        [
            dict(mmsi=PARTNER, timestamp=at(0), vessel_name="SHADOW", draught_m=7.0),
            dict(mmsi=PARTNER, timestamp=at(9.5), draught_m=11.2),
        ]
    )
    res = detect_frames(pos, ves)
    ev = res.rendezvous
    assert ev["kind"].tolist() == ["dark_rendezvous"]
    row = ev.iloc[0]
    assert (row["mmsi_a"], row["mmsi_b"]) == (min(TANKER, PARTNER), max(TANKER, PARTNER))
    assert row["dark_mmsi"] == PARTNER
    # the partner's fixes around its 8 h silence lie 6 km and 3 km from the tanker
    assert row["partner_last_fix_distance_m"] == pytest.approx(6_000, abs=500)
    assert row["partner_first_fix_distance_m"] == pytest.approx(3_000, abs=500)
    assert row["partner_gap_h"] == pytest.approx(8.0, abs=0.05)
    # alongside window: the silence minus the legs in/out at 14 kn, on the 10-min grid
    assert at(1.0) < row["start_time"] <= at(1.5) and at(8.5) <= row["end_time"] < at(9.0)
    assert row["duration_h"] >= 7.0
    assert np.isnan(row["min_distance_m"]) and np.isnan(row["median_distance_m"])
    assert row["shared_silence_h"] == 0.0
    assert row["mean_lat"] == pytest.approx(OFFSHORE[0], abs=0.05)
    # identity and draught of both sides as for a rendezvous: the partner loaded 4.2 m dark
    side = "a" if row["mmsi_a"] == PARTNER else "b"
    assert row[f"vessel_name_{side}"] == "SHADOW"
    assert row[f"draught_after_m_{side}"] - row[f"draught_before_m_{side}"] == pytest.approx(4.2)
    # the silence is the partner's gap, linked and published; the tanker's loitering
    # is told as this transfer, not again on its own; its track is the event's track
    assert row["partner_gap_id"] in row["gap_ids"]
    assert row["partner_gap_id"] in set(res.gaps["gap_id"])
    assert res.loitering.empty
    assert set(res.event_tracks["mmsi"]) == {TANKER}


def test_dark_transfer_id_is_stable_and_differs_from_a_rendezvous_id() -> None:
    from stswatch.detectors.events import event_ids

    pos = positions(loitering_tanker(), dark_partner(1.0, 9.0, 6_000.0, 3_000.0))
    one = detect_frames(pos, None).rendezvous.iloc[0]
    two = detect_frames(pos.sample(frac=1.0, random_state=3), None).rendezvous.iloc[0]
    assert one["event_id"] == two["event_id"]
    same_pair_as_rendezvous = event_ids([one["mmsi_a"]], [one["mmsi_b"]], [one["start_time"]])
    assert one["event_id"] != same_pair_as_rendezvous[0]


def test_transit_gap_near_a_loiterer_does_not_pair() -> None:
    # A ship at 12 kn passes 1 km north of the tanker and is silent for 6.5 h meanwhile:
    # its fixes either side of the silence lie ~145 km apart, far outside the 30 km radius.
    lat, lon = OFFSHORE
    start = offset(lat, lon, north_m=1_000.0, east_m=-12 * 1852 * 3.0)
    passing = steaming(PASSER, at(0), 10.0, *start, sog_kn=12.0)
    silent = (passing["timestamp"] > at(0.5)) & (passing["timestamp"] < at(7.0))
    res = detect_frames(positions(loitering_tanker(), passing[~silent]), None)
    assert res.rendezvous.empty
    assert res.loitering["mmsi"].tolist() == [TANKER]  # still a lone loiterer
    assert PASSER in set(res.gaps["mmsi"])  # the silence is a gap, just not a partner


def test_partner_silent_too_briefly_to_have_stopped_alongside_does_not_pair() -> None:
    # Fixes 15 km either side, silent 3.1 h: 30 km at 14 kn takes 1.16 h, leaving
    # 1.9 h alongside, under the 2 h a transfer needs.
    pos = positions(loitering_tanker(), dark_partner(2.0, 5.1, 15_000.0, 15_000.0))
    assert detect_frames(pos, None).rendezvous.empty
    # the same geometry with a longer silence leaves the time, and pairs
    pos = positions(loitering_tanker(), dark_partner(2.0, 6.0, 15_000.0, 15_000.0))
    assert detect_frames(pos, None).rendezvous["kind"].tolist() == ["dark_rendezvous"]


def test_waiting_tanker_with_no_partner_is_only_loitering() -> None:
    res = detect_frames(loitering_tanker(), None)
    assert res.rendezvous.empty
    assert res.loitering["mmsi"].tolist() == [TANKER]


def test_partner_silence_far_from_the_loiterer_does_not_pair() -> None:
    # Same silence, but 60 km north of the tanker.
    far = dark_partner(1.0, 9.0, 6_000.0, 3_000.0).assign(
        lat=lambda f: f["lat"] + 60_000 / 111_195.0
    )
    res = detect_frames(positions(loitering_tanker(), far), None)
    assert res.rendezvous.empty


def test_each_silence_pairs_with_its_nearest_loiterer_only() -> None:
    other = 636000009
    pos = positions(
        loitering_tanker(),
        drifting(other, at(0), 12.0, *offset(*OFFSHORE, north_m=8_000.0)),
        dark_partner(1.0, 9.0, 6_000.0, 3_000.0),
    )
    ev = detect_frames(pos, None).rendezvous
    assert len(ev) == 1 and TANKER in (ev.iloc[0]["mmsi_a"], ev.iloc[0]["mmsi_b"])


def test_pairing_is_near_linear_not_all_pairs() -> None:
    """Many loiterers and many unrelated silences far apart: no pair, no quadratic blow-up
    (the KD-tree only offers silences that start near a loiterer)."""
    frames = []
    for i in range(40):
        where = offset(*OFFSHORE, north_m=100_000.0 * (i % 8), east_m=100_000.0 * (i // 8))
        frames.append(drifting(600000000 + i, at(0), 8.0, *where, every_min=30.0))
        far = offset(*where, north_m=50_000.0, east_m=50_000.0)  # > 50 km from every loiterer
        frames.append(steaming(700000000 + i, at(0), 0.5, *far, every_min=30.0))
        frames.append(steaming(700000000 + i, at(8), 0.5, *far, every_min=30.0))
    pos = positions(*frames)
    resampled = resample_tracks(pos, CFG.tracks)
    loitering = detect_loitering(resampled, CFG)
    gaps = detect_gaps(pos, CFG.gaps)
    assert len(loitering) == 40 and len(gaps) == 40
    assert find_dark_transfers(loitering, gaps, CFG.dark_transfers, resample_interval_min=10).empty


def test_dark_transfer_across_midnight_is_reported_once_by_daily_runs_and_a_backfill() -> None:
    # the tanker loiters 18:00-06:00, the partner is silent 20:00-04:00
    pos = positions(
        drifting(TANKER, at(18), 12.0, *OFFSHORE),
        dark_partner(20.0, 28.0, 6_000.0, 3_000.0),
    )

    def run(first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
        res = detect_frames(pos, None, keep_start=first, keep_end=last + pd.Timedelta(days=1))
        return res.rendezvous[["event_id", "kind", "start_time", "end_time"]]

    daily = pd.concat([run(at(0), at(0)), run(at(24), at(24))], ignore_index=True)
    backfill = run(at(0), at(24))
    assert len(backfill) == 1 and backfill.iloc[0]["kind"] == "dark_rendezvous"
    pd.testing.assert_frame_equal(daily, backfill)


def test_published_dark_transfer_is_recorded_in_the_store_history(tmp_path) -> None:
    from helpers_tracks import write_store

    from stswatch.pipeline.event_history import read_history
    from stswatch.pipeline.spine import detect_and_publish
    from stswatch.pipeline.storage import Store

    write_store(tmp_path, positions(loitering_tanker(), dark_partner(1.0, 9.0, 6_000.0, 3_000.0)))
    day = at(0).date()
    published = detect_and_publish(tmp_path, day, day, tmp_path / "out.geojson")
    assert published.n_dark_rendezvous == 1 and published.n_rendezvous == 0
    assert "(AIS off)" in published.summary_markdown()
    history = read_history(Store(tmp_path), day + pd.Timedelta(days=1), lookback_days=3)
    assert history["kind"].tolist() == ["dark_rendezvous"]
    assert history["dark_mmsi"].tolist() == [PARTNER]
