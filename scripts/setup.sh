#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies.
# Idempotent: does nothing when the installed pins already match.
#   scripts/setup.sh            install / update
#   scripts/setup.sh --refreeze rewrite constraints.txt from the current venv (deliberate upgrades only)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
STAMP="$VENV/.installed-pins"

say() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

find_python() {
  local want
  want=$(cat .python-version)
  if command -v pyenv >/dev/null 2>&1 && pyenv prefix "$want" >/dev/null 2>&1; then
    echo "$(pyenv prefix "$want")/bin/python3"; return
  fi
  for candidate in python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && \
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
      command -v "$candidate"; return
    fi
  done
  return 1
}

if [ "${1:-}" = "--refreeze" ]; then
  { sed -n '1,2p' constraints.txt; "$VENV/bin/pip" freeze --exclude-editable; } > constraints.txt.new
  mv constraints.txt.new constraints.txt
  say "constraints.txt rewritten from $VENV"
  exit 0
fi

# requirements.txt (the assistant) + every requirements-*.txt (tests, portal, channels, browser tests)
REQ_FILES=(requirements.txt requirements-*.txt)
wanted=$(cat .python-version "${REQ_FILES[@]}" constraints.txt | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
  echo "Python environment is up to date ($VENV)."
  exit 0
fi

PY=$(find_python) || fail "Python $(cat .python-version) is needed (Rasa 3.6 runs on 3.8-3.10 only). Install it with pyenv: pyenv install $(cat .python-version)"
say "Creating the virtual environment with $PY"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==23.2.1" "setuptools==70.3.0" "wheel==0.41.2"

say "Installing pinned dependencies (Rasa, TensorFlow, spaCy: a few minutes the first time)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
  $(printf -- '-r %s ' "${REQ_FILES[@]}") -c constraints.txt 2>&1 \
  | grep -E '^(Collecting|Successfully|ERROR)' | sed 's/^/    /' || true
"$VENV/bin/python" -c "import rasa, rasa_sdk, spacy" 2>/dev/null \
  || fail "the install did not complete; see the pip output above (is the package index reachable?)"
"$VENV/bin/rasa" telemetry disable >/dev/null 2>&1 || true
echo "$wanted" > "$STAMP"
say "Python environment ready: $VENV"
