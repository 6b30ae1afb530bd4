"""Curated TFDV schemas for slim-format image tf.Examples (imported by ImportSchemaGen)."""
import os

SCHEMA_DIR = os.path.dirname(os.path.abspath(__file__))
SLIM_IMAGE_SCHEMA = os.path.join(SCHEMA_DIR, "slim_image.pbtxt")


def schema_path(name: str = "slim_image") -> str:
    """Absolute path of ``schemas/<name>.pbtxt``; raises FileNotFoundError naming it."""
    path = os.path.join(SCHEMA_DIR, f"{name}.pbtxt")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No schema {path}; available: "
                                f"{sorted(f[:-6] for f in os.listdir(SCHEMA_DIR) if f.endswith('.pbtxt'))}")
    return path
