# seealso: `make demo` to try it, `make test` to check it.
VENV ?= .venv
PYTHON ?= python3
SEEALSO_PORT ?= 8000
DEMO_DATA ?= demo-data
BIN := $(VENV)/bin
# A CPU build of PyTorch; an unpinned torch would pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

export SEEALSO_PORT

.PHONY: install demo test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "seealso: creating $(VENV) and installing seealso with its dependencies (a few minutes, once)"
	$(PYTHON) -m venv $(VENV)
	@echo "seealso: installing $(TORCH) (a CPU build)"
	$(BIN)/pip install --quiet $(TORCH)
	@echo "seealso: installing seealso, Ray (seealso[ray]) and the test tools"
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $@
	@echo "seealso: installed; its command is $(BIN)/seealso (or: source $(BIN)/activate)"

# `seealso demo` indexes the bundled articles and serves them, with a demo token for writes.
demo: install
	$(BIN)/seealso demo --data-dir $(DEMO_DATA) --port $(SEEALSO_PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(DEMO_DATA) .pytest_cache .ruff_cache .mypy_cache
