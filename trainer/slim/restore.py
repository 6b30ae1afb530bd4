"""slim's checkpoint restore: variables to restore by scope, and assign_from_checkpoint_fn.

Names are slim's own (``conv1/conv1_1/weights``), so a checkpoint written by tf_slim
restores with no mapping; a dict ``{checkpoint name: variable}`` maps other names, as in
slim. The restore itself is the zoo's (trainer/nets/checkpoint.py): shape mismatches name
the variable, missing variables are an error unless ``ignore_missing_vars``.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Sequence, Union

import tensorflow as tf

from trainer.nets import checkpoint
from trainer.nets.layers import collect_slim_variables
from trainer.slim import variables

VarList = Union[Mapping[str, tf.Variable], Sequence[tf.Variable]]


def _name(var: tf.Variable) -> str:
    return var.name.split(":")[0]


def get_model_variables(scope: Optional[str] = None, model=None) -> List[tf.Variable]:
    """slim.get_model_variables: the slim layers' variables of ``model`` (by name) and those
    of :func:`trainer.slim.model_variable`, optionally only under ``scope``."""
    found = sorted(collect_slim_variables(model).items()) if model is not None else []
    return ([v for n, v in found if not scope or n.startswith(scope)]
            + variables.get_model_variables(scope))


def get_variables_to_restore(model, include: Optional[Sequence[str]] = None,
                             exclude: Optional[Sequence[str]] = None) -> Dict[str, tf.Variable]:
    """slim.get_variables_to_restore as {slim name: variable}: ``model``'s variables under
    ``include`` (all if None), minus those under ``exclude`` (prefix match)."""
    found = collect_slim_variables(model)
    return {n: v for n, v in sorted(found.items())
            if (not include or any(n.startswith(s) for s in include))
            and not any(n.startswith(s) for s in exclude or ())}


class _Named:
    """What nets.restore_slim_checkpoint reads: a built set of slim-named variables."""

    def __init__(self, by_name: Dict[str, tf.Variable]):
        self.by_name = by_name

    def ensure_built(self) -> None:
        """The variables exist already."""

    def slim_variables(self) -> Dict[str, tf.Variable]:
        return self.by_name


def assign_from_checkpoint_fn(model_path: str, var_list: VarList,
                              ignore_missing_vars: bool = False,
                              reshape_variables: bool = False) -> Callable:
    """slim.assign_from_checkpoint_fn: returns ``fn(session=None)`` that restores ``var_list``.

    ``var_list`` is a list of variables (restored under their own names) or a dict
    {checkpoint name: variable}. ``fn`` returns the zoo's RestoreReport.
    """
    if reshape_variables:
        raise ValueError("reshape_variables is not supported: restore into variables of the "
                         "checkpoint's shapes.")
    by_name = (dict(var_list) if isinstance(var_list, Mapping)
               else {_name(v): v for v in var_list})

    def callback(session=None):
        del session  # TF2: variables are assigned eagerly
        return checkpoint.restore_slim_checkpoint(_Named(by_name), model_path,
                                                  ignore_missing_vars=ignore_missing_vars)

    return callback


def restore(model, model_path: str, exclude: Optional[Sequence[str]] = None,
            ignore_missing_vars: bool = False) -> List[str]:
    """Restores ``model``'s slim variables (minus ``exclude``) from a slim checkpoint."""
    report = assign_from_checkpoint_fn(model_path, get_variables_to_restore(model, exclude=exclude),
                                       ignore_missing_vars=ignore_missing_vars)()
    return report.restored
