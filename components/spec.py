"""ComponentSpec tables from ``name=type`` pairs, for the custom components' specs."""
from __future__ import annotations

from typing import Dict

from tfx.types.component_spec import ChannelParameter, ExecutionParameter


def parameters(**types: type) -> Dict[str, ExecutionParameter]:
    """``PARAMETERS``: each name an (required) execution parameter of the given Python type."""
    return {name: ExecutionParameter(type=kind) for name, kind in types.items()}


def channels(optional: bool = False, **types: type) -> Dict[str, ChannelParameter]:
    """``INPUTS``/``OUTPUTS``: each name a channel of the given artifact type."""
    return {name: ChannelParameter(type=kind, optional=optional) for name, kind in types.items()}
