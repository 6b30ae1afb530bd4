"""TFLite models for mobile: float and post-training int8 (with a representative dataset).

The TFLite model takes preprocessed float32 images ``[batch, size, size, C]`` (the
``input`` of slim's export_inference_graph; TFLite has no image-decode op) and
returns softmax probabilities (slim's ``Predictions``). Apply the same slim
preprocessing on the device, see trainer/preprocessing/.

int8: weights and activations are quantized (TFLITE_BUILTINS_INT8 kernels),
calibrated on real preprocessed images; the model keeps float input/output so
callers feed the same tensors as to the float model.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np
import tensorflow as tf

from trainer.training import data
from trainer.preprocessing.image_ops import ImageSpec

INPUT_NAME = "input"


def _probabilities_fn(net, image_spec: ImageSpec, batch_size: int):
    spec = tf.TensorSpec([batch_size, image_spec.image_size, image_spec.image_size, image_spec.channels],
                         tf.float32, name=INPUT_NAME)

    @tf.function(input_signature=[spec])
    def predictions(images):
        logits, _ = net(images, training=False)
        return {"Predictions": tf.nn.softmax(tf.cast(logits, tf.float32))}

    return predictions.get_concrete_function()


def convert(net, image_spec: ImageSpec, batch_size: int = 1, int8: bool = False,
            representative_images: Optional[Iterable[np.ndarray]] = None) -> bytes:
    """A TFLite flatbuffer of ``net`` (float, or int8 calibrated on ``representative_images``)."""
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [_probabilities_fn(net, image_spec, batch_size)], net)
    if int8:
        if representative_images is None:
            raise ValueError("int8 quantization needs representative images (pass --dataset_dir).")
        images = [np.asarray(im, np.float32) for im in representative_images]
        if not images:
            raise ValueError("the representative dataset is empty")

        def representative_dataset():
            for image in images:
                yield [image[None, ...].repeat(batch_size, axis=0)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


def representative_images(file_patterns: Sequence[str], image_spec: ImageSpec, count: int = 100,
                          labels_offset: int = 0) -> np.ndarray:
    """Up to ``count`` eval-preprocessed images from slim TFRecords (calibration data)."""
    ds = data.make_dataset(file_patterns, image_spec, batch_size=count, is_training=False,
                           labels_offset=labels_offset)
    for images, _ in ds.take(1):
        return images.numpy()
    raise ValueError(f"no images in {list(file_patterns)}")


def predict(model: bytes, images: np.ndarray) -> np.ndarray:
    """Runs a batch-1 TFLite model over ``images`` [N, H, W, C] → probabilities [N, K]."""
    interpreter = tf.lite.Interpreter(model_content=model)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    batch = int(inp["shape"][0])
    results = []
    for start in range(0, len(images), batch):
        chunk = np.asarray(images[start:start + batch], np.float32)
        pad = batch - len(chunk)
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        interpreter.set_tensor(inp["index"], chunk)
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"])[:batch - pad])
    return np.concatenate(results)
