"""stswatch pipeline: schemas, storage, ingest, scoring and export (I/O lives here)."""

__version__ = "0.1.0"
