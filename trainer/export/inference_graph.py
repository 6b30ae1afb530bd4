"""slim's export_inference_graph.py: the GraphDef of an untrained net, frozen later.

slim wrote the graph of ``network_fn(placeholder)``: a float32 placeholder named ``input``
of shape ``[batch_size, image_size, image_size, channels]`` and the net's variables as TF1
``VariableV2`` nodes under their slim names (``InceptionV3/Conv2d_1a_3x3/weights`` with its
``weights/read``), not frozen; TF's ``freeze_graph`` tool then restores a checkpoint into it
by those names and turns the variables into constants. Here the zoo's tf_keras net is called
on that placeholder inside a TF1 graph, its variables are created as reference variables
(what slim's graph holds, and what ``freeze_graph``'s name-based Saver restores into), and
each is renamed from Keras' name to its slim name (``SlimModel.slim_variables``), so a slim
checkpoint freezes into it with no mapping. Two outputs get fixed names: ``logits`` and
``predictions`` (the softmax; absent for ``num_classes=0``).
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

import tensorflow as tf

from trainer import nets

INPUT_NAME = "input"  # slim's placeholder name
LOGITS_NAME = "logits"
PREDICTIONS_NAME = "predictions"


@dataclasses.dataclass
class InferenceGraph:
    """The unfrozen graph and what a freeze step or a TF1 consumer needs to know of it."""

    graph_def: tf.compat.v1.GraphDef
    input_name: str               # 'input:0'
    input_shape: List[Optional[int]]
    output_nodes: List[str]       # ['logits', 'predictions']: freeze_graph's --output_node_names
    variable_names: List[str]     # slim names of the VariableV2 nodes, sorted


def _reference_variables(next_creator, **kwargs):
    """Variable creator: TF1 reference variables (VariableV2 + ``/read``), as slim's graph."""
    kwargs["use_resource"] = False
    return next_creator(**kwargs)


def build_inference_graph(model_name: str, num_classes: int, image_size: Optional[int] = None,
                          batch_size: Optional[int] = None, channels: int = 3,
                          is_training: bool = False,
                          num_frames: Optional[int] = None) -> InferenceGraph:
    """The GraphDef slim's export_inference_graph writes for ``model_name``.

    Args:
      num_classes: outputs of the logits layer (slim: dataset classes - labels_offset).
      image_size: default the net's default_image_size; batch_size None is dynamic.
      channels: 1 for --use_grayscale.
      is_training: build BatchNorm/dropout in training mode (slim's --is_training).
      num_frames: frames per clip, for the video nets (input [B, frames, S, S, 3]).
    """
    spec = nets.get_spec(model_name)
    size = image_size or spec.default_image_size
    shape = [batch_size] + ([num_frames] if spec.video else []) + [size, size, channels]
    graph = tf.Graph()
    with graph.as_default(), tf.variable_creator_scope(_reference_variables):
        images = tf.compat.v1.placeholder(tf.float32, shape, name=INPUT_NAME)
        net = nets.create_model(model_name, num_classes=num_classes, is_training=is_training)
        # The net's Python control flow needs no AutoGraph; converting every layer's call
        # (what a v1 graph call does by default) takes most of the build time.
        logits, end_points = tf.autograph.experimental.do_not_convert(net)(images,
                                                                          training=is_training)
        outputs = [tf.identity(logits, name=LOGITS_NAME)]
        if num_classes:
            predictions = end_points.get("Predictions", end_points.get("predictions"))
            if predictions is None:  # vgg, alexnet, overfeat have no Predictions end point
                predictions = tf.nn.softmax(logits)
            outputs.append(tf.identity(predictions, name=PREDICTIONS_NAME))
        renames = {var.op.name: name for name, var in net.slim_variables().items()}
    unnamed = sorted(v.op.name for v in graph.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
                     if v.op.name not in renames)
    if unnamed:
        # trainer.slim nets: a functional model called on a TF1 placeholder wraps its layers
        # as op layers, whose variables the slim-name map cannot see.
        raise ValueError(f"{model_name}: {len(unnamed)} variables have no slim name in a TF1 "
                         f"graph (e.g. {unnamed[0]}); export it as a SavedModel instead "
                         "(--checkpoint_path and --output_dir; --output_file adds a frozen graph).")
    taken = [t.op.name for t in outputs]
    if taken != [LOGITS_NAME, PREDICTIONS_NAME][:len(outputs)]:
        raise ValueError(f"{model_name}: output names {taken} clash with the net's ops")
    graph_def = rename_nodes(graph.as_graph_def(), renames)
    return InferenceGraph(graph_def=graph_def, input_name=f"{INPUT_NAME}:0", input_shape=shape,
                          output_nodes=taken, variable_names=sorted(renames.values()))


def rename_nodes(graph_def: tf.compat.v1.GraphDef,
                 renames: Dict[str, str]) -> tf.compat.v1.GraphDef:
    """Renames nodes and the nodes in their name scope (``kernel`` → ``weights``, and
    ``kernel/read`` → ``weights/read``), with every input, control input and colocation
    that refers to them."""

    def new_name(name: str) -> str:
        parts = name.split("/")
        for end in range(len(parts), 0, -1):
            prefix = "/".join(parts[:end])
            if prefix in renames:
                return "/".join([renames[prefix]] + parts[end:])
        return name

    def new_input(text: str) -> str:
        control = text.startswith("^")
        name, colon, index = text.lstrip("^").partition(":")
        return ("^" if control else "") + new_name(name) + colon + index

    out = tf.compat.v1.GraphDef()
    out.CopyFrom(graph_def)
    existing = {node.name for node in graph_def.node}
    clashes = sorted(set(renames.values()) & (existing - set(renames)))
    if clashes:
        raise ValueError(f"renamed nodes clash with existing ones: {clashes[:3]}")
    for node in out.node:
        node.name = new_name(node.name)
        node.input[:] = [new_input(text) for text in node.input]
        if "_class" in node.attr:
            locs = [loc.decode() for loc in node.attr["_class"].list.s]
            node.attr["_class"].list.s[:] = [
                ("loc:@" + new_name(loc[len("loc:@"):])).encode() if loc.startswith("loc:@")
                else loc.encode() for loc in locs]
    return out
