"""Start-up noise the entry points silence (tfslim, local_runner.py, the Kubeflow runner).

* TensorFlow's CUDA plugins log three ERROR lines on every import on a machine
  without a GPU ("Unable to register cuDNN/cuFFT/cuBLAS factory"); they are C++
  log lines on file descriptor 2, so the import runs with fd 2 captured and every
  other line is written back.
* google-api-core warns on import that Python 3.10 is no longer supported
  (FutureWarning); TFX 1.16 requires Python <3.11, so there is nothing to act on.
* google-cloud-aiplatform (imported by TFX's Vertex extension) warns that the pinned
  google-cloud-storage < 3 will lose support (FutureWarning); TFX 1.16 pins it.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import warnings

CUDA_FACTORY_NOISE = re.compile(rb"Unable to register cu(DNN|FFT|BLAS) factory")
PYTHON_VERSION_WARNING = r".*non-supported Python version.*"


def silence_startup_noise(import_tensorflow: bool = True) -> None:
    """Filters the Python 3.10 FutureWarnings and imports TensorFlow without the CUDA noise.

    Args:
      import_tensorflow: False where TensorFlow is imported later or never: ``tfslim`` checks a
        command's flags first, so a bad flag costs no ~7.5 s TensorFlow import; its commands
        call :func:`quiet_import_tensorflow` where their work starts.
    """
    warnings.filterwarnings("ignore", message=PYTHON_VERSION_WARNING, category=FutureWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.cloud\.aiplatform")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if import_tensorflow:
        quiet_import_tensorflow()


def quiet_import_tensorflow() -> None:
    """Imports TensorFlow once, with file descriptor 2 captured and the CUDA factory lines dropped."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured:
                if not CUDA_FACTORY_NOISE.search(line):
                    sys.stderr.buffer.write(line)
            sys.stderr.flush()
