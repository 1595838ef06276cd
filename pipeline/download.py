"""Download daily AIS archives (NOAA MarineCadastre, Danish Maritime Authority).

Why this module is careful: the archives are large (DMA days are 0.6-0.8 GB
zipped), served over plain HTTP by DMA, and published with a lag, so a pipeline
run meets dropped connections, truncated bodies, 5xx bursts and "not yet
published" days. Every download is streamed to a temporary file in the cache
folder, checked, and only then renamed into place, so the cache never holds a
partial or corrupt archive and a second call is free.

URL patterns (``base_url`` replaces the part before the year folder/file name, for
mirrors and tests):

* MarineCadastre (daily files since 2015):
  ``https://coast.noaa.gov/htdata/CMSP/AISDataHandler/{YYYY}/AIS_{YYYY}_{MM}_{DD}.zip``.
  Years before 2015 were published per month and UTM zone and are not supported.
* DMA (``http://aisdata.ais.dk``, an S3 bucket): current daily files sit flat at
  ``{base}/aisdk-{YYYY}-{MM}-{DD}.zip``; finished years are moved into a year
  folder (``{base}/2024/aisdk-2024-08-07.zip``); years up to 2023 exist only as
  monthly archives ``aisdk-{YYYY}-{MM}.zip`` (several GB, every day of the month).
  We try, in order: flat daily, year-folder daily, year-folder monthly, flat
  monthly. A monthly archive is returned for every day of its month (downloaded
  once); the readers then read the whole month and the store puts each row in its
  own UTC day.

Retries (exponential backoff ``backoff_s * 2**attempt``, honouring a numeric
``Retry-After``) cover connection errors, timeouts, HTTP 408/429/5xx and truncated
bodies. A 404 is not retried: it raises :class:`NotPublishedError`. A complete
archive that fails its checks raises :class:`IntegrityError` without retrying
(the server's copy is bad, downloading it again will not help).

Integrity checks: ``Content-Length`` matches the bytes received; the zip opens;
no member escapes the extraction folder (absolute path, ``..``, drive letter,
symlink); it holds a non-empty ``.csv`` member; every member's CRC verifies
(``ZipFile.testzip``).
"""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import stat
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path, PurePosixPath

__all__ = [
    "SOURCES",
    "DownloadError",
    "IntegrityError",
    "NotPublishedError",
    "UnsafeArchiveError",
    "candidate_urls",
    "download_day",
    "download_range",
    "extract_csv",
    "verify_archive",
]

log = logging.getLogger(__name__)

#: Default hosts (without trailing slash).
SOURCES: dict[str, str] = {
    "marinecadastre": "https://coast.noaa.gov/htdata/CMSP/AISDataHandler",
    "dma": "http://aisdata.ais.dk",
}

_USER_AGENT = "stswatch (+https://github.com/stswatch/stswatch) python-urllib"
_CHUNK_BYTES = 1 << 20
#: HTTP statuses worth retrying: request timeout, rate limit, server-side trouble.
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(RuntimeError):
    """A download failed for good (after the retries, where retrying makes sense)."""


class NotPublishedError(DownloadError):
    """The source answers 404 for every URL the day may live at."""


class IntegrityError(DownloadError):
    """The archive arrived whole but is not a usable AIS archive."""


class UnsafeArchiveError(IntegrityError):
    """An archive member would be written outside the target folder."""


class _RetryableError(Exception):
    """Internal: a failure that another attempt may fix."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {sorted(SOURCES)}")
    return source


def candidate_urls(source: str, day: date, *, base_url: str | None = None) -> list[str]:
    """Every URL the archive holding ``day`` may live at, in the order to try them."""
    base = (base_url or SOURCES[_check_source(source)]).rstrip("/")
    y, m, d = f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"
    if source == "marinecadastre":
        return [f"{base}/{y}/AIS_{y}_{m}_{d}.zip"]
    return [
        f"{base}/aisdk-{y}-{m}-{d}.zip",
        f"{base}/{y}/aisdk-{y}-{m}-{d}.zip",
        f"{base}/{y}/aisdk-{y}-{m}.zip",
        f"{base}/aisdk-{y}-{m}.zip",
    ]


# --------------------------------------------------------------------------- #
# Archive checks and safe extraction
# --------------------------------------------------------------------------- #


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    """Why writing this member could escape the target folder (None if it cannot)."""
    name = info.filename
    if "\\" in name:  # Windows separators: "..\\x" is a traversal on Windows hosts
        name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or path.is_absolute():
        return "absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "drive letter"
    if ".." in path.parts:
        return "parent-directory component"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link"
    return None


def _csv_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(".csv")]


def verify_archive(path: Path, *, check_crc: bool = True) -> zipfile.ZipInfo:
    """Check a downloaded archive and return its (largest) CSV member.

    Raises :class:`UnsafeArchiveError` for members escaping the extraction folder
    and :class:`IntegrityError` for anything else (not a zip, CRC failure, no
    non-empty CSV). ``check_crc=False`` skips the full decompression pass (used on
    cache hits, which were fully checked before they were renamed into place).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                reason = _unsafe_reason(info)
                if reason is not None:
                    raise UnsafeArchiveError(
                        f"{path.name}: refusing member {info.filename!r} ({reason}): "
                        "it would be written outside the target folder"
                    )
            csvs = [i for i in _csv_members(zf) if i.file_size > 0]
            if not csvs:
                names = ", ".join(i.filename for i in zf.infolist()[:5]) or "nothing"
                raise IntegrityError(f"{path.name}: no non-empty .csv member (holds {names})")
            if check_crc:
                bad = zf.testzip()
                if bad is not None:
                    raise IntegrityError(f"{path.name}: member {bad!r} fails its CRC check")
            return max(csvs, key=lambda i: i.file_size)
    except zipfile.BadZipFile as exc:
        raise IntegrityError(f"{path.name}: not a valid zip archive ({exc})") from exc
    except (OSError, EOFError, zipfile.LargeZipFile) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise IntegrityError(f"{path.name}: unreadable archive ({exc})") from exc


def _member_for_day(zip_path: Path, day: date) -> zipfile.ZipInfo | None:
    """The CSV member of a multi-day (monthly) archive that holds ``day``, if named so."""
    tags = (day.isoformat(), day.strftime("%Y%m%d"), day.strftime("%Y_%m_%d"))
    with zipfile.ZipFile(zip_path) as zf:
        for info in _csv_members(zf):
            if any(tag in info.filename for tag in tags):
                return info
    return None


def extract_csv(zip_path: Path, dest_dir: Path, *, day: date | None = None) -> Path:
    """Extract the archive's CSV member into ``dest_dir`` and return its path.

    Never ``extractall``: only one verified CSV member is written (for a monthly
    archive with one CSV per day, the one named after ``day`` when given, else the
    largest), streamed to a temporary file and renamed, after checking the target
    stays inside ``dest_dir``. An already extracted member of the same size is
    not written again.
    """
    zip_path, dest_dir = Path(zip_path), Path(dest_dir)
    member = verify_archive(zip_path, check_crc=False)
    if day is not None:
        member = _member_for_day(zip_path, day) or member
    dest_dir.mkdir(parents=True, exist_ok=True)
    root = dest_dir.resolve()
    target = (root / PurePosixPath(member.filename.replace("\\", "/"))).resolve()
    if not target.is_relative_to(root):
        raise UnsafeArchiveError(f"{zip_path.name}: member {member.filename!r} escapes {root}")
    if target.is_file() and target.stat().st_size == member.file_size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with zipfile.ZipFile(zip_path) as zf, zf.open(member) as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK_BYTES)
        Path(tmp_name).replace(target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


# --------------------------------------------------------------------------- #
# HTTP
# --------------------------------------------------------------------------- #


def _retry_after(headers: object) -> float | None:
    value = getattr(headers, "get", lambda _k: None)("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _fetch(url: str, tmp: Path, timeout_s: float, progress: bool) -> int | None:
    """One attempt: stream ``url`` into ``tmp``; return the announced Content-Length.

    Raises :class:`NotPublishedError` on 404/410, :class:`_RetryableError` on transient
    trouble, :class:`DownloadError` on other HTTP errors.
    """
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            length_header = resp.headers.get("Content-Length")
            expected = int(length_header) if length_header and length_header.isdigit() else None
            received = 0
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=expected, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1])
            try:
                with tmp.open("wb") as out:
                    while chunk := resp.read(_CHUNK_BYTES):
                        out.write(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise NotPublishedError(f"HTTP {exc.code} for {url}") from exc
        if exc.code in _RETRY_STATUS:
            raise _RetryableError(f"HTTP {exc.code} for {url}", _retry_after(exc.headers)) from exc
        raise DownloadError(f"HTTP {exc.code} {exc.reason} for {url}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise _RetryableError(f"{type(exc).__name__}: {exc} ({url})") from exc
    except (http.client.HTTPException, OSError) as exc:  # IncompleteRead, reset mid-body
        raise _RetryableError(f"{type(exc).__name__}: {exc} ({url})") from exc
    if expected is not None and received != expected:
        raise _RetryableError(f"truncated body: {received} of {expected} bytes from {url}")
    return expected


def _download_verified(
    url: str,
    target: Path,
    *,
    retries: int,
    backoff_s: float,
    timeout_s: float,
    progress: bool,
    sleep: Callable[[float], None],
) -> None:
    """Download ``url`` to ``target`` (atomically, verified), retrying transient failures."""
    target.parent.mkdir(parents=True, exist_ok=True)
    last: _RetryableError | None = None
    for attempt in range(retries + 1):
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            expected = _fetch(url, tmp, timeout_s, progress)
            try:
                verify_archive(tmp)
            except UnsafeArchiveError:
                raise
            except IntegrityError as exc:
                # Without a Content-Length a body that ended early looks like a bad zip.
                if expected is None and "not a valid zip" in str(exc):
                    raise _RetryableError(str(exc)) from exc
                raise
            tmp.replace(target)
            return
        except _RetryableError as exc:
            last = exc
            if attempt == retries:
                break
            delay = backoff_s * (2**attempt)
            if exc.retry_after_s is not None:
                delay = max(delay, min(exc.retry_after_s, 300.0))
            log.warning(
                "download attempt %d failed (%s); retrying in %.1f s", attempt + 1, exc, delay
            )
            sleep(delay)
        finally:
            tmp.unlink(missing_ok=True)
    raise DownloadError(f"giving up after {retries + 1} attempts: {last}")


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def download_day(
    source: str,
    day: date,
    cache_dir: Path,
    *,
    base_url: str | None = None,
    retries: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    extract: bool = False,
    progress: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Return a verified local archive of ``source`` for ``day``, downloading if needed.

    The archive is cached as ``cache_dir/{source}/{file name}``; when it is
    already there (it only ever lands there verified) nothing is downloaded. The
    readers accept ``.zip`` files, so the zip itself is returned; ``extract=True``
    returns the extracted CSV instead (written beside the zip, zip-slip safe).

    Raises :class:`NotPublishedError` when every candidate URL answers 404,
    :class:`IntegrityError`/:class:`UnsafeArchiveError` for a bad archive and
    :class:`DownloadError` when the retries run out.
    """
    _check_source(source)
    if retries < 0 or backoff_s < 0 or timeout_s <= 0:
        raise ValueError("retries and backoff_s must be >= 0 and timeout_s > 0")
    folder = Path(cache_dir) / source
    urls = candidate_urls(source, day, base_url=base_url)
    for url in urls:  # any already cached candidate (e.g. the month's archive) is a hit
        cached = folder / url.rsplit("/", 1)[-1]
        if cached.is_file():
            try:
                verify_archive(cached, check_crc=False)
            except IntegrityError as exc:  # damaged after the fact: fetch it again
                log.warning("discarding damaged cache file %s: %s", cached, exc)
                cached.unlink()
                continue
            log.info("cache hit: %s", cached)
            return extract_csv(cached, folder, day=day) if extract else cached
    missing: list[str] = []
    for url in urls:
        target = folder / url.rsplit("/", 1)[-1]
        try:
            _download_verified(
                url,
                target,
                retries=retries,
                backoff_s=backoff_s,
                timeout_s=timeout_s,
                progress=progress,
                sleep=sleep,
            )
        except NotPublishedError:
            missing.append(url)
            continue
        return extract_csv(target, folder, day=day) if extract else target
    raise NotPublishedError(
        f"{source} has not published {day.isoformat()} (yet): HTTP 404 for "
        + ", ".join(missing)
        + ". MarineCadastre publishes months after the fact; DMA about 3 days after."
    )


def download_range(
    source: str,
    start: date,
    end: date,
    cache_dir: Path,
    *,
    base_url: str | None = None,
    retries: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    extract: bool = False,
    skip_missing: bool = False,
    progress: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Path]:
    """Download every day in ``[start, end]`` (inclusive); paths in date order, each once.

    Days inside one DMA monthly archive share one path, returned once. With
    ``skip_missing`` a day that is not published is logged and skipped instead of
    raising :class:`NotPublishedError` (useful for backfills over holes).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    paths: list[Path] = []
    day = start
    while day <= end:
        try:
            path = download_day(
                source,
                day,
                cache_dir,
                base_url=base_url,
                retries=retries,
                backoff_s=backoff_s,
                timeout_s=timeout_s,
                extract=extract,
                progress=progress,
                sleep=sleep,
            )
        except NotPublishedError as exc:
            if not skip_missing:
                raise
            log.warning("skipping %s: %s", day, exc)
        else:
            if path not in paths:
                paths.append(path)
        day += timedelta(days=1)
    return paths
