# Two commands from a fresh clone: `make run` and `make test`. Both create .venv from requirements.lock if needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_API := pyside6
export PYQTGRAPH_QT_LIB := PySide6

.PHONY: run test lint bench screenshot clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/hexdesk $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check hexdesk tests benchmarks
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_ticks.py

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/hexdesk --offline --screenshot hexdesk.png --replay-seconds 5

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
