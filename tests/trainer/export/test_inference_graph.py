"""`tfslim export --output_file` without a checkpoint: slim's export_inference_graph.py.

The GraphDef holds a placeholder ``input`` and the variables, unfrozen, under slim's names
(inception_v3's names and shapes are those of tf_slim's own graph); TF's freeze_graph tool,
run as the CLI prints it, freezes a slim checkpoint into it with no mapping.
"""
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.nets import oracle
from tests.serving.cli import run_tfslim
from trainer.export import inference_graph
from trainer import nets


def _variables(graph_def) -> dict:
    """{name: shape} of the graph's VariableV2 nodes (TF1 variables, not frozen)."""
    return {n.name: [d.size for d in n.attr["shape"].shape.dim]
            for n in graph_def.node if n.op == "VariableV2"}


def _placeholder(graph_def):
    (node,) = [n for n in graph_def.node if n.op == "Placeholder"]
    return node.name, [d.size for d in node.attr["shape"].shape.dim]


def _run(graph_def, images: np.ndarray, fetch: str) -> np.ndarray:
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(fetch, {"input:0": images})


def test_lenet_graph_without_checkpoint_then_freeze_graph_as_printed(tmp_path):
    pb = tmp_path / "lenet_inf_graph.pb"
    out = run_tfslim("export", "--alsologtostderr", "--model_name=lenet", "--dataset_name=mnist",
                     "--use_grayscale", f"--output_file={pb}")
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"Inference GraphDef of lenet (10 classes, input input:0 ?x28x28x1, 8 variables not " \
           f"frozen, outputs logits,predictions) -> {pb}" in out.stdout
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    assert _placeholder(graph_def) == ("input", [-1, 28, 28, 1])
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    assert _variables(graph_def) == {k: v.shape.as_list() for k, v in net.slim_variables().items()}
    assert "Const" not in {n.op for n in graph_def.node if n.name.endswith("/weights")}

    # The freeze step, exactly as the CLI prints it, with a slim (name-based) checkpoint.
    ckpt = nets.save_slim_checkpoint(net, str(tmp_path / "ckpt" / "lenet.ckpt"))
    frozen = tmp_path / "frozen.pb"
    (command,) = re.findall(r"Freeze it with a slim checkpoint: python (.*)", out.stdout)
    args = command.replace("<model.ckpt>", ckpt).replace("<frozen.pb>", str(frozen)).split()
    freeze = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
    assert freeze.returncode == 0, freeze.stderr[-3000:]
    frozen_def = tf.compat.v1.GraphDef()
    frozen_def.ParseFromString(frozen.read_bytes())
    assert not _variables(frozen_def)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    _, end_points = net(images, training=False)
    np.testing.assert_allclose(_run(frozen_def, images, "predictions:0"),
                               end_points["Predictions"].numpy(), atol=1e-6)


def test_inception_v3_graph_has_tf_slims_variables():
    """slim's own example (--model_name=inception_v3), here with 1000 classes (imagenet with
    --labels_offset=1), a fixed batch and --is_training."""
    tf_slim = oracle.import_tf_slim()
    from tf_slim.nets import inception  # pylint: disable=import-outside-toplevel

    graph = inference_graph.build_inference_graph("inception_v3", 1000, batch_size=2,
                                                  is_training=True)
    graph_def = graph.graph_def
    assert _placeholder(graph_def) == ("input", [2, 299, 299, 3])
    reference = tf.Graph()
    with reference.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [2, 299, 299, 3], name="input")
        with tf_slim.arg_scope(inception.inception_v3_arg_scope()):
            oracle.build_without_autograph(inception.inception_v3, images, num_classes=1000,
                                           is_training=True)
        expected = {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}
    assert _variables(graph_def) == expected
    assert graph.variable_names == sorted(expected)
    assert graph.output_nodes == ["logits", "predictions"]


@pytest.mark.parametrize("flags,message", [
    ((), "give --output_file for slim's inference graph"),
    (("--output_dir=/tmp/x",), "--output_dir needs --checkpoint_path"),
    (("--output_file=/tmp/x.pb", "--tflite"), "--tflite needs --checkpoint_path"),
])
def test_without_checkpoint_says_what_is_needed(flags, message):
    out = run_tfslim("export", "--model_name=lenet", *flags, timeout=120)
    assert out.returncode == 1 and message in out.stderr, out.stderr[-2000:]
