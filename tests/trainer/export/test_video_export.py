"""`tfslim export --is_video_model --num_frames=N` and `tfslim predict` on clip folders (i3d, s3dg).

The SavedModel's serving_default must give what the net gives on the clip whose frames went
one by one through trainer.preprocessing.image_ops (the image path's own preprocessing); serving_tensors
and the frozen GraphDef must agree with it on the preprocessed clip.
"""
import io

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from PIL import Image

from serving import predict
from tests.serving.cli import run_tfslim
from trainer import nets
from trainer.export import video_export
from trainer.preprocessing.image_ops import image_spec_for_net, preprocess_encoded

# The smallest inputs keep the nets cheap on CPU: every stride and pool of s3dg.py pads SAME,
# so any clip length and size >= 1 builds; 2 frames still exercise the temporal kernels.
FRAMES, SIZE = 2, 32
CLASSES = ["walk", "run", "jump"]


def _randomize(net) -> None:
    """Weights that keep activations O(1) through the deep net (the fresh init shrinks them
    to near zero, which would make every clip score 1/3 and the comparisons empty)."""
    rng = np.random.default_rng(3)
    for name, var in net.slim_variables().items():
        shape = var.shape.as_list()
        if name.endswith("weights"):
            value = rng.normal(0, np.sqrt(2.0 / np.prod(shape[:-1])), shape)
        elif name.endswith("moving_variance"):
            value = rng.uniform(0.5, 1.5, shape)
        else:  # biases, beta, moving_mean
            value = rng.normal(0, 0.1, shape)
        var.assign(value.astype(np.float32))


def _png(seed: int, height: int, width: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def _clip(frames, spec) -> np.ndarray:
    """[1, N, S, S, 3]: each frame through the image path's preprocessing."""
    return np.stack([preprocess_encoded(tf.constant(f), spec, is_training=False).numpy()
                     for f in frames])[None]


@pytest.fixture(scope="module")
def i3d_export(tmp_path_factory):
    """(net, SavedModel dir, frozen GraphDef path) of a randomized 3-class i3d via the CLI."""
    root = tmp_path_factory.mktemp("i3d")
    tf_keras.utils.set_random_seed(5)
    net = nets.create_model("i3d", num_classes=len(CLASSES))
    net.ensure_built(SIZE)
    _randomize(net)
    checkpoint = nets.save_slim_checkpoint(net, str(root / "ckpt" / "i3d.ckpt"))
    labels = root / "labels.txt"
    labels.write_text("".join(f"{i}:{name}\n" for i, name in enumerate(CLASSES)))
    out, frozen = str(root / "serving" / "1"), str(root / "i3d_frozen.pb")
    result = run_tfslim("export", "--model_name=i3d", "--is_video_model", f"--num_frames={FRAMES}",
                        f"--image_size={SIZE}", f"--checkpoint_path={checkpoint}", f"--output_dir={out}",
                        f"--labels_file={labels}", f"--output_file={frozen}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"clips of {FRAMES} frames {SIZE}x{SIZE}x3" in result.stdout
    assert "Frozen GraphDef (input frames:0" in result.stdout
    return net, out, frozen


@pytest.mark.slow
def test_video_saved_model_serves_clips_of_encoded_frames_like_the_net(i3d_export):
    net, out, frozen = i3d_export
    spec = image_spec_for_net("i3d", image_size=SIZE)
    # Frames of different sizes in one request: each is decoded and preprocessed on its own.
    clips = [[_png(1, 40, 50), _png(2, 36, 36)], [_png(3, 64, 48), _png(4, 40, 50)]]
    fn = predict.load_serving_fn(out)
    assert predict.clip_frames(fn) == FRAMES
    outputs = predict.run_clips(fn, clips)
    preprocessed = np.concatenate([_clip(c, spec) for c in clips])
    logits, _ = net(tf.constant(preprocessed), training=False)
    expected = tf.nn.softmax(logits).numpy()
    assert np.ptp(expected, axis=1).min() > 0.05  # scores that tell classes apart, not all 1/3
    np.testing.assert_allclose(outputs["scores"], expected, rtol=1e-4, atol=1e-6)
    assert [label.decode() for label in outputs["labels"]] == [CLASSES[c] for c in expected.argmax(1)]
    assert outputs["top_k_labels"].shape == (2, len(CLASSES))
    # Time matters: the same frames in the other order are another clip.
    reversed_scores = predict.run_clips(fn, [clips[0][::-1]])["scores"]
    assert not np.allclose(reversed_scores[0], outputs["scores"][0], atol=1e-4)

    loaded = tf.saved_model.load(out)
    assert sorted(loaded.signatures) == ["serving_default", "serving_tensors"]
    tensors = loaded.signatures["serving_tensors"](frames=tf.constant(preprocessed))
    np.testing.assert_allclose(tensors["scores"].numpy(), outputs["scores"], rtol=1e-5, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="frames_bytes: not a JPEG/PNG"):
        predict.run_clips(fn, [[clips[0][0], b"not an image"]])
    corrupt = bytearray(clips[1][1])
    corrupt[corrupt.index(b"IDAT") + 10:corrupt.index(b"IDAT") + 30] = bytes(20)  # garbage pixel stream
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"frames_bytes: the image could not be decoded.*flat frame index\(es\).*\] \[3\]"):
        predict.run_clips(fn, [clips[0], [clips[1][0], bytes(corrupt)]])

    graph_def = tf.compat.v1.GraphDef()
    with open(frozen, "rb") as f:
        graph_def.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        frozen_scores = session.run("scores:0", feed_dict={"frames:0": preprocessed})
    np.testing.assert_allclose(frozen_scores, outputs["scores"], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_predict_labels_clip_folders_and_names_the_bad_ones(i3d_export, tmp_path):
    _, out, _ = i3d_export
    frames = [_png(11, 40, 50), _png(12, 40, 50), _png(13, 40, 50)]
    good = tmp_path / "clip_good"
    good.mkdir()
    # Name order, not creation order: frame_01 comes first.
    (good / "frame_02.png").write_bytes(frames[1])
    (good / "frame_01.png").write_bytes(frames[0])
    too_long = tmp_path / "clip_three_frames"
    too_long.mkdir()
    for i, frame in enumerate(frames):
        (too_long / f"{i}.png").write_bytes(frame)
    junk = tmp_path / "clip_junk"
    junk.mkdir()
    (junk / "a.png").write_bytes(frames[0])
    (junk / "b.png").write_bytes(b"shopping list")
    single = tmp_path / "frame.png"
    single.write_bytes(frames[0])
    missing = tmp_path / "no_such_clip"

    result = run_tfslim("predict", str(good), str(too_long), str(junk), str(single), str(missing),
                        str(good), f"--model_dir={out}", "--top_k=2")
    assert result.returncode == 1, result.stderr[-2000:]
    expected = predict.run_clips(predict.load_serving_fn(out), [frames[:2]])["top_k_labels"][0]
    lines = result.stdout.splitlines()
    start = lines.index(str(good))
    assert [line.split()[-1] for line in lines[start + 1:start + 3]] == [label.decode() for label in expected[:2]]
    assert result.stdout.count(str(good)) == 2  # labelled again after the bad inputs
    errors = [line for line in result.stderr.splitlines() if line.startswith("tfslim predict: error:")]
    assert len(errors) == 4, result.stderr[-2000:]
    assert f"{too_long}: not labelled: 3 frame files; the model takes clips of exactly 2" in errors[0]
    assert f"{junk}: not labelled:" in errors[1] and "frames_bytes: not a JPEG/PNG" in errors[1]
    assert f"{single}: not labelled: not a folder; this video model labels folders of 2" in errors[2]
    assert f"{missing}: cannot read" in errors[3]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_s3dg_video_saved_model_in_process(tmp_path):
    net = nets.create_model("s3dg", num_classes=len(CLASSES))
    net.ensure_built(SIZE)
    _randomize(net)
    spec = image_spec_for_net("s3dg", image_size=SIZE)
    out = video_export.export_video_saved_model(net, spec, CLASSES, str(tmp_path / "1"), num_frames=3,
                                                batch_size=1)
    frames = [_png(21, 40, 50), _png(22, 40, 50), _png(23, 40, 50)]
    outputs = predict.run_clips(predict.load_serving_fn(out), [frames])
    logits, _ = net(tf.constant(_clip(frames, spec)), training=False)
    np.testing.assert_allclose(outputs["scores"], tf.nn.softmax(logits).numpy(), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="2 class names for a net with 3 outputs"):
        video_export.export_video_saved_model(net, spec, CLASSES[:2], str(tmp_path / "2"), num_frames=3)


@pytest.mark.parametrize("flags,message", [
    (["--num_frames=4"], "--num_frames is for video nets; add --is_video_model"),
    (["--is_video_model"], "--is_video_model needs --num_frames=N"),
    pytest.param(["--is_video_model", "--num_frames=0"], "--is_video_model needs --num_frames=N",
                 marks=pytest.mark.slow),
    pytest.param(["--model_name=i3d", "--is_video_model", "--num_frames=2", "--tflite"],
                 "--tflite converts 4-D image models only", marks=pytest.mark.slow),
])
def test_video_flags_without_their_partner_stop_with_the_reason(flags, message):
    result = run_tfslim("export", *flags)
    assert result.returncode == 1 and f"tfslim export: {message}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("flags,message", [
    (["--model_name=lenet", "--is_video_model", "--num_frames=2"],
     "--is_video_model: lenet is not a video net (the video nets: i3d, s3dg)"),
    (["--model_name=s3dg"], "s3dg is a video net (input [batch, frames, height, width, 3]); "
                            "add --is_video_model --num_frames=N"),
])
def test_video_flag_and_net_must_agree(flags, message, tmp_path):
    result = run_tfslim("export", *flags, f"--checkpoint_path={tmp_path / 'none.ckpt'}",
                        f"--output_dir={tmp_path / 'out'}")
    assert result.returncode == 1 and f"tfslim export: {message}" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_image_model_refuses_a_clip_folder_by_name(lenet_model_dir, digit_pngs, tmp_path):
    clip = tmp_path / "clip"
    clip.mkdir()
    (clip / "0.png").write_bytes(digit_pngs[0][0])
    image = tmp_path / "digit.png"
    image.write_bytes(digit_pngs[0][0])
    result = run_tfslim("predict", str(clip), str(image), f"--model_dir={lenet_model_dir}")
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{clip}: not labelled: a folder (a clip of frames), but the model takes images" in result.stderr
    assert str(image) in result.stdout.splitlines()
