"""slim's pretrained-checkpoint table (trainer/zoo/pretrained.json) and its downloads.

``checkpoint_path: NAME`` in a run config, ``tfslim train --checkpoint_path NAME`` and
``tfslim download_checkpoint NAME`` all go through :func:`resolve`: a table name
becomes ``<cache>/<NAME>/<checkpoint>`` after a one-time download of the tarball.

The cache is ``$TFSLIM_CHECKPOINT_DIR`` (default ``~/.cache/tfslim/checkpoints``).
``$TFSLIM_CHECKPOINT_MIRROR`` replaces the download host (a URL prefix ending in '/'),
for sites that mirror download.tensorflow.org; tests point it at a loopback server.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tarfile
from typing import Dict, List, Optional, Tuple

from schemas.download import DownloadError, Expected, fetch

TABLE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrained.json")
CACHE_ENV = "TFSLIM_CHECKPOINT_DIR"
MIRROR_ENV = "TFSLIM_CHECKPOINT_MIRROR"
DEFAULT_CACHE = os.path.join("~", ".cache", "tfslim", "checkpoints")


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """One row of the table: a released ImageNet checkpoint of a zoo net."""

    name: str
    model_name: str
    url: str
    checkpoint: Optional[str]  # the prefix inside the archive; None: the archive's only one
    top1: float
    top5: Optional[float]  # None where slim reports top-1 only (MobileNet v3, EdgeTPU)
    image_size: int
    exclude_scopes: Tuple[str, ...]
    labels_offset: int
    num_classes: int
    preprocessing_name: Optional[str] = None
    sha256: Optional[str] = None

    @property
    def tarball(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def table(path: str = TABLE_PATH) -> Dict[str, Pretrained]:
    """Name → :class:`Pretrained`, in the order of the file."""
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)["checkpoints"]
    return {row["name"]: Pretrained(**{**row, "exclude_scopes": tuple(row["exclude_scopes"])})
            for row in rows}


def lookup(name: str) -> Optional[Pretrained]:
    """The table row called ``name``, or None."""
    return table().get(name)


def cache_dir() -> str:
    return os.path.expanduser(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def download_url(entry: Pretrained) -> str:
    """The entry's URL, or the same tarball under $TFSLIM_CHECKPOINT_MIRROR."""
    mirror = os.environ.get(MIRROR_ENV)
    return mirror.rstrip("/") + "/" + entry.tarball if mirror else entry.url


def checkpoint_prefix(entry: Pretrained, directory: str) -> Optional[str]:
    """The unpacked checkpoint's prefix under ``<directory>/<name>/``, or None if absent.

    The table's ``checkpoint`` where it is there; otherwise the archive's only
    checkpoint (MobileNet v3 archives also hold a ``pristine/`` one: ``ema/`` wins).
    """
    root = os.path.join(directory, entry.name)
    if entry.checkpoint and os.path.exists(os.path.join(root, entry.checkpoint) + ".index"):
        return os.path.join(root, entry.checkpoint)
    found = sorted(os.path.join(parent, name[:-len(".index")])
                   for parent, _, names in os.walk(root) for name in names if name.endswith(".index"))
    preferred = [prefix for prefix in found if f"{os.sep}ema{os.sep}" in prefix] or found
    return preferred[0] if len(preferred) == 1 else None


def is_downloaded(entry: Pretrained, directory: str) -> bool:
    return checkpoint_prefix(entry, directory) is not None


def download(name: str, directory: Optional[str] = None, progress: bool = True) -> str:
    """Fetches and unpacks ``name``'s tarball into ``<directory>/<name>/``; returns the prefix.

    schemas.download fetches it (retries, resume of a cut download, archive and
    sha256 checks, the first-download manifest keyed by the table's URL, so a
    mirror's copy is checked too); any failure raises ValueError with one line.
    An already unpacked checkpoint is not fetched again.
    """
    entry = lookup(name)
    if entry is None:
        raise ValueError(unknown_name_message(name))
    directory = directory or cache_dir()
    prefix = checkpoint_prefix(entry, directory)
    if prefix is not None:
        return prefix
    target = os.path.join(directory, entry.name)
    url = download_url(entry)
    archive_path = os.path.join(target, entry.tarball)
    try:
        fetch(url, archive_path, Expected(sha256=entry.sha256), key=entry.url, progress=progress,
              hint=f"Set ${MIRROR_ENV} to a mirror, or download {entry.url} by hand and pass "
                   "its checkpoint path.")
    except DownloadError as err:
        raise ValueError(str(err)) from None
    try:
        with tarfile.open(archive_path) as archive:
            archive.extractall(target, filter="data")
    finally:
        os.remove(archive_path)
    prefix = checkpoint_prefix(entry, directory)
    if prefix is None:
        raise ValueError(f"{url} unpacked into {target} without {entry.checkpoint or 'a single'} "
                         f"checkpoint (.index); pass the checkpoint prefix you want as "
                         "--checkpoint_path.")
    return prefix


def unknown_name_message(name: str) -> str:
    import difflib  # pylint: disable=import-outside-toplevel

    names = list(table())
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{name!r} is not in the checkpoint table; {hint}known: {', '.join(names)}"


def looks_like_name(value: str) -> bool:
    """True when ``value`` is a table name rather than a path or URL."""
    return bool(value) and "/" not in value and os.sep not in value and not os.path.exists(value) \
        and not os.path.exists(value + ".index")


def resolve(checkpoint_path: Optional[str], progress: bool = True) -> Optional[str]:
    """A table name → its downloaded checkpoint prefix; anything else unchanged."""
    if not checkpoint_path or not looks_like_name(checkpoint_path) or lookup(checkpoint_path) is None:
        return checkpoint_path
    return download(checkpoint_path, progress=progress)


def rows_for_readme() -> List[str]:
    """The table as Markdown rows (README's checkpoint table is generated from this)."""
    lines = ["| name | model_name | image size | top-1 | top-5 | exclude when fine-tuning | labels_offset |",
             "|---|---|---|---|---|---|---|"]
    for entry in table().values():
        top5 = "-" if entry.top5 is None else entry.top5
        lines.append(f"| `{entry.name}` | {entry.model_name} | {entry.image_size} | {entry.top1} | "
                     f"{top5} | {', '.join(entry.exclude_scopes)} | {entry.labels_offset} |")
    return lines
