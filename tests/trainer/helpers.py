"""Small slim-format datasets for the trainer tests (written without TensorFlow ops).

``write_split`` writes what `tfslim convert` writes: ``<name>_<split>-0000i-of-0000n.tfrecord``
shards with slim's keys and a ``labels.txt``, so tests exercise the same reader as real data.
"""
from __future__ import annotations

import io
import json
import os
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

DIGIT_NAMES = {i: name for i, name in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])}


def digits(size: Optional[int] = None, channels: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """sklearn's 1,797 real 8x8 digits as uint8 [N, S, S, C] (bilinear upscale to ``size``) + labels."""
    from PIL import Image
    from sklearn.datasets import load_digits

    raw = load_digits()
    pixels = np.clip(np.round(raw.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    if size and size != 8:
        pixels = np.stack([np.asarray(Image.fromarray(p, mode="L").resize((size, size),
                                                                          Image.BILINEAR))
                           for p in pixels])
    images = pixels[..., None]
    if channels == 3:
        images = np.repeat(images, 3, axis=-1)
    return images, raw.target.astype(np.int64)


def holdout_split(labels: np.ndarray, test_fraction: float = 0.2,
                  seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Stratified index split (train, test) with a fixed seed."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        cut = int(round(len(idx) * test_fraction))
        test.extend(idx[:cut])
        train.extend(idx[cut:])
    return np.array(sorted(train)), np.array(sorted(test))


def encode_png(image: np.ndarray) -> bytes:
    from PIL import Image

    mode = "L" if image.shape[-1] == 1 else "RGB"
    buf = io.BytesIO()
    Image.fromarray(image[..., 0] if mode == "L" else image, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def _example(encoded: bytes, label: int, name: str, height: int, width: int, filename: str) -> bytes:
    from tensorflow.core.example import example_pb2, feature_pb2

    def b(v):
        return feature_pb2.Feature(bytes_list=feature_pb2.BytesList(value=[v]))

    def i(v):
        return feature_pb2.Feature(int64_list=feature_pb2.Int64List(value=[v]))

    feats = {"image/encoded": b(encoded), "image/format": b(b"png"),
             "image/class/label": i(int(label)), "image/class/text": b(name.encode()),
             "image/height": i(height), "image/width": i(width),
             "image/filename": b(filename.encode())}
    return example_pb2.Example(features=feature_pb2.Features(feature=feats)).SerializeToString()


def write_split(dataset_dir: str, dataset_name: str, split: str, images: np.ndarray,
                labels: Sequence[int], class_names: Dict[int, str] = DIGIT_NAMES,
                num_shards: int = 2, label_shift: int = 0) -> list:
    """Writes slim shards + labels.txt; ``label_shift`` adds to every stored label (background class)."""
    import tensorflow as tf

    os.makedirs(dataset_dir, exist_ok=True)
    paths = [os.path.join(dataset_dir, f"{dataset_name}_{split}-{s:05d}-of-{num_shards:05d}.tfrecord")
             for s in range(num_shards)]
    writers = [tf.io.TFRecordWriter(p) for p in paths]
    for n, (image, label) in enumerate(zip(images, labels)):
        stored = int(label) + label_shift
        writers[n % num_shards].write(_example(
            encode_png(image), stored, class_names.get(stored, str(stored)), image.shape[0],
            image.shape[1], f"{split}/{n:05d}.png"))
    for w in writers:
        w.close()
    with open(os.path.join(dataset_dir, "labels.txt"), "w") as f:
        f.write("".join(f"{k}:{v}\n" for k, v in sorted(class_names.items())))
    # The completion marker readers check (a finished convert writes it last).
    summary_path = os.path.join(dataset_dir, f"{dataset_name}_summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {"splits": {}}
    summary["splits"][split] = {"count": len(labels), "shards": num_shards}
    with open(summary_path, "w") as f:
        json.dump(summary, f)
    return paths


def write_digits(dataset_dir: str, size: Optional[int] = None, channels: int = 1,
                 train_limit: Optional[int] = None, test_limit: Optional[int] = None,
                 dataset_name: str = "digits", num_shards: int = 2) -> Dict[str, int]:
    """Real digits as a `tfslim convert`-style dataset with train/validation splits; returns sizes."""
    images, labels = digits(size, channels)
    train, test = holdout_split(labels)
    train, test = train[:train_limit], test[:test_limit]
    write_split(dataset_dir, dataset_name, "train", images[train], labels[train], num_shards=num_shards)
    write_split(dataset_dir, dataset_name, "validation", images[test], labels[test],
                num_shards=num_shards)
    return {"train": len(train), "validation": len(test)}


def digits_dataset_dir(tmp_path_factory, train_limit: int, test_limit: int) -> str:
    """A fresh `write_digits` dataset for a module fixture; returns its directory."""
    root = str(tmp_path_factory.mktemp("digits"))
    write_digits(root, train_limit=train_limit, test_limit=test_limit)
    return root
