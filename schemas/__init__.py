"""Curated TFDV schemas for slim-format image tf.Examples (imported by ImportSchemaGen)."""
import os

from schemas.features import LABEL as LABEL_FEATURE

SCHEMA_DIR = os.path.dirname(os.path.abspath(__file__))
SLIM_IMAGE_SCHEMA = os.path.join(SCHEMA_DIR, "slim_image.pbtxt")


def schema_path(name: str = "slim_image") -> str:
    """Absolute path of ``schemas/<name>.pbtxt``; raises FileNotFoundError naming it."""
    path = os.path.join(SCHEMA_DIR, f"{name}.pbtxt")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No schema {path}; available: "
                                f"{sorted(f[:-6] for f in os.listdir(SCHEMA_DIR) if f.endswith('.pbtxt'))}")
    return path


# Classes per slim dataset (ImageNet: 1000 synsets + background at 0).
DATASET_NUM_CLASSES = {"flowers": 5, "cifar10": 10, "mnist": 10, "imagenet": 1001}
_BBOX_FLOATS = ("image/object/bbox/xmin", "image/object/bbox/ymin",
                "image/object/bbox/xmax", "image/object/bbox/ymax")
_BBOX_INTS = ("image/object/bbox/label", "image/object/class/label")


def dataset_schema(num_classes: int, with_bboxes: bool = False):
    """slim_image.pbtxt with the label's int_domain bounded to [0, num_classes - 1], so
    ExampleValidator reports out-of-range labels (e.g. a new class folder the model was
    not built for); ``with_bboxes`` adds ImageNet's optional box lists."""
    from google.protobuf import text_format  # pylint: disable=import-outside-toplevel
    from tensorflow_metadata.proto.v0 import schema_pb2  # pylint: disable=import-outside-toplevel

    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    with open(SLIM_IMAGE_SCHEMA, encoding="utf-8") as f:
        schema = text_format.Parse(f.read(), schema_pb2.Schema())
    label = next(feature for feature in schema.feature if feature.name == LABEL_FEATURE)
    label.int_domain.min = 0
    label.int_domain.max = num_classes - 1
    if with_bboxes:
        for name in _BBOX_FLOATS + _BBOX_INTS:
            feature = schema.feature.add(name=name)
            feature.type = schema_pb2.FLOAT if name in _BBOX_FLOATS else schema_pb2.INT
            feature.presence.min_fraction = 0.0
            feature.value_count.min = 0
    return schema


def write_dataset_schema(path: str, num_classes: int, with_bboxes: bool = False) -> str:
    """Writes ``dataset_schema(...)`` as pbtxt to ``path`` (for ImportSchemaGen); returns path."""
    from google.protobuf import text_format  # pylint: disable=import-outside-toplevel

    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(dataset_schema(num_classes, with_bboxes)))
    return path
