"""The tfslim console script and local_runner entry points."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TFSLIM = os.path.join(os.path.dirname(sys.executable), "tfslim")


def _run(args, **kw):
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kw)


def test_tfslim_lists_commands_and_models():
    out = _run([TFSLIM])
    assert out.returncode == 2 and "convert" in out.stdout and "predict" in out.stdout
    out = _run([TFSLIM, "models"])
    assert out.returncode == 0, out.stderr
    assert "lenet" in out.stdout and "LeNet/fc4" in out.stdout


def test_unknown_command_is_an_error():
    out = _run([TFSLIM, "frobnicate"])
    assert out.returncode == 2 and "unknown command" in out.stderr


@pytest.mark.parametrize("args", [[TFSLIM, "run", "--help"], [sys.executable, "local_runner.py", "--help"]])
def test_run_help_shows_runner_flags(args):
    out = _run(args)  # absl exits 1 after printing --help
    text = out.stdout + out.stderr
    for flag in ("--config", "--set", "--data_dir", "--model_name", "--train_steps", "--pipeline_root",
                 "--serving_dir", "--runner", "--[no]verbose"):
        assert flag in text
    if args[0] == TFSLIM:  # names the subcommand, with its docstring
        assert "USAGE: tfslim run [flags]" in text and "run config" in text


def test_every_subcommand_help_names_itself():
    out = _run([TFSLIM, "download_checkpoint", "--help"])
    text = out.stdout + out.stderr
    assert "USAGE: tfslim download_checkpoint [flags]" in text and "--dir" in text


@pytest.mark.parametrize("command,flag,message", [
    ("export", "--quantize", "fake-quant eval graph does not exist in TF2"),
    ("eval", "--quantize", "fake-quant eval graph does not exist in TF2"),
    ("eval", "--master=grpc://10.0.0.1:2222", "TF2 has no session master"),
    ("eval", "--num_preprocessing_threads=8", "AUTOTUNE chooses the preprocessing parallelism"),
])
def test_slim_flags_without_a_tf2_meaning_stop_with_the_reason(command, flag, message):
    out = _run([TFSLIM, command, flag])
    assert out.returncode == 1 and f"tfslim {command}: --{flag[2:].split('=')[0]}: " in out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr
