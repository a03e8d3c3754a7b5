"""Ways a clinic might embed the widget: data-* attributes only, colours that would be
unreadable, no server address, the snippet pasted twice."""

import pytest

from tests.widget.widget_page import WidgetPage

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Embed test</title>
{head}</head><body><h1>Clinic</h1>{body}</body></html>"""


def clinic_page(context, stack, body, head=""):
    """A page of the demo site's origin with `body` as its markup and the real widget files.
    (Written into a page the site served, so Chromium sees it as coming from 127.0.0.1 and
    lets it call Rasa on 127.0.0.1; a page made up by a Playwright route would be refused.)"""
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append((message.type, message.text)))
    page.goto(f"{stack.site}/health")
    page.set_content(PAGE.format(head=head, body=body))
    widget = WidgetPage(page, stack)
    widget.launcher.wait_for()
    return widget, console


def host_colour(widget, css, prop):
    return widget.locator(css).evaluate(f"(el) => getComputedStyle(el).{prop}")


def test_data_attributes_alone_configure_the_widget(context, stack):
    widget, console = clinic_page(
        context,
        stack,
        (
            f'<script src="/widget/widget.js" data-server-url="{stack.assistant.url}/" '
            'data-clinic-name="Data Clinic" data-emergency-number="112" data-launcher-text="Jaw pain? Ask us" '
            'data-color-primary="#5b2a86" data-color-on-primary="#ffffff" defer></script>'
        ),
    )
    assert widget.launcher.text_content() == "Jaw pain? Ask us"
    assert host_colour(widget, ".launcher", "backgroundColor") == "rgb(91, 42, 134)"
    widget.open()
    assert widget.page.get_by_role("dialog", name="Data Clinic assistant").is_visible()
    assert "In an emergency call 112." in widget.locator(".disclaimer").text_content()
    assert widget.locator(".disclaimer a").get_attribute("href") == "tel:112"
    assert "Is it okay if I ask about your health" in widget.text  # talking to Rasa
    assert [c for c in console if c[0] in ("error", "warning")] == []


def test_unreadable_colours_are_replaced_by_the_defaults_with_a_warning(context, stack):
    widget, console = clinic_page(
        context,
        stack,
        (
            f'<script>window.JawScreeningWidget = {{serverUrl: "{stack.assistant.url}", '
            'colors: {primary: "#ffff00", onPrimary: "#ffffff"}};</script>'
            '<script src="/widget/widget.js" defer></script>'
        ),
    )
    assert host_colour(widget, ".launcher", "backgroundColor") == "rgb(11, 92, 173)"  # the default
    assert any(kind == "warning" and "below 4.5:1 contrast" in text for kind, text in console)


def test_without_a_server_address_it_says_so_instead_of_failing_silently(context, stack):
    widget, console = clinic_page(context, stack, '<script src="/widget/widget.js" defer></script>')
    widget.launcher.click()
    widget.locator(".notice").get_by_text("This chat is not set up correctly").wait_for()
    assert "In an emergency call your local emergency number." in widget.locator(".disclaimer").text_content()
    assert any(kind == "error" and "serverUrl is not set" in text for kind, text in console)


def test_the_snippet_pasted_twice_gives_one_widget(context, stack):
    tag = f'<script src="/widget/widget.js" data-server-url="{stack.assistant.url}"></script>'
    widget, _ = clinic_page(context, stack, tag + tag, head=tag)  # in <head> too: before <body> exists
    assert widget.page.locator("#jaw-screening-widget").count() == 1
    assert widget.launcher.count() == 1


def test_a_misspelt_option_is_named_in_the_console_and_numbers_work_as_text(context, stack):
    widget, console = clinic_page(
        context,
        stack,
        (
            f'<script>window.JawScreeningWidget = {{serverUrl: "{stack.assistant.url}", '
            'emergencyNumber: 112, launcherTxt: "Chat"};</script><script src="/widget/widget.js" defer></script>'
        ),
    )
    widget.open()
    assert "In an emergency call 112." in widget.locator(".disclaimer").text_content()
    assert any(kind == "warning" and 'unknown option "launcherTxt"' in text for kind, text in console)


def test_the_text_option_replaces_the_panels_own_words_and_ignores_what_is_not_text(context, stack):
    widget, console = clinic_page(
        context,
        stack,
        (
            f'<script>window.JawScreeningWidget = {{serverUrl: "{stack.assistant.url}", '
            'text: {moreBelow: "Mehr unten", progress: "Teil {section} von {of}: {title}", done: 7}};</script>'
            '<script src="/widget/widget.js" defer></script>'
        ),
    )
    widget.open()
    widget.tap("Yes, that's okay")
    assert widget.locator(".more").text_content().strip() == "↓ Mehr unten"
    assert widget.locator(".progress-text").text_content() == "Teil 1 von 4: Safety questions"
    assert [c for c in console if c[0] in ("error", "warning")] == []
