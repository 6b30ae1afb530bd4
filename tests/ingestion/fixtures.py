"""Small image trees and bad inputs made by the tests (nothing is downloaded)."""
from __future__ import annotations

import io
import os
from typing import Dict, Tuple

import numpy as np
from PIL import Image


def pixels(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Deterministic smooth-ish uint8 image (compresses like a photo, not like noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * (3 + c) + y * (5 + 2 * c) + seed * 37) % 256 for c in range(channels)], -1)
    noise = rng.integers(0, 16, size=base.shape)
    out = ((base + noise) % 256).astype(np.uint8)
    return out[:, :, 0] if channels == 1 else out


def encode(array: np.ndarray, fmt: str, mode: str = None, **kwargs) -> bytes:
    image = Image.fromarray(array, mode=mode) if mode else Image.fromarray(array)
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def jpeg_bytes(height=12, width=16, seed=0, gray=False) -> bytes:
    return encode(pixels(height, width, 1 if gray else 3, seed), "JPEG", quality=90)


def png_bytes(height=12, width=16, seed=0, gray=False) -> bytes:
    return encode(pixels(height, width, 1 if gray else 3, seed), "PNG")


def cmyk_jpeg_bytes(height=10, width=14, seed=0) -> bytes:
    image = Image.fromarray(pixels(height, width, 3, seed)).convert("CMYK")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def png16_bytes(height=9, width=11, seed=0) -> bytes:
    array = (pixels(height, width, 1, seed).astype(np.uint16) * 257)
    image = Image.fromarray(array, mode="I;16")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def rgba_png_bytes(height=8, width=8, seed=0) -> bytes:
    rgba = np.concatenate([pixels(height, width, 3, seed),
                           np.full((height, width, 1), 128, np.uint8)], axis=-1)
    return encode(rgba, "PNG", mode="RGBA")


def gif_bytes(height=8, width=10, seed=0) -> bytes:
    return encode(pixels(height, width, 3, seed), "GIF")


def bmp_bytes(height=8, width=10, seed=0) -> bytes:
    return encode(pixels(height, width, 3, seed), "BMP")


def corrupt_png_bytes() -> bytes:
    """A PNG with one flipped byte inside its IDAT chunk (CRC mismatch)."""
    data = bytearray(png_bytes(seed=7))
    data[data.index(b"IDAT") + 10] ^= 0xFF
    return bytes(data)


def truncated_jpeg_bytes() -> bytes:
    data = jpeg_bytes(height=32, width=32, seed=5)
    return data[: len(data) * 2 // 3]


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_class_tree(root: str, per_class: Dict[str, int], fmt: str = "png",
                    size: Tuple[int, int] = (12, 16), first_seed: int = 1000) -> Dict[str, bytes]:
    """``root/<class>/<i>.<fmt>`` with distinct images; returns {relative path: bytes}."""
    written = {}
    seed = first_seed
    for name, count in per_class.items():
        for i in range(count):
            seed += 1
            data = (png_bytes if fmt == "png" else jpeg_bytes)(size[0], size[1], seed=seed)
            rel = f"{name}/{i:03d}.{'png' if fmt == 'png' else 'jpg'}"
            write(os.path.join(root, rel), data)
            written[rel] = data
    return written


def make_bad_tree(root: str) -> Dict[str, str]:
    """Good files plus one of each bad/odd kind; returns {relative path: expected outcome}
    where the outcome is 'keep', 'png' (re-encoded) or a reject reason."""
    expected = {}
    files = {
        "cats/good.jpg": (jpeg_bytes(seed=1), "keep"),
        "cats/good.png": (png_bytes(seed=2), "keep"),
        "cats/gray.jpg": (jpeg_bytes(seed=3, gray=True), "keep"),
        "cats/cmyk.jpg": (cmyk_jpeg_bytes(seed=4), "png"),
        "cats/deep16.png": (png16_bytes(seed=5), "png"),
        "dogs/rgba.png": (rgba_png_bytes(seed=6), "png"),
        "dogs/anim.gif": (gif_bytes(seed=7), "png"),
        "dogs/bitmap.bmp": (bmp_bytes(seed=8), "png"),
        "dogs/truncated.jpg": (truncated_jpeg_bytes(), "truncated"),
        "dogs/empty.jpg": (b"", "zero bytes"),
        "dogs/notes.jpg": (b"this is a text file, not a JPEG\n", "not an image"),
        "dogs/text.png": (b"hello\n", "not an image"),
        "dogs/corrupt.png": (corrupt_png_bytes(), "corrupt"),
        "dogs/copy_of_good.jpg": (jpeg_bytes(seed=1), "duplicate content"),
        "stray.jpg": (jpeg_bytes(seed=9), "outside any class folder"),
    }
    for rel, (data, outcome) in files.items():
        write(os.path.join(root, rel), data)
        expected[rel] = outcome
    return expected
