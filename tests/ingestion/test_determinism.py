"""Byte-identical shards across reruns, worker counts, Beam running modes and the Beam-free path."""
import pytest

from ingestion import convert as convert_lib
from tests.ingestion import fixtures, helpers


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("det_src"))
    fixtures.make_bad_tree(root)
    fixtures.make_class_tree(root, {"cats": 15, "dogs": 15}, fmt="jpeg")
    return root


def _convert(tree, out, beam_args):
    request = convert_lib.ConvertRequest(dataset_name="folder", dataset_dir=str(out), source=tree,
                                         num_shards=3, progress=False)
    summary = convert_lib.convert(request, beam_args)
    assert summary["accounted"]
    return helpers.file_bytes(str(out))


@pytest.fixture(scope="module")
def reference(tree, tmp_path_factory):
    return _convert(tree, tmp_path_factory.mktemp("ref"),
                    ["--direct_running_mode=in_memory", "--direct_num_workers=1"])


def test_rerun_same_dir_is_identical(tree, reference, tmp_path):
    out = tmp_path / "out"
    first = _convert(tree, out, ["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    second = _convert(tree, out, ["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    assert first == second == reference


def test_without_beam_flags_it_runs_without_beam_and_writes_the_same_bytes(tree, reference, tmp_path):
    # No Beam flags and a small dataset: local_convert, in this process (dedupe included).
    assert not convert_lib.uses_beam([], 61)
    assert _convert(tree, tmp_path, []) == reference


def test_threads_and_workers_do_not_change_bytes(tree, reference, tmp_path):
    assert _convert(tree, tmp_path, ["--direct_running_mode=multi_threading",
                                     "--direct_num_workers=2"]) == reference


@pytest.mark.slow
def test_multi_processing_gives_the_same_bytes(tree, reference, tmp_path):
    assert _convert(tree, tmp_path, ["--direct_running_mode=multi_processing",
                                     "--direct_num_workers=2"]) == reference


def test_changing_shard_count_removes_stale_shards(tree, tmp_path):
    request = convert_lib.ConvertRequest(dataset_name="folder", dataset_dir=str(tmp_path), source=tree,
                                         num_shards=3, progress=False)
    convert_lib.convert(request, ["--direct_running_mode=in_memory"])
    fewer = convert_lib.ConvertRequest(dataset_name="folder", dataset_dir=str(tmp_path), source=tree,
                                       num_shards=2, progress=False)
    convert_lib.convert(fewer, ["--direct_running_mode=in_memory"])
    shards = convert_lib.list_shards(str(tmp_path), "folder", "train")
    assert [s.rsplit("/", 1)[1] for s in shards] == ["folder_train-00000-of-00002.tfrecord",
                                                    "folder_train-00001-of-00002.tfrecord"]
