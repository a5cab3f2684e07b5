# Two commands on a fresh machine: `make run` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types check bench clean schema graphiql-offline

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/allot run

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

check: test lint types

bench: $(STAMP)
	@for f in bench/*.py; do case $$f in */_*) continue;; esac; echo "== $$f"; $(BIN)/python $$f || exit 1; done

schema: $(STAMP)
	$(BIN)/allot schema

# Fetch GraphiQL's files once (npm pack) into $$ALLOT_DATA_DIR/graphiql (default .allot/graphiql);
# from then on the server serves GraphiQL itself, with no request to the public CDN.
graphiql-offline: $(STAMP)
	$(BIN)/python -m server.graphiql

clean:
	rm -rf $(VENV) .allot .pytest_cache .mypy_cache .ruff_cache
