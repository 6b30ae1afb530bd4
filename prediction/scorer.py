"""Scores batches of encoded images with the serving SavedModel's own signature.

``serving_default`` (image bytes in, top-k labels and scores out) decodes and
preprocesses inside the graph, so a batch prediction answers exactly what TF Serving
answers for the same bytes. A batch is one call; only when that call fails (an image
the graph cannot decode fails the whole request) is the batch split:
``eval_decodable``, the export's undecodable-image screen, says which elements decode,
the others are scored again in one call, and each refused element is called alone to
get the signature's own reason for it (a SavedModel without ``eval_decodable`` calls
every element of the failed batch alone). Good batches pay nothing for this.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from schemas import features
from serving import predict
from serving.signatures import EVAL_DECODABLE, EXAMPLES_INPUT, IMAGE_INPUT, SERVING_DEFAULT
from serving.versions import latest_version_dir

# One image's result: {"labels": [...], "scores": [...]} or {"error": "reason"}.
Result = Dict[str, Union[str, List[str], List[float]]]
# Scores are written with this many decimals (float32 carries about 7 digits).
SCORE_DECIMALS = 6
# How tf.debugging.Assert's message starts (the request checks of trainer/export/serving_input.py).
_ASSERTION = "assertion failed: ["
# What those messages name the failing positions (trainer.export.serving_input.BATCH_INDEX).
BATCH_INDEX = "batch index(es)"


class ImageScorer:
    """A loaded serving SavedModel (a SavedModel dir or the newest version of a TF
    Serving base dir): ``score(images)`` → one :data:`Result` per encoded image.

    Raises ValueError for a video model (it takes clips of frames, not images), and
    KeyError / FileNotFoundError (from ``serving.predict``) for a missing signature or model.
    """

    def __init__(self, model_dir: str, top_k: int = 5, signature_name: str = SERVING_DEFAULT):
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        self.model_dir = latest_version_dir(model_dir)
        self._fn = predict.load_serving_fn(self.model_dir, signature_name)
        if predict.clip_frames(self._fn):
            raise ValueError(f"{model_dir} is a video model (its {signature_name} takes clips of "
                             "frames); batch prediction labels image files")
        _, inputs = self._fn.structured_input_signature
        if IMAGE_INPUT not in inputs:
            raise ValueError(f"signature {signature_name!r} of {model_dir} does not take "
                             f"{IMAGE_INPUT!r} (encoded images); use serving_default")
        # A model exported with a fixed --batch_size takes batches of exactly that size.
        self.fixed_batch: Optional[int] = inputs[IMAGE_INPUT].shape[0]
        signatures = self._fn._loaded_model.signatures  # pylint: disable=protected-access
        self._decodable = signatures[EVAL_DECODABLE] if EVAL_DECODABLE in signatures else None
        self._refused = tf.errors.InvalidArgumentError
        self._tf = tf
        self.top_k = top_k

    def _ranked(self, images: Sequence[bytes]) -> List[Result]:
        """serving_default on ``images`` (padded to a fixed batch size with copies of the
        first); raises InvalidArgumentError when any element is refused."""
        padded = list(images)
        if self.fixed_batch:
            padded += padded[:1] * (self.fixed_batch - len(padded))
        rows = predict.ranked(predict.run_images(self._fn, padded))[:len(images)]
        return [{"labels": [label for label, _ in row[:self.top_k]],
                 "scores": [round(score, SCORE_DECIMALS) for _, score in row[:self.top_k]]}
                for row in rows]

    def _chunks(self, images: Sequence[bytes]) -> List[Sequence[bytes]]:
        size = self.fixed_batch or len(images) or 1
        return [images[i:i + size] for i in range(0, len(images), size)]

    def score(self, images: Sequence[bytes]) -> List[Result]:
        """One result per element of ``images`` (encoded image bytes), in order. Never raises
        for an element the signature refuses: its result is ``{"error": reason}``."""
        results: List[Result] = []
        for chunk in self._chunks(images):
            try:
                results += self._ranked(chunk)
            except self._refused:
                results += self._split(chunk)
        return results

    def _split(self, images: Sequence[bytes]) -> List[Result]:
        """``score`` of a batch that failed as a whole."""
        results: List[Optional[Result]] = [None] * len(images)
        good = [i for i, ok in enumerate(self._decodes(images)) if ok]
        if good:
            try:
                for i, result in zip(good, self._ranked([images[i] for i in good])):
                    results[i] = result
            except self._refused:
                pass  # decodes, yet preprocessing refuses one: each is tried alone below
        for i, result in enumerate(results):
            if result is None:
                results[i] = self._alone(images[i])
        return results

    def _decodes(self, images: Sequence[bytes]) -> List[bool]:
        """Which elements ``eval_decodable`` accepts (none for a model without it, or with a
        fixed batch size: each element is then tried alone)."""
        if self._decodable is None or self.fixed_batch:
            return [False] * len(images)
        tf = self._tf
        examples = [tf.train.Example(features=tf.train.Features(feature={
            features.ENCODED: tf.train.Feature(bytes_list=tf.train.BytesList(value=[image]))}))
            .SerializeToString() for image in images]
        mask = self._decodable(**{EXAMPLES_INPUT: tf.constant(examples)})
        return [bool(v) for v in next(iter(mask.values())).numpy()]

    def _alone(self, image: bytes) -> Result:
        try:
            return self._ranked([image])[0]
        except self._refused as err:
            return {"error": refusal_text(err)}


# Scorers lent to this process's Beam workers for the duration of a job (``lend``): an
# in-process runner (DirectRunner in_memory / multi_threading) then scores with the model
# the launcher already loaded instead of loading it a second time.
_LENT: Dict[Tuple[str, str, int], ImageScorer] = {}
_LENT_LOCK = threading.Lock()


@contextlib.contextmanager
def lend(scorer: ImageScorer, signature_name: str) -> Iterator[None]:
    """While the block runs, :func:`load` of the same model in this process returns ``scorer``."""
    key = (scorer.model_dir, signature_name, scorer.top_k)
    with _LENT_LOCK:
        _LENT[key] = scorer
    try:
        yield
    finally:
        with _LENT_LOCK:
            _LENT.pop(key, None)


def load(model_dir: str, top_k: int, signature_name: str, tf_threads: Optional[int] = None) -> ImageScorer:
    """The scorer lent to this process for ``model_dir`` (see :func:`lend`), else a newly
    loaded one. ``tf_threads``: TensorFlow's intra-op threads for this process when it loads
    the model (a Beam worker process among several on one machine: cores / workers, so that
    the workers do not oversubscribe the cores); ignored when TensorFlow already runs."""
    with _LENT_LOCK:
        lent = _LENT.get((latest_version_dir(model_dir), signature_name, top_k))
    if lent is not None:
        return lent
    if tf_threads:
        set_tf_threads(tf_threads)
    return ImageScorer(model_dir, top_k, signature_name)


def set_tf_threads(intra_op: int) -> bool:
    """Caps TensorFlow's thread pools of this process at ``intra_op`` threads per op and as
    many ops at once; False (and nothing changed) when TensorFlow's runtime already started,
    after which they cannot change."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(intra_op)
    except RuntimeError:  # "... cannot be modified after initialization"
        return False
    return True


def refusal_text(err: Exception) -> str:
    """The signature's reason for refusing one image, without the batch position (always 0
    here) that its message ends with."""
    text = predict.error_text(err)
    text = text[len(_ASSERTION):] if text.startswith(_ASSERTION) else text
    cut = text.lower().rfind(f" at {BATCH_INDEX}")
    return (text[:cut] if cut > 0 else text).rstrip(" .:;,")
