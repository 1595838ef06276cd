"""The real encounter of Global Fishing Watch's own test suite, through ``stswatch run``.

MMSI 441910000 and 563418000, 2015-03-19, Mozambique Channel (~520 km
offshore): 16-89 m apart from 07:32 to 21:37 UTC, both silent together from
~10:10 to ~18:20 while drifting ~2 km. GFW's test expects ONE encounter,
07:40-20:10. The shared silence is a reception hole, not a vessel going dark.
Both layouts of ``../shared/data/tracks`` must give one event: the GFW-style
file (no broadcast speed: speed is judged from the positions) and the
MarineCadastre-layout copy (speed derived beforehand).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from stswatch.pipeline.cli import main
from stswatch.pipeline.readers import sniff_format

GFW_START = pd.Timestamp("2015-03-19 07:40", tz="UTC")
GFW_END = pd.Timestamp("2015-03-19 20:10", tz="UTC")
FILES = {
    "gfw": "gfw_encounter_441910000_563418000_raw.csv",
    "marinecadastre": "gfw_encounter_441910000_563418000_mc_format.csv",
}


@pytest.mark.shared_data
@pytest.mark.parametrize("layout", sorted(FILES))
def test_real_gfw_encounter_is_one_event_covering_most_of_the_gfw_interval(
    shared_data: Path, tmp_path: Path, layout: str
) -> None:
    path = shared_data / "tracks" / FILES[layout]
    assert sniff_format(path) == layout
    out = tmp_path / "out.geojson"
    args = ["run", str(path), "--store", str(tmp_path / "store"), "--out", str(out)]
    assert main([*args, "--no-progress"]) == 0
    doc = json.loads(out.read_text())
    events = [f["properties"] for f in doc["features"] if f["properties"]["kind"] == "rendezvous"]
    assert len(events) == 1
    ev = events[0]
    assert (ev["mmsi_a"], ev["mmsi_b"]) == (441910000, 563418000)
    start, end = pd.Timestamp(ev["start_time"]), pd.Timestamp(ev["end_time"])
    covered = min(end, GFW_END) - max(start, GFW_START)
    assert covered >= 0.9 * (GFW_END - GFW_START)
    assert start <= GFW_START + pd.Timedelta("20min")
    # the ~8 h shared silence is bridged and reported, and is nobody's dark gap
    assert 6.0 <= ev["shared_silence_h"] <= 9.0
    for side in ("a", "b"):
        assert ev[f"gap_before_h_{side}"] == 0.0 and ev[f"gap_after_h_{side}"] == 0.0
    assert ev["median_distance_m"] < 100
    # no reason states hours of AIS off/dark as evidence against either vessel
    assert not any(re.search(r"AIS (off|dark) [\d.]+ h", r) for r in ev["reasons"])
