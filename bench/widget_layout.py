"""Website widget layout figures (issue 14): what a patient sees, measured in Chromium.

    .venv/bin/python bench/widget_layout.py      (or: .venv/bin/python -m bench.widget_layout)

Starts the real stack (assistant + widget app, models/screening.tar.gz) as the browser tests
do and, in Debian's Chromium, measures:

1. the height of the summary of answers ("Here is a summary of your answers") as it first
   appears after a screening with the default answers, at 1280x800, and the log's height;
2. after that whole conversation, a new page of the same browser context (localStorage
   kept): the log's scroll position right after the restore, and whether the latest
   message is in view;
3. at 375x667 with the panel closed: the launcher's size;
4. axe-core violations with the panel closed and open, at 1280x800 and 375x667;
5. the emergency advice (the red-flag question answered "Chest pain or breathlessness"):
   tel: links, tag/role/class and colours; the treatments question: toggle buttons
   (aria-pressed), i.e. more than one selection.

Written to run on the widget before issue 14 as well as after it: what a version does not
have is printed as "none". Prints figures; asserts nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.axe import axe_violations  # noqa: E402
from tests.support.screening import DEFAULT_REPLIES, current_question, send  # noqa: E402
from tests.widget.harness import launch_chromium, start_stack  # noqa: E402
from tests.widget.widget_page import WidgetPage  # noqa: E402

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
# As the browser tests' phone (tests/widget/test_message_kinds.py).
PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 120_000  # generous: the machine may be busy with something else
SUMMARY_START = "Here is a summary of your answers"
CONSENT, CONFIRM, CHEST = "Yes, that's okay", "Yes, that's right", "Chest pain or breathlessness"


def in_shadow(page, script: str, arg=None):
    """Runs `script`, a function of the widget's shadow root and `arg`, in the page."""
    return page.evaluate(
        f"([arg]) => ({script})(document.querySelector('#jaw-screening-widget').shadowRoot, arg)", [arg]
    )


# The words a bot message was sent with: data-text where the widget keeps them (structured
# messages, after issue 14), otherwise the text shown.
WORDS = """(m) => (m.dataset.text !== undefined ? m.dataset.text
  : (m.querySelector('.text') || m).textContent).trim()"""

SUMMARY = f"""(root, start) => {{
  const words = {WORDS};
  const log = root.querySelector('.log');
  const found = [...log.querySelectorAll('.msg.bot')].filter((m) => words(m).startsWith(start));
  if (!found.length) return null;
  const summary = found[found.length - 1];
  const box = log.getBoundingClientRect();
  const confirm = [...log.querySelectorAll('.choice:enabled')].pop();
  const seen = (el) => {{
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  }};
  return {{
    height: summary.getBoundingClientRect().height,
    log_client_height: log.clientHeight,
    log_box_height: box.height,
    sections: summary.querySelectorAll('details').length,
    list_items: summary.querySelectorAll('li').length,
    confirm_in_view: confirm ? seen(confirm) : null,
  }};
}}"""

RESTORED = """(root) => {
  const log = root.querySelector('.log');
  const msgs = log.querySelectorAll('.msg');
  const last = msgs[msgs.length - 1];
  const box = log.getBoundingClientRect(), r = last.getBoundingClientRect();
  return {
    panel_open: !root.querySelector('.panel').hidden,
    messages: msgs.length,
    scroll_top: log.scrollTop,
    scroll_height: log.scrollHeight,
    client_height: log.clientHeight,
    below: log.scrollHeight - log.scrollTop - log.clientHeight,
    latest_in_view: r.bottom <= box.bottom + 2 && r.bottom > box.top,
  };
}"""

# The bot messages of the latest turn (after the person's last message), and the advice
# among them: the alert where the widget marks one, otherwise the first that says to call.
ADVICE = f"""(root) => {{
  const words = {WORDS};
  const all = [...root.querySelectorAll('.log .msg')];
  let from = 0;
  all.forEach((m, i) => {{ if (m.classList.contains('user')) from = i + 1; }});
  const turn = all.slice(from);
  const advice = turn.find((m) => m.classList.contains('alert'))
    || turn.find((m) => /\\bcall\\b/i.test(words(m)));
  if (!advice) return null;
  const style = getComputedStyle(advice);
  const title = advice.querySelector('.alert-title'), text = advice.querySelector('.text');
  return {{
    words: words(advice).slice(0, 70),
    tag: advice.tagName.toLowerCase(),
    role: advice.getAttribute('role'),
    aria_live: advice.getAttribute('aria-live'),
    class: advice.className,
    title: title ? title.textContent.trim() : null,
    background: style.backgroundColor,
    text_background: text ? getComputedStyle(text).backgroundColor : null,
    border: `${{style.borderTopWidth}} ${{style.borderTopStyle}} ${{style.borderTopColor}}`,
    tel: [...advice.querySelectorAll('a[href^="tel:"]')].map((a) => a.getAttribute('href')),
    tel_in_turn: turn.reduce((n, m) => n + m.querySelectorAll('a[href^="tel:"]').length, 0),
    turn_messages: turn.length,
  }};
}}"""

CHOICES = """(root) => {
  const question = [...root.querySelectorAll('.log .msg.bot')].filter((m) => m.querySelector('.choice')).pop();
  if (!question) return {buttons: 0, toggles: 0, done: 0, group_label: null};
  const group = question.querySelector('.choices');
  return {
    buttons: question.querySelectorAll('button').length,
    toggles: question.querySelectorAll('button[aria-pressed]').length,
    done: question.querySelectorAll('.choice.done').length,
    group_label: group ? group.getAttribute('aria-label') : null,
    progress: root.querySelector('.progress-text') && !root.querySelector('.progress').hidden
      ? root.querySelector('.progress-text').textContent : null,
  };
}"""


def new_widget(browser, stack, options: dict) -> WidgetPage:
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return WidgetPage(context.new_page(), stack).goto("/")


def styled(page) -> None:
    """Waits until the widget's stylesheet is in (the host is visible) and two frames later."""
    page.wait_for_function(
        "() => { const h = document.querySelector('#jaw-screening-widget');"
        " return h && getComputedStyle(h).visibility === 'visible'; }"
    )
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def screening_and_restore(browser, stack) -> dict:
    """Items 1, 2 and the treatments question of 5: one full screening at 1280x800."""
    widget = new_widget(browser, stack, DESKTOP)
    widget.open()
    widget.tap(CONSENT)
    figures: dict = {"treatments": None}
    for _ in range(80):
        question = current_question(widget)
        if question is None:
            break
        if question == "treatments_tried" and figures["treatments"] is None:
            figures["treatments"] = in_shadow(widget.page, CHOICES)
        send(widget, DEFAULT_REPLIES[question])
    else:
        raise RuntimeError("The questionnaire did not end:\n" + widget.dump())
    widget.page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    figures["summary"] = in_shadow(widget.page, SUMMARY, SUMMARY_START)
    widget.tap(CONFIRM)  # the conversation ends with the outcome
    figures["outcome"] = widget.slots().get("screening_outcome")

    # A new page of the same context: localStorage (and the panel left open) is kept.
    context = widget.page.context
    widget.page.close()
    page = context.new_page()
    page.goto(stack.site + "/")  # not WidgetPage.goto: it waits for the launcher, hidden while open
    WidgetPage(page, stack).panel.wait_for()
    styled(page)
    figures["restored"] = in_shadow(page, RESTORED)
    page.wait_for_timeout(1000)
    figures["restored_1s"] = in_shadow(page, RESTORED)
    context.close()
    return figures


def violations(page) -> list[str]:
    found = axe_violations(page)
    return [f"{v['id']} ({v['impact']}, {len(v['nodes'])} node{'s' if len(v['nodes']) != 1 else ''})" for v in found]


def axe_and_launcher(browser, stack, options: dict) -> dict:
    """Items 3 and 4 at one screen size: the closed launcher, then the panel open."""
    widget = new_widget(browser, stack, options)
    styled(widget.page)
    box = widget.launcher.bounding_box()
    figures = {
        "launcher": box,
        "launcher_radius": widget.launcher.evaluate("(b) => getComputedStyle(b).borderRadius"),
        "axe_closed": violations(widget.page),
    }
    widget.open()
    figures["axe_open"] = violations(widget.page)
    widget.page.context.close()
    return figures


def emergency(browser, stack) -> dict | None:
    """Item 5: the advice after the red-flag question answered with the chest-pain option."""
    widget = new_widget(browser, stack, DESKTOP)
    widget.open()
    widget.tap(CONSENT)
    widget.tap(CHEST)
    advice = in_shadow(widget.page, ADVICE)
    widget.page.context.close()
    return advice


def none_if_empty(value) -> str:
    if value is None or value == [] or value == "":
        return "none"
    return ", ".join(value) if isinstance(value, list) else str(value)


def yes_no(value) -> str:
    return "none" if value is None else ("yes" if value else "no")


def report(tree: str, f: dict) -> None:
    rows: list[tuple[str, str]] = []
    s = f["summary"]
    if s is None:
        rows.append(("1. summary message", "none"))
    else:
        rows += [
            ("1. summary message height, as it first appears (1280x800)", f"{s['height']:.0f} px"),
            ("1. log pane visible height (clientHeight)", f"{s['log_client_height']} px"),
            ("1. summary height / log height", f"{s['height'] / s['log_client_height']:.2f}"),
            ("1. summary: collapsible sections / list items", f"{s['sections']} / {s['list_items']}"),
            ("1. 'Is this all correct?' buttons in view as it appears", yes_no(s["confirm_in_view"])),
        ]
    rows.append(("1. outcome after confirming", none_if_empty(f["outcome"])))
    for key, when in (("restored", "right after restore"), ("restored_1s", "1 s later")):
        r = f[key]
        rows += [
            (
                f"2. restored log {when}: scrollTop / scrollHeight / clientHeight",
                f"{r['scroll_top']:.0f} / {r['scroll_height']} / {r['client_height']} px ({r['messages']} messages)",
            ),
            (f"2. latest message in view ({when})", yes_no(r["latest_in_view"])),
            (f"2. history above the view ({when})", f"{r['scroll_top']:.0f} px"),
            (f"2. content below the view ({when})", f"{r['below']:.0f} px"),
        ]
    phone, desktop = f["phone"], f["desktop"]
    box = phone["launcher"]
    rows.append(
        (
            "3. launcher, panel closed (375x667): width x height",
            "none"
            if box is None
            else f"{box['width']:.0f} x {box['height']:.0f} px (radius {phone['launcher_radius']})",
        )
    )
    for size, figures in (("1280x800", desktop), ("375x667", phone)):
        rows.append((f"4. axe-core, panel closed, {size}", none_if_empty(figures["axe_closed"])))
        rows.append((f"4. axe-core, panel open, {size}", none_if_empty(figures["axe_open"])))
    a = f["emergency"]
    if a is None:
        rows.append(("5. emergency advice message", "none"))
    else:
        rows += [
            ("5. emergency advice message", f'"{a["words"]}..."'),
            ("5. its a[href^=tel:] links", none_if_empty(a["tel"])),
            ("5. a[href^=tel:] links in the whole reply turn", f"{a['tel_in_turn']} in {a['turn_messages']} messages"),
            (
                "5. its tag / role / class",
                f"{a['tag']} / {none_if_empty(a['role'])} / {a['class']}",
            ),
            ("5. its alert title", none_if_empty(a["title"])),
            (
                "5. its background / its text's background / its border",
                f"{a['background']} / {none_if_empty(a['text_background'])} / {a['border']}",
            ),
        ]
    t = f["treatments"]
    if t is None:
        rows.append(("5. treatments question", "none"))
    else:
        rows += [
            (
                "5. treatments question: buttons / toggles (aria-pressed) / Done",
                f"{t['buttons']} / {t['toggles']} / {t['done']}",
            ),
            ("5. treatments question offers more than one selection", yes_no(t["toggles"] > 1)),
            ("5. progress shown at the treatments question", none_if_empty(t["progress"])),
        ]
    print(f"Widget layout, tree {tree}\n")
    print("| figure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


def main() -> None:
    tree = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="widget-layout-") as workdir:
        stack = start_stack(Path(workdir))
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                try:
                    figures = screening_and_restore(browser, stack)
                    figures["desktop"] = axe_and_launcher(browser, stack, DESKTOP)
                    figures["phone"] = axe_and_launcher(browser, stack, PHONE)
                    figures["emergency"] = emergency(browser, stack)
                finally:
                    browser.close()
        finally:
            stack.stop()
    report(tree or "unknown", figures)


if __name__ == "__main__":
    main()
