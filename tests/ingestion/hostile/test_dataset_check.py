"""Finished outputs are marked: readers refuse unfinished converts, never read partial files."""
import os

import pytest

from ingestion import workdirs
from schemas import dataset_check, layout


def _touch(directory, *names):
    for name in names:
        (directory / name).write_bytes(b"")
    return [str(directory / n) for n in names]


def test_missing_summary_is_refused_with_the_rerun_command(tmp_path):
    files = _touch(tmp_path, "folder_train-00000-of-00002.tfrecord",
                   "folder_train-00001-of-00002.tfrecord")
    with pytest.raises(dataset_check.IncompleteDataset,
                       match=r"no folder_summary.json.*tfslim convert --dataset_name=folder"):
        dataset_check.check_files(files)
    _touch(tmp_path, "folder_summary.json")
    dataset_check.check_files(files)


def test_missing_shards_are_named(tmp_path):
    files = _touch(tmp_path, "folder_summary.json", "folder_train-00000-of-00005.tfrecord",
                   "folder_train-00003-of-00005.tfrecord")
    with pytest.raises(dataset_check.IncompleteDataset,
                       match=r"missing 3 shard.*folder_train-00001-of-00005.tfrecord"):
        dataset_check.check_files(files[1:])
    # TFX artifacts and slim's ImageNet names count too; they need no convert summary.
    with pytest.raises(dataset_check.IncompleteDataset, match="data_tfrecord-00001-of-00002.gz"):
        dataset_check.check_files(_touch(tmp_path, "data_tfrecord-00000-of-00002.gz"))
    dataset_check.check_files(_touch(tmp_path, "train-00000-of-00001"))


def test_the_split_finder_and_file_lister_refuse_unfinished_converts(tmp_path):
    _touch(tmp_path, "d_train-00000-of-00002.tfrecord", "d_train-00001-of-00002.tfrecord.incomplete")
    with pytest.raises(dataset_check.IncompleteDataset, match="no d_summary.json"):
        layout.find_split_files(str(tmp_path), "d", "train")
    _touch(tmp_path, "d_summary.json")
    with pytest.raises(dataset_check.IncompleteDataset, match="d_train-00001-of-00002.tfrecord"):
        layout.list_files([str(tmp_path / "d_train-*")])


def test_partial_files_never_count_as_data():
    assert not dataset_check.is_data_file("d/folder_train-00000-of-00005.tfrecord.incomplete")
    assert not dataset_check.is_data_file("d/folder_summary.json.tmp")
    assert dataset_check.is_data_file("d/folder_train-00000-of-00005.tfrecord")


def test_second_convert_into_a_locked_dir_fails_clearly(tmp_path):
    with workdirs.DatasetLock(str(tmp_path)):
        with pytest.raises(workdirs.DatasetBusy, match=rf"pid {os.getpid()}.*is writing"):
            with workdirs.DatasetLock(str(tmp_path)):
                pass
    with workdirs.DatasetLock(str(tmp_path)):  # released: the next one gets it
        pass
    assert not os.path.exists(tmp_path / workdirs.LOCK_NAME)


def test_leftover_run_and_temp_dirs_are_removed(tmp_path):
    (tmp_path / "data" / ".folder-run-0123abcd" / "plan").mkdir(parents=True)
    (tmp_path / "data" / "keep").mkdir()
    assert workdirs.remove_stale_run_dirs(str(tmp_path / "data")) == [
        str(tmp_path / "data" / ".folder-run-0123abcd")]
    assert os.listdir(tmp_path / "data") == ["keep"]

    dead = tmp_path / "tmp" / "tfslim-folder-dead"
    dead.mkdir(parents=True)
    (dead / workdirs.OWNER_LOCK).write_text("")  # owner gone: nobody holds the lock
    live = workdirs.OwnedTempDir("folder")
    try:
        os.rename(live.path, tmp_path / "tmp" / "tfslim-folder-live")
        live.path = str(tmp_path / "tmp" / "tfslim-folder-live")
        removed = workdirs.remove_stale_temp_dirs(str(tmp_path / "tmp"), min_age_s=0)
        assert removed == [str(dead)]
        assert os.path.isdir(live.path)
    finally:
        live.cleanup()


# The names slim's own converters give their shards (download_and_convert_{flowers,cifar10,mnist}.py,
# build_imagenet_data.py); slim's converters write no summary, so none is needed.
SLIM_CONVERTER_NAMES = {
    ("flowers", "train"): [f"flowers_train_{i:05d}-of-00005.tfrecord" for i in range(5)],
    ("flowers", "validation"): [f"flowers_validation_{i:05d}-of-00005.tfrecord" for i in range(5)],
    ("cifar10", "train"): ["cifar10_train.tfrecord"],
    ("cifar10", "test"): ["cifar10_test.tfrecord"],
    ("mnist", "train"): ["mnist_train.tfrecord"],
    ("imagenet", "train"): [f"train-{i:05d}-of-01024" for i in range(1024)],
    ("imagenet", "validation"): [f"validation-{i:05d}-of-00128" for i in range(128)],
}


@pytest.mark.parametrize("dataset,split", sorted(SLIM_CONVERTER_NAMES))
def test_the_split_finder_reads_slim_converter_names(tmp_path, dataset, split):
    for names in SLIM_CONVERTER_NAMES.values():
        _touch(tmp_path, *names)
    found = layout.find_split_files(str(tmp_path), dataset, split)
    assert [os.path.basename(f) for f in found] == SLIM_CONVERTER_NAMES[(dataset, split)]


def test_a_missing_shard_under_slim_flowers_names_is_named(tmp_path):
    _touch(tmp_path, *SLIM_CONVERTER_NAMES[("flowers", "train")][:2], *SLIM_CONVERTER_NAMES[("flowers", "train")][3:])
    with pytest.raises(dataset_check.IncompleteDataset,
                       match=r"missing 1 shard\(s\) \(flowers_train_00002-of-00005.tfrecord\)"):
        layout.find_split_files(str(tmp_path), "flowers", "train")
    _touch(tmp_path, *SLIM_CONVERTER_NAMES[("imagenet", "validation")][1:])
    with pytest.raises(dataset_check.IncompleteDataset, match=r"validation-00000-of-00128"):
        layout.find_split_files(str(tmp_path), "imagenet", "validation")
