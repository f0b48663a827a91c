# MOCKI — `make run` sets everything up and starts the app; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv/bin
export MOCKI_CACHE ?= $(HOME)/.cache/mocki

.PHONY: setup setup-test run test test-fast check lint format typecheck web openapi bench clean

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --models "" --test

run: setup
	$(VENV)/mocki up

web:
	scripts/web.sh

# The whole suite, slow end-to-end tests (real model, browser) included.
test: setup-test
	cd web && npm test --silent
	$(VENV)/pytest -p no:cacheprovider --durations=30

test-fast: setup-test
	$(VENV)/pytest -m "not slow"

lint:
	$(VENV)/ruff check src tests bench migrations
	$(VENV)/ruff format --check src tests bench migrations
	scripts/gen_api_client.sh --check

format:
	$(VENV)/ruff format src tests bench migrations
	$(VENV)/ruff check --fix src tests bench migrations

typecheck:
	$(VENV)/mypy

check: lint typecheck test

# Regenerate the web app's TypeScript client from the api's OpenAPI schema.
openapi:
	scripts/gen_api_client.sh

bench:
	$(VENV)/mocki bench interview --json bench/results/interview.json

clean:
	rm -rf var web/dist .mypy_cache .ruff_cache .pytest_cache
