# The two commands of the README are `make run` and `make test`; the rest are for maintainers.
STAGE ?= dev
VENV := .venv/bin

.PHONY: setup run test lint format package clean

setup:
	@bash devstack/bootstrap.sh

run: setup
	$(VENV)/python -m devstack.run

test: setup
	$(VENV)/python -m pytest

lint: setup
	$(VENV)/ruff check . && $(VENV)/ruff format --check .

format: setup
	$(VENV)/ruff format . && $(VENV)/ruff check --fix .

package: setup
	rm -rf dist/$(STAGE) && $(VENV)/chalice package --stage $(STAGE) dist/$(STAGE)
	@ls -l dist/$(STAGE)

clean:
	rm -rf .venv dist .pytest_cache .ruff_cache
