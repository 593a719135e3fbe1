# Two commands set everything up on a fresh machine:
#   make run   - virtual environment, install, run the service once on the embedded default
#   make test  - development dependencies, LibreOffice where we can install it, the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config

.PHONY: run test install install-dev system-deps lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

system-deps:
	@bash scripts/install-system-deps

run: install
	bash scripts/demo

test: install-dev system-deps
	$(BIN)/python -m pytest -q

lint: install-dev
	$(BIN)/ruff check workers tests benchmarks
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/report.py

clean:
	rm -rf $(VENV) var out
