# Two commands on a fresh Debian machine with Python 3.11: `make demo` and `make test`.
# Each installs what it needs (a virtualenv with pinned packages; Debian packages for the tests) and is
# safe to run again.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup setup-dev setup-ray clean

demo: setup
	$(BIN)/talkinghead demo

test: setup-dev
	$(BIN)/ruff check talkinghead tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup-dev
	$(BIN)/ruff check talkinghead tests benchmarks

setup: $(VENV)/.runtime-installed

setup-dev: $(VENV)/.dev-installed $(VENV)/.ray-installed

setup-ray: $(VENV)/.ray-installed

$(VENV)/.runtime-installed: requirements/runtime.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "talkinghead needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements/runtime.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements/dev.txt scripts/install-system-packages
	scripts/install-system-packages
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements/dev.txt
	touch $@

# Ray for `talkinghead batch --ray` (optional for users; the tests need it).
$(VENV)/.ray-installed: $(VENV)/.runtime-installed requirements/ray.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements/ray.txt
	touch $@

clean:
	rm -rf $(VENV) talkinghead-demo.mp4 build *.egg-info
