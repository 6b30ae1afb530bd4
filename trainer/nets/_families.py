"""The built-in network families, registered once when the package is imported (register_all).

Each family module declares its nets as data, a module-level ``NETS`` tuple of
:class:`~trainer.nets.registry.NetSpec`, and calls nothing; this module (imported
only by ``trainer/nets/__init__.py``) hands those tables to the registry. A new
family is a module with a ``NETS`` table plus one entry in :data:`FAMILIES`.
"""
from __future__ import annotations

from types import ModuleType
from typing import Tuple

from trainer.nets import (alexnet, cifarnet, inception_resnet_v2, inception_v1, inception_v2, inception_v3,
                          inception_v4, lenet, mobilenet_v1, mobilenet_v2, mobilenet_v3, nasnet, overfeat,
                          pnasnet, registry, resnet_v1, resnet_v2, s3dg, vgg)

FAMILIES: Tuple[ModuleType, ...] = (
    alexnet, cifarnet, inception_resnet_v2, inception_v1, inception_v2, inception_v3, inception_v4, lenet,
    mobilenet_v1, mobilenet_v2, mobilenet_v3, nasnet, overfeat, pnasnet, resnet_v1, resnet_v2, s3dg, vgg,
)



def register_all() -> None:
    """Hands every family's ``NETS`` to the registry (the package does it once, at import)."""
    for family in FAMILIES:
        for spec in family.NETS:
            registry.register(spec)
