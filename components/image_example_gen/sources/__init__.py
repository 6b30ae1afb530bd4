"""Source registry: name → Source class (folder, flowers, cifar10, mnist, imagenet, tfrecord)."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

from components.image_example_gen.sources.base import Source

SOURCES: Dict[str, Type[Source]] = {}


def register(cls: Type[Source]) -> Type[Source]:
    """Adds a Source class under ``cls.name``."""
    SOURCES[cls.name] = cls
    return cls


def make_source(name: str, root: str, options: Optional[Mapping[str, Any]] = None) -> Source:
    """Builds the named source; raises ValueError listing the known names."""
    from components.image_example_gen.sources import all_sources  # noqa: F401  pylint: disable=import-outside-toplevel,cyclic-import
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {sorted(SOURCES)}")
    return SOURCES[name](root, options)


def source_names():
    """All registered source names."""
    from components.image_example_gen.sources import all_sources  # noqa: F401  pylint: disable=import-outside-toplevel,cyclic-import
    return sorted(SOURCES)
