"""The variable layout (slim name -> shape) of each released checkpoint in the table.

A released checkpoint holds the variables of the slim graph that trained it, so
its layout is that graph's variable list, recorded in
``data/slim_layouts.json.gz`` (:func:`recorded_layout`) from two sources:

- tf_slim 1.1.0's own graph where tf_slim has the net (inception v1-v3, resnet
  v1/v2, vgg; :func:`tf_slim_layout`, which a test also runs live);
- otherwise (MobileNet v1/v2/v3/EdgeTPU, NASNet-A, PNASNet-5, Inception v4,
  Inception-ResNet-v2) tensorflow/models' research/slim, the code that wrote
  those checkpoints, built with tf_slim 1.1.0 in graph mode.

Building slim's graphs takes seconds to tens of seconds per net, so they are
recorded once, with

    python -m tests.trainer.slim_layouts --slim_dir /path/to/models/research/slim

Both build slim's *training* graph with the global step made first, as
train_image_classifier.py did when it wrote the released checkpoints: NASNet's
and PNASNet's aux heads are in them.
"""
from __future__ import annotations

import argparse
import gzip
import importlib
import json
import os
import sys
import types
from typing import Dict, List

Layout = Dict[str, List[int]]

DATA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                         "slim_layouts.json.gz")

# Zoo name -> (tf_slim.nets module, function, arg_scope function, image size, classes).
TF_SLIM_NETS = {
    "inception_v1": ("inception", "inception_v1", "inception_v1_arg_scope", 224, 1001),
    "inception_v2": ("inception", "inception_v2", "inception_v2_arg_scope", 224, 1001),
    "inception_v3": ("inception", "inception_v3", "inception_v3_arg_scope", 299, 1001),
    "resnet_v1_50": ("resnet_v1", "resnet_v1_50", "resnet_arg_scope", 224, 1000),
    "resnet_v1_101": ("resnet_v1", "resnet_v1_101", "resnet_arg_scope", 224, 1000),
    "resnet_v1_152": ("resnet_v1", "resnet_v1_152", "resnet_arg_scope", 224, 1000),
    "resnet_v2_50": ("resnet_v2", "resnet_v2_50", "resnet_arg_scope", 299, 1001),
    "resnet_v2_101": ("resnet_v2", "resnet_v2_101", "resnet_arg_scope", 299, 1001),
    "resnet_v2_152": ("resnet_v2", "resnet_v2_152", "resnet_arg_scope", 299, 1001),
    "vgg_16": ("vgg", "vgg_16", "vgg_arg_scope", 224, 1000),
    "vgg_19": ("vgg", "vgg_19", "vgg_arg_scope", 224, 1000),
}

# Nets with a released checkpoint that tf_slim 1.1.0 lacks (1001 classes); names are
# slim's nets_factory keys.
RESEARCH_SLIM_NETS = ("inception_v4", "inception_resnet_v2", "mobilenet_v1", "mobilenet_v1_075",
                      "mobilenet_v1_050", "mobilenet_v1_025", "mobilenet_v2", "mobilenet_v2_140",
                      "mobilenet_v3_large", "mobilenet_v3_small",
                      "mobilenet_v3_large_minimalistic", "mobilenet_v3_small_minimalistic",
                      "mobilenet_edgetpu", "mobilenet_edgetpu_075", "nasnet_mobile",
                      "nasnet_large", "pnasnet_mobile", "pnasnet_large")


def _graph_layout(build) -> Layout:
    """Variables of the graph ``build()`` makes, by op name."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    with tf.Graph().as_default():
        build()
        return {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}


def tf_slim_layout(name: str) -> Layout:
    """The layout of tf_slim 1.1.0's own graph of ``name`` (its released class count)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from tests.trainer.nets import oracle  # pylint: disable=import-outside-toplevel

    tf_slim = oracle.import_tf_slim()
    module_name, fn_name, scope_name, size, num_classes = TF_SLIM_NETS[name]
    module = importlib.import_module(f"tf_slim.nets.{module_name}")

    def build():
        tf.compat.v1.train.get_or_create_global_step()  # first, as train_image_classifier.py
        images = tf.compat.v1.placeholder(tf.float32, [1, size, size, 3])
        with tf_slim.arg_scope(getattr(module, scope_name)()):
            getattr(module, fn_name)(images, num_classes, is_training=True)

    return _graph_layout(build)


def recorded_layout(name: str) -> Layout:
    """The recorded layout of the released checkpoint of zoo net ``name``."""
    with gzip.open(DATA_PATH, "rt", encoding="utf-8") as f:
        return json.load(f)["layouts"][name]


def _legacy_shims() -> None:
    """What research/slim still imports from TF1 and NumPy < 1.24, for graph building only."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    if "int" not in np.__dict__:
        np.int = int  # mobilenet_v3.py rounds with np.int at import time
    try:
        importlib.import_module("tensorflow.contrib")
    except ImportError:
        class HParams(types.SimpleNamespace):  # nasnet.py's contrib_training.HParams
            def set_hparam(self, key, value):
                setattr(self, key, value)

        contrib = types.ModuleType("tensorflow.contrib")
        contrib.training = types.SimpleNamespace(HParams=HParams)
        sys.modules["tensorflow.contrib"] = contrib


def research_slim_layout(nets_factory, name: str) -> Layout:
    """The layout of research/slim's ``name`` (1001 classes, training graph)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    network_fn = nets_factory.get_network_fn(name, num_classes=1001, is_training=True)
    size = network_fn.default_image_size

    def build():
        tf.compat.v1.train.get_or_create_global_step()  # first, as train_image_classifier.py
        network_fn(tf.compat.v1.placeholder(tf.float32, [1, size, size, 3]))

    return _graph_layout(build)


def record(slim_dir: str, output: str = DATA_PATH) -> None:
    """Builds every net of TF_SLIM_NETS and RESEARCH_SLIM_NETS and writes their layouts."""
    from tests.trainer.nets import oracle  # pylint: disable=import-outside-toplevel

    oracle.import_tf_slim()
    _legacy_shims()
    sys.path.insert(0, os.path.abspath(slim_dir))
    nets_factory = importlib.import_module("nets.nets_factory")
    layouts, sources = {}, {}
    for name in TF_SLIM_NETS:
        layouts[name], sources[name] = tf_slim_layout(name), "tf_slim 1.1.0"
    for name in RESEARCH_SLIM_NETS:
        layouts[name] = research_slim_layout(nets_factory, name)
        sources[name] = "tensorflow/models research/slim with tf_slim 1.1.0"
    write(layouts, sources, output)


def write(layouts: Dict[str, Layout], sources: Dict[str, str], output: str = DATA_PATH) -> None:
    """The data file; the same layouts give the same bytes (sorted keys, no name or time in
    the gzip header)."""
    os.makedirs(os.path.dirname(output), exist_ok=True)
    document = {"_about": "slim name -> shape of each released checkpoint's training graph, "
                          "written by tests/trainer/slim_layouts.py",
                "sources": sources,
                "layouts": {name: dict(sorted(layout.items())) for name, layout in layouts.items()}}
    with open(output, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as raw:
        raw.write(json.dumps(document, indent=0).encode("utf-8"))
    for name, layout in layouts.items():
        print(f"{name}: {len(layout)} variables ({sources[name]})", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--slim_dir", required=True,
                        help="research/slim of a tensorflow/models checkout")
    parser.add_argument("--output", default=DATA_PATH)
    args = parser.parse_args(argv)
    record(args.slim_dir, args.output)


if __name__ == "__main__":
    main()
