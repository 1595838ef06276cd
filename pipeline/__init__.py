"""stswatch pipeline: schemas, storage, ingest, scoring and export (I/O lives here)."""
