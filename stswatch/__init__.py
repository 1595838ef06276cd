"""stswatch: ranked candidates of illicit ship-to-ship transfers from public AIS data.

One import package for everything the distribution installs, so nothing generic
(``pipeline``, ``geo``, ...) lands at the top level of site-packages. The
repository keeps the design card's folders at its root; ``pyproject.toml`` maps
them under this package:

=======================  ==========================================
``stswatch.pipeline``    schemas, store, ingest, scoring, export, CLI
``stswatch.detectors``   pure detectors over frames (no I/O)
``stswatch.geo``         geodesy and reference geography
``stswatch.flows``       Prefect flows and deployments
``stswatch.data``        shipped reference data and the suspicion model
=======================  ==========================================
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stswatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
