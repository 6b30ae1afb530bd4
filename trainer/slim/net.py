"""A net written with trainer.slim as a zoo net: registered by name, trained by ``tfslim train``.

``register_net('my_net', my_net_fn, ...)`` adds a nets_factory entry whose builder wraps
the slim-style function ``my_net_fn(images, num_classes, is_training, **kwargs) ->
(logits, end_points)`` in a :class:`SlimFunctionNet`: at the first call it builds a
tf_keras functional model from ``tf_keras.Input`` of that image size, inside the net's
``arg_scope`` (``arg_scope_fn(weight_decay=...)``, as slim's nets_factory did) and a fresh
name store, so the variables carry slim's names and restore from slim checkpoints.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

import tf_keras

from trainer.nets import registry
from trainer.nets.base import SlimModel
from trainer.slim.arg_scope import arg_scope
from trainer.slim import variables


class SlimFunctionNet(SlimModel):
    """A zoo SlimModel whose forward pass is a slim-style function's functional model."""

    def __init__(self, net_fn: Callable, *, spec_name: str, scope: str, num_classes: int,
                 is_training: bool, default_image_size: int, weight_decay: float = 0.0,
                 arg_scope_fn: Optional[Callable] = None, **net_kwargs):
        super().__init__(spec_name=spec_name, scope=scope, num_classes=num_classes,
                         is_training=is_training, default_image_size=default_image_size)
        self.net_fn, self.arg_scope_fn = net_fn, arg_scope_fn
        self.weight_decay, self.net_kwargs = weight_decay, net_kwargs
        self.graph: Optional[tf_keras.Model] = None

    def build(self, input_shape):
        inputs = tf_keras.Input(tuple(input_shape[1:]))
        with variables.name_store():
            scope = (self.arg_scope_fn(weight_decay=self.weight_decay)
                     if self.arg_scope_fn else {})
            with arg_scope(scope):
                logits, end_points = self.net_fn(inputs, num_classes=self.num_classes,
                                                 is_training=self.is_training, **self.net_kwargs)
        self.graph = tf_keras.Model(inputs, [logits, dict(end_points)], name=f"{self.spec_name}_graph")
        super().build(input_shape)

    def forward(self, inputs, training: bool):
        logits, end_points = self.graph(inputs, training=training)
        return logits, dict(end_points)


def register_net(name: str, net_fn: Callable, *, default_image_size: int, num_classes: int,
                 scope: str, preprocessing: str = "inception",
                 logits_scopes: Tuple[str, ...] = (), arg_scope_fn: Optional[Callable] = None,
                 kwargs: Sequence[str] = (), checkpoint_num_classes: Optional[int] = None
                 ) -> registry.NetSpec:
    """Adds ``net_fn`` to the zoo registry as ``name`` (then ``nets.create_model(name)``,
    ``train_lib`` and the Trainer build it like the built-in nets)."""

    def builder(num_classes: int, is_training: bool, weight_decay: float, **net_kwargs):
        return SlimFunctionNet(net_fn, spec_name=name, scope=scope, num_classes=num_classes,
                               is_training=is_training, default_image_size=default_image_size,
                               weight_decay=weight_decay, arg_scope_fn=arg_scope_fn, **net_kwargs)

    return registry.register(registry.NetSpec(
        name=name, builder=builder, default_image_size=default_image_size,
        num_classes=num_classes, preprocessing=preprocessing, scope=scope,
        logits_scopes=tuple(logits_scopes), kwargs=tuple(kwargs),
        checkpoint_num_classes=checkpoint_num_classes or num_classes))
