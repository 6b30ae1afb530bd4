"""The zoo's static facts for `tfslim models`, readable without importing TensorFlow.

The registry (trainer.nets, filled by the family modules) is the one source of truth;
building it imports TF and tf_keras (seconds). ``model_catalog.json`` is a snapshot of
the registry's static fields, rewritten with

    python -m trainer.zoo.model_catalog

and a test fails (naming that command) whenever the snapshot and the registry differ.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List

CATALOG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_catalog.json")
# NetSpec fields shown by `tfslim models`, in column order.
FIELDS = ("name", "default_image_size", "num_classes", "checkpoint_num_classes", "preprocessing",
          "logits_scopes")


def from_registry() -> List[Dict]:
    """The catalog rows built from the live registry (imports TF)."""
    from trainer import nets  # pylint: disable=import-outside-toplevel
    rows = []
    for name in nets.list_models():
        spec = nets.get_spec(name)
        row = {field: getattr(spec, field) for field in FIELDS}
        row["logits_scopes"] = list(row["logits_scopes"])
        rows.append(row)
    return rows


def load(path: str = CATALOG_PATH) -> List[Dict]:
    """The snapshot's rows, sorted by name."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write(path: str = CATALOG_PATH) -> None:
    """Rewrites the snapshot from the registry."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(from_registry(), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write()
    print(f"wrote {CATALOG_PATH}")
