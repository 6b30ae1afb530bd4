"""`tfslim convert` end to end (subprocess), Beam pass-through flags, offline download."""
import json
import os
import subprocess
import sys

import pytest

from ingestion import convert as convert_lib
from ingestion import download
from ingestion.sources.flowers import FlowersSource
from tests.ingestion import fixtures

ENV = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
TFSLIM = [sys.executable, "-c", "import sys; from cli import main; main(['tfslim'] + sys.argv[1:])"]


def _tfslim(*args, timeout=600):
    return subprocess.run(TFSLIM + list(args), capture_output=True, text=True, env=ENV,
                          timeout=timeout, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_convert_folder_with_beam_flags(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    expected = fixtures.make_bad_tree(str(src))
    fixtures.make_class_tree(str(src), {"cats": 5, "dogs": 5}, fmt="jpeg")
    result = _tfslim("convert", "--dataset_name=folder", f"--source={src}", f"--dataset_dir={out}",
                     "--num_shards=3", "--validation_fraction=0.3", "--noprogress",
                     "--direct_running_mode=in_memory", "--", "--direct_num_workers=1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "folder: 18 of 25 inputs converted, 7 rejected" in result.stdout
    assert "rejected: duplicate content" in result.stdout
    names = sorted(os.listdir(out))
    assert names == sorted([f"folder_{split}-{i:05d}-of-00003.tfrecord" for split in ("train", "validation")
                            for i in range(3)] + ["labels.txt", "folder_rejects.jsonl", "folder_summary.json"])
    with open(out / "folder_rejects.jsonl") as f:
        rejects = [json.loads(line) for line in f]
    assert {r["path"]: r["reason"] for r in rejects} == {
        rel: outcome for rel, outcome in expected.items() if outcome not in ("keep", "png")}
    assert (out / "labels.txt").read_text() == "0:cats\n1:dogs\n"


def test_missing_archive_fails_naming_the_file(tmp_path):
    request = convert_lib.ConvertRequest(dataset_name="flowers", dataset_dir=str(tmp_path), download=False)
    with pytest.raises(download.SourceMissing) as err:
        convert_lib.convert(request)
    assert f"place it at {tmp_path}/flower_photos.tgz" in str(err.value)
    imagenet = convert_lib.ConvertRequest(dataset_name="imagenet", dataset_dir=str(tmp_path))
    with pytest.raises(download.SourceMissing, match="cannot be downloaded automatically"):
        convert_lib.convert(imagenet)


def test_offline_download_fails_at_once(tmp_path):
    class Unreachable(FlowersSource):
        # Port 9 (discard) on localhost refuses at once, like an offline machine's DNS failure.
        download_urls = {"flower_photos.tgz": "http://127.0.0.1:9/flower_photos.tgz"}

    with pytest.raises(download.SourceMissing) as err:
        download.ensure_source(Unreachable, str(tmp_path))
    message = str(err.value)
    assert "place flower_photos.tgz in --dataset_dir=" + str(tmp_path) in message
    assert not os.listdir(tmp_path)  # no partial file left


def test_bad_flags_are_reported(tmp_path):
    result = _tfslim("convert", "--dataset_name=nope", f"--dataset_dir={tmp_path}", timeout=120)
    assert result.returncode != 0 and "dataset_name" in result.stderr


def test_default_beam_mode_depends_on_size():
    small = convert_lib.beam_options([], 10).get_all_options()
    assert (small["runner"], small["direct_running_mode"], small["direct_num_workers"]) == (
        "DirectRunner", "in_memory", 1)
    large = convert_lib.beam_options([], convert_lib.MULTI_PROCESSING_ITEMS).get_all_options()
    assert (large["direct_running_mode"], large["direct_num_workers"]) == ("multi_processing", 0)
    given = convert_lib.beam_options(["--direct_num_workers=3"], 10).get_all_options()
    assert given["direct_num_workers"] == 3
    dataflow = convert_lib.beam_options(["--runner=DataflowRunner", "--project=p"], 10**6)
    assert dataflow.get_all_options(drop_default=True) == {"runner": "DataflowRunner", "project": "p"}
