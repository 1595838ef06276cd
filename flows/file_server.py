"""The output folder over HTTP on loopback, so the Prefect UI's links open.

Browsers refuse ``file://`` links from a web page, so a GeoJSON or evidence
card linked from a Prefect artifact never opened. ``stswatch serve`` starts
this small read-only server on 127.0.0.1 next to the deployments and the
artifacts link to it (``STSWATCH_BASE_URL``). It binds to loopback only: the
folder is meant for the analyst on this machine (or through an SSH tunnel /
reverse proxy, whose address ``--base-url`` then gives).
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8765


class _OutputHandler(SimpleHTTPRequestHandler):
    """Static files with the right types for GeoJSON and Markdown, no access log spam."""

    extensions_map = {  # noqa: RUF012 - the base class's own convention
        **SimpleHTTPRequestHandler.extensions_map,
        ".geojson": "application/geo+json",
        ".md": "text/markdown; charset=utf-8",
        ".gpkg": "application/geopackage+sqlite3",
        ".qml": "application/xml",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FileServer:
    """A running server; ``url`` is its own loopback address."""

    def __init__(self, folder: Path, port: int = DEFAULT_PORT, host: str = LOOPBACK) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handler = partial(_OutputHandler, directory=str(folder))
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.folder = folder
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="stswatch-file-server", daemon=True
        )

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
