"""Evidence cards: the PNG's content (axes, extent, coastline, distance), Markdown, files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_analyst import COASTAL, approach_meet_leave, statics
from helpers_tracks import OFFSHORE, at
from PIL import Image

from stswatch.pipeline.cards.data import card_inputs
from stswatch.pipeline.cards.figure import (
    DISTANCE_TITLE,
    DPI,
    DRAUGHT_TITLE,
    FIG_SIZE_IN,
    LocalProjection,
    build_card_figure,
    pair_distance_km,
)
from stswatch.pipeline.cards.markdown import card_markdown
from stswatch.pipeline.cards.style import MEETING
from stswatch.pipeline.cards.writer import cards_dir, write_cards
from stswatch.pipeline.detection import detect_frames
from stswatch.pipeline.scoring import score_events


def scored_day(pos: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    ves = statics()
    result = detect_frames(pos, ves)
    scored = score_events(result, ves).assign(kind="rendezvous")
    assert len(scored) == 1, scored
    return scored, result


@pytest.fixture(scope="module")
def offshore_card():
    scored, result = scored_day(approach_meet_leave(*OFFSHORE, dark_after_h=7.0))
    return next(card_inputs(scored, result.positions, result.vessels))


def test_card_has_map_distance_speed_and_draught_axes(offshore_card) -> None:
    fig = build_card_figure(offshore_card)
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert {"km north", "km apart", "speed (kn)", "draught (m)"} <= set(labels)
    texts = {t.get_text() for t in fig.texts}
    assert DISTANCE_TITLE in texts and DRAUGHT_TITLE in texts
    assert any("score" in t and "rendezvous" in t for t in texts)
    assert fig.get_size_inches().tolist() == list(FIG_SIZE_IN)


def test_map_extent_covers_both_tracks_and_the_meeting(offshore_card) -> None:
    fig = build_card_figure(offshore_card)
    ax = next(a for a in fig.axes if a.get_ylabel() == "km north")
    fig.canvas.draw()  # apply the equal-aspect limits
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    proj = LocalProjection(offshore_card.event["mean_lat"], offshore_card.event["mean_lon"])
    for side in ("a", "b"):
        x, y = proj(offshore_card.tracks[side]["lat"], offshore_card.tracks[side]["lon"])
        assert x.min() >= x0 and x.max() <= x1 and y.min() >= y0 and y.max() <= y1
    assert x0 < 0 < x1 and y0 < 0 < y1  # the meeting is the origin
    # 6 h at 12 kn in from the west: the map reaches ~130 km west
    assert x0 < -120


def test_tracks_cover_12_hours_either_side_and_the_silence_is_found(offshore_card) -> None:
    card = offshore_card
    assert card.window_start == card.start - pd.Timedelta(hours=12)
    for side in ("a", "b"):
        t = card.tracks[side]["timestamp"]
        assert t.min() <= card.start - pd.Timedelta(hours=5) and t.max() >= card.end
    silences = [s for s in card.silences if s["side"] == "b"]
    assert len(silences) == 1 and 6.9 < silences[0]["hours"] < 7.2


def test_distance_dips_below_500_m_only_during_the_meeting(offshore_card) -> None:
    grid, km = pair_distance_km(offshore_card)
    during = (grid >= offshore_card.start) & (grid <= offshore_card.end)
    assert np.nanmax(km[during]) < 0.5
    approach = grid < offshore_card.start - pd.Timedelta(hours=1)
    assert np.nanmin(km[approach]) > 0.5
    # B is silent for 7 h: no distance can be drawn then
    silent = (grid > at(11.2)) & (grid < at(17.8))
    assert np.isnan(km[silent]).all()


def test_coastline_is_drawn_from_the_land_mask_near_a_coast_only(offshore_card) -> None:
    offshore = build_card_figure(offshore_card)
    scored, result = scored_day(approach_meet_leave(*COASTAL))
    coastal = build_card_figure(next(card_inputs(scored, result.positions, result.vessels)))

    def land_fills(fig) -> int:
        ax = next(a for a in fig.axes if a.get_ylabel() == "km north")
        return sum(
            1
            for c in ax.collections
            if type(c).__name__ == "QuadContourSet" or "Contour" in type(c).__name__
        )

    assert land_fills(coastal) >= 1
    assert land_fills(offshore) == 0


def test_markdown_names_identity_changes_draught_and_the_gap(offshore_card) -> None:
    text = card_markdown(offshore_card, "x.png")
    assert "OLD NAME → **NEW NAME** at 2024-03-05 12:00" in text
    assert "| IMO | not reported | 9187654 |" in text
    assert "84 (tanker, hazardous D)" in text
    assert "vessel 2: AIS gap of 7." in text
    assert "7.0 m → 11.5 m" in text
    assert "![evidence card](x.png)" in text
    assert "Not reviewed" in text


def test_cards_are_written_beside_the_geojson_and_stale_ones_removed(tmp_path) -> None:
    scored, result = scored_day(approach_meet_leave(*OFFSHORE))
    out = tmp_path / "day.geojson"
    folder = cards_dir(out)
    folder.mkdir()
    (folder / "0000000000000000.png").write_bytes(b"old")
    paths = write_cards(scored, result.positions, result.vessels, out, top_n=50, workers=1)
    event_id = scored["event_id"].iloc[0]
    assert paths == {event_id: f"day_cards/{event_id}.png"}
    png = tmp_path / paths[event_id]
    assert 40_000 < png.stat().st_size < 400_000
    with Image.open(png) as im:
        assert im.size == (round(FIG_SIZE_IN[0] * DPI), round(FIG_SIZE_IN[1] * DPI))
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.std() > 20  # a drawn card, not a blank page
    assert (folder / f"{event_id}.md").read_text().startswith("# rendezvous")
    assert not (folder / "0000000000000000.png").exists()
    assert write_cards(scored, result.positions, result.vessels, out, top_n=0) == {}
    assert not folder.exists()


def test_a_reused_figure_draws_each_card_exactly_like_a_fresh_one(offshore_card) -> None:
    """Workers reuse one figure: nothing of the previous card may leak into the next."""
    from stswatch.pipeline.cards.figure import CardFigure

    scored, result = scored_day(approach_meet_leave(*COASTAL))
    coastal_card = next(card_inputs(scored, result.positions, result.vessels))

    def pixels(fig) -> np.ndarray:
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba()).copy()

    reused = CardFigure()
    pixels(reused.draw(coastal_card))  # land, another extent, no silence
    again = pixels(reused.draw(offshore_card))
    fresh = pixels(build_card_figure(offshore_card))
    assert again.shape == fresh.shape
    assert np.array_equal(again, fresh)


def test_a_meeting_in_a_listed_sts_area_has_the_area_outlined() -> None:
    from stswatch.pipeline.config import DEFAULT_CONFIG
    from stswatch.pipeline.sts_areas import load_sts_areas

    scored, result = scored_day(approach_meet_leave(28.5, -93.3))  # South Sabine Point zone
    assert scored["sts_area_name"].iloc[0] == "South Sabine Point lightering zone"
    areas = load_sts_areas(DEFAULT_CONFIG.sts_areas)
    card = next(card_inputs(scored, result.positions, result.vessels, areas=areas))
    assert len(card.area_rings) == 1
    lat, lon = card.area_rings[0]
    assert lat.min() < 28.5 < lat.max() and lon.min() < -93.3 < lon.max()
    fig = build_card_figure(card)
    ax = next(a for a in fig.axes if a.get_ylabel() == "km north")
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--" and len(ln.get_xdata()) > 4]
    assert any(ln.get_color() == MEETING for ln in dashed)
    assert "STS area (listed)" in [t.get_text() for t in ax.get_legend().get_texts()]
