# cae-lessons: `make book` builds the rendered book, `make test` runs every test (CI runs it).
# Both create .venv and install the pinned dependencies first, so a fresh clone needs only Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
comma  := ,
EXTRAS ?= book,test
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# quick on a CPU, full where TensorFlow sees a GPU; override with CAE_LESSONS_PROFILE=quick|full.
export CAE_LESSONS_PROFILE ?= auto

.PHONY: setup browser book test lint unit notebooks check-book lab execute benchmarks clean

setup: $(STAMP) book/_static/widgets/embed.js

# The ipywidgets embed bundle and MathJax the rendered book serves itself (npm ci; CDN loaders
# without npm).
book/_static/widgets/embed.js: $(STAMP) package.json package-lock.json scripts/widgets_js.py
	$(BIN)/python scripts/widgets_js.py

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

## book: set up, then render the stored notebooks into _build/html (open _build/html/index.html)
book: setup
	$(BIN)/jupyter-book build .
	@echo "The book is in _build/html/index.html"

## test: set up, then lint, unit tests + doctests, a warnings-as-errors book build, nbval on every chapter
test: setup browser lint check-book unit notebooks

# Debian's Chromium for tests/test_browser.py (Playwright drives /usr/bin/chromium; it never
# downloads a browser). Installed where we are root and apt-get exists; elsewhere that test skips
# and says why.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "no /usr/bin/chromium and cannot install it: tests/test_browser.py will skip"; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup
	$(BIN)/pytest

# -W only fires on a clean build, so the check builds into its own fresh folder.
check-book: setup
	rm -rf _build/check
	$(BIN)/jupyter-book build . --path-output _build/check -W -n --keep-going

notebooks: setup
	CAE_LESSONS_PROGRESS=0 $(BIN)/pytest -o addopts=-ra $(NBVAL) book/

## lab: open the chapters in JupyterLab (widgets included)
lab: setup
	$(BIN)/jupyter lab book/

## execute: re-run every chapter in place and store its outputs (and widget state)
execute: setup
	$(BIN)/python scripts/execute_notebooks.py

benchmarks: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build
