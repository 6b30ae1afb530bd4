"""Names of the serving SavedModel's signatures, inputs and outputs (see trainer/export/saved_model.py).

Plain constants without TensorFlow, so REST clients and tools can read them cheaply.
"""
from schemas.labels import LABELS_FILENAME
SERVING_DEFAULT = "serving_default"
SERVING_EXAMPLES = "serving_examples"
SERVING_TENSORS = "serving_tensors"
# Evaluation only (TFMA's Evaluator, the run report, the serving smoke test): the inputs of
# serving_examples, but a record whose image cannot be decoded does not fail the batch.
# eval_examples scores it on a black stand-in image and says so in DECODABLE (1.0 / 0.0);
# eval_decodable returns DECODABLE alone (TFMA's example weight, so it counts for nothing).
EVAL_EXAMPLES = "eval_examples"
EVAL_DECODABLE = "eval_decodable"
DECODABLE = "decodable"
IMAGE_INPUT = "image_bytes"
EXAMPLES_INPUT = "examples"
TENSOR_INPUT = "images"
# Video SavedModels (--is_video_model: i3d, s3dg): serving_default takes encoded frames
# string[B, num_frames], serving_tensors preprocessed frames float32[B, num_frames, H, W, C].
FRAMES_INPUT = "frames_bytes"
FRAMES_TENSOR_INPUT = "frames"
# Class names beside the SavedModel: ``<export_dir>/assets.extra/labels.txt`` (``N:name`` lines).
LABELS_ASSET = LABELS_FILENAME
LABELS_ASSET_DIR = "assets.extra"
OUTPUT_KEYS = ("classes", "scores", "labels", "top_k_classes", "top_k_scores", "top_k_labels")
# serving_examples only: the scores indexed by dataset label (labels_offset leading zeros),
# what the Evaluator scores against the example's raw label.
DATASET_SCORES = "dataset_scores"
