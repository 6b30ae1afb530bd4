"""Names of the serving SavedModel's signatures, inputs and outputs (see trainer/export.py).

Plain constants without TensorFlow, so REST clients and tools can read them cheaply.
"""
from schemas.labels import LABELS_FILENAME
SERVING_DEFAULT = "serving_default"
SERVING_EXAMPLES = "serving_examples"
SERVING_TENSORS = "serving_tensors"
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
