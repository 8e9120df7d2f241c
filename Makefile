# Two entry points (see README.md): `make book` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: setup book test lint unit notebooks execute lab clean bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

## The HTML book from the stored notebook outputs, warnings as errors.
book: setup
	$(BIN)/jupyter-book build -W -n --keep-going .

lint: setup
	$(BIN)/ruff check .

unit: setup
	$(BIN)/pytest tests

notebooks: setup
	$(BIN)/pytest $(NBVAL) chapters

## Everything: lint, unit tests, notebooks under strict nbval.
test: lint
	$(BIN)/pytest $(NBVAL) tests chapters

## Re-execute every chapter in place (authors run this after editing a notebook).
execute: setup
	$(BIN)/jupyter execute --inplace --timeout=300 chapters/*.ipynb

## Optional: open the notebooks in JupyterLab.
lab: setup
	$(BIN)/python -m pip install --quiet "jupyterlab>=4,<5"
	$(BIN)/jupyter lab chapters

bench: setup
	$(BIN)/python benchmarks/bench_conv.py

clean:
	rm -rf _build
