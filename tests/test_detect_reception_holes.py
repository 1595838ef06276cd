"""Reception holes versus going dark.

A silence both vessels of a meeting share (they fall silent together and come
back still together and slow) is a reception hole: the meeting goes on, it is
one event with ``shared_silence_h``, and nobody "went dark". A one-sided
silence next to a meeting is dark evidence (``gap_before_h_*``/``gap_after_h_*``).
"""

from __future__ import annotations

import pytest
from helpers_tracks import OFFSHORE, at, drifting, meeting, offset, positions, steaming

from stswatch.pipeline.config import Config
from stswatch.pipeline.detection import detect_frames

A, B = 412000001, 412000002


def test_shared_silence_inside_a_meeting_is_merged_into_one_event() -> None:
    # alongside 2 h, both silent 7 h (drifting together out of reception), 3 h more
    pos = positions(
        meeting(A, B, at(0), 2.0, *OFFSHORE),
        meeting(A, B, at(9), 3.0, *offset(*OFFSHORE, east_m=1_500.0)),
    )
    ev = detect_frames(pos, None).rendezvous
    assert len(ev) == 1
    row = ev.iloc[0]
    assert row["kind"] == "rendezvous"
    assert row["start_time"] == at(0) and row["end_time"] == at(12)
    assert row["shared_silence_h"] == pytest.approx(7.0, abs=0.2)
    # the hole is not "going dark" for either vessel
    for col in ("gap_before_h_a", "gap_before_h_b", "gap_after_h_a", "gap_after_h_b"):
        assert row[col] == 0.0


def test_shared_silence_longer_than_the_maximum_splits_the_meeting() -> None:
    pos = positions(
        meeting(A, B, at(0), 2.5, *OFFSHORE),
        meeting(A, B, at(18), 2.5, *OFFSHORE),
    )
    ev = detect_frames(pos, None).rendezvous
    assert len(ev) == 2  # 15.5 h of silence: more than 4 h + 12 h
    merged = detect_frames(
        pos, None, Config().with_overrides(rendezvous={"max_shared_silence_h": 16.0})
    ).rendezvous
    assert len(merged) == 1


def test_one_sided_silence_mid_meeting_is_not_bridged_and_counts_as_dark() -> None:
    # A keeps reporting alongside; B is silent for 7 h and comes back next to A.
    pos = positions(
        drifting(A, at(0), 12.0, *OFFSHORE),
        drifting(B, at(0), 2.5, *offset(*OFFSHORE, east_m=200.0)),
        drifting(B, at(9.5), 2.5, *offset(*OFFSHORE, east_m=200.0)),
    )
    ev = detect_frames(pos, None).rendezvous
    assert len(ev) == 2
    assert all(ev["shared_silence_h"] == 0.0)
    side = "a" if A < B else "b"
    other = "b" if side == "a" else "a"
    first, second = ev.iloc[0], ev.iloc[1]
    assert first[f"gap_after_h_{other}"] == pytest.approx(7.0, abs=0.1)
    assert second[f"gap_before_h_{other}"] == pytest.approx(7.0, abs=0.1)
    assert first[f"gap_after_h_{side}"] == 0.0


def test_one_sided_gap_before_a_meeting_still_counts_as_dark() -> None:
    # B steams in silently: last fix 9 h before the meeting, 60 km away; A waits, reporting.
    pos = positions(
        drifting(A, at(0), 14.0, *OFFSHORE),
        steaming(B, at(0), 1.0, *offset(*OFFSHORE, east_m=-80_000.0), sog_kn=5.0),
        drifting(B, at(10), 4.0, *offset(*OFFSHORE, east_m=200.0)),
    )
    row = detect_frames(pos, None).rendezvous.iloc[0]
    b_side = "b" if B > A else "a"
    assert row[f"gap_before_h_{b_side}"] == pytest.approx(9.0, abs=0.1)
    assert row["shared_silence_h"] == 0.0


def test_silence_shared_before_a_meeting_is_a_reception_hole_not_dark() -> None:
    # Both fall silent together at one spot, reappear together 8 h later and meet.
    here = offset(*OFFSHORE, east_m=-30_000.0)
    pos = positions(
        steaming(A, at(0), 1.0, *here, sog_kn=6.0),
        steaming(B, at(0), 1.0, *offset(*here, north_m=300.0), sog_kn=6.0),
        meeting(A, B, at(9), 4.0, *offset(*here, east_m=16_000.0)),
    )
    row = detect_frames(pos, None).rendezvous.iloc[0]
    # (B's meeting fixes start a minute after A's: a minute of one-sided silence)
    assert row["gap_before_h_a"] < 0.05 and row["gap_before_h_b"] < 0.05
    assert row["gap_ids"]  # the silences are still linked (and published) as gaps


def test_silences_of_two_ships_that_went_dark_in_different_places_both_count() -> None:
    # Both silent for 8 h before meeting, but one came from 60 km north, the other
    # from 60 km south: they did not sit together, so each silence is its own.
    north = offset(*OFFSHORE, north_m=60_000.0)
    south = offset(*OFFSHORE, north_m=-60_000.0)
    pos = positions(
        steaming(A, at(0), 1.0, *north, sog_kn=4.0),
        steaming(B, at(0), 1.0, *south, sog_kn=4.0),
        meeting(A, B, at(9), 4.0, *OFFSHORE),
    )
    row = detect_frames(pos, None).rendezvous.iloc[0]
    assert row["gap_before_h_a"] == pytest.approx(8.0, abs=0.1)
    assert row["gap_before_h_b"] == pytest.approx(8.0, abs=0.1)


def test_meeting_resuming_after_a_reception_hole_past_the_days_read_has_one_end(
    tmp_path,
) -> None:
    """A daily run reads one day past its own; a meeting that resumes after a shared
    silence beyond that must still get the end a backfill gives it."""
    from datetime import timedelta

    from helpers_tracks import DAY, write_store

    from stswatch.pipeline.detection import detect_range

    # alongside from day 1 22:00 to day 2 18:00, both silent 10 h, alongside again
    # day 3 04:00-07:00
    write_store(
        tmp_path,
        positions(
            meeting(A, B, at(22), 20.0, *OFFSHORE),
            meeting(A, B, at(52), 3.0, *OFFSHORE),
        ),
    )
    d1 = DAY.date()
    daily = detect_range(tmp_path, d1, d1).rendezvous
    backfill = detect_range(tmp_path, d1, d1 + timedelta(days=2)).rendezvous
    assert len(daily) == 1 and daily.iloc[0]["end_time"] == at(55)
    assert daily.iloc[0]["shared_silence_h"] == pytest.approx(10.0, abs=0.2)
    assert backfill["event_id"].tolist() == daily["event_id"].tolist()
    assert backfill["end_time"].tolist() == daily["end_time"].tolist()
