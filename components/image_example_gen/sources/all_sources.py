"""Imports every source module so each registers itself in ``sources.SOURCES``."""
from components.image_example_gen.sources import folder  # noqa: F401
