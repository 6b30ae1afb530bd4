"""Fake slim dataset archives made by the tests: flowers tgz, CIFAR pickles, MNIST idx,
an ImageNet-style tree. Same layouts and file names as the real downloads."""
from __future__ import annotations

import gzip
import os
import pickle
import struct
import tarfile
from typing import Dict, List

import numpy as np

from tests.ingestion import fixtures

FLOWER_CLASSES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]


def make_flowers_tgz(directory: str, per_class: int = 80) -> Dict[str, bytes]:
    """``directory/flower_photos.tgz`` with 5 class folders of tiny JPEGs and LICENSE.txt."""
    tree = os.path.join(directory, "build", "flower_photos")
    written = {}
    seed = 100
    for name in FLOWER_CLASSES:
        for i in range(per_class):
            seed += 1
            rel = f"{name}/{seed}_{i:03d}.jpg"
            data = fixtures.jpeg_bytes(8, 10, seed=seed)
            fixtures.write(os.path.join(tree, rel), data)
            written[rel] = data
    fixtures.write(os.path.join(tree, "LICENSE.txt"), b"All images are licensed under CC-BY.\n")
    with tarfile.open(os.path.join(directory, "flower_photos.tgz"), "w:gz") as tar:
        tar.add(tree, arcname="flower_photos")
    return written


def cifar_images(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, 3072), dtype=np.uint8)


def make_cifar_tgz(directory: str, per_batch: int = 6, test: int = 5) -> Dict[str, tuple]:
    """``cifar-10-python.tar.gz`` with data_batch_1..5, test_batch and batches.meta;
    returns {batch: (data, labels)}."""
    tree = os.path.join(directory, "build", "cifar-10-batches-py")
    os.makedirs(tree, exist_ok=True)
    batches = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        count = test if name == "test_batch" else per_batch
        data = cifar_images(count, seed=i)
        labels = [(i + j) % 10 for j in range(count)]
        with open(os.path.join(tree, name), "wb") as f:
            pickle.dump({b"batch_label": name.encode(), b"labels": labels, b"data": data,
                         b"filenames": [f"img_{j}.png".encode() for j in range(count)]}, f)
        batches[name] = (data, labels)
    with open(os.path.join(tree, "batches.meta"), "wb") as f:
        pickle.dump({b"label_names": [n.encode() for n in ["airplane", "automobile", "bird", "cat",
                     "deer", "dog", "frog", "horse", "ship", "truck"]]}, f)
    with tarfile.open(os.path.join(directory, "cifar-10-python.tar.gz"), "w:gz") as tar:
        tar.add(tree, arcname="cifar-10-batches-py")
    return batches


def write_idx(path: str, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">II", magic, array.shape[0])
    if array.ndim == 3:
        header += struct.pack(">II", array.shape[1], array.shape[2])
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def make_mnist(directory: str, train: int = 12, test: int = 7) -> Dict[str, tuple]:
    """The four idx .gz files; returns {split: (images, labels)}."""
    os.makedirs(directory, exist_ok=True)
    out = {}
    for split, count, prefix in (("train", train, "train"), ("test", test, "t10k")):
        rng = np.random.default_rng(count)
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = np.arange(count) % 10
        write_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), images)
        write_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"), labels)
        out[split] = (images, labels)
    return out


SYNSETS = ["n01440764", "n01443537", "n01484850"]


def make_imagenet(root: str) -> Dict[str, List]:
    """train/<synset>/*.JPEG (3 synsets x 3), validation/*.JPEG (4, one without a label
    line), the synset list, the ground-truth file, metadata, one bounding-box XML and a
    CMYK JPEG like the 22 in the real train set."""
    seed = 500
    for synset in SYNSETS:
        for i in range(3):
            seed += 1
            fixtures.write(os.path.join(root, "train", synset, f"{synset}_{i}.JPEG"),
                           fixtures.jpeg_bytes(20, 30, seed=seed))
    fixtures.write(os.path.join(root, "train", SYNSETS[1], f"{SYNSETS[1]}_cmyk.JPEG"),
                   fixtures.cmyk_jpeg_bytes(10, 12, seed=599))
    for i in range(1, 5):
        fixtures.write(os.path.join(root, "validation", f"ILSVRC2012_val_{i:08d}.JPEG"),
                       fixtures.jpeg_bytes(16, 16, seed=600 + i))
    with open(os.path.join(root, "imagenet_lsvrc_2015_synsets.txt"), "w") as f:
        f.write("\n".join(SYNSETS) + "\n")
    with open(os.path.join(root, "imagenet_2012_validation_synset_labels.txt"), "w") as f:
        f.write(f"{SYNSETS[2]}\n{SYNSETS[0]}\n{SYNSETS[1]}\n")  # 3 lines for 4 files
    with open(os.path.join(root, "imagenet_metadata.txt"), "w") as f:
        f.write(f"{SYNSETS[0]}\ttench, Tinca tinca\n{SYNSETS[1]}\tgoldfish, Carassius auratus\n"
                f"{SYNSETS[2]}\tgreat white shark\nn99999999\tunused\n")
    fixtures.write(os.path.join(root, "bounding_boxes", f"{SYNSETS[0]}_0.xml"), (
        "<annotation><size><width>30</width><height>20</height></size>"
        "<object><name>n01440764</name><bndbox><xmin>3</xmin><ymin>2</ymin><xmax>15</xmax>"
        "<ymax>40</ymax></bndbox></object></annotation>").encode())
    return {"synsets": SYNSETS}
