# The two commands a user types: `make run` and `make test`. Each creates or reuses .venv and installs
# what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench faults install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/selene up --demo

test: $(STAMP)
	@sh infra/system-deps.sh
	$(BIN)/lint-imports --no-logo
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench.spine
	$(BIN)/python -m bench.agent
	$(BIN)/python -m bench.processors
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.manager
	$(BIN)/python -m bench.sink
	$(BIN)/python -m bench.extraction
	$(BIN)/python -m bench.descriptors
	$(BIN)/python -m bench.sdk
	$(BIN)/python -m bench.tasks --events 20000 --refs 1000 --faces 10000  # issue 13's sizes: 1000000 10000 100000

# The fault suite at full length on a real `selene up`: make faults ARGS="--kills 3 --only api"
faults: $(STAMP)
	$(BIN)/python -m pytest -o addopts="--durations=5" tests/faults
	$(BIN)/python -m bench.faults $(ARGS)

clean:
	rm -rf $(VENV) data bench/out .pytest_cache
