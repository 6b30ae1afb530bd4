"""`tfslim export --output_file/--write_text_graphdef/--is_training` (slim's export_inference_graph flags).

The frozen GraphDef must load into a plain tf.Graph (as a TF1 consumer such as label_image
does) and rank one image like the SavedModel written beside it.
"""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from google.protobuf import text_format

from serving.signatures import SERVING_DEFAULT, SERVING_TENSORS
from tests.pipeline import helpers
from tests.serving.cli import run_tfslim
from trainer import nets
from trainer.preprocessing.image_ops import preprocess_encoded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lenet_checkpoint(tmp_path_factory) -> str:
    tf_keras.utils.set_random_seed(11)
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    return nets.save_slim_checkpoint(net, str(tmp_path_factory.mktemp("ckpt") / "lenet.ckpt"))


def _export(checkpoint: str, output_dir: str, *flags: str):
    result = run_tfslim("export", "--model_name=lenet", "--use_grayscale", "--image_size=28", "--num_classes=10",
                        f"--checkpoint_path={checkpoint}", f"--output_dir={output_dir}", *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _run_graph(graph_def, images: np.ndarray, fetch: str = "scores:0") -> np.ndarray:
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(fetch, feed_dict={"images:0": images})


def _digit():
    pixels, _ = helpers.digit_images(1, start=1750)[0]
    png = helpers.encode(pixels)
    return png, preprocess_encoded(tf.constant(png), helpers.LENET_GRAY, is_training=False).numpy()[None]


def test_output_file_is_a_frozen_graph_ranking_like_the_saved_model(lenet_checkpoint, tmp_path):
    pb = tmp_path / "lenet_frozen.pb"
    result = _export(lenet_checkpoint, str(tmp_path / "1"), f"--output_file={pb}")
    assert "Frozen GraphDef (input images:0" in result.stdout and str(pb) in result.stdout
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    ops = {node.op for node in graph_def.node}
    assert "VarHandleOp" not in ops and "ReadVariableOp" not in ops  # the weights are constants
    png, image = _digit()
    scores = _run_graph(graph_def, image)
    loaded = tf.saved_model.load(str(tmp_path / "1"))
    by_tensors = loaded.signatures[SERVING_TENSORS](images=tf.constant(image))
    by_bytes = loaded.signatures[SERVING_DEFAULT](image_bytes=tf.constant([png]))
    np.testing.assert_allclose(scores, by_tensors["scores"].numpy(), rtol=1e-5, atol=1e-6)
    assert np.argmax(scores[0]) == int(by_bytes["classes"].numpy()[0])
    assert _run_graph(graph_def, image, "classes:0")[0] == int(by_bytes["classes"].numpy()[0])


def test_text_graphdef_and_is_training(lenet_checkpoint, tmp_path):
    pbtxt = tmp_path / "lenet_train.pbtxt"
    _export(lenet_checkpoint, str(tmp_path / "1"), f"--output_file={pbtxt}", "--write_text_graphdef",
            "--is_training")
    graph_def = text_format.Parse(pbtxt.read_text(), tf.compat.v1.GraphDef())
    _, image = _digit()
    batch = np.repeat(image, 16, axis=0)
    # Training mode keeps LeNet's dropout on: identical images score differently.
    first, second = _run_graph(graph_def, batch), _run_graph(graph_def, batch)
    assert not np.allclose(first, second)
    loaded = tf.saved_model.load(str(tmp_path / "1"))
    served = loaded.signatures[SERVING_TENSORS](images=tf.constant(batch))["scores"].numpy()
    assert not np.allclose(served[0], served[1])


def test_write_text_graphdef_needs_output_file(tmp_path):
    result = run_tfslim("export", "--model_name=lenet", "--checkpoint_path=x", f"--output_dir={tmp_path}",
                        "--write_text_graphdef")
    assert result.returncode == 1 and "--write_text_graphdef needs --output_file" in result.stderr
    assert "Traceback" not in result.stderr
