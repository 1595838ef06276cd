"""A meeting with approach and departure legs, for the cards and map-output tests.

Two vessels steam in (A from the west, B from the south), drift together
for 4 h and leave (A north, B east); B can stay silent after leaving. A is
renamed and loads cargo, B unloads: what an evidence card must show.
"""

from __future__ import annotations

import pandas as pd
from helpers_tracks import at, drifting, offset, positions, steaming, vessels

A, B = 538000201, 636000202
#: 40 km off the Louisiana coast, clear of ports and the coast rule (5 km)
COASTAL = (28.55, -91.2)


def approach_meet_leave(lat: float, lon: float, *, dark_after_h: float = 0.0) -> pd.DataFrame:
    """A steams in from the west and B from the south, 6 h at 12 kn; they drift together
    4 h, then A leaves north and B east; B stays silent ``dark_after_h`` after leaving."""
    meet = at(6)
    a_from = offset(lat, lon, east_m=-6 * 12 * 1852.0)
    b_from = offset(lat, lon, north_m=-6 * 12 * 1852.0)
    b_side = offset(lat, lon, east_m=150.0)
    leave = at(10)
    b_leave = steaming(B, leave, 12, *b_side, heading="east")
    if dark_after_h:
        t = b_leave["timestamp"]
        b_leave = b_leave[
            (t < leave + pd.Timedelta(hours=1)) | (t > leave + pd.Timedelta(hours=1 + dark_after_h))
        ]
    return positions(
        steaming(A, at(0), 6, *a_from, heading="east"),
        drifting(A, meet, 4, lat, lon),
        steaming(A, leave, 8, lat, lon, heading="north"),
        steaming(B, at(0), 6, *b_from, heading="north"),
        drifting(B, meet + pd.Timedelta(minutes=1), 4, *b_side),
        b_leave,
    )


def statics() -> pd.DataFrame:
    return vessels(
        [
            {
                "mmsi": A,
                "timestamp": at(1),
                "vessel_name": "OLD NAME",
                "draught_m": 7.0,
                "ship_type": 84,
            },
            {"mmsi": A, "timestamp": at(12), "vessel_name": "NEW NAME", "draught_m": 11.5},
            {
                "mmsi": B,
                "timestamp": at(1),
                "vessel_name": "FEEDER",
                "imo": 9187654,
                "draught_m": 12.0,
            },
            {"mmsi": B, "timestamp": at(12), "vessel_name": "FEEDER", "draught_m": 8.0},
        ]
    )
