"""`tfslim run`: the local pipeline, identical to `python local_runner.py` (same flags)."""
import local_runner  # noqa: F401  (defines the flags)

main = local_runner.main
