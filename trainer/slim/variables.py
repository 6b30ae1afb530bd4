"""slim's variable names without a TF1 graph: scopes, default-name numbering, variables.

A layer's full scope is ``tf.compat.v1.variable_scope``'s current name (slim nets open
``variable_scope('vgg_16')``; :func:`trainer.slim.repeat` opens ``conv1``) joined with the
layer's ``scope`` or, without one, its default name numbered as slim numbers it (``Conv``,
``Conv_1``, ...). Numbering lives in a :func:`name_store`, which a model build opens fresh,
as slim's names restart in a new graph.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import tensorflow as tf

_STATE = threading.local()


class _NameStore:
    """Counts scope names per parent scope, as TF1's variable-scope store did."""

    def __init__(self):
        self.counts: Dict[str, int] = {}
        self.variables: List[tf.Variable] = []
        self.model_variables: List[tf.Variable] = []
        self.regularizers: List[Callable[[], tf.Tensor]] = []

    def mark(self, full_name: str) -> None:
        self.counts[full_name] = self.counts.get(full_name, 0) + 1

    def unique(self, parent: str, default_name: str) -> str:
        name, index = default_name, 0
        while self.counts.get(_join(parent, name), 0):
            index += 1
            name = f"{default_name}_{index}"
        return name


def _store() -> _NameStore:
    if not getattr(_STATE, "stores", None):
        _STATE.stores = [_NameStore()]
    return _STATE.stores[-1]


@contextlib.contextmanager
def name_store() -> Iterator[None]:
    """Fresh default-name numbering (and variable lists) for one model build."""
    if not getattr(_STATE, "stores", None):
        _STATE.stores = [_NameStore()]
    _STATE.stores.append(_NameStore())
    try:
        yield
    finally:
        _STATE.stores.pop()


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def current_scope() -> str:
    """The enclosing ``tf.compat.v1.variable_scope`` name ('' at the top)."""
    return tf.compat.v1.get_variable_scope().name


def layer_scope(scope: Optional[str], default_name: str) -> str:
    """The full scope of a layer given ``scope`` (or numbered ``default_name``)."""
    parent = current_scope()
    leaf = scope if scope else _store().unique(parent, default_name)
    full = _join(parent, leaf)
    _store().mark(full)
    return full


@contextlib.contextmanager
def open_scope(full_scope: str) -> Iterator[str]:
    """Enters ``full_scope`` (absolute) as the variable scope, e.g. for a conv's normalizer."""
    absolute = tf.compat.v1.VariableScope(reuse=None, name=full_scope)
    with tf.compat.v1.variable_scope(absolute, auxiliary_name_scope=False) as entered:
        yield entered.name


@contextlib.contextmanager
def child_scope(scope: Optional[str], default_name: str) -> Iterator[str]:
    """``variable_scope(scope, default_name)`` below the current scope (slim's repeat/stack)."""
    full = layer_scope(scope, default_name)
    with open_scope(full) as name:
        yield name


def variable(name: str, shape: Optional[Sequence[int]] = None, dtype=tf.float32,
             initializer=None, regularizer: Optional[Callable] = None, trainable: bool = True,
             collections=None, caching_device=None, device: Optional[str] = None,
             partitioner=None, custom_getter=None, use_resource=None,
             synchronization=None, aggregation=None) -> tf.Variable:
    """slim.variable: a tf.Variable named ``<current scope>/<name>`` (eager, TF2).

    ``regularizer(var)`` is added to :func:`get_regularization_losses`. The TF1-only
    arguments (collections, caching_device, partitioner, custom_getter, use_resource,
    synchronization, aggregation) are accepted and ignored.
    """
    del collections, caching_device, partitioner, custom_getter, use_resource
    del synchronization, aggregation
    parent = current_scope()
    initializer = initializer or tf.compat.v1.glorot_uniform_initializer()
    with contextlib.ExitStack() as stack:
        if device:
            stack.enter_context(tf.device(device))
        stack.enter_context(tf.init_scope())
        value = initializer(list(shape or []), dtype=dtype) if callable(initializer) else initializer
        # An absolute name scope ('' is the root): the name is exactly <scope>/<name>.
        stack.enter_context(tf.name_scope(parent + "/" if parent else ""))
        var = tf.Variable(value, name=name, trainable=trainable, dtype=dtype)
    _store().variables.append(var)
    if regularizer is not None:
        _store().regularizers.append(lambda: regularizer(var))
    return var


def model_variable(name: str, shape: Optional[Sequence[int]] = None, dtype=tf.float32,
                   initializer=None, regularizer: Optional[Callable] = None,
                   trainable: bool = True, collections=None, caching_device=None,
                   device: Optional[str] = None, **kwargs) -> tf.Variable:
    """slim.model_variable: :func:`variable`, also listed by :func:`get_model_variables`."""
    var = variable(name, shape, dtype, initializer, regularizer, trainable, collections,
                   caching_device, device, **kwargs)
    _store().model_variables.append(var)
    return var


def add_model_variable(var: tf.Variable) -> None:
    _store().model_variables.append(var)


def get_variables(scope: Optional[str] = None) -> List[tf.Variable]:
    """Variables made by :func:`variable`/:func:`model_variable` in this name store."""
    return [v for v in _store().variables if not scope or v.name.startswith(scope)]


def get_model_variables(scope: Optional[str] = None) -> List[tf.Variable]:
    return [v for v in _store().model_variables if not scope or v.name.startswith(scope)]


def variable_regularization_losses() -> List[tf.Tensor]:
    """The regularizers given to :func:`variable`, evaluated now."""
    return [loss for loss in (fn() for fn in _store().regularizers) if loss is not None]
