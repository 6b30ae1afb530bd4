"""`tfslim run`: the local pipeline, identical to `python local_runner.py` (same flags)."""
from absl import flags

import local_runner  # defines the flags

flags.adopt_module_key_flags(local_runner)
FLAGS_MODULE = local_runner  # where the flags shown by --help are defined

main = local_runner.main
