"""slim's ``arg_scope``: default keyword arguments for decorated ops, as a context manager.

Semantics of tensorflow.contrib.framework's arg_scope (tf_slim 1.1): scopes nest and the
innermost value wins; one scope names a list of ops; an argument passed explicitly beats
the scope; ``with arg_scope(captured):`` re-enters a scope captured with
``with arg_scope(...) as captured``. Only functions decorated with :func:`add_arg_scope`
take part. The stack is per thread (slim kept it in the graph's collections).
"""
from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any, Callable, Dict, Iterator, List, Sequence, Union

_STATE = threading.local()
ArgScope = Dict[str, Dict[str, Any]]


def _stack() -> List[ArgScope]:
    if not hasattr(_STATE, "stack"):
        _STATE.stack = []
    return _STATE.stack


def current_arg_scope() -> ArgScope:
    """The innermost scope ({op key: {argument: value}}); empty outside any arg_scope."""
    stack = _stack()
    return stack[-1] if stack else {}


def arg_scope_func_key(op: Callable) -> str:
    return getattr(op, "_key_op", f"{op.__module__}.{getattr(op, '__name__', repr(op))}")


def has_arg_scope(func: Callable) -> bool:
    return hasattr(func, "_key_op")


def arg_scoped_arguments(func: Callable) -> List[str]:
    """The argument names ``func`` accepts (what an arg_scope may set for it)."""
    return list(getattr(func, "_arg_names", []))


@contextlib.contextmanager
def arg_scope(list_ops_or_scope: Union[Sequence[Callable], ArgScope, None] = None,
              **kwargs) -> Iterator[ArgScope]:
    """Sets ``kwargs`` as defaults of every op in ``list_ops_or_scope``; yields the new scope.

    Raises:
      ValueError: a reused scope (a dict) given with kwargs, or an op that was not
        decorated with :func:`add_arg_scope`.
      TypeError: ``list_ops_or_scope`` is neither a list/tuple nor a dict.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("When attempting to re-use a scope by suppling a dictionary, "
                             "kwargs must be empty.")
        scope = list_ops_or_scope
    else:
        if not isinstance(list_ops_or_scope, (list, tuple)):
            raise TypeError("list_ops_or_scope must either be a list/tuple or reused scope "
                            "(i.e. dict)")
        scope = dict(current_arg_scope())
        for op in list_ops_or_scope:
            if not has_arg_scope(op):
                raise ValueError(f"{arg_scope_func_key(op)} is not decorated with @add_arg_scope")
            key = arg_scope_func_key(op)
            merged = dict(scope.get(key, {}))
            merged.update(kwargs)
            scope[key] = merged
    _stack().append(scope)
    try:
        yield scope
    finally:
        _stack().pop()


def add_arg_scope(func: Callable) -> Callable:
    """Lets ``func`` take its default keyword arguments from the enclosing arg_scopes."""
    key = f"{func.__module__}.{func.__name__}"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        scoped = current_arg_scope().get(key)
        if scoped:
            merged = dict(scoped)
            merged.update(kwargs)  # an explicit argument beats the scope
            kwargs = merged
        return func(*args, **kwargs)

    wrapper._key_op = key  # pylint: disable=protected-access
    code = func.__code__
    wrapper._arg_names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]  # pylint: disable=protected-access
    return wrapper
