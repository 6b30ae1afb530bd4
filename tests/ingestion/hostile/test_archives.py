"""Downloads are verified against the published size/md5; broken or unsafe tars become
one-line errors."""
import hashlib
import io
import os
import tarfile

import pytest

from ingestion import download
from ingestion.sources import SOURCES, archive, base


def test_known_archives_are_https_and_checked():
    for name in ("flowers", "cifar10", "mnist"):
        source = SOURCES[name]
        for filename, url in source.download_urls.items():
            assert url.startswith("https://"), url
            check = source.download_checks[filename]
            assert check.size or check.md5, filename


def test_download_with_a_wrong_checksum_leaves_nothing(tmp_path):
    payload = tmp_path / "served.tgz"
    with tarfile.open(payload, "w:gz") as served:  # a valid archive, just not the published one
        info = tarfile.TarInfo("data_batch_1")
        info.size = 3
        served.addfile(info, io.BytesIO(b"abc"))
    target = tmp_path / "dataset" / "cifar-10-python.tar.gz"
    target.parent.mkdir()
    with pytest.raises(download.SourceMissing, match="md5 .* differs from the published"):
        download.download(payload.as_uri(), str(target),
                          expected=base.Expected(md5="c58f30108f718f92721af3b95e74349a"))
    assert os.listdir(target.parent) == []
    good = hashlib.md5(payload.read_bytes()).hexdigest()
    download.download(payload.as_uri(), str(target), expected=base.Expected(
        size=payload.stat().st_size, md5=good))
    assert target.read_bytes() == payload.read_bytes()


def test_tar_errors_are_one_line(tmp_path):
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    with pytest.raises(ValueError, match=r"cut.tgz is not a readable tar archive") as err:
        archive.extract_tar(str(cut), str(tmp_path / "w1"))
    assert "\n" not in str(err.value)

    slip = tmp_path / "slip.tar"
    with tarfile.open(slip, "w") as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(ValueError, match="refused to unpack an unsafe member"):
        archive.extract_tar(str(slip), str(tmp_path / "w2" / "deep"))
    assert not (tmp_path / "escaped.txt").exists()
