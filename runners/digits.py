"""The embedded default dataset: scikit-learn's 1,797 real 8x8 handwritten digits as PNG files.

Written as a class-folder tree ``<root>/<digit>/<id>.png`` — slim's flower_photos
layout — so the demo goes through the real raw-image ingestion path.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

_MARKER = ".complete"  # <root>.complete records what was written


def write_digits(root: str, limit: Optional[int] = None, per_class: Optional[int] = None) -> int:
    """Writes the digits as 8-bit grayscale PNGs; skips the work if already complete.

    Args:
      root: output directory (created).
      limit: write only the first ``limit`` digits (for quick tests).
      per_class: write at most this many per class.

    Returns:
      The number of PNG files in the tree.
    """
    from PIL import Image  # pylint: disable=import-outside-toplevel

    # The marker sits beside the tree, not in it: a file at the tree's top level
    # would be (rightly) reported by the ingestion as outside any class folder.
    marker = os.path.normpath(root) + _MARKER
    wanted = f"{limit}:{per_class}"
    if os.path.exists(marker):
        with open(marker) as f:
            written, spec = f.read().split()
        if spec == wanted:
            return int(written)
    digits = _load_digits()
    # sklearn's values are 0..16 intensities; scale to the 0..255 range of a real PNG.
    pixels = np.clip(np.round(digits.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    counts: dict = {}
    written = 0
    for index, (image, target) in enumerate(zip(pixels, digits.target)):
        if limit is not None and written >= limit:
            break
        if per_class is not None and counts.get(target, 0) >= per_class:
            continue
        class_dir = os.path.join(root, str(int(target)))
        os.makedirs(class_dir, exist_ok=True)
        Image.fromarray(image, mode="L").save(os.path.join(class_dir, f"{index:04d}.png"))
        counts[target] = counts.get(target, 0) + 1
        written += 1
    os.makedirs(root, exist_ok=True)
    with open(marker, "w") as f:
        f.write(f"{written} {wanted}")
    return written


class DemoExtraMissing(RuntimeError):
    """scikit-learn (the demo's data set) is not installed."""


def _load_digits():
    """scikit-learn's digits; a one-line error naming the fix where the "demo" extra is missing
    (the pipeline image leaves it out)."""
    try:
        from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise DemoExtraMissing("the demo's digits need scikit-learn: pip install -e '.[demo]' "
                               "(make setup installs it)") from error
    return load_digits()
