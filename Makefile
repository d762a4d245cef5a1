# make run   -> the app on http://localhost:8501 (creates .venv on first use)
# make test  -> the whole test suite (installs the test requirements first)
# make train -> retrain every model file (needs the TREC data, see README)
# make bench -> model speed/size/memory, then slug size, server memory, cold start and load (results/)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test train bench

run: $(VENV)/.runtime
	$(PY) -m streamlit run streamlitapp.py

test: $(VENV)/.dev
	$(PY) -m pytest

train: $(VENV)/.train
	$(PY) train.py

bench: $(VENV)/.dev
	$(PY) benchmark.py --json results/benchmark.json
	$(PY) loadtest.py --json results/loadtest.json

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --retries 0 -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-torch.txt $(VENV)/.runtime
	$(PY) -m pip install -q --retries 0 -r requirements-dev.txt
	touch $@

$(VENV)/.train: requirements-train.txt requirements-torch.txt $(VENV)/.runtime
	$(PY) -m pip install -q --retries 0 -r requirements-train.txt
	touch $@
