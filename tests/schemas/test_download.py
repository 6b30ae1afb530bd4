"""The one downloader (schemas.download) against a loopback server with injected faults."""
import io
import json
import os
import tarfile
import zipfile

import pytest

from schemas import download
from tests.trainer import checkpoint_server


def _tarball(size: int = 300_000) -> bytes:
    """A .tar.gz whose member does not compress (random bytes), so a cut lands mid-stream."""
    payload = os.urandom(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("model.ckpt.data-00000-of-00001")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """(served dir, faults, base URL, download dir); a fresh manifest per test."""
    monkeypatch.setenv(download.MANIFEST_ENV, str(tmp_path / "manifest.json"))
    served = tmp_path / "served"
    served.mkdir()
    faults = checkpoint_server.Faults()
    with checkpoint_server.serve(str(served), faults) as url:
        yield served, faults, url, tmp_path / "downloads"


def test_transient_500s_are_retried_with_backoff(site, capsys):
    served, faults, url, out = site
    (served / "a.tar.gz").write_bytes(_tarball())
    faults.fail_next = 2
    path = download.fetch(url + "a.tar.gz", str(out / "a.tar.gz"), backoff_s=0.01)
    assert open(path, "rb").read() == (served / "a.tar.gz").read_bytes()
    assert len(faults.requests) == 3
    retries = [line for line in capsys.readouterr().err.splitlines() if "retrying" in line]
    assert retries == [f"{url}a.tar.gz: HTTP 500 transient failure (injected); retrying in {s} s"
                       for s in ("0.01", "0.02")]
    faults.fail_next = 5
    with pytest.raises(download.DownloadError, match=r"HTTP 500 .* \(2 tries\)\.$"):
        download.fetch(url + "a.tar.gz", str(out / "b.tar.gz"), retries=1, backoff_s=0.01)
    assert not os.path.exists(out / "b.tar.gz")


def test_a_cut_download_resumes_with_range(site):
    served, faults, url, out = site
    data = _tarball()
    (served / "a.tar.gz").write_bytes(data)
    faults.cut_after = 100_000
    download.fetch(url + "a.tar.gz", str(out / "a.tar.gz"), backoff_s=0.01)
    assert (out / "a.tar.gz").read_bytes() == data
    assert [r for _, r in faults.requests] == [None, "bytes=100000-"]
    # A .part an earlier run left is resumed too, and a server that ignores Range
    # sends the whole file, which replaces it.
    (out / "b.tar.gz.part").write_bytes(data[:5000])
    download.fetch(url + "a.tar.gz", str(out / "b.tar.gz"))
    assert faults.requests[-1] == ("/a.tar.gz", "bytes=5000-")
    assert (out / "b.tar.gz").read_bytes() == data
    (out / "d.tar.gz.part").write_bytes(data)  # a run that stopped after the last byte
    download.fetch(url + "a.tar.gz", str(out / "d.tar.gz"))
    assert faults.requests[-1] == ("/a.tar.gz", f"bytes={len(data)}-")  # answered 416
    assert (out / "d.tar.gz").read_bytes() == data
    faults.ignore_range = True
    (out / "c.tar.gz.part").write_bytes(b"stale bytes of another file")
    download.fetch(url + "a.tar.gz", str(out / "c.tar.gz"))
    assert (out / "c.tar.gz").read_bytes() == data
    assert not [name for name in os.listdir(out) if name.endswith(".part")]


def test_sha256_is_recorded_then_a_tampered_file_is_refused(site):
    served, _, url, out = site
    data = _tarball()
    (served / "a.tar.gz").write_bytes(data)
    download.fetch(url + "a.tar.gz", str(out / "first.tar.gz"))
    manifest = json.loads(open(download.manifest_path(), encoding="utf-8").read())["files"]
    assert manifest[url + "a.tar.gz"]["sha256"] == download.recorded(url + "a.tar.gz")["sha256"]
    assert manifest[url + "a.tar.gz"]["size"] == len(data)
    download.fetch(url + "a.tar.gz", str(out / "again.tar.gz"))  # same bytes: accepted
    (served / "a.tar.gz").write_bytes(_tarball())  # same name, other bytes
    with pytest.raises(download.DownloadError, match="differs from .* recorded at its first "
                                                     "download .*tampered"):
        download.fetch(url + "a.tar.gz", str(out / "tampered.tar.gz"))
    assert sorted(os.listdir(out)) == ["again.tar.gz", "first.tar.gz"]
    with pytest.raises(download.DownloadError, match="sha256 .* differs from the published 0+"):
        download.fetch(url + "a.tar.gz", str(out / "pinned.tar.gz"),
                       download.Expected(sha256="0" * 64), key="another key")


def test_corrupt_archives_are_refused(site):
    served, _, url, out = site
    data = bytearray(_tarball())
    data[len(data) // 2] ^= 0xFF  # the gzip CRC no longer matches
    (served / "bad.tgz").write_bytes(bytes(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("images/a.jpg", b"\xff\xd8" + b"x" * 1000)
    broken = bytearray(buffer.getvalue())
    broken[500] ^= 0xFF
    (served / "bad.zip").write_bytes(bytes(broken))
    for name in ("bad.tgz", "bad.zip"):
        with pytest.raises(download.DownloadError, match=f"{url}{name} is not a valid archive"):
            download.fetch(url + name, str(out / name))
    assert os.listdir(out) == []
    assert not os.path.exists(download.manifest_path())  # nothing recorded for a refused file


def test_an_unreachable_host_fails_at_once_in_one_line(tmp_path):
    with pytest.raises(download.DownloadError) as err:
        download.fetch("http://127.0.0.1:9/x.tar.gz", str(tmp_path / "x.tar.gz"), hint="Try later.")
    message = str(err.value)
    assert message == ("cannot download http://127.0.0.1:9/x.tar.gz: 127.0.0.1:9 is unreachable "
                       "([Errno 111] Connection refused); is this machine offline? Try later.")
    assert os.listdir(tmp_path) == []
