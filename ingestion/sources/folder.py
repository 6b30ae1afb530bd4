"""`folder`: any class-folder tree ``<root>/<class_name>/[...]/<file>`` (slim's flower_photos layout).

Labels are the sorted names of the root's non-hidden sub-directories. Files directly
in the root, or under hidden directories, are rejected as outside any class folder;
files nested deeper inside a class folder belong to that class.

Local trees are listed by ``listing.SafeWalker``: only regular files are read,
symlinks are followed only inside the root (option ``allow_outside_links``), and every
other entry is rejected with a reason.
"""
from __future__ import annotations

import os
import posixpath
from typing import Dict, Iterator, List, Sequence

from ingestion import records
from ingestion.sources import base, listing


def selector_root(root: str, selector: str) -> str:
    """A TFX input split pattern → the class-folder root it names.

    '*', '' → ``root``; 'train', 'train/*', 'train/*/*' → ``root/train``.
    """
    parts = [p for p in selector.strip("/").split("/") if p and p != "*"]
    if any("*" in p or "?" in p or "[" in p for p in parts):
        raise ValueError(f"input split pattern {selector!r}: only a sub-directory (optionally "
                         "followed by /*) is supported for class-folder sources")
    return posixpath.join(root, *parts) if base.is_remote(root) else os.path.join(root, *parts)


def _is_class_dir(name: str) -> bool:
    return not name.startswith(".")


class FolderSource(base.Source):
    """Class-folder tree; see the module doc."""
    name = "folder"

    def _walker(self) -> listing.SafeWalker:
        return listing.SafeWalker(self.root, bool(self.options.get("allow_outside_links")))

    def _is_class(self, class_root: str, name: str) -> bool:
        path = os.path.join(class_root, name)
        if not _is_class_dir(name) or not base.is_dir(path):
            return False
        # A folder link that may not be followed is rejected by scan(), not a class.
        return base.is_remote(path) or self._walker().link_problem(path) is None

    def class_names(self, selectors: Sequence[str] = ("*",)) -> List[str]:
        names = set()
        for selector in selectors:
            class_root = selector_root(self.root, selector)
            if not base.is_dir(class_root):
                raise FileNotFoundError(f"{self.name}: no directory {class_root}")
            names.update(n for n in base.list_dir(class_root) if self._is_class(class_root, n))
        if not names:
            raise ValueError(f"{self.name}: no class folders under {self.root} "
                             f"(expected <root>/<class_name>/<image files>)")
        return sorted(names)

    def scan(self, selector: str = "*") -> Iterator[base.ScanResult]:
        yield from self.scan_tree(selector_root(self.root, selector), self.class_names([selector]))

    def scan_tree(self, class_root: str, class_names: List[str]) -> Iterator[base.ScanResult]:
        """Walks ``class_root``; keys are paths relative to ``self.root`` ('/' separated)."""
        label_of = {name: i for i, name in enumerate(class_names)}
        if not base.is_remote(class_root):
            yield from self._scan_local(class_root, label_of)
            return
        prefix_len = len(self.root.rstrip("/")) + 1
        for directory, _, files in base.walk(class_root):
            rel_dir = os.path.relpath(directory, class_root)
            top = "" if rel_dir == "." else rel_dir.split(os.sep)[0]
            for filename in files:
                path = os.path.join(directory, filename)
                key = path[prefix_len:].replace(os.sep, "/")
                if top in label_of:
                    yield records.ItemRef(key=key, label=label_of[top], text=top, locator=path)
                else:
                    where = "the top level" if not top else f"hidden directory {top!r}"
                    yield records.Reject(key, records.OUTSIDE_CLASS_FOLDER, f"file at {where}")

    def _scan_local(self, class_root: str, label_of: Dict[str, int]) -> Iterator[base.ScanResult]:
        """scan_tree for a local root, through the safe walker."""
        prefix = os.path.relpath(class_root, self.root).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        for entry in self._walker().walk(class_root):
            key = prefix + entry.rel
            top = entry.rel.split("/")[0] if "/" in entry.rel else ""
            if entry.reason:
                yield records.Reject(key, entry.reason, entry.detail)
            elif top in label_of:
                yield records.ItemRef(key=key, label=label_of[top], text=top, locator=entry.path)
            else:
                where = "the top level" if not top else f"hidden directory {top!r}"
                yield records.Reject(key, records.OUTSIDE_CLASS_FOLDER, f"file at {where}")
