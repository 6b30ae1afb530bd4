"""Checks a README command line without doing its work: ``python -m tests.docs.readme_probe PROGRAM ARGS...``.

* ``tfslim CMD ...``, ``local_runner.py ...``, ``runners.kubeflow.submit ...``: the command's own
  absl flags parse the arguments (an unknown flag or a bad value fails, as it would for the user);
* ``tfslim run`` / ``local_runner.py`` also build and check the run config (``--config``,
  ``--set``, the shortcuts), as the command does before any component runs.

Prints ``ok`` and exits 0, or exits non-zero with the command's own error.
"""
from __future__ import annotations

import importlib
import sys
from typing import List

from absl import flags

import cli
from runners import quiet


def parse(program: str, args: List[str]) -> None:
    """Parses ``args`` the way ``program`` does; checks the run config for the pipeline runners."""
    if program == "tfslim":
        command, args = args[0], args[1:]
        module = importlib.import_module(cli.module_name(command))
    elif program == "local_runner.py":
        command, module = "run", importlib.import_module("local_runner")
    elif program == "runners.kubeflow.submit":
        command, module = "submit", importlib.import_module(program)
        module.define_flags()
    else:
        raise SystemExit(f"readme_probe: no rule for {program!r}")
    quiet.define_verbose_flag()
    parser = getattr(module, "flags_parser", None)  # tfslim convert passes unknown flags to Beam
    if parser is not None:
        parser([program] + args)
    else:
        flags.FLAGS([program] + args)
    if command == "run":
        from runners import local_cli  # pylint: disable=import-outside-toplevel

        quiet.quiet_import_tensorflow()  # as local_cli.main does before the checks load the zoo
        config = local_cli.config_from_flags()
        print(f"config {config.pipeline_name}: {config.train.model_name}, {config.train_steps} steps")


def main() -> None:
    quiet.setup([])
    try:
        parse(sys.argv[1], sys.argv[2:])
    except (flags.Error, ValueError) as error:  # run_config.ConfigError is a ValueError
        sys.exit(f"{type(error).__name__}: {error}")
    print("ok")


if __name__ == "__main__":
    main()
