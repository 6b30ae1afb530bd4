"""Checks and decoding of a serving request's ``image_bytes`` batch, in the graph.

Every way a batch can be unusable ends in one InvalidArgumentError whose message says
what is wrong and names the batch index(es) at fault:

- an empty batch;
- an element that does not start like a JPEG/PNG/GIF/BMP file (text, base64, b"");
- a PNG/GIF/BMP whose header claims more pixels than ``MAX_SIDE`` / ``MAX_PIXELS``;
- a JPEG/PNG that fails to decode and lacks its end marker (a cut file);
- any other element that fails to decode (corrupt pixel data, a broken GIF/BMP, a
  header too large to decode, an unsupported variant).

TF graphs cannot catch an op's error, but ``tf.data`` can drop the elements whose
map function failed (``ignore_errors``). So the batch is decoded inside a dataset; when
that failed, each element is decoded alone in a dataset of (index, bytes) pairs, and the
indices that did not come out are named in an assertion. The decode itself is the one
``trainer.preprocessing.image_ops`` function, so good images give exactly the previous outputs.

Evaluation must not stop at one bad record: ``decodable_mask`` runs the same checks
and decodes without raising and says which elements pass; the evaluation signatures
(trainer/export/saved_model.py) replace the others by ``stand_in_png`` and give them weight 0.
"""
from __future__ import annotations

from typing import Callable, Tuple

import tensorflow as tf

from schemas import features
from serving.signatures import IMAGE_INPUT

# Leading bytes of the formats tf.io.decode_image reads (JPEG SOI, PNG signature, GIF, BMP).
_IMAGE_MAGICS = _JPEG, _PNG, _GIF, _BMP = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")
# Templates: {input} is the signature input, {where} names the positions reported.
NOT_AN_IMAGE_MESSAGE = ("{input}: not a JPEG/PNG/GIF/BMP image (send the raw file bytes, "
                        "base64 only inside a REST b64 object) at {where}:")
EMPTY_BATCH_MESSAGE = "{input}: the batch is empty; send at least one image"
TRUNCATED_MESSAGE = "{input}: JPEG/PNG without its end marker (EOI/IEND), so cut short, at {where}:"
UNDECODABLE_MESSAGE = ("{input}: the image could not be decoded (corrupt or cut pixel data, a broken "
                       "header, or an unsupported variant); re-encode it as JPEG or PNG. At {where}:")
TOO_LARGE_MESSAGE = ("{input}: the PNG/GIF/BMP header claims more than {side} px a side or {pixels} "
                     "pixels (a decompression bomb?); send a smaller image. At {where}:")
BATCH_INDEX = "batch index(es)"
# The same bounds as ingestion's defaults: checked before decoding, so a small file claiming
# a huge image never makes the server allocate it. (TF's JPEG decoder refuses over 2^29
# pixels by itself, before allocating; that error is named by ``map_decodable``.)
MAX_SIDE = features.MAX_IMAGE_SIDE
MAX_PIXELS = features.MAX_IMAGE_PIXELS
# The sizes read from the headers lie in these first bytes.
_HEADER = 26
# The end marker is looked for in this many trailing bytes (cameras may pad after EOI).
_TAIL = 4096
# At most this many failing indices are printed (the count of them is not limited).
_SUMMARIZE = 16


def _has_end_marker(image: tf.Tensor) -> tf.Tensor:
    """False for a JPEG without FF D9 or a PNG without IEND near its end (a cut file)."""
    length = tf.strings.length(image)
    tail = tf.io.decode_raw(tf.strings.substr(image, tf.maximum(length - _TAIL, 0), _TAIL), tf.uint8)
    tail = tf.cast(tail, tf.int32)

    def has(pattern):
        n = len(pattern)
        if_long = tf.shape(tail)[0] >= n
        pad = tf.concat([tail, tf.fill([n], -1)], 0)
        found = tf.ones_like(pad[:-n], dtype=tf.bool)
        for i, byte in enumerate(pattern):
            found = tf.logical_and(found, tf.equal(pad[i:tf.shape(pad)[0] - n + i], byte))
        return tf.logical_and(if_long, tf.reduce_any(found))

    is_jpeg = tf.equal(tf.strings.substr(image, 0, len(_JPEG)), _JPEG)
    is_png = tf.equal(tf.strings.substr(image, 0, len(_PNG)), _PNG)
    return tf.where(is_jpeg, has(b"\xff\xd9"), tf.where(is_png, has(b"IEND"), True))


def _assert_all(ok: tf.Tensor, message: str) -> tf.Operation:
    """An assertion that every element of the bool vector ``ok`` holds, naming the others."""
    bad = tf.reshape(tf.where(tf.logical_not(ok)), [-1])
    return tf.debugging.Assert(tf.reduce_all(ok), [message, bad], summarize=_SUMMARIZE)


def _header_ints(image_bytes: tf.Tensor, start: int, count: int, size: int, big_endian: bool) -> tf.Tensor:
    """``count`` unsigned ints of ``size`` bytes at ``start`` of each element → int64 [B, count]
    (missing bytes read as 0)."""
    raw = tf.io.decode_raw(tf.strings.substr(image_bytes, start, count * size), tf.uint8,
                           fixed_length=count * size)
    raw = tf.reshape(tf.cast(raw, tf.int64), [-1, count, size])
    weights = [256 ** (size - 1 - i if big_endian else i) for i in range(size)]
    return tf.reduce_sum(raw * tf.constant(weights, tf.int64), axis=-1)


def _claimed_size(image_bytes: tf.Tensor) -> tf.Tensor:
    """Width and height (int64 [B, 2]) from PNG IHDR, the GIF screen or the BMP info header;
    0 for JPEG and anything else."""
    # substr fails on a start past a string's end: read from the zero-padded first bytes.
    head = tf.strings.join([tf.strings.substr(image_bytes, 0, _HEADER),
                            tf.fill(tf.shape(image_bytes), b"\0" * _HEADER)])
    png = _header_ints(head, 16, 2, 4, big_endian=True)
    gif = _header_ints(head, 6, 2, 2, big_endian=False)
    bmp = _header_ints(head, 18, 2, 4, big_endian=False)
    bmp = tf.where(bmp >= 2 ** 31, 2 ** 32 - bmp, bmp)  # signed: a negative height is top-down

    def starts(magic):
        return tf.equal(tf.strings.substr(image_bytes, 0, len(magic)), magic)[:, None]

    return tf.where(starts(_PNG), png, tf.where(starts(_GIF), gif, tf.where(starts(_BMP), bmp, tf.zeros_like(png))))


def well_formed(image_bytes: tf.Tensor) -> tf.Tensor:
    """bool [B]: the element of the [B] ``image_bytes`` starts like a JPEG/PNG/GIF/BMP file
    and claims no more than ``MAX_SIDE`` / ``MAX_PIXELS`` in its header (vectorized, no decode)."""
    return tf.logical_and(_known(image_bytes), _small(image_bytes))


def _known(image_bytes: tf.Tensor) -> tf.Tensor:
    known = tf.zeros_like(image_bytes, dtype=tf.bool)
    for magic in _IMAGE_MAGICS:
        known = tf.logical_or(known, tf.equal(tf.strings.substr(image_bytes, 0, len(magic)), magic))
    return known


def _small(image_bytes: tf.Tensor) -> tf.Tensor:
    size = _claimed_size(image_bytes)
    return tf.logical_and(tf.reduce_all(size <= MAX_SIDE, axis=1), tf.reduce_prod(size, axis=1) <= MAX_PIXELS)


def check_image_bytes(image_bytes: tf.Tensor, input_name: str = IMAGE_INPUT,
                      where: str = BATCH_INDEX) -> tf.Tensor:
    """Returns ``image_bytes`` flattened after asserting the batch is not empty and every
    element starts like a decodable image and claims no more than ``MAX_SIDE`` /
    ``MAX_PIXELS`` in its header (vectorized, before any decode).

    ``map_decodable`` catches everything else the decoder refuses. ``input_name`` and
    ``where`` (what the reported flat positions are) go into the messages.
    """
    names = {"input": input_name, "where": where}
    image_bytes = tf.reshape(image_bytes, [-1])
    not_empty = tf.debugging.Assert(tf.size(image_bytes) > 0, [EMPTY_BATCH_MESSAGE.format(**names)])
    too_large = TOO_LARGE_MESSAGE.format(side=MAX_SIDE, pixels=MAX_PIXELS, **names)
    not_image = NOT_AN_IMAGE_MESSAGE.format(**names)
    with tf.control_dependencies([not_empty, _assert_all(_known(image_bytes), not_image),
                                  _assert_all(_small(image_bytes), too_large)]):
        return tf.identity(image_bytes)


def map_decodable(fn: Callable[[tf.Tensor], tf.Tensor], image_bytes: tf.Tensor,
                  output_spec: tf.TensorSpec, input_name: str = IMAGE_INPUT,
                  where: str = BATCH_INDEX) -> tf.Tensor:
    """``fn`` (one encoded image → a tensor of ``output_spec``) applied to every element of
    the [B] ``image_bytes``, stacked to [B, ...]; when ``fn`` fails on any element (a
    decode error), raises InvalidArgumentError naming every failing batch index.

    The whole batch is first mapped at once (``tf.map_fn``) inside a one-element dataset
    whose failure is dropped; only when it failed are the diagnoses run: JPEG/PNG without
    their end marker are named as cut, then each element is run alone, to learn which ones
    fail. A good batch pays for one dataset iterator and nothing per element
    (bench/serving_latency.py measures it). ``input_name`` and ``where`` as for
    ``check_image_bytes``.
    """
    image_bytes = tf.reshape(image_bytes, [-1])
    decoded, outputs = _map_whole(fn, image_bytes, output_spec)
    names = {"input": input_name, "where": where}
    return tf.cond(decoded, lambda: outputs, lambda: _map_each_naming_failures(fn, image_bytes, output_spec, names))


def decodable_mask(fn: Callable[[tf.Tensor], tf.Tensor], image_bytes: tf.Tensor,
                   output_spec: tf.TensorSpec) -> tf.Tensor:
    """bool [B]: which elements of the [B] ``image_bytes`` are ``well_formed`` and on which
    ``fn`` (as for ``map_decodable``) succeeds. Never raises for a bad element.

    Elements that are not well formed are not given to ``fn`` (a header claiming a huge
    image is never decoded). The batch is tried whole first, as in ``map_decodable``, so
    a good batch pays for one dataset iterator; elements are tried alone only after a failure.
    """
    image_bytes = tf.reshape(image_bytes, [-1])
    formed = well_formed(image_bytes)
    candidates = tf.where(formed, image_bytes, stand_in_png())
    whole, _ = _map_whole(fn, candidates, output_spec)
    decodes = tf.cond(whole, lambda: tf.ones_like(formed),
                      lambda: _map_each(fn, candidates, output_spec)[0])
    return tf.logical_and(formed, decodes)


def stand_in_png(side: int = 1, channels: int = 1) -> tf.Tensor:
    """A black ``side``×``side`` PNG (scalar string) that every decoder and preprocessing
    accepts: what stands in for an element that cannot be decoded."""
    return tf.io.encode_png(tf.zeros([side, side, channels], tf.uint8))


def _map_whole(fn: Callable[[tf.Tensor], tf.Tensor], image_bytes: tf.Tensor,
               output_spec: tf.TensorSpec) -> Tuple[tf.Tensor, tf.Tensor]:
    """(True, ``fn`` over the whole batch), or (False, an empty batch) when it failed anywhere."""
    whole = (tf.data.Dataset.from_tensors(image_bytes)
             .map(lambda batch: (True, tf.map_fn(fn, batch, fn_output_signature=output_spec)))
             .ignore_errors())
    failed = tf.data.Dataset.from_tensors((False, tf.zeros([0] + output_spec.shape.as_list(), output_spec.dtype)))
    return whole.concatenate(failed).take(1).get_single_element()


def _map_each(fn: Callable[[tf.Tensor], tf.Tensor], image_bytes: tf.Tensor,
              output_spec: tf.TensorSpec) -> Tuple[tf.Tensor, tf.Tensor]:
    """``fn`` on each element alone: (bool [B] it succeeded, the outputs of those that did,
    in order). The elements whose ``fn`` failed do not come out of the dataset."""
    count = tf.size(image_bytes)
    pairs = tf.data.Dataset.from_tensor_slices((tf.range(count), image_bytes))
    done = (pairs.map(lambda index, encoded: (index, fn(encoded)),
                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .ignore_errors()
            .batch(tf.cast(tf.maximum(count, 1), tf.int64)))
    # When every element failed the batched dataset is empty; this empty batch stands in.
    nothing = tf.data.Dataset.from_tensors((tf.zeros([0], tf.int32),
                                            tf.zeros([0] + output_spec.shape.as_list(), output_spec.dtype)))
    indices, outputs = done.concatenate(nothing).take(1).get_single_element()
    decoded = tf.scatter_nd(tf.reshape(indices, [-1, 1]), tf.ones_like(indices, tf.bool), [count])
    return decoded, outputs


def _map_each_naming_failures(fn: Callable[[tf.Tensor], tf.Tensor], image_bytes: tf.Tensor,
                              output_spec: tf.TensorSpec, names: dict) -> tf.Tensor:
    """``map_decodable`` one element at a time: the indices whose ``fn`` failed are named
    in an assertion: first those that are cut JPEG/PNG files (no end marker), then the others."""
    decoded, outputs = _map_each(fn, image_bytes, output_spec)
    complete = tf.map_fn(_has_end_marker, image_bytes, fn_output_signature=tf.bool)
    cut = _assert_all(tf.logical_or(decoded, complete), TRUNCATED_MESSAGE.format(**names))
    with tf.control_dependencies([cut]):
        with tf.control_dependencies([_assert_all(decoded, UNDECODABLE_MESSAGE.format(**names))]):
            return tf.identity(outputs)
