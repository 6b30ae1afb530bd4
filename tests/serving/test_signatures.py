"""The serving SavedModel's three signatures agree, and bad bytes get a clear, harmless error."""
import struct

import numpy as np
import pytest
import tensorflow as tf

from ingestion.formats import example as example_lib
from ingestion.formats import image_codec
from tests.ingestion.hostile import corpus
from tests.ingestion import fixtures
from tests.pipeline import helpers
from tests.serving.fixtures import CLASS_NAMES
from serving import predict
from trainer.export import saved_model as export, serving_input
from trainer import nets
from trainer.preprocessing.image_ops import decode_image, preprocess_encoded_batch
from serving import signatures


@pytest.fixture(scope="module")
def loaded(lenet_model_dir):
    return tf.saved_model.load(lenet_model_dir)


def test_signatures_agree_and_outputs_are_consistent(loaded, digit_pngs):
    pngs = [png for png, _ in digit_pngs]
    by_bytes = loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant(pngs))
    examples = [example_lib.encode_example(image_codec.normalize(png), label, str(label), f"{i}.png")
                for i, (png, label) in enumerate(digit_pngs)]
    by_example = loaded.signatures[signatures.SERVING_EXAMPLES](examples=tf.constant(examples))
    tensors = preprocess_encoded_batch(tf.constant(pngs), helpers.LENET_GRAY)
    by_tensor = loaded.signatures[signatures.SERVING_TENSORS](images=tensors)
    for other in (by_example, by_tensor):
        np.testing.assert_allclose(other["scores"].numpy(), by_bytes["scores"].numpy(), atol=1e-6)
    scores = by_bytes["scores"].numpy()
    assert scores.shape == (12, 10)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    classes = by_bytes["classes"].numpy()
    assert [label.decode() for label in by_bytes["labels"].numpy()] == [CLASS_NAMES[c] for c in classes]
    top = by_bytes["top_k_classes"].numpy()
    assert top.shape == (12, 5) and np.array_equal(top[:, 0], classes)


@pytest.mark.parametrize("bad,match", [
    (b"", "not a JPEG/PNG/GIF/BMP image"),
    (b"GET / HTTP/1.1 this is text", "not a JPEG/PNG/GIF/BMP image"),
    (b"iVBORw0KGgoAAAANSUhEUgAAAAgAAAAI", "not a JPEG/PNG/GIF/BMP image"),  # base64 text, not bytes
    ("truncated_png", "cut short"),
    ("truncated_jpeg", "cut short"),
], ids=["empty", "text", "base64-text", "truncated-png", "truncated-jpeg"])
def test_bad_bytes_are_invalid_argument_and_next_request_works(loaded, digit_pngs, bad, match):
    fn = loaded.signatures[signatures.SERVING_DEFAULT]
    good = digit_pngs[0][0]
    if bad == "truncated_png":
        bad = good[:40]
    elif bad == "truncated_jpeg":
        bad = tf.io.encode_jpeg(tf.zeros([28, 28, 1], tf.uint8)).numpy()[:-300]
    with pytest.raises(tf.errors.InvalidArgumentError, match=match) as err:
        fn(image_bytes=tf.constant([good, bad]))
    assert "batch index(es):] [1]" in err.value.message  # names the offending position
    out = fn(image_bytes=tf.constant([good]))
    assert out["scores"].shape == (1, 10)


def _cut(data: bytes) -> bytes:
    return data[:len(data) // 2]


# Images with a valid start (and JPEG/PNG end marker) that still cannot be decoded.
UNDECODABLE = {
    "png-garbage-idat": corpus.garbage_pixels_png,  # valid chunk CRCs, IDAT not a zlib stream
    "png-short-idat": corpus.short_stream_png,
    "png-bad-filter": corpus.bad_filter_png,
    "png-crc": fixtures.corrupt_png_bytes,
    "jpeg-no-dqt": corpus.jpeg_without_quantization_tables,
    "jpeg-bomb": lambda: _jpeg_claiming(60000),  # TF's decoder refuses it before allocating
    "gif-cut": lambda: _cut(fixtures.gif_bytes()),
    "bmp-cut": lambda: _cut(fixtures.bmp_bytes()),
    "bmp-bad-depth": lambda: fixtures.bmp_bytes()[:28] + struct.pack("<H", 7) + fixtures.bmp_bytes()[30:],
}
# Small files whose header claims a huge image: refused before any decode.
TOO_LARGE = {
    "png-bomb": corpus.bomb_png,
    "png-wide": lambda: corpus.bomb_png(side=serving_input.MAX_SIDE + 1),
    "gif-bomb": corpus.bomb_gif,
    "bmp-bomb": lambda: fixtures.bmp_bytes()[:18] + struct.pack("<ii", 20000, -20000) + fixtures.bmp_bytes()[26:],
}


def _jpeg_claiming(side: int) -> bytes:
    """A valid JPEG whose frame header (SOF0) says side x side."""
    data = bytearray(fixtures.jpeg_bytes(16, 16))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", side, side)
    return bytes(data)


@pytest.mark.parametrize("make", TOO_LARGE.values(), ids=TOO_LARGE.keys())
def test_header_too_large_is_refused_naming_its_batch_index(loaded, digit_pngs, make):
    good = digit_pngs[0][0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="header claims more than 16384 px") as err:
        loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant([good, make(), good]))
    assert "batch index(es):] [1]" in err.value.message


@pytest.mark.parametrize("make", UNDECODABLE.values(), ids=UNDECODABLE.keys())
def test_undecodable_image_names_its_batch_index(loaded, digit_pngs, make):
    fn = loaded.signatures[signatures.SERVING_DEFAULT]
    good = digit_pngs[0][0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not be decoded") as err:
        fn(image_bytes=tf.constant([good, good, make()]))
    assert "batch index(es):] [2]" in err.value.message
    assert fn(image_bytes=tf.constant([good]))["scores"].shape == (1, 10)


def test_every_undecodable_index_is_named_in_one_message(loaded, digit_pngs):
    good = digit_pngs[0][0]
    batch = [corpus.garbage_pixels_png(), good, _jpeg_claiming(60000), good, _cut(fixtures.bmp_bytes())]
    with pytest.raises(tf.errors.InvalidArgumentError) as err:
        loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant(batch))
    assert err.value.message.count("could not be decoded") == 1
    assert "batch index(es):] [0 2 4]" in err.value.message


def test_known_limit_corrupt_jpeg_scan_that_libjpeg_accepts_is_answered(loaded):
    """README known limit: libjpeg decodes some broken entropy streams (with a warning), so
    there is no decode failure to name and the request is answered."""
    data = bytearray(fixtures.jpeg_bytes(64, 64, seed=3))
    middle = (data.index(b"\xff\xda") + len(data)) // 2
    data[middle:middle + 8] = bytes(0x55 if b != 0xFF else b for b in data[middle:middle + 8])
    out = loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant([bytes(data)]))
    assert out["scores"].shape == (1, 10)


def test_good_images_of_every_format_score_as_the_decoded_path(loaded, digit_pngs):
    """Outputs on good bytes equal the net on image_ops' batch decode (the previous path)."""
    pixels = [p for p, _ in helpers.digit_images(4, start=1780)]
    images = [helpers.encode(p, fmt) for p, fmt in zip(pixels, ["PNG", "JPEG", "GIF", "BMP"])]
    images += [png for png, _ in digit_pngs[:4]]
    by_bytes = loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant(images))
    tensors = preprocess_encoded_batch(tf.constant(images), helpers.LENET_GRAY)
    by_tensor = loaded.signatures[signatures.SERVING_TENSORS](images=tensors)
    np.testing.assert_array_equal(by_bytes["scores"].numpy(), by_tensor["scores"].numpy())
    # GIF/BMP have no grayscale decoder: decoded RGB and converted, they give the digit back.
    for index in (2, 3):
        np.testing.assert_array_equal(decode_image(tf.constant(images[index]), 1).numpy()[..., 0], pixels[index])


def test_empty_batch_gets_a_clear_error(loaded):
    with pytest.raises(tf.errors.InvalidArgumentError, match="the batch is empty"):
        loaded.signatures[signatures.SERVING_DEFAULT](image_bytes=tf.constant([], tf.string))
    with pytest.raises(tf.errors.InvalidArgumentError, match="the batch is empty"):
        loaded.signatures[signatures.SERVING_TENSORS](
            images=tf.zeros([0] + list(loaded.signatures[signatures.SERVING_TENSORS]
                                       .structured_input_signature[1]["images"].shape[1:])))


def test_export_rejects_class_names_that_do_not_fit_the_net(tmp_path):
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    with pytest.raises(ValueError, match="9 class names for a net with 10 outputs"):
        export.export_saved_model(net, helpers.LENET_GRAY, CLASS_NAMES[:9], str(tmp_path / "m"))


def test_local_top_k_and_labels_asset(lenet_model_dir, digit_pngs):
    assert export.read_class_names(lenet_model_dir) == CLASS_NAMES
    base_dir = lenet_model_dir.rsplit("/", 1)[0]  # TF Serving layout: <base>/1 → newest version
    ranked = predict.top_k(predict.load_serving_fn(base_dir), [digit_pngs[0][0]])[0]
    assert len(ranked) == 5 and ranked[0][0] in CLASS_NAMES
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_eval_signatures_skip_an_undecodable_record_that_serving_examples_refuses(loaded, digit_pngs):
    """eval_examples scores the good records exactly as serving_examples does; the record TF
    cannot decode (no DQT tables, past ingestion's marker walk) and a bomb header get
    decodable 0 (TFMA's example weight, from eval_decodable) instead of failing the batch."""
    good = [example_lib.encode_example(image_codec.normalize(png), label, str(label), f"{i}.png")
            for i, (png, label) in enumerate(digit_pngs[:4])]
    # Ingestion keeps the no-DQT JPEG (verify_decode off); the bomb only a hand-made record holds.
    no_dqt = example_lib.encode_example(image_codec.normalize(corpus.jpeg_without_quantization_tables()),
                                        3, "3", "no-dqt.jpg")
    bomb = example_lib.encode_example(image_codec.EncodedImage(corpus.bomb_png(), "png", 60000, 60000, False),
                                      4, "4", "bomb.png")
    batch = good[:2] + [no_dqt] + good[2:] + [bomb]
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not be decoded") as err:
        loaded.signatures[signatures.SERVING_EXAMPLES](examples=tf.constant(good[:2] + [no_dqt]))
    assert "batch index(es):] [2]" in err.value.message
    tolerant = loaded.signatures[signatures.EVAL_EXAMPLES](examples=tf.constant(batch))
    weights = loaded.signatures[signatures.EVAL_DECODABLE](examples=tf.constant(batch))[signatures.DECODABLE]
    expected = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    assert weights.numpy().tolist() == expected
    assert tolerant[signatures.DECODABLE].numpy().tolist() == expected
    # The same batch size (the net's float sums may differ between batch sizes by 1 ulp).
    strict = loaded.signatures[signatures.SERVING_EXAMPLES](
        examples=tf.constant(good[:2] + good[:1] + good[2:] + good[:1]))
    kept = [0, 1, 3, 4]
    for key in (signatures.DATASET_SCORES, "scores", "classes", "top_k_classes"):
        np.testing.assert_array_equal(tolerant[key].numpy()[kept], strict[key].numpy()[kept])
    assert tolerant["scores"].shape == (6, 10)  # the skipped ones are scored on a stand-in image
    # A batch with nothing to skip is unchanged, and so is one with nothing decodable.
    eval_decodable = loaded.signatures[signatures.EVAL_DECODABLE]
    assert eval_decodable(examples=tf.constant(good))[signatures.DECODABLE].numpy().tolist() == [1.0] * 4
    assert loaded.signatures[signatures.EVAL_EXAMPLES](
        examples=tf.constant([no_dqt, bomb]))[signatures.DECODABLE].numpy().tolist() == [0.0, 0.0]
