# The two commands of the README: `make run` and `make test`. Both set up everything first.
.PHONY: run test setup setup-gui lint bench

run: setup-gui
	.venv/bin/ijs-vetting

test: setup
	.venv/bin/ruff check ijs_vetting tests
	.venv/bin/lint-imports
	scripts/with-postgres.sh .venv/bin/python -m pytest

setup:
	scripts/bootstrap.sh

setup-gui:
	scripts/bootstrap.sh gui

lint: setup
	.venv/bin/ruff check ijs_vetting tests
	.venv/bin/lint-imports
	.venv/bin/mypy
