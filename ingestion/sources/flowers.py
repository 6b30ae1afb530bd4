"""`flowers`: slim's flower_photos (5 classes), from ``flower_photos.tgz`` or its extracted tree.

``root`` may be the tgz, a directory holding it, a directory holding ``flower_photos/``,
or the ``flower_photos`` tree itself. Keys are relative to the ``flower_photos`` root
(e.g. ``daisy/5547758_eea9edfd54_n.jpg``); the archive's LICENSE.txt sits at the top
level and is reported as outside any class folder. slim's split: a seed-0 shuffle of
the (sorted) paths, the first 350 are validation (``VALIDATION_SIZE``).
"""
from __future__ import annotations

from typing import Iterator, List, Sequence

from ingestion.sources import archive, base
from ingestion.sources.folder import FolderSource

ARCHIVE = "flower_photos.tgz"
TREE = "flower_photos"
DATA_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
# No md5 is published for this archive; its size is (218.21 MiB in the TFDS catalog).
ARCHIVE_SIZE = 228_813_984
VALIDATION_SIZE = 350
RANDOM_SEED = 0


class FlowersSource(archive.ArchivedTree, FolderSource):
    """flower_photos as a class-folder tree; see the module doc."""
    name = "flowers"
    required_files = (ARCHIVE,)
    download_urls = {ARCHIVE: DATA_URL}
    download_checks = {ARCHIVE: base.Expected(size=ARCHIVE_SIZE)}
    alternatives = {ARCHIVE: (TREE,)}
    ARCHIVE, TREE = ARCHIVE, TREE  # for archive.ArchivedTree

    def class_names(self, selectors: Sequence[str] = ("*",)) -> List[str]:
        return FolderSource(self.tree).class_names(selectors)

    def scan(self, selector: str = "*") -> Iterator[base.ScanResult]:
        tree_source = FolderSource(self.tree)
        yield from tree_source.scan(selector)
