"""The demo's data set: scikit-learn's digits, the "demo" extra that the pipeline image leaves out."""
import sys

import pytest

from runners import digits


def test_digits_are_written_as_a_class_folder_tree(tmp_path):
    assert digits.write_digits(str(tmp_path / "d"), per_class=2) == 20
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [str(i) for i in range(10)]


def test_without_scikit_learn_the_demo_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails as if not installed
    with pytest.raises(digits.DemoExtraMissing, match=r"pip install -e '\.\[demo\]'"):
        digits.write_digits(str(tmp_path / "d"), per_class=1)
