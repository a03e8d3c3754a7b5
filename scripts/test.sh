#!/usr/bin/env bash
# Sets up and runs every test. This is the README's test command and what CI runs.
#   bash scripts/test.sh
# Steps: install pinned deps -> lint (ruff check, ruff format --check) -> validate Rasa data ->
# unit tests -> dependency audit -> train (timed) -> conversation test stories -> held-out NLU
# evaluation -> patient phrasings, patients' questions and randomised conversations (in process) ->
# end-to-end conversations -> browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore SQLALCHEMY_SILENCE_UBER_WARNING=1
START=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

step "Python environment"
bash scripts/setup.sh
RASA=.venv/bin/rasa
PY=.venv/bin/python
mkdir -p var results

step "Lint: ruff check and ruff format --check (pyproject.toml; make format fixes most)"
.venv/bin/ruff check . || fail "ruff check (make format fixes what can be fixed automatically)"
.venv/bin/ruff format --check . || fail "ruff format --check (run: make format)"

step "rasa data validate (warnings fail the build)"
$RASA data validate --fail-on-warnings > results/validate.log 2>&1 \
  || { grep -iE "warn|error" results/validate.log | grep -v Deprecat | tail -20; fail "rasa data validate (full log: results/validate.log)"; }
echo "no warnings"

step "Unit tests: rules, answers, NLU pipeline, actions, domain"
$PY -m pytest -m "not e2e and not browser and not understanding" -q -p no:cacheprovider

step "Dependency audit (pip-audit/OSV when reachable, else the offline snapshot; security/accepted-vulnerabilities.yml)"
$PY scripts/audit_dependencies.py || fail "dependency audit: triage each finding (fix, or accept it with a reason)"

step "Training the model from scratch"
rm -rf .rasa/cache
t0=$(date +%s)
$RASA train --fixed-model-name screening --out models > results/train.log 2>&1 \
  || { tail -30 results/train.log; fail "training (full log: results/train.log)"; }
echo "Training time: $(( $(date +%s) - t0 )) s"

step "Conversation test stories (rasa test --fail-on-prediction-errors)"
$RASA test core --stories tests/ --model models/screening.tar.gz --fail-on-prediction-errors \
  --out results/stories > results/stories.log 2>&1 \
  || { tail -30 results/stories.log; cat results/stories/failed_test_stories.yml 2>/dev/null | head -60; fail "conversation test stories"; }
grep -E "Correct:|Accuracy:" results/stories.log | head -4 || true

step "Held-out NLU test set (intent and entity precision / recall / F1)"
$RASA test nlu --nlu tests/nlu/heldout_nlu.yml --model models/screening.tar.gz --out results/nlu \
  > results/nlu.log 2>&1 || { tail -20 results/nlu.log; fail "NLU evaluation"; }
$PY scripts/nlu_report.py results/nlu

step "Patient phrasings (tests/corpus) and questions (tests/questions), development and sealed, and 200 randomised conversations, in process"
$PY -m pytest -m understanding -q -p no:cacheprovider -p no:logging \
  || fail "patient phrasings / questions / randomised conversations (a missed red flag, missed distress, a wrong answer, a dead end, or a figure under its gate)"

step "End-to-end conversations (one server; and the production topology: 2 Rasa servers, PostgreSQL, Redis, nginx)"
bash scripts/install_nginx.sh
$PY -m pytest -m "e2e and not browser" -q -p no:cacheprovider

step "Browser tests (Playwright + Debian's Chromium)"
bash scripts/install_browser.sh
$PY -m pytest -m browser -q -p no:cacheprovider

step "All tests passed"
