# seealso: `make demo` to try it, `make test` to check it.
VENV ?= .venv
PYTHON ?= python3
SEEALSO_PORT ?= 8000
DEMO_DATA ?= demo-data
# Who may sign in to the demo's editor page (JSON name → password).
DEMO_EDITORS ?= {"editor": "demo"}
BIN := $(VENV)/bin
# A CPU build of PyTorch; an unpinned torch would pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

export SEEALSO_PORT

.PHONY: install demo test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/seealso index seealso/demo/articles.jsonl --data-dir $(DEMO_DATA)
	@echo
	@echo "seealso demo is at http://127.0.0.1:$(SEEALSO_PORT)/"
	@echo "  try http://127.0.0.1:$(SEEALSO_PORT)/v1/articles/mali-coup-01-en/related?k=5"
	@echo "  editor page at http://127.0.0.1:$(SEEALSO_PORT)/editor  (sign in as editor / demo)"
	@echo "  API docs at http://127.0.0.1:$(SEEALSO_PORT)/docs  (Ctrl-C stops it)"
	@echo
	SEEALSO_EDITOR_USERS='$(DEMO_EDITORS)' $(BIN)/seealso serve --data-dir $(DEMO_DATA) --host 127.0.0.1 --port $(SEEALSO_PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(DEMO_DATA) .pytest_cache .ruff_cache .mypy_cache
