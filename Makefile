# make run   -> the app on http://localhost:8501 (creates .venv on first use)
# make test  -> the whole test suite (installs the test requirements first)
# make train -> retrain every model file (needs the TREC data, see README)
# make bench -> speed, size and memory of the committed model

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

bench: $(VENV)/.runtime
	$(PY) benchmark.py

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(VENV)/.train: requirements-train.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-train.txt
	touch $@
