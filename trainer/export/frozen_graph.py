"""A frozen TF1 GraphDef of an exported model, for consumers of slim's ``--output_file``.

slim's export_inference_graph + freeze_graph gave a GraphDef with the weights as constants,
fed with preprocessed float images (``label_image --input_layer=... --output_layer=...``).
Here the ``serving_tensors`` signature of the written SavedModel (float images already
preprocessed → the serving outputs) is frozen with ``convert_variables_to_constants_v2``
and each output gets a node named after it (``scores``, ``classes``, ...), so a TF1 graph
consumer fetches ``scores:0`` rather than an anonymous ``Identity_N``.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict

import tensorflow as tf
from tensorflow.python.framework import convert_to_constants  # pylint: disable=no-name-in-module

from serving.signatures import SERVING_TENSORS


@dataclasses.dataclass
class FrozenGraph:
    """The frozen graph and the tensor names to feed and fetch."""

    graph_def: tf.compat.v1.GraphDef
    input_name: str               # e.g. 'images:0', float [batch, size, size, channels]
    output_names: Dict[str, str]  # serving output name → tensor name, e.g. 'scores' → 'scores:0'


def freeze_saved_model(saved_model_dir: str, signature_name: str = SERVING_TENSORS) -> FrozenGraph:
    """Freezes one signature of a SavedModel (variables → constants) into a GraphDef."""
    loaded = tf.saved_model.load(saved_model_dir)  # must outlive the freezing: it owns the variables
    fn = loaded.signatures[signature_name]
    frozen = convert_to_constants.convert_variables_to_constants_v2(fn)
    graph_def = frozen.graph.as_graph_def()
    (input_tensor,) = [t for t in frozen.inputs if t.dtype != tf.resource]
    taken = {node.name for node in graph_def.node}
    output_names = {}
    # The frozen function's outputs are the signature's dict flattened (keys sorted).
    names = tf.nest.flatten({name: name for name in fn.structured_outputs})
    if len(names) != len(frozen.outputs):
        raise ValueError(f"{len(frozen.outputs)} frozen outputs for the signature's {names}")
    for name, tensor in zip(names, frozen.outputs):
        if name in taken:
            raise ValueError(f"output {name!r} clashes with a node of the frozen graph")
        node = graph_def.node.add(name=name, op="Identity", input=[_node_input(tensor.name)])
        node.attr["T"].type = tensor.dtype.as_datatype_enum
        output_names[name] = f"{name}:0"
    return FrozenGraph(graph_def=graph_def, input_name=input_tensor.name, output_names=output_names)


def _node_input(tensor_name: str) -> str:
    """'op:0' → 'op', 'op:2' → 'op:2' (GraphDef input syntax)."""
    op, _, index = tensor_name.partition(":")
    return op if index in ("", "0") else f"{op}:{index}"


def write_graph_def(graph_def: tf.compat.v1.GraphDef, path: str, as_text: bool = False) -> str:
    """Writes ``graph_def`` binary (``.pb``) or, like slim's --write_text_graphdef, as text."""
    tf.io.gfile.makedirs(os.path.dirname(path) or ".")
    tf.io.write_graph(graph_def, os.path.dirname(path) or ".", os.path.basename(path), as_text=as_text)
    return path
