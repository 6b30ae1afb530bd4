"""Training-step throughput of zoo nets vs their tf_keras.applications twins.

For each model both networks are built in the same process at the same input
size, then timed on one SGD training step (forward + backward + update, under
tf.function) on a fixed random batch: a few warm-up steps (tracing included),
then ``--steps`` timed steps. Prints images/s and the ratio ours / keras.

    TF_USE_LEGACY_KERAS=1 python bench/nets_throughput.py --models resnet_v1_50 --steps 5

Both sides train on logits with sparse softmax cross-entropy, no weight decay;
ours runs without auxiliary heads (create_aux_logits=False) because the Keras
twins have none. A model that is not registered in ``trainer.nets`` is skipped
with a message.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

# Runnable as a plain script from a checkout: make the repository importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

from trainer import nets  # noqa: E402

KERAS_TWINS: Dict[str, Callable[..., tf_keras.Model]] = {
    "mobilenet_v1": tf_keras.applications.MobileNet,
    "resnet_v1_50": tf_keras.applications.ResNet50,
    "inception_v3": tf_keras.applications.InceptionV3,
}


@dataclasses.dataclass
class Result:
    """Throughput of one model pair."""

    model: str
    image_size: int
    ours_images_per_s: float
    keras_images_per_s: float
    ours_params: int
    keras_params: int

    @property
    def ratio(self) -> float:
        return self.ours_images_per_s / self.keras_images_per_s


def _train_step_fn(forward: Callable[[tf.Tensor], tf.Tensor],
                   trainable: List[tf.Variable]) -> Callable:
    """One SGD(0.01) step as a tf.function (the model must already be built)."""
    optimizer = tf_keras.optimizers.SGD(0.01)
    # Creating the optimizer's variables up front keeps it to a single trace.
    optimizer.build(trainable)

    @tf.function
    def step(images, labels):
        with tf.GradientTape() as tape:
            logits = forward(images)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, trainable), trainable))
        return loss
    return step


def images_per_second(step: Callable, images: tf.Tensor, labels: tf.Tensor, warmup_steps: int,
                      steps: int) -> float:
    """Runs ``warmup_steps`` untimed steps, then times ``steps`` steps."""
    for _ in range(warmup_steps):
        step(images, labels).numpy()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(images, labels)
    loss.numpy()  # wait for the last step
    return steps * int(images.shape[0]) / (time.perf_counter() - start)


def _count(variables: Sequence[tf.Variable]) -> int:
    return sum(int(tf.size(v)) for v in variables)


def benchmark(name: str, batch_size: int, image_size: Optional[int], num_classes: int,
              warmup_steps: int, steps: int) -> Optional[Result]:
    """Times ``name`` and its Keras twin; None (with a message) if ours is not registered."""
    try:
        spec = nets.get_spec(name)
    except ValueError:
        print(f"skip {name}: not registered in trainer.nets yet")
        return None
    size = image_size or spec.default_image_size
    kwargs = {"create_aux_logits": False} if "create_aux_logits" in spec.kwargs else {}
    ours = nets.create_model(name, num_classes=num_classes, is_training=True, **kwargs)
    twin = KERAS_TWINS[name](weights=None, input_shape=(size, size, 3), classes=num_classes,
                             classifier_activation=None)
    rng = tf.random.Generator.from_seed(0)
    images = rng.uniform([batch_size, size, size, 3], -1.0, 1.0)
    labels = rng.uniform([batch_size], 0, num_classes, dtype=tf.int32)
    ours.ensure_built(size)

    ours_step = _train_step_fn(lambda x: tf.reshape(ours(x, training=True)[0], [batch_size, -1]),
                               ours.trainable_variables)
    twin_step = _train_step_fn(lambda x: twin(x, training=True), twin.trainable_variables)
    ours_rate = images_per_second(ours_step, images, labels, warmup_steps, steps)
    twin_rate = images_per_second(twin_step, images, labels, warmup_steps, steps)
    return Result(name, size, ours_rate, twin_rate, _count(ours.trainable_variables),
                  _count(twin.trainable_variables))


def format_table(results: Sequence[Result], batch_size: int) -> str:
    """A fixed-width table of the results."""
    lines = [f"batch {batch_size}, training step (forward+backward+SGD), images/s",
             f"{'model':<14}{'size':>6}{'ours':>10}{'keras':>10}{'ours/keras':>12}"
             f"{'ours params':>14}{'keras params':>14}"]
    for r in results:
        lines.append(f"{r.model:<14}{r.image_size:>6}{r.ours_images_per_s:>10.2f}"
                     f"{r.keras_images_per_s:>10.2f}{r.ratio:>12.3f}"
                     f"{r.ours_params:>14,}{r.keras_params:>14,}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", default=",".join(KERAS_TWINS),
                        help=f"comma-separated subset of {sorted(KERAS_TWINS)}")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model")
    parser.add_argument("--warmup_steps", type=int, default=3,
                        help="untimed steps first (the first one traces)")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--image_size", type=int, default=None,
                        help="input side; default: each net's default_image_size")
    parser.add_argument("--num_classes", type=int, default=1000)
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(KERAS_TWINS))
    if unknown:
        parser.error(f"no Keras twin for {unknown}; choose from {sorted(KERAS_TWINS)}")
    results = [r for r in (benchmark(m, args.batch_size, args.image_size, args.num_classes,
                                     args.warmup_steps, args.steps) for m in models) if r]
    print(format_table(results, args.batch_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
