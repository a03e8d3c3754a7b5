"""Whole conversations through the widget in Chromium, against the real assistant."""

import re

import pytest

from channels.sender_ids import is_web_sender
from tests.support.screening import answer_questions, current_question

pytestmark = pytest.mark.browser


def said(messages):
    """Who said what, without the buttons' state (which changes as the talk goes on)."""
    return [(m["from"], m["text"]) for m in messages]


def test_full_screening_with_buttons_and_typed_answers_reaches_an_outcome(widget):
    widget.open()
    assert "Is it okay if I ask about your health" in widget.text
    widget.tap("Yes, that's okay")
    asked = answer_questions(widget)  # reads each question off the page; taps or types
    assert "rf_emergency" in asked and "medicines" in asked
    assert "Here is a summary of your answers" in widget.text, widget.dump()
    widget.tap("Yes, that's right")
    assert "Nothing in this screening rules the treatment out" in widget.text, widget.dump()
    assert widget.slots()["screening_outcome"] == "eligible_for_consultation"

    messages = widget.messages()
    shown = [m["text"] for m in messages if m["from"] == "user"]
    sent = widget.received()
    assert sent[0] == "hi"  # the widget's greeting, not shown as something the person said
    assert len(sent) == len(shown) + 1
    taps = [(s, r) for s, r in zip(shown, sent[1:], strict=False) if s != r]
    typed = [s for s, r in zip(shown, sent[1:], strict=False) if s == r]
    assert len(taps) >= 8 and len(typed) >= 15
    for title, payload in taps:  # a tap sends the button's payload and shows its title
        assert payload.startswith("/"), (title, payload)
    assert not any(t.startswith("/") for t in shown)  # no payload ever shown to the person

    # Each chosen button is marked, its choice is the next message, every older button is off.
    for index, message in enumerate(messages):
        chosen = [b["title"] for b in message["buttons"] if b["chosen"]]
        if chosen:
            assert (messages[index + 1]["from"], messages[index + 1]["text"]) == ("user", chosen[0])
    last_turn = widget.replies
    older = messages[: len(messages) - len(last_turn)]
    assert all(b["disabled"] for m in older for b in m["buttons"])
    assert widget.buttons() == ["Yes, please", "No, thanks"]
    assert all(not b["disabled"] for m in last_turn for b in m["buttons"])


def test_conversation_survives_reload_and_navigation_on_the_site(widget):
    widget.open()
    widget.tap("Yes, that's okay")
    widget.tap("None of these")
    widget.say("I'm 40")
    assert current_question(widget) == "rf_locked_jaw"
    before, sender = widget.messages(), widget.sender()

    # Records how much history the widget holds at the moment it enters the page.
    widget.page.add_init_script("""
      const append = Node.prototype.appendChild;
      Node.prototype.appendChild = function (child) {
        if (child && child.id === 'jaw-screening-widget' && !('historyWhenAttached' in window)) {
          window.historyWhenAttached = child.shadowRoot.querySelectorAll('.log .msg').length;
        }
        return append.call(this, child);
      };""")
    widget.page.reload()
    widget.panel.wait_for()  # it was open, so it is open again
    assert widget.messages() == before
    # Already there when attached: the live region does not announce the old conversation.
    assert widget.page.evaluate("window.historyWhenAttached") == len(before)
    assert widget.focused() is None  # reopening after a reload does not grab the focus
    widget.say("no")
    assert current_question(widget) == "rf_abscess"

    widget.page.get_by_role("link", name="Treatment").click()
    widget.page.wait_for_url("**/treatment")
    widget.panel.wait_for()
    assert said(widget.messages())[: len(before)] == said(before)
    widget.tap("No")
    assert current_question(widget) == "rf_systemic"
    assert widget.sender() == sender
    slots = widget.slots()
    assert (slots["patient_age"], slots["rf_locked_jaw"], slots["rf_abscess"]) == (40, "no", "no")


def test_the_conversation_id_is_the_only_form_the_rest_channel_accepts(widget):
    # Issue 26: the channel refuses any other id, so no one can name an SMS or Telegram
    # conversation through it. 96 random bits: "web-" and 24 hex digits.
    widget.open()
    assert "Is it okay if I ask about your health" in widget.text
    assert is_web_sender(widget.sender()) and len(widget.sender()) == len("web-") + 24


def test_a_stored_conversation_under_another_id_is_not_resumed(widget):
    # An id of another form (an older widget's, or one typed into the storage) would only
    # get 400s from the server: the widget starts a new conversation instead.
    widget.page.evaluate(
        """() => localStorage.setItem('jawScreeningWidget.v1', JSON.stringify(
             {sender: '+447700900123', messages: [], queue: [], open: false, savedAt: Date.now()}))"""
    )
    widget.page.reload()
    widget.launcher.wait_for()
    widget.open()
    assert "Is it okay if I ask about your health" in widget.text
    assert is_web_sender(widget.sender())


def test_start_over_clears_the_history_here_and_the_answers_in_the_assistant(widget):
    widget.open()
    widget.tap("Yes, that's okay")
    widget.tap("None of these")
    widget.say("45")
    sender = widget.sender()
    assert widget.slots()["patient_age"] == 45

    widget.locator(".restart").click()
    widget.wait_for_answer(1)  # the log now holds only "Start over" and the reply
    messages = widget.messages()
    assert [m["from"] for m in messages][:2] == ["user", "bot"] and messages[0]["text"] == "Start over"
    assert "let's start again" in messages[1]["text"]
    assert widget.buttons() == ["Yes, that's okay", "No"]
    assert len(widget.stored()["messages"]) == len(messages)
    assert widget.sender() == sender  # one conversation for the clinic, its answers cleared
    assert widget.received()[-1] == "start over"
    slots = widget.slots()
    assert slots["patient_age"] is None and slots["consent_given"] is None


def test_https_link_from_the_assistant_opens_in_a_new_tab_without_opener(widget, context):
    context.route("https://example.org/**", lambda route: route.fulfill(body="booking page", content_type="text/plain"))
    widget.open()
    widget.tap("No")  # no health questions; booking information is still given
    widget.say("I want to book an appointment")
    assert "https://example.org/book" in widget.text, widget.dump()
    link = widget.locator(".msg.bot a[href='https://example.org/book']")
    assert link.get_attribute("target") == "_blank"
    assert set(link.get_attribute("rel").split()) >= {"noopener"}
    assert re.fullmatch(r"https://example\.org/book \(opens in a new tab\)", link.text_content())
    with context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == "https://example.org/book"
    assert tab.evaluate("window.opener") is None
    assert widget.page.url.startswith(widget.stack.site)  # the clinic's page stays where it was
