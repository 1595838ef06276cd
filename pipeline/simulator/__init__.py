"""Realistic, labelled AIS simulator (issue 3 item 9, issue 4 item 2).

``simulate(SimulationConfig(...))`` returns :class:`SimulatedData` (time-ordered
MarineCadastre-like rows plus a truth table, one row per labelled scenario);
``write_marinecadastre(data, out_dir)`` writes ``AIS_YYYY_MM_DD.csv`` days in
NOAA's exact 17-column layout plus ``truth.csv`` / ``truth.json``.

Modules, one concept each: ``regions`` (named seas, ports, lightering zones,
lanes), ``vessels`` (identities), ``profiles`` (transfer pairs and the evasion
tactics applied to a share of each class), ``motion`` (keyframe tracks,
report clocks), ``traffic`` (background fleet), ``scenarios`` (placement and
meeting machinery), ``transfers`` (visible and dark transfers), ``decoys``, ``dirty`` (bad rows),
``truth``, ``engine`` (``simulate``), ``writer`` (files), ``landmask`` and
``geometry`` (helpers).
"""

from stswatch.pipeline.simulator.engine import (
    POSITION_COLUMNS,
    SimulatedData,
    SimulationConfig,
    simulate,
)
from stswatch.pipeline.simulator.regions import REGIONS, Region, get_region
from stswatch.pipeline.simulator.traffic import ReportClock
from stswatch.pipeline.simulator.truth import TRUTH_COLUMNS
from stswatch.pipeline.simulator.writer import MARINECADASTRE_COLUMNS, write_marinecadastre

__all__ = [
    "MARINECADASTRE_COLUMNS",
    "POSITION_COLUMNS",
    "REGIONS",
    "TRUTH_COLUMNS",
    "Region",
    "ReportClock",
    "SimulatedData",
    "SimulationConfig",
    "get_region",
    "simulate",
    "write_marinecadastre",
]
