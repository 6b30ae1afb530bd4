"""Every row of the checkpoint table: slim's figures, and its layout check.

The layout check writes a synthetic checkpoint in slim's variable names (the
layout of slim's graph, see tests/trainer/slim_layouts.py) and restores it into
the zoo net with nothing missing or left over. Rows of one net (the 16
MobileNet v1 width/resolution pairs are 4 nets) share one build and one
checkpoint; each row's image size then runs through the restored net.
"""
import collections
import itertools

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer import slim_layouts
from trainer import nets
from trainer.zoo import pretrained

TABLE = pretrained.table()
ROWS_BY_NET = collections.defaultdict(list)
for _row in TABLE.values():
    ROWS_BY_NET[_row.model_name].append(_row)

# Seconds to build or hundreds of MB of weights each: with the slow tests.
HEAVY = ("inception_v3", "inception_v4", "inception_resnet_v2", "resnet_v1_50", "resnet_v1_101",
         "resnet_v1_152", "resnet_v2_50", "resnet_v2_101", "resnet_v2_152", "vgg_16", "vgg_19",
         "nasnet_large", "pnasnet_large")
LIGHT = tuple(name for name in ROWS_BY_NET if name not in HEAVY)

# slim's reported figures (README tables), spot-checked against the table.
SLIM_FIGURES = {  # name: (top-1, top-5, image size)
    "inception_v3": (78.0, 93.9, 299),
    "mobilenet_v1_1.0_224": (70.9, 89.9, 224),
    "mobilenet_v1_0.75_192": (67.2, 87.3, 192),
    "mobilenet_v1_0.5_160": (59.1, 81.9, 160),
    "mobilenet_v1_0.25_128": (41.5, 66.3, 128),
    "mobilenet_v2": (71.9, 91.0, 224),
    "mobilenet_v2_140": (74.9, 92.5, 224),
    "mobilenet_v3_large": (75.2, None, 224),
    "mobilenet_v3_small_minimalistic": (61.9, None, 224),
    "mobilenet_edgetpu": (75.6, None, 224),
    "mobilenet_edgetpu_075": (73.5, None, 224),
    "nasnet_mobile": (74.0, 91.6, 224),
    "nasnet_large": (82.7, 96.2, 331),
    "pnasnet_large": (82.9, 96.2, 331),
    "pnasnet_mobile": (74.2, 91.9, 224),
}


def test_every_row_is_a_zoo_net_with_slims_figures():
    assert len(TABLE) == 44
    for name, (top1, top5, size) in SLIM_FIGURES.items():
        entry = TABLE[name]
        assert (entry.top1, entry.top5, entry.image_size) == (top1, top5, size), name
    widths = {"mobilenet_v1": "1.0", "mobilenet_v1_075": "0.75", "mobilenet_v1_050": "0.5",
              "mobilenet_v1_025": "0.25"}
    v1 = {(widths[e.model_name], e.image_size) for e in TABLE.values()
          if e.name.startswith("mobilenet_v1_") and e.name.count("_") == 3}
    assert v1 == set(itertools.product(widths.values(), (224, 192, 160, 128)))
    for entry in TABLE.values():
        spec = nets.get_spec(entry.model_name)
        assert entry.num_classes == spec.checkpoint_num_classes, entry.name
        assert entry.labels_offset == entry.num_classes - 1000, entry.name  # 1: background class
        assert entry.exclude_scopes == spec.logits_scopes, entry.name
        assert entry.image_size >= (spec.min_image_size or 1), entry.name
        assert 0 < entry.top1 < (entry.top5 or 100) <= 100, entry.name
        assert entry.url.startswith(("http://download.tensorflow.org/models/",
                                     "https://storage.googleapis.com/")), entry.name
        assert entry.tarball.endswith((".tar.gz", ".tgz")), entry.name
    assert set(HEAVY) <= set(ROWS_BY_NET)  # every net of the table is checked below


def test_recorded_tf_slim_layouts_are_tf_slims_graphs():
    # The recording is tf_slim's graph; VGG builds in a second (the ResNets and Inceptions in
    # tens of seconds each; tests/nets' parity tests restore their live tf_slim graphs).
    assert set(slim_layouts.TF_SLIM_NETS) | set(slim_layouts.RESEARCH_SLIM_NETS) == set(ROWS_BY_NET)
    assert slim_layouts.recorded_layout("vgg_16") == slim_layouts.tf_slim_layout("vgg_16")


def _check_layout(model_name: str, directory) -> None:
    """Restores slim's layout into ``model_name`` built at its first row's image size, then
    runs the other rows' sizes through it (slim's aux-head kernels depend on the size)."""
    rows = ROWS_BY_NET[model_name]
    num_classes = rows[0].num_classes
    layout = slim_layouts.recorded_layout(model_name)
    names = sorted(layout)
    prefix = str(directory / "model.ckpt")
    # Variable i holds the value i, so a restore under the wrong name shows.
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.fill(layout[name], float(i)) for i, name in enumerate(names)])
    # Training mode, as fine-tuning builds it: NASNet's aux head is in the released checkpoints.
    net = nets.create_model(model_name, num_classes=num_classes, is_training=True)
    sizes = list(dict.fromkeys(row.image_size for row in rows))
    for size in sizes:  # the first call builds the variables
        logits, _ = net(tf.zeros([1, size, size, 3]), training=False)
        assert logits.shape == (1, num_classes), (model_name, size)
        if size == sizes[0]:
            report = nets.restore_slim_checkpoint(net, prefix)
    assert not report.missing and not report.unused, report.summary()
    assert sorted(report.restored) == sorted(set(names) - {"global_step"})
    variables = net.slim_variables()
    wrong = [name for i, name in enumerate(names)
             if name in variables and np.ravel(variables[name].numpy())[0] != i]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("model_name", LIGHT)
def test_slim_layout_restores_with_nothing_missing_or_left_over(model_name, tmp_path):
    _check_layout(model_name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("model_name", HEAVY)
def test_slim_layout_of_heavy_nets_restores(model_name, tmp_path):
    _check_layout(model_name, tmp_path)
