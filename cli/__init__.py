"""`tfslim` console script: slim's scripts as subcommands with slim's flag names.

Each subcommand lives in its own module (``cli.<name>``, or the module named in
``MODULES``) that defines its absl flags at import; only the chosen module is imported,
so the flag sets of different subcommands never collide.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import List, Optional

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

SUBCOMMANDS = {
    "models": "list the zoo's networks (nets_factory) with sizes, classes, preprocessing",
    "convert": "raw images / slim datasets -> slim TFRecords (download_and_convert_data.py)",
    "train": "train a zoo network (train_image_classifier.py)",
    "eval": "evaluate a checkpoint or SavedModel (eval_image_classifier.py)",
    "export": "checkpoint -> serving SavedModel / TFLite (export_inference_graph.py)",
    "predict": "label images with a SavedModel or TF Serving (label_image)",
    "run": "run the TFX pipeline locally (same as python local_runner.py)",
    "download_checkpoint": "fetch a slim pretrained checkpoint from the table (NAME --dir D)",
}

# Subcommands whose flags live with a runner (shared with local_runner.py), not in cli/.
MODULES = {"run": "runners.local_cli"}


def module_name(command: str) -> str:
    """The module that defines ``command``'s flags and ``main``."""
    return MODULES.get(command, f"{__name__}.{command.replace('-', '_')}")


def parse_known_flags(argv: List[str]) -> List[str]:
    """A subcommand's ``flags_parser`` that parses its own flags and leaves every other
    flag in the returned argv (for Beam: `tfslim convert`, `tfslim predict --input_dir`)."""
    from absl import flags  # pylint: disable=import-outside-toplevel

    try:
        return flags.FLAGS(argv, known_only=True)
    except flags.Error as err:
        print(f"FATAL Flags parsing error: {err}\nPass --helpshort or --helpfull to see help on flags.",
              file=sys.stderr)
        sys.exit(1)


def _usage() -> str:
    lines = ["usage: tfslim <command> [--flags]   (tfslim <command> --help for its flags)", ""]
    lines += [f"  {name:<20} {text}" for name, text in SUBCOMMANDS.items()]
    lines += ["", "Every command prints progress and results only; --verbose (or TFSLIM_VERBOSE=1)",
              "adds the libraries' log lines and warnings (TensorFlow, absl, TFX, Beam)."]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    """Dispatches ``tfslim <command> ...`` to ``cli.<command>.main``."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(_usage())
        sys.exit(0 if len(argv) >= 2 else 2)
    command = argv[1]
    if command not in SUBCOMMANDS:
        print(f"tfslim: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        sys.exit(2)
    from runners import quiet  # pylint: disable=import-outside-toplevel

    # No command imports TensorFlow before its flags are checked: a bad flag is answered at
    # once, and the commands that need TensorFlow import it quietly where their work starts.
    quiet.setup(argv[2:])
    module = importlib.import_module(module_name(command))
    from absl import app, flags  # pylint: disable=import-outside-toplevel

    quiet.define_verbose_flag()
    # absl's --help prints __main__'s docstring and the key flags of the module named
    # sys.argv[0]; name both after the subcommand so `tfslim run --help` says what it is.
    program = f"tfslim {command}"
    sys.argv[0] = program
    main_module = sys.modules.get("__main__")
    if main_module is not None:
        main_module.__doc__ = f"{module.__doc__ or ''}\nUSAGE: {program} [flags]\n"
    defining = getattr(module, "FLAGS_MODULE", module).__name__
    for flag in flags.FLAGS.get_key_flags_for_module(defining) + [flags.FLAGS[quiet.VERBOSE_FLAG]]:
        flags.FLAGS.register_key_flag_for_module(program, flag)
    # A subcommand may define flags_parser (e.g. to pass unknown flags on to Beam).
    parser = getattr(module, "flags_parser", app.parse_flags_with_usage)
    app.run(module.main, argv=[program] + argv[2:], flags_parser=parser)


if __name__ == "__main__":
    main()
