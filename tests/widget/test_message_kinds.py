"""What a message is, shown as such (issue 14): urgent advice as an alert with numbers to
tap, lists as lists, the summary by section, progress, "more below", several answers at
once, a restored conversation at its latest message, the round launcher on phones; and
axe-core on all of it. Against the real assistant, in Chromium."""

import pytest

from tests.support.axe import assert_accessible
from tests.support.screening import answer_questions, current_question
from tests.widget.widget_page import WidgetPage, contrast_failures

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone(chromium, stack):
    context = chromium.new_context(**PHONE)
    context.set_default_timeout(30_000)
    yield WidgetPage(context.new_page(), stack).goto("/")
    context.close()


def in_shadow(widget, script, arg=None):
    """Runs `script` (a function of the widget's shadow root and `arg`) in the page."""
    return widget.page.evaluate(
        f"([arg]) => ({script})(document.querySelector('#jaw-screening-widget').shadowRoot, arg)", [arg]
    )


def last_bot(widget, css=""):
    return widget.locator(f".log .msg.bot{css}").last


def log_is_at_the_end(widget) -> bool:
    return widget.locator(".log").evaluate("(log) => log.scrollHeight - log.scrollTop - log.clientHeight <= 2")


def test_red_flag_list_is_a_list_and_emergency_advice_an_alert_with_numbers_to_tap(widget):
    widget.open()
    widget.tap("Yes, that's okay")
    assert current_question(widget) == "rf_emergency"
    question = last_bot(widget)
    assert question.locator(".text ul li").count() == 5  # the five warning signs, as list items
    assert "•" not in question.locator(".text").text_content()
    assert widget.locator(".progress-text").text_content() == "Section 1 of 4: Safety questions"
    assert widget.locator(".msg.alert").count() == 0  # a question is not an alert

    widget.tap("Chest pain or breathlessness")
    alert = widget.locator(".msg.alert")
    assert alert.count() == 1, widget.dump()
    assert "alert-emergency" in alert.get_attribute("class")
    title = alert.locator(".alert-title")
    assert title.text_content().strip() == "Emergency advice"  # words, not colour alone
    assert title.locator("svg.icon").count() == 1
    assert "Please call 999 now" in alert.locator(".text").text_content()
    call = alert.locator("a.call")
    assert call.count() == 1 and call.get_attribute("href") == "tel:999"
    assert call.text_content().strip() == "Call  Emergency services: 999"  # "Call " is for screen readers
    colours = alert.evaluate("(el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderTopColor]")
    assert colours == ["rgb(253, 236, 234)", "rgb(179, 38, 30)"]
    # The closing message names the clinic's number: tappable, in E.164 from clinic.yml.
    closing = last_bot(widget)
    assert "alert" not in closing.get_attribute("class")
    assert closing.locator("a.call").get_attribute("href") == "tel:+442079460000"
    assert widget.locator(".progress").is_hidden()  # the questions stopped
    assert widget.slots()["screening_outcome"] == "urgent_care"
    assert contrast_failures(widget.page) == []
    assert_accessible(widget.page, "the emergency alert, desktop")


def test_same_day_advice_is_an_alert_of_its_own_kind_without_a_number_to_guess(widget):
    widget.open()
    widget.tap("Yes, that's okay")
    widget.tap("None of these")
    widget.say("I'm 62")
    assert current_question(widget) == "rf_gca"
    widget.tap("Yes")
    alert = widget.locator(".msg.alert")
    assert alert.count() == 1, widget.dump()
    assert "alert-same_day" in alert.get_attribute("class")
    assert alert.locator(".alert-title").text_content().strip() == "Urgent advice"
    assert "see a doctor or an emergency dentist today" in alert.text_content()
    # Same-day advice is the clinic's own text: no tap-to-call guessed out of it.
    assert alert.locator("a[href^='tel:']").count() == 0
    assert widget.slots()["screening_outcome"] == "urgent_care"
    assert_accessible(widget.page, "the same-day alert, desktop")


def test_several_treatments_progress_summary_by_section_and_restore_at_the_latest_message(widget):
    widget.open()
    widget.tap("Yes, that's okay")
    seen = {}
    original_several = widget.choose_several

    def choose_several(titles):
        # checked while the question is on screen, before answering it
        seen["treatments_tried"] = widget.locator(".progress-text").text_content()
        assert widget.locator(".choice.toggle:enabled").count() == 3  # Nothing yet, Not sure: on their own
        assert widget.locator(".choice.done").is_disabled()  # nothing chosen yet
        group = widget.locator(".log .choices").last
        assert group.get_attribute("aria-label") == "Choose all that apply, then Done"
        assert_accessible(widget.page, "the multi-select question, desktop")
        return original_several(titles)

    widget.choose_several = choose_several
    answer_questions(widget, {"treatments_tried": ("several", ["Night guard / splint", "Pain relief"])})

    assert seen["treatments_tried"] == "Section 2 of 4: Symptoms"
    slots = widget.slots()
    assert sorted(slots["treatments_tried"]) == ["night_guard", "pain_relief"]
    mine = [m["text"] for m in widget.messages() if m["from"] == "user"]
    assert "Night guard / splint, Pain relief" in mine  # one message, as shown

    # The summary: grouped by section, each closed at first, opening with a click.
    summary = widget.locator(".msg.bot details.section")
    titles = [t.strip() for t in summary.locator("summary").all_text_contents()]
    assert [t.split(" (")[0] for t in titles] == [
        "Safety questions",
        "Symptoms",
        "Pregnancy / breastfeeding",
        "Health and medicines",
    ]
    counts = [int(t.rsplit("(", 1)[1].rstrip(")")) for t in titles]
    assert counts == [summary.nth(i).locator("li").count() for i in range(4)]
    assert (
        sum(counts)
        == len([m for m in widget.messages() if "Here is a summary" in m["text"]][0]["text"].split("\n")) - 1
    )
    assert all(not summary.nth(i).evaluate("(d) => d.open") for i in range(4))
    symptoms = summary.nth(1)
    assert symptoms.locator("li").first.is_hidden()
    symptoms.locator("summary").click()
    assert symptoms.locator("li").first.is_visible()
    assert "Treatments already tried: Night guard / splint, Pain relief" in symptoms.text_content()
    assert widget.locator(".progress").is_hidden()  # the questions are over
    assert_accessible(widget.page, "the summary, desktop")

    # A new browser session with this conversation restored opens at its latest message.
    widget.page.reload()
    widget.panel.wait_for()
    widget.page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#jaw-screening-widget')).visibility === 'visible'"
    )
    assert log_is_at_the_end(widget)
    assert widget.locator(".log").evaluate("(log) => log.scrollHeight > 3 * log.clientHeight")  # a long history
    assert widget.locator(".choice:enabled").filter(has_text="Yes, that's right").is_visible()
    assert widget.locator(".more").is_hidden()
    widget.tap("Yes, that's right")
    assert widget.slots()["screening_outcome"] == "eligible_for_consultation"


def test_phone_round_launcher_more_below_cue_and_axe_open_and_closed(phone):
    widget = phone
    launcher = widget.launcher
    box = launcher.bounding_box()
    assert box["width"] == box["height"] == 56  # a round button, not a bar across the page
    assert box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 667
    assert launcher.evaluate("(b) => getComputedStyle(b).borderRadius") == "50%"
    named = widget.page.get_by_role("button", name="Questions about jaw pain? Chat with us")
    assert named.is_visible()
    assert_accessible(widget.page, "the closed launcher, phone")

    widget.open()
    widget.tap("Yes, that's okay")
    assert current_question(widget) == "rf_emergency"
    # The list and its seven buttons do not fit: the cue says there is more below.
    more = widget.locator(".more")
    assert more.is_visible() and more.text_content().strip() == "↓ More below"
    assert_accessible(widget.page, "the red-flag list with the cue, phone")
    more.click()
    assert log_is_at_the_end(widget)
    assert more.is_hidden()
    assert widget.focused() == "Chest pain or breathlessness"  # on the first of the choices
    widget.locator(".log").evaluate("(log) => { log.scrollTop = 0; }")
    more.wait_for(state="visible")  # scrolled back up: the cue returns

    widget.tap("Chest pain or breathlessness")
    alert = widget.locator(".msg.alert")
    alert.scroll_into_view_if_needed()
    call_box = alert.locator("a.call").bounding_box()
    assert call_box["height"] >= 44 and call_box["x"] + call_box["width"] <= 375  # a real touch target
    assert widget.page.evaluate("() => document.scrollingElement.scrollWidth") <= 375
    assert contrast_failures(widget.page) == []
    assert_accessible(widget.page, "the emergency alert, phone")


def test_axe_desktop_closed_and_open(widget):
    assert_accessible(widget.page, "the closed launcher, desktop")
    widget.open()
    assert widget.page.get_by_role("banner").count() == 1  # the clinic's page header only
    assert_accessible(widget.page, "the open panel with the consent question, desktop")
