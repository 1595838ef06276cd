"""Downloads against a scripted local HTTP server on 127.0.0.1 (never the internet).

Each test scripts what the server answers per path (status, body, truncation),
then checks what a user relies on: the archive arrives verified, a second call
does not download, transient failures are retried, a missing day says so
clearly, and hostile or broken archives are refused without touching the cache.
"""

from __future__ import annotations

import io
import stat
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stswatch.pipeline.download import (
    DownloadError,
    IntegrityError,
    NotPublishedError,
    UnsafeArchiveError,
    candidate_urls,
    download_day,
    download_range,
    extract_csv,
)

CSV_TEXT = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,"
    "Status,Length,Width,Draft,Cargo,TransceiverClass\n"
    "367000001,2023-01-05T00:00:01,29.1,-90.2,0.1,10.0,511,ALPHA,IMO1234567,WX1,70,1,100,20,5.0,70,A\n"
)
DAY = date(2023, 1, 5)
MC_PATH = "/2023/AIS_2023_01_05.zip"


def make_zip(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


GOOD_ZIP = make_zip({"AIS_2023_01_05.csv": CSV_TEXT.encode()})


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    truncate_to: int | None = None  # announce len(body) but send only this many bytes


@dataclass
class Script:
    """Replies per path, consumed in order (the last one repeats); requests are logged."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def next_reply(self, path: str) -> Reply:
        queue = self.replies.get(path)
        if not queue:
            return Reply(404, b"not found")
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            script.requests.append(self.path)
            reply = script.next_reply(self.path)
            self.send_response(reply.status)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
            self.wfile.write(body)
            self.wfile.flush()

        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def fetch(base: str, cache: Path, **kwargs: object) -> Path:
    return download_day(
        "marinecadastre", DAY, cache, base_url=base, backoff_s=0.0, timeout_s=5.0, **kwargs
    )


def cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file())


def test_success_returns_verified_zip_readable_as_csv(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, GOOD_ZIP)]
    path = fetch(base, tmp_path)
    assert path == tmp_path / "marinecadastre" / "AIS_2023_01_05.zip"
    with zipfile.ZipFile(path) as zf:
        assert zf.read("AIS_2023_01_05.csv").decode() == CSV_TEXT
    assert cache_files(tmp_path) == ["AIS_2023_01_05.zip"]  # no leftover .part files


def test_second_call_is_a_cache_hit_without_any_request(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, GOOD_ZIP)]
    first = fetch(base, tmp_path)
    second = fetch(base, tmp_path)
    assert first == second
    assert script.requests == [MC_PATH]


def test_retries_after_server_errors_and_a_truncated_body(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [
        Reply(500, b"boom"),
        Reply(503, b"busy"),
        Reply(200, GOOD_ZIP, truncate_to=len(GOOD_ZIP) // 2),
        Reply(200, GOOD_ZIP),
    ]
    slept: list[float] = []
    path = download_day(
        "marinecadastre", DAY, tmp_path, base_url=base, backoff_s=0.5, timeout_s=5.0,
        sleep=slept.append,
    )  # fmt: skip
    assert zipfile.ZipFile(path).read("AIS_2023_01_05.csv").decode() == CSV_TEXT
    assert len(script.requests) == 4
    assert slept == [0.5, 1.0, 2.0]  # exponential backoff between the four attempts


def test_gives_up_after_the_retries_with_the_last_error(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(502, b"bad gateway")]
    with pytest.raises(DownloadError, match=r"3 attempts.*HTTP 502"):
        fetch(base, tmp_path, retries=2)
    assert len(script.requests) == 3
    assert cache_files(tmp_path) == []


def test_404_is_not_retried_and_says_not_published(server, tmp_path):
    base, script = server
    with pytest.raises(NotPublishedError, match=r"not published 2023-01-05 \(yet\)"):
        fetch(base, tmp_path)
    assert script.requests == [MC_PATH]


@pytest.mark.parametrize(
    ("case", "archive"),
    [
        ("parent_dir", make_zip({"../../evil.csv": CSV_TEXT.encode()})),
        ("absolute", make_zip({"/tmp/evil.csv": CSV_TEXT.encode()})),
        ("symlink", make_zip({"a.csv": CSV_TEXT.encode()}, symlink="link.csv")),
        ("backslash", make_zip({"..\\evil.csv": CSV_TEXT.encode()})),
    ],
)
def test_zip_slip_archives_are_refused_and_never_cached(server, tmp_path, case, archive):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, archive)]
    with pytest.raises(UnsafeArchiveError, match="outside the target folder"):
        fetch(base, tmp_path)
    assert len(script.requests) == 1  # a hostile archive is not fetched again
    assert cache_files(tmp_path) == []
    assert not (tmp_path.parent / "evil.csv").exists()


def test_corrupt_zip_is_refused(server, tmp_path):
    base, script = server
    corrupt = bytearray(GOOD_ZIP)
    corrupt[GOOD_ZIP.index(b"367000001")] ^= 0xFF  # flip a data byte: CRC no longer matches
    script.replies[MC_PATH] = [Reply(200, bytes(corrupt))]
    with pytest.raises(IntegrityError, match="CRC"):
        fetch(base, tmp_path)
    assert cache_files(tmp_path) == []


def test_html_error_page_served_as_200_is_refused(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, b"<html>maintenance</html>")]
    with pytest.raises(IntegrityError, match="not a valid zip"):
        fetch(base, tmp_path)


def test_archive_without_csv_is_refused(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, make_zip({"readme.txt": b"hello"}))]
    with pytest.raises(IntegrityError, match=r"no non-empty \.csv"):
        fetch(base, tmp_path)


def test_damaged_cache_file_is_downloaded_again(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, GOOD_ZIP)]
    path = fetch(base, tmp_path)
    path.write_bytes(b"garbage")
    assert fetch(base, tmp_path).read_bytes() == GOOD_ZIP
    assert len(script.requests) == 2


def test_extract_returns_the_csv_inside_the_cache(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, GOOD_ZIP)]
    csv_path = fetch(base, tmp_path, extract=True)
    assert csv_path == (tmp_path / "marinecadastre" / "AIS_2023_01_05.csv").resolve()
    assert csv_path.read_text() == CSV_TEXT


def test_extract_csv_refuses_zip_slip_even_outside_downloads(tmp_path):
    evil = tmp_path / "evil.zip"
    evil.write_bytes(make_zip({"../escaped.csv": CSV_TEXT.encode()}))
    with pytest.raises(UnsafeArchiveError):
        extract_csv(evil, tmp_path / "out")
    assert not (tmp_path / "escaped.csv").exists()


def test_dma_falls_back_from_flat_to_year_folder(server, tmp_path):
    base, script = server
    script.replies["/2024/aisdk-2024-08-07.zip"] = [Reply(200, make_zip({"aisdk.csv": b"x\n"}))]
    path = download_day("dma", date(2024, 8, 7), tmp_path, base_url=base, backoff_s=0.0)
    assert path.name == "aisdk-2024-08-07.zip"
    assert script.requests == ["/aisdk-2024-08-07.zip", "/2024/aisdk-2024-08-07.zip"]


def test_dma_month_archive_serves_every_day_of_its_month_once(server, tmp_path):
    base, script = server
    script.replies["/2019/aisdk-2019-03.zip"] = [Reply(200, make_zip({"aisdk_2019.csv": b"x\n"}))]
    paths = download_range(
        "dma", date(2019, 3, 30), date(2019, 3, 31), tmp_path, base_url=base, backoff_s=0.0
    )
    assert [p.name for p in paths] == ["aisdk-2019-03.zip"]
    assert script.requests.count("/2019/aisdk-2019-03.zip") == 1  # 31st is a cache hit


def test_range_skips_unpublished_days_only_when_asked(server, tmp_path):
    base, script = server
    script.replies[MC_PATH] = [Reply(200, GOOD_ZIP)]
    with pytest.raises(NotPublishedError):
        download_range("marinecadastre", DAY, date(2023, 1, 6), tmp_path, base_url=base)
    paths = download_range(
        "marinecadastre", DAY, date(2023, 1, 6), tmp_path, base_url=base, skip_missing=True
    )
    assert [p.name for p in paths] == ["AIS_2023_01_05.zip"]


def test_public_url_patterns():
    assert candidate_urls("marinecadastre", DAY) == [
        "https://coast.noaa.gov/htdata/CMSP/AISDataHandler/2023/AIS_2023_01_05.zip"
    ]
    assert candidate_urls("dma", date(2025, 2, 3))[:2] == [
        "http://aisdata.ais.dk/aisdk-2025-02-03.zip",
        "http://aisdata.ais.dk/2025/aisdk-2025-02-03.zip",
    ]
    with pytest.raises(ValueError, match="unknown source"):
        candidate_urls("noaa", DAY)


def test_extract_picks_the_day_from_a_monthly_archive(server, tmp_path):
    base, script = server
    month = make_zip({"aisdk_20060302.csv": b"day two\n", "aisdk_20060303.csv": b"day three!\n"})
    script.replies["/2006/aisdk-2006-03.zip"] = [Reply(200, month)]
    got = download_day("dma", date(2006, 3, 2), tmp_path, base_url=base, extract=True)
    assert got.read_text() == "day two\n"
