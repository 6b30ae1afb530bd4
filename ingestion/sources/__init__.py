"""The sources ingestion reads, by name: folder, flowers, cifar10, mnist, imagenet, tfrecord.

A new source is a module here with a :class:`~ingestion.sources.base.Source` subclass, added to
``SOURCES`` below (this table is the one place that imports the source modules).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

from ingestion.sources.base import Source
from ingestion.sources.cifar10 import Cifar10Source
from ingestion.sources.flowers import FlowersSource
from ingestion.sources.folder import FolderSource
from ingestion.sources.imagenet import ImagenetSource
from ingestion.sources.mnist import MnistSource
from ingestion.sources.tfrecord import TFRecordSource

SOURCES: Dict[str, Type[Source]] = {cls.name: cls for cls in (
    FolderSource, FlowersSource, Cifar10Source, MnistSource, ImagenetSource, TFRecordSource)}


def make_source(name: str, root: str, options: Optional[Mapping[str, Any]] = None) -> Source:
    """Builds the named source; raises ValueError listing the known names."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {sorted(SOURCES)}")
    return SOURCES[name](root, options)


def source_names():
    """All source names."""
    return sorted(SOURCES)
