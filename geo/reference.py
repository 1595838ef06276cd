"""One check that every reference dataset the detectors read can be loaded.

Detection reads three datasets from installed packages: the port lists
(harborly, searoute; :func:`stswatch.geo.ports.load_ports`), landmetrics'
0.1° distance grid and global-land-mask's 1 km mask (:mod:`stswatch.geo.coast`).
A broken or partial installation would otherwise surface only after a run had
ingested its files and rewritten store partitions. :func:`check_reference_data`
loads them up front (the loaders are cached, so a run pays nothing extra) and
turns any failure into one :class:`ReferenceDataError` naming the dataset.
"""

from __future__ import annotations


class ReferenceDataError(RuntimeError):
    """A reference dataset the detectors need is missing or unreadable."""


def check_reference_data() -> None:
    """Load ports, the coarse coast grid and locate the land mask; raise on the first failure."""
    from stswatch.geo import coast, land_mask, ports

    checks = (
        ("port lists (harborly, searoute)", ports.load_ports),
        ("distance-to-coast grid (landmetrics)", coast.load_coarse_grid),
        ("land mask (global-land-mask)", land_mask.land_mask_file),
    )
    for what, load in checks:
        try:
            load()
        except Exception as exc:  # any failure here is an installation problem
            raise ReferenceDataError(
                f"reference data unavailable: {what}: {type(exc).__name__}: {exc}; "
                "reinstall stswatch (pip install --force-reinstall stswatch)"
            ) from exc
