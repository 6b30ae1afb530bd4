"""Finding a dataset's source files, downloading slim's archives when they are absent.

Offline, the download fails at once (short timeout, no retries) with a message naming
each file to place in ``--dataset_dir``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import urllib.error
import urllib.request
from typing import Type

from components.image_example_gen.sources.base import Expected, Source

TIMEOUT_S = 10


class SourceMissing(RuntimeError):
    """The dataset's files are absent and could not be downloaded."""


def verify(path: str, expected: Expected) -> None:
    """Raises SourceMissing when the file's size or md5 is not the published one."""
    size = os.path.getsize(path)
    if expected.size is not None and size != expected.size:
        raise SourceMissing(f"{path}: {size} bytes, the published archive has {expected.size}")
    if expected.md5:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected.md5:
            raise SourceMissing(f"{path}: md5 {digest.hexdigest()}, the published one is "
                                f"{expected.md5}")


def download(url: str, path: str, timeout: float = TIMEOUT_S,
             expected: Expected = Expected()) -> None:
    """Streams ``url`` to ``path`` via a .part file that is verified against ``expected``
    before it takes the final name, so a failed or tampered download leaves nothing."""
    partial = path + ".part"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
        try:
            verify(partial, expected)
        except SourceMissing as err:
            raise SourceMissing(f"download of {url} does not match the published file ({err}); "
                                "it was deleted. Retry, or place a verified copy by hand.") from None
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def ensure_source(source_cls: Type[Source], dataset_dir: str, source_path: str = None,
                  allow_download: bool = True) -> str:
    """The root to read: ``source_path`` if given, else ``dataset_dir`` once it holds the
    required files (downloading those slim has URLs for). Raises SourceMissing."""
    if source_path:
        if not os.path.exists(source_path) and "://" not in source_path and "*" not in source_path:
            raise SourceMissing(f"--source {source_path} does not exist")
        return source_path
    missing = source_cls.missing_files(dataset_dir)
    if not missing:
        return dataset_dir
    if not source_cls.required_files:
        raise SourceMissing(f"{source_cls.name}: pass --source=PATH (the input directory or files)")
    os.makedirs(dataset_dir, exist_ok=True)
    for name in missing:
        url = source_cls.download_urls.get(name)
        where = os.path.join(dataset_dir, name.rstrip("/"))
        if not url:
            raise SourceMissing(f"{source_cls.name}: {name} is missing and cannot be downloaded "
                                f"automatically; place it at {where} (or pass --source=PATH "
                                f"to a directory holding {', '.join(source_cls.required_files)})")
        if not allow_download:
            raise SourceMissing(f"{source_cls.name}: {name} is missing (downloads disabled); "
                                f"place it at {where}")
        print(f"Downloading {url} ...", flush=True)
        try:
            download(url, where, expected=source_cls.download_checks.get(name, Expected()))
        except (urllib.error.URLError, socket.timeout, OSError) as err:
            raise SourceMissing(
                f"{source_cls.name}: could not download {url} ({getattr(err, 'reason', err)}). "
                f"If this machine is offline, place {name} in --dataset_dir={dataset_dir} "
                f"(or pass --source=PATH) and run again.") from None
    return dataset_dir
