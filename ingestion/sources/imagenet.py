"""`imagenet`: ILSVRC-2012 JPEGs, 1001 classes with 0 = background (slim's convention).

Layout under ``root`` (file names as slim's build_imagenet_data expects; each can be
moved with a source option of the same name):
  train/<synset>/*.JPEG
  validation/*.JPEG  (or validation/<synset>/*.JPEG)
  synsets_file            imagenet_lsvrc_2015_synsets.txt (one synset per line; labels
                          1..N in sorted order; default: the train sub-directories)
  validation_labels_file  imagenet_2012_validation_synset_labels.txt (line i = synset of
                          the i-th validation file in sorted order)
  metadata_file           imagenet_metadata.txt (``synset<TAB>human words``, optional:
                          class text and labels.txt use the words, else the synset)
  bbox_dir                bounding_boxes/ (optional PASCAL-VOC XMLs ``<stem>.xml``, flat or
                          under ``<synset>/`` or ``validation/``)
With ``bbox_dir`` every example carries ``image/object/bbox/{xmin,ymin,xmax,ymax}``
(normalized, clipped to [0, 1]) and the box labels (the image's label), empty lists
when an image has no boxes, as slim does.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from typing import Dict, Iterator, List, Optional, Sequence, Tuple


from ingestion.formats import example as example_lib
from ingestion import records
from ingestion.sources import base
from schemas import fileio

SYNSETS_FILE = "imagenet_lsvrc_2015_synsets.txt"
VALIDATION_LABELS_FILE = "imagenet_2012_validation_synset_labels.txt"
METADATA_FILE = "imagenet_metadata.txt"
BBOX_DIR = "bounding_boxes"
BACKGROUND = "background"


def parse_boxes(xml_text: str) -> List[Tuple[float, float, float, float]]:
    """PASCAL-VOC annotation → [(xmin, ymin, xmax, ymax)] normalized and clipped to [0, 1];
    degenerate boxes are dropped."""
    root = ElementTree.fromstring(xml_text)
    width = float(root.findtext("size/width") or 0)
    height = float(root.findtext("size/height") or 0)
    if width <= 0 or height <= 0:
        return []
    boxes = []
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        if box is None:
            continue
        values = [float(box.findtext(tag) or 0) for tag in ("xmin", "ymin", "xmax", "ymax")]
        xmin, xmax = (min(max(v / width, 0.0), 1.0) for v in (values[0], values[2]))
        ymin, ymax = (min(max(v / height, 0.0), 1.0) for v in (values[1], values[3]))
        if xmin < xmax and ymin < ymax:
            boxes.append((xmin, ymin, xmax, ymax))
    return boxes


class _ImagenetReader(base.Reader):
    """File bytes plus the image's boxes when a bbox dir is configured."""

    def __init__(self, bbox_dir: Optional[str]):
        self._bbox_dir = bbox_dir

    def _xml_for(self, ref: records.ItemRef) -> Optional[str]:
        stem = os.path.splitext(os.path.basename(ref.key))[0]
        parent = os.path.basename(os.path.dirname(ref.key))
        for sub in ("", parent, ref.split):
            path = os.path.join(self._bbox_dir, sub, stem + ".xml")
            if fileio.exists(path):
                return path
        return None

    def read(self, ref: records.ItemRef) -> records.RawItem:
        item = records.RawItem(data=base.read_bytes(ref.locator))
        if self._bbox_dir:
            boxes: List[Tuple[float, float, float, float]] = []
            xml_path = self._xml_for(ref)
            if xml_path:
                try:
                    with fileio.open_file(xml_path, "r") as f:
                        boxes = parse_boxes(f.read())
                except (OSError, ElementTree.ParseError, ValueError) as err:
                    raise records.Rejected(records.CORRUPT, f"bounding boxes {xml_path}: {err}") from None
            for axis, key in enumerate(example_lib.BBOX_KEYS):
                item.extra[key] = (example_lib.FLOAT, tuple(float(box[axis]) for box in boxes))
            for key in example_lib.BBOX_LABEL_KEYS:
                item.extra[key] = (example_lib.INT64, tuple(ref.label for _ in boxes))
        return item


class ImagenetSource(base.Source):
    """ImageNet train/validation trees; see the module doc."""
    name = "imagenet"
    native_splits = ("train", "validation")
    required_files = ("train/", "validation/", VALIDATION_LABELS_FILE)
    download_urls: Dict[str, str] = {}  # ImageNet needs a registered download

    def _path(self, option: str, default: str) -> str:
        value = self.options.get(option, default)
        return value if os.path.isabs(value) else os.path.join(self.root, value)

    def _bbox_dir(self) -> Optional[str]:
        path = self._path("bbox_dir", BBOX_DIR)
        return path if fileio.isdir(path) else None

    def synsets(self) -> List[str]:
        """Sorted synsets (label 1..N); from the synset file, else the train directories."""
        path = self._path("synsets_file", SYNSETS_FILE)
        if fileio.exists(path):
            with fileio.open_file(path, "r") as f:
                names = [line.strip() for line in f if line.strip()]
        else:
            train = os.path.join(self.root, "train")
            if not fileio.isdir(train):
                raise FileNotFoundError(f"imagenet: neither {path} nor {train}/ exists")
            names = [n for n in base.list_dir(train) if fileio.isdir(os.path.join(train, n))]
        return sorted(set(names))

    def human_names(self) -> Dict[str, str]:
        path = self._path("metadata_file", METADATA_FILE)
        if not fileio.exists(path):
            return {}
        names = {}
        with fileio.open_file(path, "r") as f:
            for line in f:
                synset, _, words = line.rstrip("\n").partition("\t")
                if synset and words:
                    names[synset] = words
        return names

    def class_names(self, selectors: Sequence[str] = ("*",)) -> List[str]:
        human = self.human_names()
        return [BACKGROUND] + [human.get(s, s) for s in self.synsets()]

    def scan(self, selector: str = "*") -> Iterator[base.ScanResult]:
        splits = list(self.native_splits) if selector in ("*", "") else [selector]
        synsets = self.synsets()
        label_of = {s: i + 1 for i, s in enumerate(synsets)}
        texts = self.class_names()
        for split in splits:
            if split not in self.native_splits:
                raise ValueError(f"imagenet has splits {list(self.native_splits)}, not {split!r}")
            split_root = os.path.join(self.root, split)
            if not fileio.isdir(split_root):
                raise FileNotFoundError(f"imagenet: no {split_root}/")
            flat = [n for n in base.list_dir(split_root) if not fileio.isdir(os.path.join(split_root, n))]
            if split == "validation" and flat:
                yield from self._scan_flat(split_root, flat, label_of, texts)
            else:
                yield from self._scan_tree(split, split_root, label_of, texts)

    def _scan_tree(self, split, split_root, label_of, texts) -> Iterator[base.ScanResult]:
        for directory, _, files in base.walk(split_root):
            rel_dir = os.path.relpath(directory, split_root)
            synset = "" if rel_dir == "." else rel_dir.split(os.sep)[0]
            for filename in files:
                path = os.path.join(directory, filename)
                key = os.path.relpath(path, self.root).replace(os.sep, "/")
                if synset in label_of:
                    label = label_of[synset]
                    yield records.ItemRef(key, label, texts[label], path, split=split)
                elif not synset:
                    yield records.Reject(key, records.OUTSIDE_CLASS_FOLDER, "file at the split's top level")
                else:
                    yield records.Reject(key, records.NO_LABEL, f"synset {synset} not in the synset list")

    def _scan_flat(self, split_root, files, label_of, texts) -> Iterator[base.ScanResult]:
        path = self._path("validation_labels_file", VALIDATION_LABELS_FILE)
        if not fileio.exists(path):
            raise FileNotFoundError(f"imagenet: validation labels file {path} is missing")
        with fileio.open_file(path, "r") as f:
            truth = [line.strip() for line in f if line.strip()]
        for position, filename in enumerate(files):
            key = f"validation/{filename}"
            synset = truth[position] if position < len(truth) else None
            if synset is None:
                yield records.Reject(key, records.NO_LABEL, f"{os.path.basename(path)} has "
                                     f"{len(truth)} lines")
            elif synset not in label_of:
                yield records.Reject(key, records.NO_LABEL, f"synset {synset} not in the synset list")
            else:
                label = label_of[synset]
                yield records.ItemRef(key, label, texts[label], os.path.join(split_root, filename),
                                      split="validation")
        # Directories inside a flat validation folder are not expected: account for their files.
        for name in base.list_dir(split_root):
            sub = os.path.join(split_root, name)
            if fileio.isdir(sub):
                for directory, _, more in base.walk(sub):
                    for filename in more:
                        rel = os.path.relpath(os.path.join(directory, filename), self.root)
                        yield records.Reject(rel.replace(os.sep, "/"), records.NO_LABEL,
                                             "sub-directory of a flat validation folder")

    def open_reader(self) -> base.Reader:
        return _ImagenetReader(self._bbox_dir())
