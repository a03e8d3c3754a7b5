"""Security of the running assistant (Rasa server + action server, as tests/e2e starts them,
with security/logging.yml like every deployment):

- Rasa's HTTP API refuses every request without the right token; the webhook stays public;
  nginx (deploy/nginx.conf) does not pass the API on at all.
- After a real conversation with a consultation request and forced errors on both servers,
  neither server's log holds the patient's name, phone number, email or answer text.
"""

import re
import sqlite3
from types import SimpleNamespace

import pytest
import requests

from channels.sender_ids import new_web_sender
from clinical import consultation_store
from security.log_redaction import EMAIL_RE
from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, start
from tests.support.servers import API_TOKEN

# Obviously fake details (020 7946 0xxx is Ofcom's drama range for London; the form accepts
# it as a valid number and stores +442079460123).
NAME = "Testy McTestface"
PHONE = "020 7946 0123"
EMAIL = "test@example.org"
ANSWER = "whenever the Zanzibar ferry docks"  # free text: preferred times
ANOTHER_ANSWER = "my Quokka-shaped night guard"
NEVER_IN_LOGS = [
    NAME,
    "Testy",
    "McTestface",
    PHONE,
    "02079460123",
    "442079460123",
    "7946 0123",
    "79460123",
    EMAIL,
    "Zanzibar",
    "Quokka",
]

API_ROUTES = [
    ("GET", "/conversations/{id}/tracker"),
    ("POST", "/conversations/{id}/messages"),
    ("POST", "/conversations/{id}/tracker/events"),
    ("PUT", "/conversations/{id}/tracker/events"),
    ("POST", "/conversations/{id}/execute"),
    ("POST", "/conversations/{id}/trigger_intent"),
    ("GET", "/conversations/{id}/story"),
    ("POST", "/model/parse"),
    ("GET", "/status"),
    ("DELETE", "/model"),
]


def api(assistant, method, path, token=None, **kwargs):
    params = {"token": token} if token is not None else {}
    return requests.request(method, f"{assistant.url}{path}", params=params, timeout=60, **kwargs)


@pytest.fixture
def talked(assistant):
    conversation = Conversation(assistant)
    conversation.say("hi")
    return conversation


@pytest.mark.parametrize("method, route", API_ROUTES)
def test_the_api_refuses_requests_without_the_right_token(assistant, talked, method, route):
    path = route.format(id=talked.sender)
    body = {"text": "hi", "sender": "user", "name": "action_listen"}
    for token, headers in ((None, {}), ("wrong-token", {}), (None, {"Authorization": f"Bearer {API_TOKEN}"})):
        response = api(assistant, method, path, token, json=body, headers=headers)
        assert response.status_code in (401, 403), (method, path, token, response.status_code)
    # The conversation is untouched by the refused writes.
    assert len(assistant.tracker(talked.sender)["events"]) == len(
        api(assistant, "GET", f"/conversations/{talked.sender}/tracker", API_TOKEN).json()["events"]
    )


def test_the_api_works_with_the_token_and_the_webhook_needs_none(assistant, talked):
    response = api(assistant, "GET", f"/conversations/{talked.sender}/tracker", API_TOKEN)
    assert response.status_code == 200 and response.json()["sender_id"] == talked.sender
    assert talked.say("hello") and talked.replies  # the public chat channel, no token


def test_nginx_does_not_pass_the_api_on_even_with_the_token(assistant, talked, tmp_path):
    from tests.support.cluster import start_balancer

    stand_in = SimpleNamespace(
        rasa_ports=[int(assistant.url.rsplit(":", 1)[1])], action_url=assistant.action_url, processes={}
    )
    try:
        balancer = start_balancer(stand_in, tmp_path)
    except RuntimeError as error:
        pytest.skip(f"nginx unavailable: {error}")
    try:
        reply = requests.post(
            f"{balancer}/webhooks/rest/webhook", json={"sender": talked.sender, "message": "hi"}, timeout=60
        )
        assert reply.status_code == 200 and reply.json()
        for path in (f"/conversations/{talked.sender}/tracker", "/status", "/model/parse", "/version"):
            response = requests.get(f"{balancer}{path}", params={"token": API_TOKEN}, timeout=30)
            assert response.status_code == 404, path
    finally:
        stand_in.processes["balancer"].terminate()
        stand_in.processes["balancer"].wait(timeout=20)


def make_consultation_store_fail_for(url: str, name: str) -> None:
    """The consultation table refuses this patient's row, as a database error would."""
    consultation_store.engine_for(url)  # creates the table if the action server has not yet
    with sqlite3.connect(url[len("sqlite:///") :]) as db:
        db.execute(
            "CREATE TRIGGER IF NOT EXISTS refuse_test_patient BEFORE INSERT ON consultation_requests "
            f"WHEN NEW.name = '{name}' BEGIN SELECT RAISE(ABORT, 'simulated database failure'); END"
        )


def test_logs_hold_no_message_text_names_phone_numbers_or_emails(assistant):
    make_consultation_store_fail_for(assistant.consultation_db_url, NAME)

    # 1. A whole screening with a consultation request, typed the way a patient would.
    patient = Conversation(assistant)
    start(patient)
    answer_questions(patient, {"treatments_tried": ANOTHER_ANSWER})
    patient.tap("Yes, that's right")
    patient.tap("Yes, please")
    patient.say(f"My name is {NAME}")
    patient.say(f"call me on {PHONE}")
    patient.say(ANSWER)
    patient.tap("Yes")
    assert "couldn't pass your request on" in patient.text, patient.dump()  # the forced database error

    # 2. Forced errors on the Rasa server, each carrying the patient's details.
    other = new_web_sender()
    requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        timeout=60,
        data=f'{{"sender": "{other}", "message": "I am {NAME}, {EMAIL}'.encode(),
    )  # broken JSON
    requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": other, "message": f'/inform{{"name": "{NAME}", "email": "{EMAIL}"'},
    )
    api(
        assistant,
        "POST",
        f"/conversations/{patient.sender}/tracker/events",
        API_TOKEN,
        json=[{"event": "no_such_event", "text": f"{NAME} {PHONE} {EMAIL}"}],
    )
    # A custom action that crashes: rasa-sdk answers 500 with the whole tracker (name, phone,
    # every message), which Rasa puts in the traceback it logs.
    api(
        assistant,
        "POST",
        f"/conversations/{patient.sender}/tracker/events",
        API_TOKEN,
        json=[{"event": "slot", "name": "medicines", "value": 42}],
    )
    api(assistant, "POST", f"/conversations/{patient.sender}/execute", API_TOKEN, json={"name": "action_show_summary"})

    logs = {name: (assistant.workdir / f"{name}.log").read_text() for name in ("rasa", "actions")}
    for name, text in logs.items():
        leaked = [s for s in NEVER_IN_LOGS if s.lower() in text.lower()]
        assert not leaked, (
            f"{name}.log holds {leaked}:\n"
            + "\n".join(line for line in text.splitlines() if any(s.lower() in line.lower() for s in leaked))[:3000]
        )
        assert not EMAIL_RE.search(text), f"an email address in {name}.log: {EMAIL_RE.search(text).group(0)}"
    # The errors were logged (at INFO and above), redacted: the test saw the risky paths.
    assert "Rasa server is up and running" in logs["rasa"]
    assert "Could not store a consultation request" in logs["actions"]
    # The consultation store's engine hides SQL parameters itself (hide_parameters=True);
    # the redaction masks them for any engine that does not.
    assert (
        "[parameters: redacted]" in logs["actions"]
        or "[SQL parameters hidden due to hide_parameters=True]" in logs["actions"]
    ), logs["actions"][-3000:]
    assert re.search(r"ClientResponseError: 500.*\[redacted\]", logs["rasa"]), logs["rasa"][-3000:]
