"""Small helpers shared by CLI commands: argument types and error reporting."""

from __future__ import annotations

import argparse
import sys
from datetime import date


def iso_date(text: str) -> date:
    """argparse type for YYYY-MM-DD with a clear message."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def fail(message: str, code: int = 2) -> int:
    """Print an error for a person (no traceback) and return the exit code."""
    print(f"stswatch: error: {message}", file=sys.stderr)
    return code
