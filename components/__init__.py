"""Custom TFX components (image ExampleGen, serving smoke test)."""
