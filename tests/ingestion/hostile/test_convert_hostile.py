"""`tfslim convert` on a hostile tree (real CLI runs): nothing gets in, nothing is lost,
and an interrupted convert is never trained on."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ingestion import records
from ingestion.sources.folder import FolderSource
from tests.ingestion.hostile import corpus
from tests.ingestion import fixtures, helpers

pytestmark = pytest.mark.slow  # real `tfslim` processes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ENV = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
TFSLIM = os.path.join(os.path.dirname(sys.executable), "tfslim")


def _tfslim(*args, timeout):
    return subprocess.run([TFSLIM, *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout, cwd=ROOT)


def _make_hostile_tree(tmp):
    """src/ with good images plus one of each hostile kind; outside/ next to it."""
    src, outside = tmp / "src", tmp / "outside"
    good = fixtures.make_class_tree(str(src), {"cats": 3, "dogs": 3})
    outside_photo = fixtures.write(str(outside / "photo.png"), fixtures.png_bytes(seed=77))
    fixtures.write(str(outside / "secret"), corpus.SECRET)
    fixtures.write(str(outside / "birds" / "b1.png"), fixtures.png_bytes(seed=78))
    fixtures.write(str(src / ".store" / "fish" / "f1.png"), fixtures.png_bytes(seed=79))
    corpus.make_fifo(str(src / "cats" / "pipe.png"))
    os.symlink("../dogs/000.png", src / "cats" / "link_in.png")
    os.symlink(outside_photo, src / "cats" / "link_out.png")
    os.symlink(str(outside / "secret"), src / "cats" / "passwd")
    os.symlink(str(outside / "birds"), src / "birds")       # class folder outside the root
    os.symlink(".store/fish", src / "fish")                  # class folder inside the root
    fixtures.write(str(src / "dogs" / "notes.txt"), corpus.SECRET)
    fixtures.write(str(src / "dogs" / "bomb.png"), corpus.bomb_png())
    fixtures.write(str(src / "dogs" / "garbage.png"), corpus.garbage_pixels_png())
    outside_bytes = {fixtures.png_bytes(seed=77), fixtures.png_bytes(seed=78), corpus.SECRET}
    return src, good, outside_bytes


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    src, good, outside_bytes = _make_hostile_tree(tmp)
    out = tmp / "out"
    # A FIFO that were opened would block forever: the timeout turns a hang into a failure.
    result = _tfslim("convert", "--dataset_name=folder", f"--source={src}", f"--dataset_dir={out}",
                     "--num_shards=1", "--validation_fraction=0.3", "--noprogress", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rejects = {r["path"]: r for r in map(json.loads, open(out / "folder_rejects.jsonl"))}
    examples = helpers.read_tfrecords(str(out / "folder_*-*-of-*.tfrecord"))
    return {"out": out, "result": result, "rejects": rejects, "examples": examples,
            "good": good, "outside": outside_bytes}


def test_fifo_is_rejected_without_being_opened(hostile_run):
    assert hostile_run["rejects"]["cats/pipe.png"]["reason"] == records.NOT_A_REGULAR_FILE


def test_links_outside_the_source_are_rejected_and_never_read(hostile_run):
    rejects = hostile_run["rejects"]
    for path in ("cats/link_out.png", "cats/passwd", "birds"):
        assert rejects[path]["reason"] == records.LINK_OUTSIDE_SOURCE, path
    encoded = {helpers.feature(e, "image/encoded") for e in hostile_run["examples"]}
    assert not encoded & hostile_run["outside"]
    names = {helpers.feature(e, "image/filename").decode() for e in hostile_run["examples"]}
    assert "cats/link_in.png" in names and "fish/f1.png" in names  # links inside: followed
    assert not any(n.startswith("birds") for n in names)


def test_no_reject_reason_or_console_line_echoes_file_contents(hostile_run):
    assert hostile_run["rejects"]["dogs/notes.txt"]["reason"] == records.NOT_AN_IMAGE
    text = (open(hostile_run["out"] / "folder_rejects.jsonl").read() + hostile_run["result"].stdout
            + hostile_run["result"].stderr)
    assert "root:x" not in text


def test_every_entry_is_converted_or_rejected(hostile_run):
    summary = json.load(open(hostile_run["out"] / "folder_summary.json"))
    assert summary["accounted"] is True
    # 6 good + fish/f1.png + cats/link_in.png, whose target dogs/000.png is then a duplicate.
    assert summary["converted"] == len(hostile_run["examples"]) == 3 + 3 + 1 + 1 - 1
    assert hostile_run["rejects"]["dogs/000.png"]["reason"] == records.DUPLICATE_CONTENT
    assert summary["num_classes"] == 3  # cats, dogs, fish: 'birds' points outside
    assert hostile_run["rejects"]["dogs/bomb.png"]["reason"] == records.TOO_LARGE
    assert hostile_run["rejects"]["dogs/garbage.png"]["reason"] == records.CORRUPT
    assert hostile_run["rejects"][".store/fish/f1.png"]["reason"] == records.OUTSIDE_CLASS_FOLDER


def test_allow_outside_links_follows_them(tmp_path):
    src, _, _ = _make_hostile_tree(tmp_path)
    source = FolderSource(str(src), {"allow_outside_links": True})
    assert "birds" in source.class_names()
    listed = {r.key: r for r in source.scan() if isinstance(r, records.ItemRef)}
    assert {"cats/link_out.png", "birds/b1.png", "cats/passwd"} <= set(listed)


def test_killed_convert_is_refused_by_train_and_cleaned_by_the_next_run(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    fixtures.make_class_tree(str(src), {"a": 1500, "b": 1500}, size=(6, 6))
    proc = subprocess.Popen([TFSLIM, "convert", "--dataset_name=folder", f"--source={src}",
                             f"--dataset_dir={out}", "--num_shards=10", "--noprogress"],
                            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not glob.glob(str(out / "folder_train-*-of-*.tfrecord")):  # one finished shard
        assert proc.poll() is None and time.monotonic() < deadline, "convert ended before a shard"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not os.path.exists(out / "folder_summary.json")
    assert glob.glob(str(out / ".folder-run-*"))

    result = _tfslim("train", "--dataset_name=folder", f"--dataset_dir={out}",
                     "--dataset_split_name=train", "--model_name=lenet", "--max_number_of_steps=1",
                     f"--train_dir={tmp_path / 'train'}", timeout=300)
    assert result.returncode != 0
    assert "folder_summary.json" in result.stderr and "tfslim convert --dataset_name=folder" \
        in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr

    # The next run takes the dead run's lock file over and removes its work folder.
    rerun = _tfslim("convert", "--dataset_name=folder", f"--source={src}", f"--dataset_dir={out}",
                    "--num_shards=10", "--noprogress", timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert not glob.glob(str(out / ".folder-run-*")) and not glob.glob(str(out / "*.incomplete"))
    assert json.load(open(out / "folder_summary.json"))["accounted"]
