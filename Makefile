# Shortcuts for the usual tasks; `make help` lists them. The README's two commands
# (bash scripts/run.sh, bash scripts/test.sh) stay the way in: `make run` and `make test` call them.
# VENV points at another virtualenv if needed, e.g. `make unit VENV=../main/.venv`.

VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
RUFF := $(VENV)/bin/ruff
PYTEST := $(PY) -m pytest -q -p no:cacheprovider
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONWARNINGS := ignore
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Pure unit tests: they import only clinical/, security/, scripts/, medical_nlu's and channels'
# Rasa-free modules (channels/sender_ids.py, request_body.py) (no Rasa, no action server, no
# channel servers, no portal database, no trained model;
# test_rules.py builds the blank spaCy pipeline once for two tests), so they run in seconds. Naming the files (rather than a
# marker) keeps pytest from importing the Rasa-heavy test modules at collection, which a
# `-m` selection would still do. A test file belongs here only if it stays that light.
UNIT_TESTS := \
	tests/test_contact.py \
	tests/test_doc_references.py \
	tests/test_import_boundaries.py \
	tests/test_knowledge.py \
	tests/test_medicines.py \
	tests/test_numbers.py \
	tests/test_reading.py \
	tests/test_rules.py \
	tests/test_ruleset_version.py \
	tests/channels/test_sender_ids.py \
	tests/security/test_committed_config.py \
	tests/security/test_dependency_audit.py \
	tests/security/test_log_redaction.py \
	tests/security/test_production_settings.py \
	tests/security/test_request_body.py \
	tests/understanding/test_corpus_is_independent.py \
	tests/reading

.PHONY: help setup unit unit-all test e2e browser understanding bench lint format train run model

help:  ## this list
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

setup:  ## create .venv and install the pinned dependencies (scripts/setup.sh)
	bash scripts/setup.sh

unit: setup  ## the pure unit tests (no Rasa, no model, no servers): seconds
	$(PYTEST) $(UNIT_TESTS)

unit-all: setup  ## every unit test (CI's unit step: actions, NLU pipeline, channels, portal, ...)
	$(PYTEST) -m "not e2e and not browser and not understanding"

test: ## everything CI runs (scripts/test.sh: lint, validate, unit, audit, train, stories, NLU, e2e, browser)
	bash scripts/test.sh

model: setup
	mkdir -p models
	$(RASA) train --fixed-model-name screening --out models

train: model  ## train models/screening.tar.gz (a no-op when nothing changed)

e2e: model  ## whole conversations against running servers, and the production topology
	bash scripts/install_nginx.sh
	$(PYTEST) -m "e2e and not browser"

browser: model  ## browser tests (Playwright + Debian's Chromium)
	bash scripts/install_browser.sh
	$(PYTEST) -m browser

understanding: model  ## patient phrasings, patients' questions and randomised conversations, in process
	$(PYTEST) -p no:logging -m understanding

bench: model  ## the benchmarks that print figures (bench/; docs/benchmarks.md)
	$(PY) -m bench.calibrate_knowledge
	$(PY) bench/portal_bench.py
	$(PY) bench/load.py
	$(PY) bench/lock_race.py
	$(PY) bench/request_bounds.py

lint: setup  ## ruff check and ruff format --check (pyproject.toml)
	$(RUFF) check .
	$(RUFF) format --check .

format: setup  ## fix what ruff can fix, then format
	$(RUFF) check --fix .
	$(RUFF) format .

run:  ## set up, train if needed and start the assistant (scripts/run.sh)
	bash scripts/run.sh
