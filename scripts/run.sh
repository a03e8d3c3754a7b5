#!/usr/bin/env bash
# Sets up and runs the assistant on the embedded defaults (SQLite tracker store).
#   bash scripts/run.sh          Rasa server (REST channel) on :5005 + action server on :5055
#   bash scripts/run.sh shell    the same, but talk to it right here in the terminal
# Environment: RASA_PORT (5005), ACTION_PORT (5055); RASA_API_TOKEN enables Rasa's HTTP
# API for staff tooling (never open without a token; the server then listens on 127.0.0.1
# only). RASA_CREDENTIALS (credentials.yml);
# credentials.channels.yml adds SMS/WhatsApp/Telegram (docs/messaging-channels.md).
# WIDGET_PORT (5020); WIDGET_ORIGINS: space-separated clinic-site origins allowed to embed
# the widget. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore SQLALCHEMY_SILENCE_UBER_WARNING=1
# Logs without patient data (security/log_redaction.py); the repo root must be importable
# for it, because Rasa reads the logging config before it adds the working directory.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
LOGGING=(--logging-config-file security/logging.yml)
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
CREDENTIALS=${RASA_CREDENTIALS:-credentials.yml}
say() { printf '\n==> %s\n' "$*"; }

bash scripts/setup.sh
RASA=.venv/bin/rasa
# The servers start through the project's launchers (docs/deployment.md, "Server extensions"):
# `python -m serving run|shell` is `rasa run|shell` with the server extensions installed,
# `python -m actions` is `rasa run actions` after the production-settings check.
PY=.venv/bin/python
mkdir -p var models

say "Training a model if the data changed since the last one (a few minutes the first time)"
t0=$(date +%s)
$RASA train --fixed-model-name screening --out models 2>&1 | grep -E "Nothing changed|trained and saved|Epochs|Error|error" | tail -3
echo "Model ready in $(( $(date +%s) - t0 )) s: models/screening.tar.gz"

if [ "$ACTION_PORT" != 5055 ]; then
  endpoints=var/endpoints.run.yml
  sed "s#127.0.0.1:5055#127.0.0.1:$ACTION_PORT#" endpoints.yml > "$endpoints"
else
  endpoints=endpoints.yml
fi

say "Starting the action server on port $ACTION_PORT (log: var/actions.log)"
# The action server has no authentication: this machine only.
SANIC_HOST=127.0.0.1 $PY -m actions --port "$ACTION_PORT" --actions actions "${LOGGING[@]}" > var/actions.log 2>&1 &
ACTIONS_PID=$!
trap 'kill $ACTIONS_PID 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fs "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1 && break
  kill -0 $ACTIONS_PID 2>/dev/null || { tail -20 var/actions.log; echo "The action server failed to start (see var/actions.log)."; exit 1; }
  sleep 1
done

if [ "${1:-}" = "shell" ]; then
  say "Talk to the assistant below (type /stop to end)"
  exec $PY -m serving shell --model models/screening.tar.gz --endpoints "$endpoints" --port "$RASA_PORT" "${LOGGING[@]}"
fi

PORTAL_PORT=${PORTAL_PORT:-5010}
say "Starting the staff portal on 127.0.0.1:$PORTAL_PORT (log: var/portal.log)"
# Local http: cookies without the Secure flag. In production serve it over https and leave this unset.
PORTAL_INSECURE_COOKIES=${PORTAL_INSECURE_COOKIES:-1} PORTAL_PORT=$PORTAL_PORT .venv/bin/python -m portal > var/portal.log 2>&1 &
PORTAL_PID=$!
trap 'kill $ACTIONS_PID $PORTAL_PID 2>/dev/null || true' EXIT

WIDGET_PORT=${WIDGET_PORT:-5020}
say "Starting the website widget demo on 127.0.0.1:$WIDGET_PORT (log: var/widget.log)"
.venv/bin/python -m widget.app --port "$WIDGET_PORT" --rasa-url "http://127.0.0.1:$RASA_PORT" > var/widget.log 2>&1 &
WIDGET_PID=$!
trap 'kill $ACTIONS_PID $PORTAL_PID $WIDGET_PID 2>/dev/null || true' EXIT
# Pages that embed the widget call Rasa from their own origin: the demo page, plus any
# clinic sites in WIDGET_ORIGINS (space-separated, e.g. "https://www.example-clinic.org").
# shellcheck disable=SC2206
cors=(--cors "http://127.0.0.1:$WIDGET_PORT" ${WIDGET_ORIGINS:-})

api=()
if [ -n "${RASA_API_TOKEN:-}" ]; then api=(--enable-api --auth-token "$RASA_API_TOKEN" --interface 127.0.0.1); fi
say "Starting the Rasa server on port $RASA_PORT"
demo_sender="web-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"  # 96 random bits, as the widget makes them
cat <<MSG
    The log lists each "server extension installed: ..." first (serving/extensions.py).
    When it says "Rasa server is up and running", talk to it from another terminal:
      .venv/bin/python scripts/chat.py --url http://127.0.0.1:$RASA_PORT
    or over HTTP:
      curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"$demo_sender","message":"hi"}'
    (a new conversation id of the widget's form, "web-" and 24 hex digits: the only form the
    REST channel accepts, so that it can never name an SMS or Telegram conversation)
    Conversations are stored in var/rasa.db; consultation requests in var/consultations.db.
    Website widget demo: http://127.0.0.1:$WIDGET_PORT/  (docs/website-widget.md)
    Staff portal: http://127.0.0.1:$PORTAL_PORT/  (first account:
      .venv/bin/python -m portal.cli create-user --username admin --role admin)
MSG
$PY -m serving run --model models/screening.tar.gz --endpoints "$endpoints" --credentials "$CREDENTIALS" \
  --port "$RASA_PORT" "${api[@]}" "${cors[@]}" "${LOGGING[@]}"
