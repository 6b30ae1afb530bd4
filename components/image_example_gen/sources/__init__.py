"""Source registry: name → Source class (folder, flowers, cifar10, mnist, imagenet, tfrecord)."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

from components.image_example_gen.sources.base import Source
from components.image_example_gen.sources.folder import FolderSource

SOURCES: Dict[str, Type[Source]] = {FolderSource.name: FolderSource}


def register(cls: Type[Source]) -> Type[Source]:
    """Adds a Source class under ``cls.name``."""
    SOURCES[cls.name] = cls
    return cls


def make_source(name: str, root: str, options: Optional[Mapping[str, Any]] = None) -> Source:
    """Builds the named source; raises ValueError listing the known names."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {sorted(SOURCES)}")
    return SOURCES[name](root, options)
