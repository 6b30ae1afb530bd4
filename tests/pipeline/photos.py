"""Colour 'photos' made with PIL: visually distinct classes, JPEG and PNG, mixed sizes."""
from __future__ import annotations

import io
import os
import random
from typing import Dict, Tuple

from PIL import Image, ImageDraw

# class name → (background colour, shape colour, shape)
CLASSES: Dict[str, Tuple[Tuple[int, int, int], Tuple[int, int, int], str]] = {
    "apple": ((200, 30, 30), (250, 220, 200), "ellipse"),
    "leaf": ((30, 150, 40), (20, 60, 20), "polygon"),
    "sea": ((30, 60, 200), (230, 240, 255), "rectangle"),
    "sun": ((240, 210, 30), (250, 120, 0), "ellipse"),
}


def photo(name: str, rng: random.Random) -> Image.Image:
    """One image of class ``name``: noisy background colour with a shape of the class."""
    background, fill, shape = CLASSES[name]
    width, height = rng.randint(96, 400), rng.randint(96, 400)
    jitter = lambda c: tuple(max(0, min(255, v + rng.randint(-25, 25))) for v in c)  # noqa: E731
    image = Image.new("RGB", (width, height), jitter(background))
    draw = ImageDraw.Draw(image)
    for _ in range(6):  # clutter so the net must look at colour and shape, not one pixel
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randint(3, max(4, min(width, height) // 10))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=jitter(background))
    x0, y0 = rng.randint(0, width // 3), rng.randint(0, height // 3)
    x1, y1 = rng.randint(2 * width // 3, width), rng.randint(2 * height // 3, height)
    if shape == "ellipse":
        draw.ellipse([x0, y0, x1, y1], fill=jitter(fill))
    elif shape == "rectangle":
        draw.rectangle([x0, y0, x1, y1], fill=jitter(fill))
    else:
        draw.polygon([(x0, y1), ((x0 + x1) // 2, y0), (x1, y1)], fill=jitter(fill))
    return image


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def write_photos(root: str, per_class: int, seed: int = 0) -> int:
    """Writes ``<root>/<class>/<i>.jpg|png``; returns the number of files."""
    rng = random.Random(seed)
    count = 0
    for name in CLASSES:
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for index in range(per_class):
            fmt, ext = ("JPEG", "jpg") if index % 2 else ("PNG", "png")
            with open(os.path.join(root, name, f"{index:03d}.{ext}"), "wb") as f:
                f.write(encode(photo(name, rng), fmt))
            count += 1
    return count


def new_photo_labels(per_class: int = 2):
    """The class names of :func:`new_photos`, in order."""
    return [name for name in CLASSES for _ in range(per_class)]


def new_photos(seed: int, per_class: int = 2):
    """Encoded photos (JPEG and PNG) the model never saw, ``per_class`` of each class."""
    rng = random.Random(seed)
    return [encode(photo(name, rng), "JPEG" if i % 2 else "PNG")
            for name in CLASSES for i in range(per_class)]


def tfslim_run(root, config: str, data: str, overrides, env=None, timeout: int = 1500):
    """``tfslim run --config CONFIG`` on ``data`` as a user runs it (a subprocess in the repo).

    Outputs go under ``root``; ``overrides`` are --set KEY=VALUE strings. Fails the
    test with the output tail when the run fails.
    """
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    command = [os.path.join(os.path.dirname(sys.executable), "tfslim"), "run", "--config", config,
               "--data_dir", data, "--pipeline_root", os.path.join(root, "pipeline_root"),
               "--serving_dir", os.path.join(root, "serving")]
    for override in overrides:
        command += ["--set", override]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=timeout,
                            env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result
