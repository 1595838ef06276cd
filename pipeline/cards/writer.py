"""Writing the evidence cards of a run's top events, in parallel with bounded memory.

Cards go next to the GeoJSON, in ``<out stem>_cards/<event_id>.png`` and
``.md``. Rendering is CPU-bound Python (matplotlib), so cards are drawn in
worker processes (:mod:`.pool`); each worker gets only its event's slice
(:class:`CardData`, a few thousand fixes), never the day's frames, and at
most ``2 x workers`` slices exist at once.

Every file is written aside and renamed, and cards of events that left the
top N since the last run are removed, so the folder always matches the
GeoJSON beside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from stswatch.pipeline.cards.data import CardData, card_inputs
from stswatch.pipeline.cards.pool import card_pool


def cards_dir(geojson_path: Path) -> Path:
    """``OUT/<stem>_cards`` for ``OUT/<stem>.geojson``."""
    path = Path(geojson_path)
    return path.parent / f"{path.stem}_cards"


def card_paths(geojson_path: Path, event_ids: Iterable[str]) -> dict[str, str]:
    """Each event's card PNG relative to the GeoJSON's folder (the ``card`` property)."""
    folder = cards_dir(geojson_path).name
    return {str(e): f"{folder}/{e}.png" for e in event_ids}


def _replace(tmp: Path, final: Path) -> None:
    tmp.replace(final)


def render_card(card: CardData, folder: Path) -> str:
    """Write ``<event_id>.png`` and ``.md`` into ``folder``; return the event id."""
    from stswatch.pipeline.cards.figure import write_card_png
    from stswatch.pipeline.cards.markdown import card_markdown

    event_id = str(card.event["event_id"])
    png, md = folder / f"{event_id}.png", folder / f"{event_id}.md"
    tmp_png = folder / f".{event_id}.{os.getpid()}.png.tmp"
    tmp_md = folder / f".{event_id}.{os.getpid()}.md.tmp"
    try:
        with tmp_png.open("wb") as fh:
            write_card_png(card, fh)
        tmp_md.write_text(card_markdown(card, png.name), encoding="utf-8")
        _replace(tmp_png, png)
        _replace(tmp_md, md)
    finally:
        tmp_png.unlink(missing_ok=True)
        tmp_md.unlink(missing_ok=True)
    return event_id


def _bounded(
    pool: ProcessPoolExecutor, cards: Iterator[CardData], folder: Path, window: int
) -> Iterable[str]:
    """Submit cards keeping at most ``window`` in flight; yield event ids as they finish."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending: set[Future[str]] = set()
    for card in cards:
        pending.add(pool.submit(render_card, card, folder))
        if len(pending) >= window:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)
    for f in pending:
        yield f.result()


def write_cards(
    ranked: pd.DataFrame,
    positions: pd.DataFrame,
    vessels: pd.DataFrame | None,
    geojson_path: Path,
    *,
    top_n: int = 50,
    workers: int = 2,
    window_h: float = 12.0,
    dash_gap_h: float = 1.0,
    min_gap_h: float = 6.0,
    ports: pd.DataFrame | None = None,
    pool: ProcessPoolExecutor | None = None,
    areas: object = None,
) -> dict[str, str]:
    """Cards of the ``top_n`` first rows of ``ranked`` (rank order); event id -> PNG path.

    The paths are relative to the GeoJSON's folder (what the ``card``
    property holds). ``top_n`` 0 writes none and removes the folder's cards.
    ``ports``: the nearest port per event (``map_output.nearest_ports``);
    ``pool``: workers already started (:func:`.pool.card_pool`), else one is
    started here when the cards are many enough.
    """
    folder = cards_dir(geojson_path)
    top = ranked.head(max(top_n, 0))
    if not top.empty:
        folder.mkdir(parents=True, exist_ok=True)
    cards = card_inputs(
        top,
        positions,
        vessels,
        window_h=window_h,
        dash_gap_h=dash_gap_h,
        min_gap_h=min_gap_h,
        ports=ports.loc[top.index] if ports is not None and not top.empty else None,
        areas=areas,
    )
    if pool is not None:
        written = list(_bounded(pool, cards, folder, 2 * workers))
    else:
        with card_pool(workers, len(top)) as own:
            if own is None:
                written = [render_card(card, folder) for card in cards]
            else:
                written = list(_bounded(own, cards, folder, 2 * workers))
    _remove_stale(folder, set(written))
    return card_paths(geojson_path, written)


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Cards of events no longer in the top N (a re-run must not leave them behind)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.suffix in (".png", ".md") and path.stem not in keep:
            path.unlink(missing_ok=True)
    if not any(folder.iterdir()):
        folder.rmdir()
