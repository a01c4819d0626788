# Two entry points (see README): `make demo` and `make test`. Both set up
# everything a fresh machine needs: a virtual environment with the pinned
# CPU build of torch, the package and, where possible, bubblewrap (the sandbox).
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN     = $(VENV)/bin

.PHONY: demo test test-fast sandbox install

$(BIN)/dlgrade: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)" -e ".[test]"
	# bytecode once, as a regular pip install would: an editable install under
	# PYTHONDONTWRITEBYTECODE=1 would compile every module in every process
	$(BIN)/python -m compileall -q grader reference >/dev/null
	touch $@

install: $(BIN)/dlgrade sandbox

# bubblewrap isolates student code; installed with apt where we are root,
# otherwise say how (grading then needs --unsafe).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "note: bubblewrap (bwrap) is not installed; 'sudo apt-get install bubblewrap' enables the sandbox"; fi; }

demo: install
	$(BIN)/dlgrade demo

test: install
	$(BIN)/ruff check grader tests reference benchmarks examples
	$(BIN)/pytest -q -n 2

test-fast: install
	$(BIN)/pytest -q -n 2 -m "not slow"
