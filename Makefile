# Two commands from a fresh clone: `make run` and `make test`. Both create .venv from requirements.lock if needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_API := pyside6
export PYQTGRAPH_QT_LIB := PySide6

.PHONY: run test lint bench screenshot wheel wheel-check clean mutation

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

# The README's picture: the bundled March 2025 BTCUSDT replayed for 5 s with the demonstration position, journaled
# into a throwaway file (never the user's journal).
screenshot: $(STAMP)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	QT_QPA_PLATFORM=offscreen $(BIN)/hexdesk --offline --dataset BTCUSDT-2025-03 --replay-seconds 5 \
		--db "$$tmp/screenshot.sqlite" --screenshot docs/hexdesk.png

# dist/hexdesk-<version>-py3-none-any.whl: everything the app needs (code, bundled data, lessons, migrations).
# `pipx install dist/hexdesk-*.whl` on a lab machine; the build's scratch folders are removed afterwards.
wheel: $(STAMP)
	rm -f dist/hexdesk-*.whl
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .
	rm -rf build hexdesk.egg-info

# The wheel as a lab machine gets it: a fresh venv, dependencies from the package index, started outside the
# source tree; it must replay, screenshot, list the bundled datasets and render the lessons. Minutes, not in `test`.
wheel-check: wheel
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PY) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet dist/hexdesk-*.whl; \
	cd "$$tmp"; \
	QT_QPA_PLATFORM=offscreen HEXDESK_DATA_DIR="$$tmp/data" "$$tmp/venv/bin/hexdesk" --offline --replay-seconds 3 \
		--db "$$tmp/j.sqlite" --screenshot "$$tmp/shot.png"; \
	test "$$(wc -c < "$$tmp/shot.png")" -gt 20000; \
	HEXDESK_DATA_DIR="$$tmp/data" "$$tmp/venv/bin/hexdesk" data list; \
	"$$tmp/venv/bin/python" -I "$(CURDIR)/tests/wheel_check.py"; \
	echo "wheel-check: the wheel installs from the index, starts, replays and finds its data"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
