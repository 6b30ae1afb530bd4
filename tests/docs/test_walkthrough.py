"""docs/walkthrough.ipynb runs top to bottom in a fresh kernel (this venv's Python), quietly.

It builds zoo and slim-API nets, converts 300 digits, trains, evaluates, exports, predicts and
runs the smoke pipeline: about 1.5 minutes on 2 CPU cores (85 s measured).
"""
import os
import re

import nbformat
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(REPO, "docs", "walkthrough.ipynb")
KERNEL = "tfslim-walkthrough"
# Library log lines and warnings the notebook's cells must not show (runners/quiet.py drops them).
NOISE = re.compile(r"^(INFO|WARNING|ERROR):[\w.]+:|^[IWE]\d{4} |WARNING: AutoGraph|Warning:|tensorflow/core",
                   re.M)


def _outputs(notebook, kind: str):
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.output_type == kind]


def test_the_committed_notebook_is_small_and_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert os.path.getsize(NOTEBOOK) < 32 * 1024
    assert not any(cell.get("outputs") or cell.get("execution_count")
                   for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.slow
@pytest.mark.e2e
def test_the_walkthrough_runs_quietly_with_its_figures(tmp_path, monkeypatch):
    from ipykernel import kernelspec
    from nbclient import NotebookClient

    # A kernelspec for this interpreter (sys.executable), so the kernel has the project's venv
    # whatever kernels the user has installed.
    kernelspec.install(kernel_name=KERNEL, prefix=str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    work = tmp_path / "work"
    work.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name=KERNEL,
                   resources={"metadata": {"path": str(work)}}).execute()  # raises on a cell error

    text = "".join(output.text for output in _outputs(notebook, "stream"))
    assert not NOISE.search(text), NOISE.search(text).group(0)
    assert not [o for o in _outputs(notebook, "stream") if o.name == "stderr"]
    figures = [o for o in _outputs(notebook, "display_data") if "image/png" in o.data]
    # sample digits, loss curves, predictions, confusion matrix, pipeline timings
    assert len(figures) == 5
    assert re.search(r"eval/Accuracy\[[01]\.\d{4}\] eval/Recall_5\[[\d.]+\] on 65 examples", text)
    assert "pushed: True" in text
    assert re.search(r"\] Trainer finished in [\d.]+s", text)  # the timings the last figure draws
    assert (work / "walkthrough" / "export" / "saved_model.pb").exists()
