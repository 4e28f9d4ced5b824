# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_WORKERS ?= 2
KYIV := src/shelterwatch/data/kyiv

NPM_STAMP := node_modules/.installed-stamp

.PHONY: run test check lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "shelterwatch needs Python >= 3.11 (set PYTHON=python3.12, for example)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { ./scripts/system-deps.sh --venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Front-end packages from npm, pinned in package-lock.json: the street map's renderer
# (protomaps-leaflet) and font (Noto Sans), served by the app; axe-core for the accessibility tests.
$(NPM_STAMP): package.json package-lock.json
	command -v npm >/dev/null 2>&1 || ./scripts/system-deps.sh --npm
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NPM_STAMP)

run: $(STAMP) $(NPM_STAMP)
	$(BIN)/shelterwatch init
	$(BIN)/shelterwatch import $(KYIV)/kyiv_shelters_2022-02-25.csv --format csv --mapping $(KYIV)/kmda-2022.toml
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) ./scripts/run-all.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: $(STAMP) $(NPM_STAMP)
	./scripts/system-deps.sh $(if $(SHELTERWATCH_PG),--postgres,)
	$(MAKE) lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

# The fast lane: every test but the browser and slow ones, few property examples (< 2 min).
check: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not browser and not slow" --hypothesis-profile=check

bench: $(STAMP)  # each prints its figures; see the README's "Measured" tables
	$(BIN)/python bench/import.py
	$(BIN)/python bench/nearest.py
	$(BIN)/python bench/reports.py $(if $(SHELTERWATCH_PG),,--no-pg)
	$(BIN)/python bench/door_open_kyiv_2023_06_01.py
	$(BIN)/python bench/channels.py --paced 300
	$(BIN)/python bench/coverage.py
	$(BIN)/python bench/stats.py $(if $(SHELTERWATCH_PG),,--no-pg)
	$(BIN)/python bench/alert_surge.py
	$(BIN)/python bench/basemap.py
	$(if $(SHELTERWATCH_PG),$(BIN)/python bench/fanout.py,)  # and nats-server -js on :4222

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .mypy_cache .ruff_cache
