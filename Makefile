PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/modelward demo

lint: install
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

# Browser tests need Chromium: installed from Debian's packages where that is possible,
# skipped (and said so in pytest's summary) where it is not.
chromium:
	@command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	  echo "Chromium not installed: the browser tests will be skipped"

# The suite starts `modelward` in many subprocesses: compiled once here, as pip
# compiles an installed package, they start from bytecode instead of each compiling the
# source again (PYTHONDONTWRITEBYTECODE would otherwise keep every start from caching it).
test: lint chromium
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto --dist loadgroup
