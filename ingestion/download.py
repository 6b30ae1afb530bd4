"""Finding a dataset's source files, downloading slim's archives when they are absent.

Downloads go through schemas.download (retries with backoff, resume, archive and
checksum checks, the sha256 manifest). Offline, the download fails at once (an
unreachable host is not retried) with a message naming each file to place in
``--dataset_dir``.
"""
from __future__ import annotations

import os
from typing import Type

from ingestion.sources.base import Source
from schemas.download import DownloadError, Expected, fetch

TIMEOUT_S = 10


class SourceMissing(RuntimeError):
    """The dataset's files are absent and could not be downloaded."""


def download(url: str, path: str, timeout: float = TIMEOUT_S, expected: Expected = Expected(),
             hint: str = "Retry, or place a verified copy by hand.") -> None:
    """Fetches ``url`` to ``path``; a failed or refused download raises SourceMissing (one
    line ending in ``hint``) and leaves no file under ``path`` (the .part of a transient
    failure stays for the next run to resume)."""
    try:
        fetch(url, path, expected, timeout=timeout, hint=hint)
    except DownloadError as err:
        raise SourceMissing(str(err)) from None


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
            download(url, where, expected=source_cls.download_checks.get(name, Expected()),
                     hint=f"Retry later, or place {name} in --dataset_dir={dataset_dir} (or pass "
                          "--source=PATH) and run again.")
        except SourceMissing as err:
            raise SourceMissing(f"{source_cls.name}: {err}") from None
    return dataset_dir
