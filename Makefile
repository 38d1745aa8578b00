# Interactive Deep Learning from Scratch
#   make book     set up .venv, build the site into _build/html
#   make serve    serve the built site on http://127.0.0.1:8000
#   make test     set up, then every test: package, notebooks (nbval), build, browser
#   make execute  re-execute every chapter in place, each in a fresh kernel
#   make bench    speed benchmarks
SHELL := /bin/bash
.DEFAULT_GOAL := book

PYTHON_SYS ?= $(shell command -v python3.11 || command -v python3)
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
CHROMIUM   ?= /usr/bin/chromium
JOBS       ?= 2
PORT       ?= 8000

# The environment chapters run in, so their printed numbers are the same on every machine
# (defined and explained once, in tools/book.py): shell-quoted KEY=VALUE assignments to put
# in front of a command. Read with the system Python, since .venv may not exist yet.
NUMERIC_ENV := $(shell $(PYTHON_SYS) tools/book.py numeric-env)
ifeq ($(NUMERIC_ENV),)
$(error could not read the numeric environment: '$(PYTHON_SYS) tools/book.py numeric-env' failed)
endif

.PHONY: lite book serve test test-unit test-notebooks test-site build execute bench clean chromium assets

$(STAMP): requirements.txt requirements-dev.txt code/pyproject.toml
	@test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

assets: $(STAMP)
	@$(PY) tools/fetch_assets.py

# Debian's Chromium drives the browser tests (Playwright never downloads a browser here).
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The chapters are executed for the site JOBS at a time into the build's execution cache
# first (jupyter-book itself runs one after another), so the build finds them all cached.
build: assets
	$(NUMERIC_ENV) JOBS=$(JOBS) $(PY) tools/execute.py --cache _build/.jupyter_cache
	SCRATCHDL_STATIC_WIDGETS=1 $(NUMERIC_ENV) $(VENV)/bin/jupyter-book build -W -n --keep-going .
	$(PY) tools/build_lite.py

# Only the in-browser (JupyterLite) copy, into _build/html/lite.
lite: $(STAMP)
	$(PY) tools/build_lite.py

book: build
	@echo ""
	@echo "The book is built. Open _build/html/index.html, or run 'make serve'."

serve:
	@test -f _build/html/index.html || $(MAKE) build
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

test-unit: $(STAMP)
	$(PY) -m pytest -q code/tests tests/test_notebook_policy.py

test-notebooks: $(STAMP)
	$(NUMERIC_ENV) $(PY) -m pytest -q -p no:cacheprovider --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/sanitize.cfg -n $(JOBS) --dist loadfile chapters

test-site: chromium build
	$(PY) -m pytest -q tests/test_site.py tests/test_lite.py

test: test-unit test-notebooks test-site

execute: $(STAMP)
	$(NUMERIC_ENV) $(PY) tools/execute.py

bench: $(STAMP)
	$(PY) benchmarks/bench_mlp.py
	$(PY) benchmarks/bench_cnn.py
	$(PY) benchmarks/bench_lstm.py
	@test -f data/corpus/word2vec_corpus.txt.gz || $(PY) data/build.py corpus
	$(PY) benchmarks/bench_word2vec.py
	$(PY) benchmarks/bench_widgets.py
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_book_widgets.py

clean:
	rm -rf _build
