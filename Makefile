# The two commands of the README are `make run` and `make test`; the rest are for maintainers.
STAGE ?= dev
VENV := .venv/bin

.PHONY: setup run operator-env test lint format package deploy clean

setup:
	@bash devstack/bootstrap.sh

run: setup
	$(VENV)/python -m devstack.run

# The operator CLI's settings for the local stack of `make run`: eval "$$(make -s operator-env)"
operator-env:
	@$(VENV)/python -m devstack.run --operator-env

test: setup
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/python -m pytest -n 3 --dist loadfile

lint: setup
	$(VENV)/ruff check . && $(VENV)/ruff format --check .

format: setup
	$(VENV)/ruff format . && $(VENV)/ruff check --fix .

# dist/$(STAGE)/sam.yaml and deployment.zip: Chalice's template merged with infra/app.yaml, cfn-lint clean.
package: setup
	infra/package.sh $(STAGE)

# For people with AWS credentials: base stack, app stack, migrations, web console (infra/deploy.sh, README).
deploy: setup
	infra/deploy.sh $(STAGE)

clean:
	rm -rf .venv dist .pytest_cache .ruff_cache
