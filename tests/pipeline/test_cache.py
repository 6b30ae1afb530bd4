"""Caching is on by default: a rerun after a Trainer failure reuses the steps before it (checked in
ML Metadata), and a data folder changed in place is ingested again, never served from the cache."""
import os

import pytest

from components.image_example_gen.driver import ImageExampleGenDriver, tree_fingerprint
from runners import digits
from pipeline import run_config
from runners.local import run_local
from tests.runners.test_local_runners import node_states

pytestmark = pytest.mark.e2e
UPSTREAM = ("ImageExampleGen", "StatisticsGen", "ImportSchemaGen", "Transform")


def _config(tmp_path, data, *overrides):
    return run_config.load("smoke", ["train_steps=20", "accuracy_threshold=0.0", *overrides],
                           data_root=data, pipeline_root=str(tmp_path / "root"),
                           serving_dir=str(tmp_path / "serving"))


def test_a_rerun_reuses_what_did_not_change(tmp_path):
    data = str(tmp_path / "digits")
    digits.write_digits(data, per_class=6)
    # A checkpoint the run config accepts (the file exists) but the Trainer cannot restore.
    bad = tmp_path / "bad" / "model.ckpt"
    bad.parent.mkdir()
    bad.with_suffix(".ckpt.index").write_bytes(b"not a checkpoint index")
    failing = _config(tmp_path, data, f"train.checkpoint_path={bad}")
    assert failing.enable_cache  # the default
    with pytest.raises(Exception):  # pylint: disable=broad-except  # whatever the restore raises
        run_local(failing)
    metadata = os.path.join(str(tmp_path / "root"), "metadata.sqlite")
    assert node_states(metadata)["Trainer"] == "FAILED"

    # Fixed (no checkpoint): the upstream steps come from the cache, the rest runs and pushes.
    summary = run_local(_config(tmp_path, data))
    states = node_states(summary.metadata_path)
    assert {node: states[node] for node in UPSTREAM} == {node: "CACHED" for node in UPSTREAM}
    assert states["Trainer"] == states["Pusher"] == "COMPLETE" and summary.pushed

    # The same folder with one image replaced in place (same name, same size class folders):
    # the ExampleGen's fingerprint changes, so it ingests again.
    image = os.path.join(data, "3", sorted(os.listdir(os.path.join(data, "3")))[0])
    with open(os.path.join(data, "4", sorted(os.listdir(os.path.join(data, "4")))[0]), "rb") as f:
        replacement = f.read()
    with open(image, "wb") as f:
        f.write(replacement)
    again = run_local(_config(tmp_path, data, "train_steps=21"))
    assert node_states(again.metadata_path)["ImageExampleGen"] == "COMPLETE"


def test_the_fingerprint_covers_every_file_below_input_base(tmp_path):
    """TFX's own fingerprint globs the split pattern ('*': the class folders); ours the files."""
    from tfx.components.example_gen import driver as tfx_driver
    from tfx.proto import example_gen_pb2

    root = tmp_path / "photos"
    (root / "cat").mkdir(parents=True)
    (root / "cat" / "a.png").write_bytes(b"1111")
    splits = example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single_split", pattern="*")]).splits

    def fingerprints():
        ours = ImageExampleGenDriver.get_input_processor(None, splits, input_base_uri=str(root))
        theirs = tfx_driver.FileBasedDriver.get_input_processor(None, splits, input_base_uri=str(root))
        for processor in (ours, theirs):
            processor.resolve_span_and_version()
        return ours.get_input_fingerprint(0, None), theirs.get_input_fingerprint(0, None)

    before = fingerprints()
    (root / "cat" / "a.png").write_bytes(b"2222")  # same size, same folder entries
    os.utime(root / "cat" / "a.png", ns=(os.stat(root / "cat" / "a.png").st_atime_ns,
                                         os.stat(root / "cat" / "a.png").st_mtime_ns + 1))
    after = fingerprints()
    assert after[0] != before[0]  # ours sees the file
    assert after[1] == before[1]  # TFX's alone would serve the stale cache
    assert tree_fingerprint(str(root)).startswith("files:1,bytes:4,")
