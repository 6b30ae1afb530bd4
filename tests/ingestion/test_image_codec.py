"""Storage policy per input kind: kept bytes, lossless re-encodes, reject reasons."""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from ingestion.formats import image_codec
from ingestion import records
from tests.ingestion import fixtures


def _decode(data: bytes) -> np.ndarray:
    return tf.io.decode_image(data, expand_animations=False).numpy()


@pytest.mark.parametrize("make,fmt,channels", [
    (lambda: fixtures.jpeg_bytes(20, 30, seed=1), "jpeg", 3),
    (lambda: fixtures.jpeg_bytes(20, 30, seed=1, gray=True), "jpeg", 1),
    (lambda: fixtures.png_bytes(20, 30, seed=2), "png", 3),
    (lambda: fixtures.png_bytes(20, 30, seed=2, gray=True), "png", 1),
])
def test_jpeg_and_png_are_stored_unchanged_with_header_size(make, fmt, channels):
    data = make()
    image = image_codec.normalize(data)
    assert (image.data, image.format, image.height, image.width, image.reencoded) == (data, fmt, 20, 30, False)
    assert _decode(image.data).shape == (20, 30, channels)


def test_header_size_needs_no_decode():
    # A JPEG whose scan data is garbage still reports the header's size without decoding.
    data = bytearray(fixtures.jpeg_bytes(40, 50, seed=3))
    sos = data.index(b"\xff\xda")
    data[sos + 20:-2] = b"\x00" * (len(data) - sos - 22)
    image = image_codec.normalize(bytes(data))
    assert (image.height, image.width) == (40, 50)


def test_cmyk_jpeg_becomes_rgb_png():
    data = fixtures.cmyk_jpeg_bytes(10, 14, seed=4)
    image = image_codec.normalize(data)
    assert (image.format, image.height, image.width, image.reencoded) == ("png", 10, 14, True)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(_decode(image.data), expected)


def test_16bit_png_keeps_high_byte():
    data = fixtures.png16_bytes(9, 11, seed=5)
    image = image_codec.normalize(data)
    decoded = _decode(image.data)
    assert decoded.shape == (9, 11, 1) and decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded[:, :, 0], fixtures.pixels(9, 11, 1, seed=5))


def test_rgba_png_is_composited_over_white():
    data = fixtures.rgba_png_bytes(8, 8, seed=6)
    decoded = _decode(image_codec.normalize(data).data)
    assert decoded.shape == (8, 8, 3)
    rgb = fixtures.pixels(8, 8, 3, seed=6).astype(np.int32)
    expected = (rgb * 128 + 255 * 127 + 127) // 255  # alpha 128/255 over white
    assert np.abs(decoded.astype(np.int32) - expected).max() <= 1


@pytest.mark.parametrize("make", [fixtures.gif_bytes, fixtures.bmp_bytes])
def test_gif_and_bmp_are_reencoded_losslessly(make):
    data = make(8, 10, seed=7)
    image = image_codec.normalize(data)
    assert (image.format, image.height, image.width) == ("png", 8, 10)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(_decode(image.data), expected)


def test_pixels_to_png_round_trip():
    array = fixtures.pixels(28, 28, 1, seed=8)
    image = image_codec.encode_pixels(array[:, :, None])
    np.testing.assert_array_equal(_decode(image.data)[:, :, 0], array)


def test_reencoding_is_deterministic():
    data = fixtures.gif_bytes(8, 10, seed=9)
    assert image_codec.normalize(data).data == image_codec.normalize(data).data


@pytest.mark.parametrize("data,reason", [
    (b"", records.ZERO_BYTES),
    (b"plain text named .jpg\n", records.NOT_AN_IMAGE),
    (fixtures.truncated_jpeg_bytes(), records.TRUNCATED),
    (fixtures.jpeg_bytes()[:40], records.TRUNCATED),
    (fixtures.png_bytes()[:-20], records.TRUNCATED),
    (fixtures.corrupt_png_bytes(), records.CORRUPT),
    (fixtures.gif_bytes(40, 40)[:-60], records.TRUNCATED),
    (fixtures.gif_bytes()[:9], records.UNREADABLE),
    (b"BM" + b"\x00" * 10, records.UNREADABLE),
])
def test_reject_reasons(data, reason):
    with pytest.raises(records.Rejected) as err:
        image_codec.normalize(data)
    assert err.value.reason == reason
