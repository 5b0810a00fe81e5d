# Generative Foundations — every set-up step lives here, so a fresh clone needs only `make`.
#   make book   build the website into _build/html (executes every chapter)
#   make test   lint, unit tests, every chapter through nbval, build the site, browser tests of
#               the site and of chapters run live in JupyterLab
#   make lab    open the chapters live in JupyterLab
# Variables: PYTHON (default: the first of python3.11, python3.12 found), VENV (default .venv),
# TORCH (cpu or cuda; default cuda only where nvidia-smi exists).

PYTHON ?= $(or $(firstword $(foreach p,python3.11 python3.12,$(shell command -v $(p) 2>/dev/null))),python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
export GF_CHROMIUM := $(CHROMIUM)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Reproducible by default: the exact versions CI used. `make lock` refreshes constraints.txt.
CONSTRAINTS ?= constraints.txt
PIP_CONSTRAINT_ARG := $(if $(wildcard $(CONSTRAINTS)),-c $(CONSTRAINTS))
# PyPI's torch wheel for Linux is a CUDA build (~2.9 GB of libraries). With TORCH=cpu, torch alone
# is installed first with PyTorch's CPU index added (its "+cpu" build of the release that
# requirements.txt pins sorts first); everything else then comes from PyPI as usual.
TORCH ?= $(if $(shell command -v nvidia-smi 2>/dev/null),cuda,cpu)
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIN := $(shell grep -E '^torch==' requirements.txt)
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: all venv book test lint unit chapters site-test live-test lab lock bench chromium clean \
	binder-test

all: test

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt $(wildcard $(CONSTRAINTS))
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 12) else \
	  f"the book needs Python 3.11 or 3.12; {sys.executable} is {v[0]}.{v[1]}")' \
	  || { echo "no Python 3.11/3.12 found: install one, or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { echo "$(PYTHON) cannot create a venv:" \
	  "on Debian/Ubuntu run: $(SUDO) apt-get install python3-venv (or python3.11-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(filter cpu,$(TORCH)),$(BIN)/python -m pip install --quiet --no-deps "$(TORCH_PIN)" \
	  --extra-index-url $(TORCH_CPU_INDEX))
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
	$(BIN)/actionlint .github/workflows/*.yml

unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser and not live" -q

chapters: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider book -q

site-test: $(STAMP) chromium
	$(BIN)/python -m pytest tests -m browser -q

# The live door: JupyterLab on a free localhost port, chapters run and a slider moved in Chromium.
live-test: $(STAMP) chromium
	$(BIN)/python -m pytest tests -m live -q

test: lint unit chapters book site-test live-test

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

# Binder's install (binder/requirements.txt, Python 3.11) in a fresh venv, then one chapter run in
# it; only the torch source is swapped for one this machine reaches (see tools/binder_sim.py).
BINDER_PYTHON ?= python3.11
binder-test:
	$(PYTHON) tools/binder_sim.py --python $(BINDER_PYTHON)

clean:
	rm -rf _build .pytest_cache
