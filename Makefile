# cae-lessons: `make book` builds the rendered book, `make test` runs every test (CI runs it).
# Both create .venv and install the pinned dependencies (constraints.txt) first, so a fresh clone
# needs only Python 3.11 (and 3.13, or else 3.12, for make test's second pass, where it exists).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
comma  := ,
EXTRAS ?= book,test
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
# nbval in every pass; --durations lists the slowest cells (where a cold run spends its time).
NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --durations=15
# The second venv, for make test's oneDNN pass: the newest Python TensorFlow supports (3.13),
# else 3.12, where one exists (one that runs: a pyenv shim for a version that is not selected
# exists but fails).
PYTHON2 ?= $(shell for p in python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) \
	python3.12 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12); \
	do if $$p -c "" 2>/dev/null; then echo $$p; break; fi; done)
VENV2  := .venv-second
BIN2   := $(VENV2)/bin
STAMP2 := $(VENV2)/.installed-$(subst $(comma),-,$(EXTRAS))

# quick on a CPU, full where TensorFlow sees a GPU; override with CAE_LESSONS_PROFILE=quick|full.
export CAE_LESSONS_PROFILE ?= auto

.PHONY: setup setup-second browser book test lint unit notebooks pass-onednn-0 pass-onednn-1 \
	check-book lab execute benchmarks perturb install-cell colab-check clean

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

## test: set up, then lint, a warnings-as-errors book build, and two passes of the unit tests +
## doctests and nbval on every chapter, side by side: one with TensorFlow's default CPU kernels
## (TF_ENABLE_ONEDNN_OPTS=0, Python 3.11), one with its oneDNN kernels (=1, Python 3.13 or 3.12
## where one exists). TensorFlow turns oneDNN on by itself on many CPUs; the book must hold
## either way.
test: setup setup-second browser lint check-book
	@$(MAKE) --no-print-directory -j2 -Oline pass-onednn-0 pass-onednn-1

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

# One pass: the unit tests, then every chapter, with the CPU kernels the suffix names. Pass 1
# runs in the second venv (Python 3.13 or 3.12 where one exists, else the first venv).
pass-onednn-0: setup
	TF_ENABLE_ONEDNN_OPTS=0 $(BIN)/pytest
	TF_ENABLE_ONEDNN_OPTS=0 CAE_LESSONS_PROGRESS=0 $(BIN)/pytest -o addopts=-ra $(NBVAL) book/
pass-onednn-1: setup-second
	TF_ENABLE_ONEDNN_OPTS=1 $(BIN2)/pytest
	TF_ENABLE_ONEDNN_OPTS=1 CAE_LESSONS_PROGRESS=0 $(BIN2)/pytest -o addopts=-ra $(NBVAL) book/

# The second venv: the same pins on Python 3.13 or 3.12 (requires-python is >=3.11).
setup-second: $(STAMP2)

$(STAMP2): pyproject.toml constraints.txt | $(STAMP)
	@if [ -n "$(PYTHON2)" ]; then \
		$(PYTHON2) -m venv $(VENV2) && \
		$(BIN2)/python -m pip install --quiet --upgrade pip && \
		$(BIN2)/python -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"; \
	else echo "no python3.13 or 3.12: the oneDNN pass runs in $(VENV) (Python 3.11)"; \
		rm -rf $(VENV2) && ln -s $(VENV) $(VENV2); fi
	touch $@

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

## perturb: re-execute every chapter with oneDNN on and off, one thread, a second data split;
## print each hidden claim's margin in every setting (writes book/_static/perturbations.json)
perturb: setup
	$(BIN)/python scripts/perturb.py --json book/_static/perturbations.json

## install-cell: write every chapter's install cell from _config.yml's repository.url
install-cell: setup
	$(BIN)/python scripts/install_cell.py

COLAB_PYTHON ?= python3.12
## colab-check: does the install cell keep Colab's TensorFlow? (fresh Python 3.12 venv, needs PyPI)
colab-check:
	bash scripts/colab_check.sh $(COLAB_PYTHON)

benchmarks: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build
