"""One downloader for datasets and pretrained checkpoints.

``fetch(url, path)`` streams ``url`` to ``path`` through ``path + '.part'`` and:

- retries a transient failure (HTTP 5xx/408/429, a timeout, a reset, a body cut
  short) with exponential backoff; an unreachable host (DNS failure, connection
  refused: an offline machine) fails at once, as curl and wget do unless told
  to retry refused connections;
- resumes the ``.part`` an earlier try or run left, with an HTTP Range request
  (a server that ignores Range sends the whole file, which then replaces it);
- checks the size/md5/sha256 it is given and that an archive (.tar, .tar.gz,
  .tgz, .zip, .gz) reads to its end;
- records the file's sha256 in a local manifest on the first download of a URL
  and refuses a later download of that URL whose sha256 differs.

Every failure raises :class:`DownloadError` whose message is one line naming the
URL and what to do. Built on urllib rather than pooch: pooch is not in the
pinned environment, and it neither resumes partial downloads nor records a
first-download hash.
"""
from __future__ import annotations

import dataclasses
import datetime
import gzip
import hashlib
import http.client
import json
import os
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from typing import Dict, Optional

MANIFEST_ENV = "TFSLIM_DOWNLOAD_MANIFEST"
DEFAULT_MANIFEST = os.path.join("~", ".cache", "tfslim", "downloads.sha256.json")
RETRIES = 4  # after the first try: waits of 1, 2, 4, 8 s
BACKOFF_S = 1.0
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed or was refused; the message is one line."""


class _Transient(Exception):
    """A failure worth another try (the .part is kept for the resume)."""


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a downloaded file must be: its published size and digests (None: unknown)."""

    size: Optional[int] = None
    md5: Optional[str] = None
    sha256: Optional[str] = None


def manifest_path() -> str:
    """The sha256 manifest: ``$TFSLIM_DOWNLOAD_MANIFEST`` or ~/.cache/tfslim/downloads.sha256.json."""
    return os.path.expanduser(os.environ.get(MANIFEST_ENV) or DEFAULT_MANIFEST)


def recorded(url: str, manifest: Optional[str] = None) -> Optional[Dict]:
    """The manifest's entry for ``url`` (sha256, size, first download time), or None."""
    return _load_manifest(manifest or manifest_path()).get(url)


def fetch(url: str, path: str, expected: Expected = Expected(), *, key: Optional[str] = None,
          manifest: Optional[str] = None, timeout: float = 60.0, retries: int = RETRIES,
          backoff_s: float = BACKOFF_S, progress: bool = False, hint: str = "") -> str:
    """Downloads ``url`` to ``path`` (see the module doc); returns ``path``.

    Args:
      url: http(s):// or file:// URL.
      path: the final file; ``path + '.part'`` holds the bytes until they are verified.
      expected: published size/md5/sha256 to check.
      key: the manifest key (default ``url``); a mirror passes the canonical URL so
        that its copy is checked against the first download from anywhere.
      manifest: the manifest file (default :func:`manifest_path`).
      timeout: seconds to wait for the connection and for each read.
      retries: further tries after a transient failure; waits double from ``backoff_s``.
      progress: show a tqdm bar on stderr.
      hint: appended to every error message (what the caller's user can do instead).

    Raises:
      DownloadError: unreachable host, HTTP error, retries exhausted, or a file
        that fails a check (that file is deleted).
    """
    part = path + ".part"
    suffix = f" {hint}" if hint else ""
    for attempt in range(retries + 1):
        try:
            _attempt(url, part, timeout, progress, suffix)
            break
        except _Transient as err:
            if attempt == retries:
                kept = (f"; {part} is kept and the next run resumes it"
                        if os.path.exists(part) else "")
                raise DownloadError(f"cannot download {url}: {err} ({attempt + 1} tries){kept}."
                                    f"{suffix}") from None
            delay = backoff_s * 2 ** attempt
            print(f"{url}: {err}; retrying in {delay:g} s", file=sys.stderr, flush=True)
            time.sleep(delay)
    try:
        _verify(part, path, url, expected, key or url, manifest or manifest_path())
    except DownloadError as err:
        os.remove(part)
        raise DownloadError(f"{err}.{suffix}") from None
    os.replace(part, path)
    return path


def _attempt(url: str, part: str, timeout: float, progress: bool, suffix: str) -> None:
    """One request, appending to ``part`` from its current size."""
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),  # noqa: S310
                                          timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:
            if _range_total(err.headers.get("Content-Range")) == offset:
                return  # an earlier run got every byte but stopped before the checks
            os.remove(part)  # the .part is longer than this file: start over
            raise _Transient("the partial file does not fit the server's file") from None
        if err.code in TRANSIENT_STATUS:
            raise _Transient(f"HTTP {err.code} {err.reason}") from None
        raise DownloadError(f"cannot download {url}: HTTP {err.code} {err.reason}.{suffix}") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
            host = urllib.parse.urlsplit(url).netloc or url
            raise DownloadError(f"cannot download {url}: {host} is unreachable ({_describe(reason)})"
                                f"; is this machine offline?{suffix}") from None
        if isinstance(reason, (TimeoutError, ConnectionError)):
            raise _Transient(_describe(reason)) from None
        raise DownloadError(f"cannot download {url}: {_describe(reason)}.{suffix}") from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as err:
        raise _Transient(_describe(err)) from None
    with response:
        total = _stream(response, part, offset, progress, os.path.basename(part[:-len(".part")]))
    received = os.path.getsize(part)
    if total is not None and received != total:
        raise _Transient(f"the connection closed after {received} of {total} bytes")


def _stream(response, part: str, offset: int, progress: bool, label: str) -> Optional[int]:
    """Writes the body to ``part``; returns the file's total size when the server says it."""
    from tqdm import tqdm  # pylint: disable=import-outside-toplevel

    status = getattr(response, "status", None) or 200  # file:// responses have none
    if status != 206:
        offset = 0  # Range ignored: the whole body replaces the .part
    elif _range_start(response.headers.get("Content-Range")) != offset:
        os.remove(part)  # resumed elsewhere than asked: the next try starts over
        raise _Transient(f"the server answered the resume at {offset} with "
                         f"{response.headers.get('Content-Range')!r}")
    length = response.headers.get("Content-Length")
    total = offset + int(length) if length else None
    os.makedirs(os.path.dirname(os.path.abspath(part)), exist_ok=True)  # only once a body comes
    with open(part, "ab" if offset else "wb") as out, \
            tqdm(total=total, initial=offset, unit="B", unit_scale=True, desc=label,
                 disable=not progress) as bar:
        for chunk in _chunks(response):
            try:
                out.write(chunk)
            except OSError as err:  # a full disk is not worth another try
                raise DownloadError(f"cannot write {part}: {_describe(err)}") from None
            bar.update(len(chunk))
    return total


def _chunks(response):
    """The body in chunks; a read that fails (reset, timeout, TLS error) is transient."""
    while True:
        try:
            chunk = response.read(_CHUNK)
        except (OSError, http.client.HTTPException) as err:
            raise _Transient(_describe(err)) from None
        if not chunk:
            return
        yield chunk


def _range_start(content_range: Optional[str]) -> Optional[int]:
    """START of ``bytes START-END/TOTAL``; None when absent or malformed."""
    try:
        return int(content_range.split()[1].split("-")[0])
    except (AttributeError, IndexError, ValueError):
        return None


def _range_total(content_range: Optional[str]) -> Optional[int]:
    """TOTAL of ``bytes START-END/TOTAL`` or ``bytes */TOTAL``; None when absent or malformed."""
    try:
        return int(content_range.rsplit("/", 1)[1])
    except (AttributeError, IndexError, ValueError):
        return None


def _describe(err: BaseException) -> str:
    return str(err) or type(err).__name__


def _verify(part: str, path: str, url: str, expected: Expected, key: str, manifest: str) -> None:
    """Size, digests, archive integrity, then the manifest (recorded on first download)."""
    size = os.path.getsize(part)
    if expected.size is not None and size != expected.size:
        raise DownloadError(f"{url}: {size} bytes, the published file has {expected.size}; "
                            "the download was deleted, run it again")
    md5, sha256 = _digests(part)
    for name, want, got in (("md5", expected.md5, md5), ("sha256", expected.sha256, sha256)):
        if want and got != want:
            raise DownloadError(f"{url}: {name} {got} differs from the published {want}; the "
                                "file is corrupt or was replaced and was deleted")
    problem = archive_problem(part, path)
    if problem:
        raise DownloadError(f"{url} is not a valid archive ({problem}); it was deleted, run the "
                            "download again")
    entries = _load_manifest(manifest)
    first = entries.get(key)
    if first is None:
        entries[key] = {"sha256": sha256, "size": size,
                        "first_download": datetime.datetime.now(datetime.timezone.utc)
                        .isoformat(timespec="seconds")}
        _write_manifest(manifest, entries)
    elif first["sha256"] != sha256:
        raise DownloadError(f"{url}: sha256 {sha256} differs from {first['sha256']} recorded at "
                            f"its first download ({manifest}); the file changed or was tampered "
                            "with and was deleted (remove its manifest entry to accept it)")


def _digests(path: str):
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


def archive_problem(path: str, name: Optional[str] = None) -> Optional[str]:
    """Why the archive at ``path`` does not read to its end (type from ``name``), or None.

    A gzip stream is read to its end, where its CRC and length are checked (tarfile
    stops at the tar end marker and never reaches them); a tar has every member
    read, so a truncated one shows; a zip checks every member's CRC.
    """
    lower = (name or path).lower()
    try:
        if lower.endswith((".gz", ".tgz")):
            with gzip.open(path) as stream:
                while stream.read(_CHUNK):
                    pass
        if lower.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
            with tarfile.open(path) as archive:
                for member in archive:
                    if member.isfile():
                        reader = archive.extractfile(member)
                        while reader.read(_CHUNK):
                            pass
        elif lower.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
                if bad:
                    return f"member {bad} fails its CRC"
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as err:
        return _describe(err)
    return None


def _load_manifest(path: str) -> Dict[str, Dict]:
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["files"]
    except (ValueError, KeyError, TypeError) as err:
        raise DownloadError(f"the download manifest {path} is unreadable ({err}); delete it to "
                            "start a new one") from None


def _write_manifest(path: str, entries: Dict[str, Dict]) -> None:
    """Atomic rewrite, so a reader never sees half a file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as f:
        json.dump({"files": entries}, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(scratch, path)
