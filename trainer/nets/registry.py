"""The nets_factory registry: one record per slim network name.

The built-in families never call into this module: each family module declares a
``NETS`` table of :class:`NetSpec` and ``trainer/nets/_families.py`` (imported once by
the package ``__init__``) registers those tables. This module imports no family, so
the dependency runs one way: families -> registry. Nets of your own enter through
:func:`register` (``trainer.slim.register_net``) from the modules named in
``TFSLIM_NET_MODULES``.
"""
from __future__ import annotations

import dataclasses
import importlib
import os
from typing import Callable, Dict, List, Optional, Tuple

import tf_keras

from trainer.config import NET_MODULES_ENV


@dataclasses.dataclass(frozen=True)
class NetSpec:
    """Facts about one slim network (nets_factory key).

    Attributes:
      name: nets_factory key, e.g. ``inception_v3``.
      builder: ``builder(num_classes, is_training, weight_decay, **kwargs) -> SlimModel``.
      default_image_size: slim's ``network_fn.default_image_size``.
      num_classes: the slim function's default class count.
      preprocessing: preprocessing_factory name used when none is given.
      scope: top variable scope ('' for nasnet/pnasnet, which have none).
      logits_scopes: scopes to exclude when fine-tuning to a new class count.
      checkpoint_num_classes: outputs of the released checkpoint (1001 or 1000).
      kwargs: slim keyword arguments the builder accepts.
    """

    name: str
    builder: Callable[..., tf_keras.Model]
    default_image_size: int
    num_classes: int
    preprocessing: str
    scope: str
    logits_scopes: Tuple[str, ...]
    checkpoint_num_classes: int = 1001
    kwargs: Tuple[str, ...] = ()
    min_image_size: Optional[int] = None  # smallest input slim's graph accepts
    video: bool = False  # input is [batch, frames, height, width, channels] (i3d, s3dg)


_REGISTRY: Dict[str, NetSpec] = {}
# Comma-separated modules imported on the first look-up: nets of your own (trainer.slim's
# register_net) for `tfslim train --model_name=...` and the pipeline.


def register(spec: NetSpec) -> NetSpec:
    """Adds ``spec`` to the registry; names are unique."""
    if spec.name in _REGISTRY:
        raise ValueError(f"Network {spec.name!r} registered twice.")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Removes ``name`` (a net registered for a while, e.g. by a test)."""
    _REGISTRY.pop(name, None)


def get_spec(name: str) -> NetSpec:
    """Returns the record for ``name`` or raises ValueError listing known names."""
    _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"Name of network unknown {name!r}; known: "
                         f"{', '.join(sorted(_REGISTRY))}") from None


def list_models() -> List[str]:
    """All registered network names, sorted."""
    _load_plugins()
    return sorted(_REGISTRY)


_LOADED = False


def _load_plugins() -> None:
    """Imports the modules named in ``TFSLIM_NET_MODULES`` once (each registers its nets)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for module in filter(None, (m.strip() for m in os.environ.get(NET_MODULES_ENV, "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"{NET_MODULES_ENV}: cannot import {module!r} ({err}); name a "
                             "module on PYTHONPATH that calls trainer.slim.register_net.") from err
