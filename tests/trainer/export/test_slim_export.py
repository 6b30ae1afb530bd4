"""`tfslim export` turns an original-format TF-Slim checkpoint into a serving SavedModel
that ranks classes exactly as slim's own graph does on the same images."""
import io
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.trainer.nets import oracle
from tests.serving.cli import run_tfslim
from serving import predict
from trainer.export import saved_model as export
from trainer.preprocessing.image_ops import ImageSpec, preprocess_encoded

NUM_CLASSES = 10


def _photo_like_pngs(count: int):
    """Smooth colour gradients with blobs, at a size that needs central crop + resize."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:260, 0:300] / 300.0
    images = []
    for _ in range(count):
        a, b, c = rng.uniform(0, 6, 3)
        rgb = np.stack([np.sin(a * xx + b * yy), np.cos(b * xx - c * yy), np.sin(c * xx * yy + a)], -1)
        pixels = np.clip((rgb + 1) * 127.5 + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "PNG")
        images.append(buf.getvalue())
    return images


@pytest.mark.slow
def test_export_from_slim_inception_v1_checkpoint_matches_slim_top5(tmp_path):
    oracle.import_tf_slim()
    import tf_slim  # pylint: disable=import-outside-toplevel
    from tf_slim.nets import inception  # pylint: disable=import-outside-toplevel

    pngs = _photo_like_pngs(3)
    spec = ImageSpec(preprocessing_name="inception_v1", image_size=224, channels=3)
    preprocessed = np.stack([preprocess_encoded(tf.constant(p), spec, is_training=False).numpy()
                             for p in pngs])

    def build(x):
        with tf_slim.arg_scope(inception.inception_v1_arg_scope()):
            return inception.inception_v1(x, num_classes=NUM_CLASSES, is_training=False)

    prefix = str(tmp_path / "slim" / "inception_v1.ckpt")
    slim_logits, _ = oracle.slim_reference(build, preprocessed, prefix)
    labels = tmp_path / "labels.txt"
    labels.write_text("".join(f"{i}:class_{i}\n" for i in range(NUM_CLASSES)))

    out = str(tmp_path / "serving" / "inception_v1" / "1")
    result = run_tfslim("export", "--model_name=inception_v1", f"--checkpoint_path={prefix}",
                        f"--output_dir={out}", f"--labels_file={labels}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.rmtree(tmp_path / "slim")  # the SavedModel must stand on its own

    outputs = predict.run_images(predict.load_serving_fn(os.path.dirname(out)), pngs)
    slim_top5 = np.argsort(-slim_logits, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(outputs["top_k_classes"], slim_top5)
    slim_probs = tf.nn.softmax(slim_logits).numpy()
    oracle.assert_close(slim_probs, outputs["scores"], "serving scores vs slim softmax", rel=1e-4)
    assert [label.decode() for label in outputs["labels"]] == [f"class_{c}" for c in slim_top5[:, 0]]
    assert export.read_class_names(out) == [f"class_{i}" for i in range(NUM_CLASSES)]

    again = run_tfslim("export", "--model_name=inception_v1", f"--checkpoint_path={prefix}",
                       f"--output_dir={out}")
    assert again.returncode != 0 and "never overwrite" in again.stderr
