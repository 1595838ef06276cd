"""Readers: one module per AIS format, each yielding ReaderBatch objects."""
