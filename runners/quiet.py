"""Console output of the entry points: progress and results only, unless asked for more.

``tfslim``, ``local_runner.py``, ``make demo`` and the Kubeflow runner call :func:`setup`
first thing. Quiet (the default) keeps what the project prints itself (component
progress, training lines, the summary) and drops the libraries' log lines:

* TensorFlow's C++ log lines (``I tensorflow/core/...``, oneDNN, CUDA stubs):
  ``TF_CPP_MIN_LOG_LEVEL=2`` before TensorFlow loads; the three CUDA factory ERROR
  lines it still prints on a machine without a GPU are filtered from the import.
* Python log records (absl ``I1206 ...`` lines, ``WARNING:tensorflow:...``, Beam's
  "Using Any for unsupported type", TFMA's "tensorflow_io is not available", TFX's
  channel warnings): the console handlers print ERROR and above only. TFX component
  executors and Beam's in-process workers run in this process under the
  LocalDagRunner, so this covers them; the progress handler still sees every record.
* Python warnings (google-api-core's Python 3.10 FutureWarning, deprecations):
  ignored here and, through ``PYTHONWARNINGS``, in the processes this one starts.

``--verbose`` or ``TFSLIM_VERBOSE=1`` leaves every library's logging as it is
(``TF_CPP_MIN_LOG_LEVEL=0``, absl at INFO) and is passed on to child processes.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import warnings
from typing import Optional, Sequence

VERBOSE_ENV = "TFSLIM_VERBOSE"
VERBOSE_FLAG = "verbose"
VERBOSE_HELP = (f"Show the libraries' log lines and warnings (TensorFlow, absl, TFX, Beam); "
                f"also ${VERBOSE_ENV}=1.")
CUDA_FACTORY_NOISE = re.compile(rb"Unable to register cu(DNN|FFT|BLAS) factory")
# Loggers whose records reach the console through their own handlers, not only the root's.
LIBRARY_LOGGERS = ("tensorflow", "absl", "apache_beam", "tfx", "tensorflow_model_analysis",
                   "tensorflow_transform", "tensorflow_data_validation", "ml_metadata", "kfp",
                   "google", "urllib3", "matplotlib", "PIL", "h5py")


def verbose_requested(argv: Optional[Sequence[str]] = None) -> bool:
    """True when ``--verbose`` is on the command line or ``$TFSLIM_VERBOSE`` is set (not 0/false)."""
    args = sys.argv[1:] if argv is None else argv
    for arg in reversed(list(args)):
        if arg in (f"--{VERBOSE_FLAG}", f"--{VERBOSE_FLAG}=true", f"--{VERBOSE_FLAG}=1"):
            return True
        if arg in (f"--no{VERBOSE_FLAG}", f"--{VERBOSE_FLAG}=false", f"--{VERBOSE_FLAG}=0"):
            return False
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def is_verbose() -> bool:
    """Whether this process was set up verbose (:func:`setup` records it in the environment)."""
    return verbose_requested(())


def setup(argv: Optional[Sequence[str]] = None, import_tensorflow: bool = False) -> bool:
    """Sets this process (and the ones it starts) quiet or verbose; returns verbose.

    Call before TensorFlow, TFX or Beam is imported: the C++ log level is read once, at
    TensorFlow's import.

    Args:
      argv: the command line to look for ``--verbose`` in (default ``sys.argv[1:]``).
      import_tensorflow: also import TensorFlow now (quietly); entry points that check
        their flags first leave it to :func:`quiet_import_tensorflow` where the work starts.
    """
    verbose = verbose_requested(argv)
    os.environ["TF_USE_LEGACY_KERAS"] = os.environ.get("TF_USE_LEGACY_KERAS", "1")
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    else:
        os.environ[VERBOSE_ENV] = "0"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # Child processes (the serving smoke probe, Beam SDK workers, Kubeflow step runs)
        # inherit it; their output is the libraries' too.
        os.environ["PYTHONWARNINGS"] = "ignore"
        warnings.simplefilter("ignore")
        quiet_logging()
    if import_tensorflow:
        quiet_import_tensorflow()
    return verbose


def console_level() -> int:
    """The lowest level a console log handler prints: everything when verbose, else ERROR."""
    return logging.NOTSET if is_verbose() else logging.ERROR


def quiet_logging() -> None:
    """Console log handlers print ERROR and above; the libraries' own loggers log WARNING and up.

    Records still reach the root logger (the component progress handler reads TFX's
    INFO records there); only the handlers that write to a terminal are raised.
    """
    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel

    # absl's handler (added to the root logger by app.run) is one object for the process.
    absl_logging.get_absl_handler().setLevel(logging.ERROR)
    for name in ("",) + LIBRARY_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if _is_console(handler):
                handler.setLevel(logging.ERROR)
    # TensorFlow's logger keeps its own handler when the root had none at its first use;
    # its WARNINGs (AutoGraph, deprecations) are the libraries' business, not the user's.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # Python's handler of last resort prints records no handler took (before app.run adds absl's).
    if logging.lastResort is not None:
        logging.lastResort.setLevel(logging.ERROR)


def _is_console(handler: logging.Handler) -> bool:
    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel

    if isinstance(handler, absl_logging.ABSLHandler):
        return True
    return isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)


def quiet_import_tensorflow() -> None:
    """Imports TensorFlow once, with file descriptor 2 captured and the CUDA factory lines dropped.

    Quiet mode also lowers TensorFlow's Python logger (it may add its own handler at import).
    """
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
    if not is_verbose():
        quiet_logging()


def define_verbose_flag(flag_values=None) -> None:
    """Defines ``--[no]verbose`` (once) so absl accepts it and the program's ``--help`` lists it.

    Its value is read before the flags are parsed (:func:`verbose_requested`), since the
    log level must be set before TensorFlow loads.
    """
    from absl import flags  # pylint: disable=import-outside-toplevel

    flag_values = flags.FLAGS if flag_values is None else flag_values
    if VERBOSE_FLAG not in flag_values:
        flags.DEFINE_boolean(VERBOSE_FLAG, False, VERBOSE_HELP, flag_values=flag_values)
    # absl's --help lists the key flags of the module named sys.argv[0] (the script).
    flag_values.register_key_flag_for_module(sys.argv[0], flag_values[VERBOSE_FLAG])
