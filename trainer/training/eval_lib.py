"""slim's eval_image_classifier metrics for a checkpoint or a serving SavedModel.

``Accuracy`` = streaming accuracy of argmax(logits) and ``Recall_5`` = streaming
recall@5 (top-5 accuracy), over one pass of the split (or ``max_num_batches``).

- A checkpoint is evaluated with the zoo net and the tf.data eval pipeline
  (decode + slim eval preprocessing from trainer/preprocessing/image_ops.py).
- A SavedModel is evaluated through its ``eval_examples`` signature on the
  serialized records, i.e. exactly the graph and inputs TFMA's Evaluator uses, so
  the numbers match the pipeline's: a record whose image cannot be decoded is
  skipped and counted, as the Evaluator weighs it 0 (``serving_examples``, where a
  model was exported without ``eval_examples``).
"""
from __future__ import annotations

import dataclasses
import sys
from typing import Iterator, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from schemas import features, layout
from trainer.training import data
from trainer.preprocessing.image_ops import ImageSpec
from serving import signatures

RECALL_K = 5


@dataclasses.dataclass
class EvalResult:
    """Metrics of one evaluation (slim's summary names) and what was evaluated."""

    accuracy: float
    recall_5: float
    num_examples: int
    step: int = 0
    source: str = ""
    # Records whose image could not be decoded, left out of num_examples (SavedModel path).
    skipped: int = 0

    def summary(self) -> str:
        skipped = f", {self.skipped} undecodable skipped" if self.skipped else ""
        return (f"eval/Accuracy[{self.accuracy:.4f}] eval/Recall_5[{self.recall_5:.4f}] "
                f"on {self.num_examples} examples{skipped} ({self.source} @ step {self.step})")


class _Tally:
    """Streaming top-1 / top-k counts."""

    def __init__(self):
        self.top1 = 0
        self.topk = 0
        self.count = 0

    def add(self, scores: np.ndarray, labels: np.ndarray) -> None:
        k = min(RECALL_K, scores.shape[-1])
        order = np.argsort(-scores, axis=-1, kind="stable")[:, :k]
        self.top1 += int(np.sum(order[:, 0] == labels))
        self.topk += int(np.sum(np.any(order == labels[:, None], axis=1)))
        self.count += int(labels.shape[0])

    def result(self, step: int, source: str) -> EvalResult:
        if not self.count:
            raise ValueError(f"{source}: the evaluation split is empty")
        return EvalResult(self.top1 / self.count, self.topk / self.count, self.count, step, source)


def _records(file_patterns: Sequence[str], batch_size: int,
             max_num_batches: Optional[int]) -> Iterator[Tuple[tf.Tensor, np.ndarray]]:
    """(serialized batch, labels) over the split in file order."""
    files = layout.list_files(file_patterns)
    ds = tf.data.TFRecordDataset(files, compression_type=layout.compression_of(files)).batch(batch_size)
    if max_num_batches:
        ds = ds.take(max_num_batches)
    for batch in ds:
        parsed = tf.io.parse_example(batch, {features.LABEL: tf.io.FixedLenFeature([], tf.int64)})
        yield batch, parsed[features.LABEL].numpy()


def progress_bar(enabled: bool, total_examples: Optional[int], batch_size: int,
                 max_num_batches: Optional[int]):
    """A tqdm bar over the examples evaluated (stderr, like `tfslim convert`'s). Its total is
    ``total_examples`` (capped by max_num_batches) when known, else it counts up."""
    from tqdm import tqdm  # pylint: disable=import-outside-toplevel
    total = total_examples
    if max_num_batches:
        total = min(total or max_num_batches * batch_size, max_num_batches * batch_size)
    return tqdm(total=total, desc="eval", unit="img", file=sys.stderr, dynamic_ncols=True,
                disable=not enabled, mininterval=0.5)


def evaluate_saved_model(saved_model_dir: str, file_patterns: Sequence[str], batch_size: int = 100,
                         labels_offset: int = 0, max_num_batches: Optional[int] = None,
                         progress: bool = False, total_examples: Optional[int] = None) -> EvalResult:
    """Top-1/top-5 of a serving SavedModel on slim TFRecords via ``eval_examples`` (see the
    module doc); ``progress`` shows a bar (of ``total_examples`` when known)."""
    from serving.versions import latest_version_dir  # pylint: disable=import-outside-toplevel

    model_dir = latest_version_dir(saved_model_dir)
    loaded = tf.saved_model.load(model_dir)
    if signatures.SERVING_EXAMPLES not in loaded.signatures:
        raise ValueError(f"{model_dir} has no {signatures.SERVING_EXAMPLES!r} signature; "
                         f"it has {sorted(loaded.signatures)}")
    fn = loaded.signatures.get(signatures.EVAL_EXAMPLES, loaded.signatures[signatures.SERVING_EXAMPLES])
    tally, skipped = _Tally(), 0
    with progress_bar(progress, total_examples, batch_size, max_num_batches) as bar:
        for batch, labels in _records(file_patterns, batch_size, max_num_batches):
            out = fn(**{signatures.EXAMPLES_INPUT: batch})
            kept = out[signatures.DECODABLE].numpy() > 0 if signatures.DECODABLE in out else np.ones(len(labels), bool)
            skipped += int(np.sum(~kept))
            tally.add(out["scores"].numpy()[kept], labels[kept] - labels_offset)
            bar.update(len(labels))
    version = model_dir.rstrip("/").rsplit("/", 1)[-1]
    return dataclasses.replace(tally.result(int(version) if version.isdigit() else 0, model_dir),
                               skipped=skipped)


def evaluate_net(net, image_spec: ImageSpec, file_patterns: Sequence[str], batch_size: int = 100,
                 labels_offset: int = 0, max_num_batches: Optional[int] = None,
                 step: int = 0, source: str = "", progress: bool = False,
                 total_examples: Optional[int] = None) -> EvalResult:
    """Top-1/top-5 of a zoo net (weights already restored) with slim eval preprocessing;
    ``progress`` shows a bar (of ``total_examples`` when known)."""
    ds = data.make_dataset(file_patterns, image_spec, batch_size, is_training=False,
                           labels_offset=labels_offset)
    if max_num_batches:
        ds = ds.take(max_num_batches)
    logits_fn = tf.function(lambda images: net(images, training=False)[0])
    tally = _Tally()
    with progress_bar(progress, total_examples, batch_size, max_num_batches) as bar:
        for images, labels in ds:
            labels = labels.numpy()
            tally.add(tf.cast(logits_fn(images), tf.float32).numpy(), labels)
            bar.update(len(labels))
    return tally.result(step, source)


def write_summaries(result: EvalResult, eval_dir: str) -> None:
    """TensorBoard scalars ``eval/Accuracy`` and ``eval/Recall_5`` at the checkpoint's step."""
    writer = tf.summary.create_file_writer(eval_dir)
    with writer.as_default():
        tf.summary.scalar("eval/Accuracy", result.accuracy, step=result.step)
        tf.summary.scalar("eval/Recall_5", result.recall_5, step=result.step)
    writer.flush()
    writer.close()
