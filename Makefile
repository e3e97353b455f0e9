# Everything a fresh machine needs: `make run` serves the dashboard, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-integration test-browser check docs bench bench-check soak clean demo-prometheus production

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/opscenter run

# The suite's three parts run side by side, each printing its report when it ends: the browser and integration
# tests mostly wait on the servers and the browser they drive.
test: check
	$(MAKE) --no-print-directory -j3 --output-sync=target test-unit test-integration test-browser

test-unit test-integration test-browser: test-%: $(STAMP)
	$(BIN)/pytest tests/$*

# The architecture's import contracts (pyproject.toml, [tool.importlinter]), the linter and the formatter.
check: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The source options reference in docs/sources.md, generated from the options models.
docs: $(STAMP)
	$(BIN)/python -m datasources.options --write docs/sources.md

production: $(STAMP)
	BIN=$(BIN) deploy/production.sh

demo-prometheus: $(STAMP)
	BIN=$(BIN) examples/prometheus-demo.sh

bench: $(STAMP)
	$(BIN)/python -m bench

# The regression guard: fails when a measure is over twice as slow as recorded in bench/reference.json.
bench-check: $(STAMP)
	$(BIN)/python -m bench.check

soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .pytest_cache
