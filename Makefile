# The two commands of the README: `make demo` and `make test`. Both run `setup` first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL ?= 2

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.py requirements/constraints.txt requirements/lock.txt requirements/dev.txt requirements/prod-excludes.txt tools/setup_env.sh | md5sum | cut -c1-12)
DATA_DIR ?= data/digits
OUT_DIR ?= outputs/demo
PYTEST_ARGS ?=

.PHONY: help setup demo test test-fast lint bench clean lock portable-demo

help:
	@echo "make setup   create .venv (Python 3.10) with the pinned TFX 1.16 stack (uv, idempotent)"
	@echo "make demo    run configs/demo.yaml on the bundled digits: ingest, train lenet, evaluate, push, report, serve"
	@echo "make test    the test suite (pytest)"
	@echo "make bench   the benchmarks in bench/ (prints ratios against in-run baselines)"
	@echo "make lint    ruff (ruff.toml) and the import-direction test"
	@echo "make portable-demo  the pipeline with every Beam component on Beam's portable runner"
	@echo "             (a local job service + SDK worker pool, the Flink/Spark/Dataflow path)"
	@echo "make lock    regenerate requirements/lock.txt from the venv"

setup: $(STAMP)

$(STAMP):
	@bash tools/setup_env.sh "$(VENV)"
	@rm -f $(VENV)/.installed-* && touch $@

demo: setup
	$(PY) -m runners.demo --data_dir $(DATA_DIR) --output_dir $(OUT_DIR)

portable-demo: setup
	$(PY) -m runners.portable_beam --data_dir $(DATA_DIR) --output_dir outputs/portable

test: setup
	$(PY) -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not e2e" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider tests/architecture

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf outputs build *.egg-info

# Regenerate requirements/lock.txt from a working venv (after changing setup.py or constraints.txt).
lock: setup
	@{ sed -n '/^#/p' requirements/lock.txt; $(VENV)/bin/uv pip freeze --python $(PY) \
	  | grep -v -e '^-e ' -e '^tfslim-tfx' -e '^pip==' -e '^setuptools==' -e '^uv=='; } > requirements/lock.txt.new
	@mv requirements/lock.txt.new requirements/lock.txt && echo "wrote requirements/lock.txt"
