# Two commands from a fresh clone: `make run` and `make test`. Both create .venv from requirements.lock if needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_API := pyside6
export PYQTGRAPH_QT_LIB := PySide6

.PHONY: run test lint bench screenshot clean mutation

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/hexdesk $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check hexdesk tests benchmarks tools
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Mutation testing of the engine (not part of `test`: minutes, not seconds). See docs/engine.md "Mutation testing".
# make mutation ARGS="--modules ledger --per-module 30"
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_ticks.py

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/hexdesk --offline --screenshot hexdesk.png --replay-seconds 5

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
