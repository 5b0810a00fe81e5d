# Generative Foundations — every set-up step lives here, so a fresh clone needs only `make`.
#   make book   build the website into _build/html (executes every chapter)
#   make test   lint, unit tests, every chapter through nbval, build the site, browser tests
#   make lab    open the chapters live in JupyterLab
# Variables: PYTHON (default python3.11), VENV (default .venv).

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Reproducible by default: the exact versions CI used. `make lock` refreshes constraints.txt.
CONSTRAINTS ?= constraints.txt
PIP_CONSTRAINT_ARG := $(if $(wildcard $(CONSTRAINTS)),-c $(CONSTRAINTS))
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: all venv book test lint unit chapters site-test lab lock bench chromium clean

all: test

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt $(wildcard $(CONSTRAINTS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt $(PIP_CONSTRAINT_ARG)
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests (never `playwright install`).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi
	@echo "browser tests use $(CHROMIUM)"

# Warnings are errors; a failing cell fails the build. GF_FIGURE_MODE=static is also set by
# companion.sphinxext, so a plain `jupyter-book build .` gives the same site.
book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@test -f _build/html/index.html && echo "website: _build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check companion tests benchmarks tools conftest.py
	$(BIN)/ruff format --check companion tests benchmarks tools conftest.py

unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser" -q

chapters: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider book -q

site-test: $(STAMP) chromium
	$(BIN)/python -m pytest tests -m browser -q

test: lint unit chapters book site-test

# Chapters (.md) open as notebooks; the setting lives in the venv, not in your home folder.
lab: $(STAMP)
	$(BIN)/jupytext-config --settings-file $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json set-default-viewer
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) book/

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f; done

# The local "+cpu" label of this machine's torch wheel is dropped so the lock installs anywhere.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' \
	  | sed -E 's/^(torch==[^+]+)\+.*/\1/' > $(CONSTRAINTS)

clean:
	rm -rf _build .pytest_cache
