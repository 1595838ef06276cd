"""Loading the STS areas a run uses: the shipped reference plus users' GeoJSON files.

The I/O edge for :mod:`stswatch.geo.sts_areas`: users describe their own
STS/lightering areas (a national list, an analyst's watch zones) as GeoJSON
and pass them with ``--sts-areas FILE`` or ``StsAreaConfig.extra_files``. A
file that cannot be used raises :class:`StsAreaError` with one line naming
the file, the feature and the problem; the CLI turns it into exit code 2
before anything is ingested.
"""

from __future__ import annotations

import json
from pathlib import Path

from stswatch.geo.sts_areas import StsAreaError, StsAreas, listed_sts_areas, parse_sts_areas
from stswatch.pipeline.config import DEFAULT_CONFIG, Config, StsAreaConfig

__all__ = ["StsAreaError", "config_with_area_files", "load_sts_areas", "read_sts_area_file"]


def read_sts_area_file(path: Path | str) -> StsAreas:
    """Areas from one GeoJSON file (Polygon/MultiPolygon, or Point with ``radius_m``; ``name``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StsAreaError(f"{path}: no such STS area file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StsAreaError(f"{path}: cannot read STS area file: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StsAreaError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    areas = parse_sts_areas(document, str(path))
    if not len(areas):
        raise StsAreaError(f"{path}: the FeatureCollection holds no areas")
    return areas


def load_sts_areas(cfg: StsAreaConfig) -> StsAreas:
    """Users' areas (in the order given) then the shipped reference when ``cfg.use_listed``.

    Users' areas come first, so where they overlap the reference, the user's
    name is the one reported. Files are read on every call (they are small):
    a long-running service picks up an edited file on its next run.
    """
    areas = StsAreas()
    for path in cfg.extra_files:
        areas = areas + read_sts_area_file(path)
    if cfg.use_listed:
        areas = areas + listed_sts_areas()
    return areas


def config_with_area_files(files: tuple[str, ...], base: Config = DEFAULT_CONFIG) -> Config:
    """``base`` with users' STS-area files added, each checked now (StsAreaError if unusable).

    Front ends (``--sts-areas``, ``STSWATCH_STS_AREAS``) call this before any
    work, so a bad file stops a run at once with one clear line.
    """
    for path in files:
        read_sts_area_file(path)
    if not files:
        return base
    return base.with_overrides(sts_areas={"extra_files": (*base.sts_areas.extra_files, *files)})
