"""`tfslim predict --input_dir`: every file under a folder scored with the serving signature,
in this process and as a Beam RunInference job through the portable job service + SDK workers.

One folder holds real digits (any extension case, nested, JPEG/PNG/TIFF) and hostile files;
every file gets exactly one record, the labels are the serving signature's, the bad files
get error records with ingestion's or the signature's reason, and the counts add up.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from PIL import Image

from prediction import beam_job, inputs, job, local, results, scorer as scorer_lib
from ingestion import convert as convert_lib
from ingestion.formats import image_codec
from serving import predict
from tests.ingestion.hostile import corpus
from tests.pipeline import helpers
from tests.serving.cli import run_tfslim

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Relative path → a phrase its error must contain (ingestion's reason, or the signature's).
HOSTILE = {
    "notes.txt": "not an image",
    "empty.png": "zero bytes",
    "cut/half.png": "truncated",
    "bomb.PNG": "too large",
    "garbage-pixels.png": "corrupt",
    "no-tables.jpg": "image_bytes: the image could not be decoded",
    "pipe.jpg": "not a regular file",
    "elsewhere.png": "link outside source",
}


def _tiff(pixels) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(out, "TIFF")
    return out.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """(root, {relative path: raw bytes} of the images) with HOSTILE's files beside them."""
    root = tmp_path_factory.mktemp("photos")
    images = {}
    for i, (pixels, _) in enumerate(helpers.digit_images(14, start=1750)):
        name, data = [(f"d{i}.png", helpers.encode(pixels)), (f"nested/deeper/D{i}.PNG", helpers.encode(pixels)),
                      (f"nested/d{i}.JPG", helpers.encode(pixels, "JPEG")),
                      (f"scan{i}.TIFF", _tiff(pixels))][i % 4]
        images[name] = data
    good = helpers.encode(helpers.digit_images(1)[0][0])
    images['odd, "name"\nwith a line break.png'] = good  # one JSON line, one quoted CSV field
    hostile = {"notes.txt": b"shopping list", "empty.png": b"", "cut/half.png": good[:len(good) // 2],
               "bomb.PNG": corpus.bomb_png(), "garbage-pixels.png": corpus.garbage_pixels_png(),
               "no-tables.jpg": corpus.jpeg_without_quantization_tables()}
    for name, data in {**images, **hostile}.items():
        os.makedirs(os.path.dirname(root / name), exist_ok=True)
        (root / name).write_bytes(data)
    corpus.make_fifo(str(root / "pipe.jpg"))
    outside = tmp_path_factory.mktemp("outside") / "secret.png"
    outside.write_bytes(good)
    os.symlink(outside, root / "elsewhere.png")
    return str(root), images


@pytest.fixture(scope="module")
def expected_top1(folder, lenet_model_dir):
    """The serving signature's own top-1 for every image (the bytes ingestion would store)."""
    serving_fn = predict.load_serving_fn(lenet_model_dir)
    root, images = folder
    return {os.path.join(root, name): predict.top_k(serving_fn, [image_codec.normalize(data).data])[0][0][0]
            for name, data in images.items()}


@pytest.fixture(scope="module")
def local_run(folder, lenet_model_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("out") / "labels.jsonl")
    request = job.PredictRequest(folder[0], out, os.path.dirname(lenet_model_dir), top_k=3, batch_size=8,
                                 progress=False)
    summary = job.predict_folder(request)
    with open(out) as f:
        return summary, [json.loads(line) for line in f]


def _check_records(records, folder, expected_top1, top_k=3):
    root, images = folder
    by_path = {r["path"]: r for r in records}
    assert len(by_path) == len(records) == len(images) + len(HOSTILE)  # one record per file
    for path, top1 in expected_top1.items():
        assert "error" not in by_path[path], by_path[path]
        assert by_path[path]["labels"][0] == top1, path
        assert len(by_path[path]["labels"]) == len(by_path[path]["scores"]) == top_k
    for name, phrase in HOSTILE.items():
        assert phrase in by_path[os.path.join(root, name)].get("error", ""), by_path[os.path.join(root, name)]


def test_in_process_job_labels_every_file_like_the_serving_signature(local_run, folder, expected_top1):
    summary, records = local_run
    _check_records(records, folder, expected_top1)
    assert summary["beam"] is False and len(summary["outputs"]) == 1
    assert (summary["files"], summary["errors"]) == (len(folder[1]) + len(HOSTILE), len(HOSTILE))


def test_csv_output_holds_the_same_records(folder, lenet_model_dir, local_run, tmp_path):
    out = str(tmp_path / "labels.csv")
    summary = job.predict_folder(job.PredictRequest(folder[0], out, lenet_model_dir, top_k=3, progress=False))
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    as_records = [{"path": r["path"], "error": r["error"]} if r["error"] else
                  {"path": r["path"], "labels": [r[f"label_{k}"] for k in (1, 2, 3)],
                   "scores": [float(r[f"score_{k}"]) for k in (1, 2, 3)]} for r in rows]
    assert as_records == local_run[1]
    assert results.count_records([out], csv_output=True) == {"files": summary["files"], "errors": len(HOSTILE)}


def test_a_large_folder_runs_on_worker_processes_and_beam_flags_always_run_beam():
    options = convert_lib.beam_options([], job.BEAM_FILES, job.BEAM_FILES).get_all_options()
    assert options["direct_running_mode"] == "multi_processing" and options["direct_num_workers"] == 0
    assert convert_lib.uses_beam([], job.BEAM_FILES - 1, job.BEAM_FILES) is False
    assert convert_lib.uses_beam(["--direct_num_workers=2"], 1, job.BEAM_FILES) is True


@pytest.mark.slow
def test_beam_job_through_the_portable_runner_matches_the_in_process_job(
        portable_beam, folder, lenet_model_dir, local_run, expected_top1, tmp_path):
    out = str(tmp_path / "beam" / "labels.jsonl")
    jobs_before = len(portable_beam.completed_jobs())
    result = run_tfslim("predict", f"--input_dir={folder[0]}", f"--output={out}", f"--model_dir={lenet_model_dir}",
                        "--top_k=3", "--num_shards=2", *portable_beam.beam_args(), timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert portable_beam.completed_jobs()[jobs_before:] == ["DONE"]
    shards = beam_job.shard_paths(out)
    assert [os.path.basename(s) for s in shards] == ["labels.jsonl-00000-of-00002", "labels.jsonl-00001-of-00002"]
    records = [json.loads(line) for shard in shards for line in open(shard)]
    _check_records(records, folder, expected_top1)
    assert sorted(records, key=lambda r: r["path"]) == sorted(local_run[1], key=lambda r: r["path"])
    total = len(folder[1]) + len(HOSTILE)
    assert f"tfslim predict: {total} files, {len(folder[1])} labelled, {len(HOSTILE)} errors" in result.stdout


def test_cli_in_process_prints_the_summary_and_refuses_bad_usage_in_one_line(folder, lenet_model_dir, tmp_path):
    out = str(tmp_path / "labels.jsonl")
    result = run_tfslim("predict", f"--input_dir={folder[0]}", f"--output={out}", f"--model_dir={lenet_model_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(folder[1])} labelled, {len(HOSTILE)} errors" in result.stdout
    assert "img/s" in result.stderr  # the progress bar
    assert len(open(out).read().splitlines()) == len(folder[1]) + len(HOSTILE)
    missing = run_tfslim("predict", f"--input_dir={tmp_path / 'nowhere'}", f"--output={out}",
                         f"--model_dir={lenet_model_dir}")
    assert missing.returncode == 1 and missing.stderr.strip().splitlines()[-1] == (
        f"tfslim predict: --input_dir {tmp_path / 'nowhere'} is not a directory")
    usage = run_tfslim("predict", f"--input_dir={folder[0]}", f"--model_dir={lenet_model_dir}")
    assert usage.returncode == 1 and "--input_dir needs --output" in usage.stderr


class _WaitingScorer:
    """A stand-in scorer whose second and third calls each wait for the other (so they must
    run at once) and that counts the calls running together; labels say the image's size."""

    def __init__(self):
        self.barrier = threading.Barrier(2, timeout=30)
        self.lock = threading.Lock()
        self.calls = self.running = self.most_at_once = 0
        self.first_ran_with = -1  # calls running while the first one ran (0: it ran alone)

    def score(self, images):
        with self.lock:
            self.calls += 1
            call = self.calls
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        if call == 1:
            time.sleep(0.05)  # time for a second call to start, were it allowed to
        elif call <= 3:
            self.barrier.wait()  # BrokenBarrierError unless two batches are scored at once
        time.sleep(0.002 * (call % 3))  # later batches finish out of order
        with self.lock:
            if call == 1:
                self.first_ran_with = self.most_at_once - 1
            self.running -= 1
        return [{"labels": [str(len(image))], "scores": [1.0]} for image in images]


def test_in_process_scoring_runs_batches_at_once_and_keeps_file_order(folder):
    """After the first batch (alone: the model's warm-up), two batches are scored at once
    (local.SCORING_THREADS), never more; the records still come in file order, one per file,
    and a refused file keeps its reason in its place."""
    files = list(inputs.list_inputs(folder[0]))
    fake = _WaitingScorer()
    records = list(local.score_files(files, fake, batch_size=3, threads=2))
    assert [r["path"] for r in records] == [f.path for f in files]
    assert fake.calls == -(-len(files) // 3) and fake.most_at_once == 2 and fake.first_ran_with == 0
    for item, rec in zip(files, records):
        data, error = (b"", item.error) if item.error else inputs.read_image(item.path)
        assert rec == ({"path": item.path, "error": error} if error else
                       {"path": item.path, "labels": [str(len(data))], "scores": [1.0]})


@pytest.mark.parametrize("args, cores, threads", [
    (["--direct_running_mode=multi_processing", "--direct_num_workers=2"], 2, 1),
    (["--direct_running_mode=multi_processing", "--direct_num_workers=2"], 8, 4),
    (["--direct_running_mode=multi_processing", "--direct_num_workers=0"], 8, 1),  # a worker per core
    (["--direct_running_mode=multi_processing", "--direct_num_workers=3"], 2, 1),
    (["--direct_running_mode=multi_threading", "--direct_num_workers=2"], 2, None),  # this process
    (["--direct_running_mode=in_memory"], 2, None),
    (["--runner=PortableRunner", "--direct_running_mode=multi_processing"], 2, None),  # not ours to split
])
def test_each_direct_worker_process_gets_its_share_of_the_cores(args, cores, threads):
    from apache_beam.options.pipeline_options import PipelineOptions

    assert beam_job.tf_threads_per_worker(PipelineOptions(args), cores) == threads


def test_a_worker_process_loads_the_model_with_its_thread_share(lenet_model_dir):
    """What a multi_processing worker does (scorer.load with tf_threads) in a fresh process:
    TensorFlow's pools are capped before the model loads; once it runs they cannot change."""
    code = ("import sys, tensorflow as tf\n"
            "from prediction import scorer\n"
            "s = scorer.load(sys.argv[1], 3, 'serving_default', tf_threads=1)\n"
            "print(tf.config.threading.get_intra_op_parallelism_threads(),\n"
            "      tf.config.threading.get_inter_op_parallelism_threads(), scorer.set_tf_threads(2),\n"
            "      len(s.score([open(sys.argv[2], 'rb').read()])))\n")
    image = os.path.join(os.path.dirname(lenet_model_dir), "digit.png")
    with open(image, "wb") as f:
        f.write(helpers.encode(helpers.digit_images(1)[0][0]))
    result = subprocess.run([sys.executable, "-c", code, lenet_model_dir, image], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["1", "1", "False", "1"]


def test_beam_job_in_this_process_scores_with_the_lent_model(folder, lenet_model_dir, local_run, monkeypatch,
                                                             tmp_path):
    """On an in-process runner the workers (two threads) take the launcher's loaded model
    (scorer.lend) instead of loading it again, and write the in-process job's records."""
    lent = scorer_lib.ImageScorer(lenet_model_dir, top_k=3)

    def no_second_load(*args, **kwargs):
        raise AssertionError("the model was loaded again")

    monkeypatch.setattr(scorer_lib, "ImageScorer", no_second_load)
    out = str(tmp_path / "labels.jsonl")
    files = list(inputs.list_inputs(folder[0]))
    counts, shards = beam_job.run(files, lent.model_dir, out, 3, 8, "serving_default",
                                  ["--direct_running_mode=multi_threading", "--direct_num_workers=2"],
                                  threshold=job.BEAM_FILES, show_progress=False, scorer=lent)
    records = sorted((json.loads(line) for shard in shards for line in open(shard)), key=lambda r: r["path"])
    expected = sorted(local_run[1], key=lambda r: r["path"])
    # The same labels and errors; scores to float32's noise (other batches, other sums).
    assert [{**r, "scores": None} for r in records] == [{**r, "scores": None} for r in expected]
    for rec, want in zip(records, expected):
        assert rec.get("scores", []) == pytest.approx(want.get("scores", []), abs=1e-5)
    assert counts == {"files": len(files), "errors": len(HOSTILE)}
    with pytest.raises(AssertionError, match="loaded again"):  # lent only while the job runs
        scorer_lib.load(lent.model_dir, 3, "serving_default")
