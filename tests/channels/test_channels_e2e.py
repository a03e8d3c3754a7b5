"""Whole screenings over the messaging channels, end to end: the trained assistant and its
action server run with credentials.channels.yml; the patient's messages arrive as the
platforms' signed webhooks; replies go to a local stand-in of Twilio's / Telegram's API,
and the conversation is read from there."""

import itertools
import re

import pytest

from clinical.consultation_store import list_requests
from tests.support.platforms import TWILIO_ACCOUNT_SID, TelegramPatient, TwilioPatient, channels_env
from tests.support.screening import answer_questions, start
from tests.support.servers import ROOT, start_assistant
from tests.support.standin import StandIn
from tests.support.text_conversations import TelegramConversation, TwilioConversation

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def standin():
    with StandIn() as running:
        yield running


@pytest.fixture(scope="module")
def assistant(standin, tmp_path_factory):
    env = channels_env(standin.url)
    running = start_assistant(tmp_path_factory.mktemp("channels"), env, credentials=ROOT / "credentials.channels.yml")
    yield running
    running.stop()


# Each test its own patient (the assistant's databases are fresh for this module).
_patients = itertools.count(100)


def new_number() -> str:
    return f"+447700900{next(_patients):03d}"  # fictional: Ofcom's range for drama


def new_chat_id() -> int:
    return 900_000_000 + next(_patients)


def user_events(assistant, sender):
    return [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"]


def finish_with_consultation_request(conversation, contact):
    assert "Here is a summary of your answers" in conversation.text, conversation.dump()
    conversation.tap("Yes, that's right")
    assert "Nothing in this screening rules the treatment out" in conversation.text, conversation.dump()
    conversation.tap("Yes, please")
    conversation.say("My name is Sam Example")
    conversation.say(contact)
    conversation.tap("Weekday mornings")
    conversation.tap("Yes")
    assert "Your request has been passed to Example Jaw Clinic" in conversation.text, conversation.dump()


def assert_eligible(assistant, sender):
    slots = assistant.tracker(sender)["slots"]
    assert slots["screening_outcome"] == "eligible_for_consultation"
    assert slots["screening_reasons"] == [] and slots["tmd_screener_score"] == 5
    assert slots["consultation_requested"] is True
    [stored] = [r for r in list_requests(assistant.consultation_db_url) if r["conversation_id"] == sender]
    return stored


# ---- complete screenings ------------------------------------------------------------


def test_sms_screening_answering_with_option_numbers(assistant, standin):
    conversation = TwilioConversation(assistant, standin, TwilioPatient(new_number()), tap_by="number")
    standin.fail_next(1, status=500)  # Twilio hiccups on the first reply: it is sent again
    conversation.say("hi")
    assert [c.status for c in conversation.calls] == [500, 201]
    assert conversation.calls[0].form == conversation.calls[1].form
    # the whole turn (greeting, consent question, options) is one SMS, in order
    [body] = conversation.bodies
    assert body.startswith("Hello!") and body.endswith(
        "health, and keep your answers for the clinic's staff to review?\n\n1. Yes, that's okay\n2. No"
    )
    conversation.tap("Yes, that's okay")
    asked = answer_questions(conversation)
    assert "rf_gca" not in asked and "toxin_product" not in asked
    # the answer summary is longer than one SMS: split between lines, in order
    assert len(conversation.bodies) == 2 and all(len(b) <= 1600 for b in conversation.bodies)
    assert conversation.bodies[0].startswith("Here is a summary of your answers:\n• Emergency")
    assert conversation.bodies[1].endswith("1. Yes, that's right\n2. Change something")
    # a carrier that turns "@" into "¡" does not break the email address
    finish_with_consultation_request(conversation, "sam¡example.org")
    stored = assert_eligible(assistant, conversation.sender)
    assert (stored["contact"], stored["contact_kind"]) == ("sam@example.org", "email")

    replies = [c for c in standin.calls if c.form.get("To") == conversation.sender]
    assert len(replies) > 40
    assert all(c.form["From"] == "+447700900999" and len(c.form["Body"]) <= 1600 for c in replies)
    assert all(c.path == f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json" for c in replies)
    assert all(c.headers["Authorization"].startswith("Basic ") for c in replies)


def test_whatsapp_screening_answering_with_option_words(assistant, standin):
    patient = TwilioPatient(new_number(), whatsapp=True)
    conversation = TwilioConversation(assistant, standin, patient, tap_by="words")
    start(conversation)  # "hi", then "yes, that's okay" typed
    asked = answer_questions(conversation, {"bruxism": ("tap", "During the day"), "daily_impact": ("tap", "A lot")})
    assert asked["bruxism"] == 1
    finish_with_consultation_request(conversation, "sam@example.org")
    assert_eligible(assistant, conversation.sender)
    slots = assistant.tracker(conversation.sender)["slots"]
    assert (slots["bruxism"], slots["daily_impact"]) == ("day", "a_lot")
    replies = [c for c in standin.calls if c.form.get("To") == patient.address]
    assert {c.form["From"] for c in replies} == {"whatsapp:+447700900998"}


def test_telegram_screening_with_keyboard_taps_typed_numbers_and_words(assistant, standin):
    conversation = TelegramConversation(assistant, standin, TelegramPatient(new_chat_id()))
    conversation.say("/start")
    assert "Is it okay if I ask about your health" in conversation.text
    assert conversation.buttons() == ["Yes, that's okay", "No"]
    conversation.tap("Yes, that's okay")  # by the keyboard
    assert conversation.acknowledged and "text" not in conversation.acknowledged[0]
    answer_questions(conversation)
    finish_with_consultation_request(conversation, "sam@example.org")
    assert_eligible(assistant, conversation.sender)
    assert conversation.taps_by_keyboard >= 5


def test_telegram_a_tap_on_an_earlier_question_is_not_taken_as_an_answer(assistant, standin):
    conversation = TelegramConversation(assistant, standin, TelegramPatient(new_chat_id()))
    conversation.say("hello")
    consent_keyboard = dict(conversation.keyboard)
    conversation.say("yes")  # consent typed: now the first safety question is showing
    assert "First, a few safety questions" in conversation.text
    conversation._turn(conversation.patient.tap(consent_keyboard["No"]["data"]), "[old No]")
    assert conversation.replies == [] and "moved on" in conversation.acknowledged[0]["text"]
    slots = assistant.tracker(conversation.sender)["slots"]
    assert slots["consent_given"] is True and slots["rf_emergency"] is None


# ---- refused and repeated requests --------------------------------------------------


def test_twilio_forged_foreign_and_malformed_requests_are_refused_and_reach_nothing(assistant, standin):
    patient = TwilioPatient(new_number())
    conversation = TwilioConversation(assistant, standin, patient)
    mark = standin.mark()
    body, headers = patient.message("hi")
    forged = conversation.post((body, {**headers, "X-Twilio-Signature": "Zm9yZ2VkIHNpZ25hdHVyZQ=="}))
    assert (forged.status_code, forged.text) == (403, "Invalid X-Twilio-Signature.\n")
    unsigned = conversation.post((body, {"Content-Type": headers["Content-Type"]}))
    assert unsigned.status_code == 403
    wrong_token = conversation.post(TwilioPatient(patient.address, token="not-the-clinics-token").message("hi"))
    assert wrong_token.status_code == 403
    tampered = conversation.post((body.replace(b"Body=hi", b"Body=I%27m+55"), headers))
    assert tampered.status_code == 403
    as_json = conversation.post((b'{"Body": "hi"}', {**headers, "Content-Type": "application/json"}))
    assert as_json.status_code == 400 and "form-encoded" in as_json.text
    no_sid = {k: v for k, v in patient.form("hi").items() if "Sid" not in k or k == "AccountSid"}
    assert conversation.post(patient.signed(no_sid)).status_code == 400
    for response in (forged, unsigned, wrong_token, tampered, as_json):
        assert "Traceback" not in response.text and len(response.text) < 100
    assert user_events(assistant, patient.address) == []
    assert standin.calls_since(mark) == []


def test_twilio_replayed_message_sid_is_answered_once(assistant, standin):
    patient = TwilioPatient(new_number())
    conversation = TwilioConversation(assistant, standin, patient)
    request = patient.message("hi")
    conversation._turn(request, "hi")
    assert len(conversation.bodies) == 1
    conversation._turn(request, "hi (Twilio retries)")
    assert conversation.last_status == 200 and conversation.calls == []
    assert len(user_events(assistant, patient.address)) == 1


def test_telegram_wrong_secret_malformed_and_replayed_updates(assistant, standin):
    patient = TelegramPatient(new_chat_id())
    conversation = TelegramConversation(assistant, standin, patient)
    mark = standin.mark()
    wrong = conversation.post(TelegramPatient(patient.chat_id, secret="guessed-secret").message("hi"))
    missing = conversation.post((patient.message("hi")[0], {"Content-Type": "application/json"}))
    malformed = conversation.post((b'{"update_id": "one", "message": {}}', patient.message("hi")[1]))
    assert (wrong.status_code, missing.status_code, malformed.status_code) == (403, 403, 400)
    assert "Secret-Token" in wrong.text and "update_id" in malformed.text
    assert user_events(assistant, conversation.sender) == [] and standin.calls_since(mark) == []

    update = patient.message("hello")
    conversation._turn(update, "hello")
    assert conversation.replies
    conversation._turn(update, "hello (Telegram re-sends it)")
    assert conversation.replies == []
    assert len(user_events(assistant, conversation.sender)) == 1


# ---- delivery failures --------------------------------------------------------------


def test_a_reply_that_cannot_be_delivered_is_logged_without_text_or_number(assistant, standin):
    patient = TwilioPatient(new_number())
    conversation = TwilioConversation(assistant, standin, patient)
    standin.fail_next(3, status=503)
    conversation.say("hi")  # the webhook itself still succeeds: Twilio must not resend it
    assert [c.status for c in conversation.calls] == [503, 503, 503]
    log = (assistant.workdir / "rasa.log").read_text()
    [line] = [entry for entry in log.splitlines() if "could not send" in entry and "twilio_verified" in entry]
    assert re.search(r"to sender s-[0-9a-f]{12} after 3 attempt\(s\): HTTP 503, platform code 20500$", line)
    assert patient.address not in log and patient.address[1:] not in log
    assert "Is it okay if I ask about your health" not in log


def test_sms_a_red_flag_in_words_gets_the_emergency_advice_and_distress_the_crisis_contacts(assistant, standin):
    conversation = TwilioConversation(assistant, standin, TwilioPatient(new_number()), tap_by="number")
    conversation.say("hi")
    conversation.say("yes ok but my chest feels really heavy right now")
    sms = "\n".join(conversation.bodies)
    assert "call 999 now" in sms
    # the numbers to call on lines of their own, dialable, so the phone makes them tappable
    assert "\nEmergency services: 999\n" in sms + "\n"
    assert "\nExample Jaw Clinic: +442079460000" in sms
    assert assistant.tracker(conversation.sender)["slots"]["screening_outcome"] == "urgent_care"

    other = TwilioConversation(assistant, standin, TwilioPatient(new_number()), tap_by="number")
    other.say("hi")
    other.say("i dont see any point in living anymore")
    text = "\n".join(other.bodies)
    assert "Samaritans: 116 123" in text and "Are you safe right now?" in text
    assert "\nSamaritans: 116123\n" in text and "\nNHS 111, option 2: 111" in text  # dialable, alone
    assert "1. Yes, I'm safe right now" in text  # the options, numbered for SMS
    assert assistant.tracker(other.sender)["slots"]["distress_flagged"] is True


def test_sms_an_indirect_sign_and_an_unclear_answer_to_are_you_safe(assistant, standin):
    conversation = TwilioConversation(assistant, standin, TwilioPatient(new_number()), tap_by="number")
    conversation.say("hi")
    conversation.say("yes. not that it matters, i wont be around much longer anyway")
    text = "\n".join(conversation.bodies)
    assert "thoughts of ending their life" in text and "\nSamaritans: 116123\n" in text
    assert "Are you safe right now?" in text
    conversation.say("dunno")
    text = "\n".join(conversation.bodies)
    assert "Please answer yes or no" not in text and "Talk to the clinic" in text
    assert assistant.tracker(conversation.sender)["slots"]["safety_flags"][-1]["flag"] == "may_not_be_safe"


def test_telegram_urgent_advice_ends_with_the_numbers_to_call_on_lines_of_their_own(assistant, standin):
    conversation = TelegramConversation(assistant, standin, TelegramPatient(new_chat_id()))
    conversation.say("/start")
    conversation.tap("Yes, that's okay")
    conversation.tap("Trouble breathing or swallowing")
    advice, closing = [r["text"] for r in conversation.replies][:2]
    assert advice.startswith("Please call 999 now") and advice.endswith("\n\nEmergency services: 999")
    assert closing.endswith("\n\nExample Jaw Clinic: +442079460000")
    assert assistant.tracker(conversation.sender)["slots"]["screening_outcome"] == "urgent_care"
