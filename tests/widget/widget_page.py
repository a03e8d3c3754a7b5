"""Drives the chat widget on the demo clinic page the way a visitor does: clicking the
launcher and buttons, typing into the box. Offers say()/tap()/replies like
tests/support/conversation.py, so tests/support/screening.py can walk the questionnaire with it."""

from __future__ import annotations

import json
import re

HOST = "#jaw-screening-widget"

# Reads what a person sees in the log; the visually hidden "Assistant:"/"You:" labels and
# "(opens in a new tab)" notes are for screen readers and are left out.
READ_LOG = """() => {
  const root = document.querySelector('#jaw-screening-widget').shadowRoot;
  const visibleText = (node) => {
    const copy = node.cloneNode(true);
    copy.querySelectorAll('.visually-hidden').forEach((n) => n.remove());
    return copy.textContent;
  };
  // A structured message (a list, the summary) keeps the words it was sent with in
  // data-text: `text` is those words (the questionnaire walker matches questions by them),
  // `shown` what is on screen.
  return [...root.querySelectorAll('.log .msg')].map((m) => ({
    from: m.classList.contains('bot') ? 'bot' : 'user',
    text: m.dataset.text !== undefined ? m.dataset.text : visibleText(m.querySelector('.text')),
    shown: visibleText(m.querySelector('.text')),
    unsent: m.classList.contains('unsent'),
    status: m.querySelector('.status') ? m.querySelector('.status').textContent : '',
    buttons: [...m.querySelectorAll('.choice')].map((b) => ({
      title: b.textContent, disabled: b.disabled, chosen: b.classList.contains('chosen')})),
  }));
}"""

# Waits until the widget has nothing left to send and the log has grown past `count`.
ANSWERED = """([count]) => {
  const root = document.querySelector('#jaw-screening-widget').shadowRoot;
  return root.querySelector('.panel').dataset.state === 'idle'
    && root.querySelectorAll('.log .msg').length > count;
}"""

FOCUSED = """() => {
  const host = document.querySelector('#jaw-screening-widget');
  const inner = document.activeElement === host ? host.shadowRoot.activeElement : null;
  return inner ? (inner.getAttribute('aria-label') || inner.id || inner.textContent.trim()) : null;
}"""


class WidgetPage:
    def __init__(self, page, stack) -> None:
        self.page = page
        self.stack = stack
        self.transcript: list[str] = []

    # -- finding things ------------------------------------------------------------------
    def locator(self, css: str):
        return self.page.locator(f"{HOST} {css}")

    @property
    def launcher(self):
        return self.locator(".launcher")

    @property
    def panel(self):
        return self.locator(".panel")

    @property
    def input(self):
        return self.locator("#jsw-input")

    def messages(self) -> list[dict]:
        return self.page.evaluate(READ_LOG)

    @property
    def replies(self) -> list[dict]:
        """The bot's messages since the person last said something (its latest turn)."""
        latest: list[dict] = []
        for message in self.messages():
            latest = [] if message["from"] == "user" else latest + [message]
        return latest

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)

    def buttons(self) -> list[str]:
        return [b["title"] for r in self.replies for b in r["buttons"]]

    def focused(self):
        return self.page.evaluate(FOCUSED)

    def stored(self) -> dict:
        return json.loads(self.page.evaluate("() => localStorage.getItem('jawScreeningWidget.v1')"))

    def sender(self) -> str:
        return self.stored()["sender"]

    def slots(self) -> dict:
        return self.stack.assistant.tracker(self.sender())["slots"]

    def received(self) -> list[str]:
        """What Rasa received from this browser, in order (from its tracker store)."""
        events = self.stack.assistant.tracker(self.sender())["events"]
        return [e["text"] for e in events if e["event"] == "user"]

    # -- doing things --------------------------------------------------------------------
    def goto(self, path: str = "/") -> WidgetPage:
        self.page.goto(self.stack.site + path)
        self.launcher.or_(self.panel).first.wait_for()
        return self

    def open(self) -> None:
        """Opens the panel; on a new conversation waits for the assistant's greeting."""
        count = len(self.messages())
        self.launcher.click()
        self.panel.wait_for()
        if count == 0:
            self.wait_for_answer(0)

    def wait_for_answer(self, count: int, timeout: float = 60_000) -> None:
        self.page.wait_for_function(ANSWERED, arg=[count], timeout=timeout)
        self.transcript += [f"BOT: {r['text']}" for r in self.replies]

    def say(self, text: str) -> list[dict]:
        count = len(self.messages())
        self.input.fill(text)
        self.input.press("Enter")
        self.transcript.append(f"USER: {text}")
        self.wait_for_answer(count + 1)
        return self.replies

    def tap(self, title: str) -> list[dict]:
        count = len(self.messages())
        exact = re.compile(f"^{re.escape(title)}$")
        buttons = self.locator(".choice:enabled").filter(has_text=exact)
        if buttons.count() != 1:
            raise AssertionError(f"No single enabled button {title!r} in {self.buttons()}:\n{self.dump()}")
        buttons.click()
        self.transcript.append(f"USER (tap): {title}")
        self.wait_for_answer(count + 1)
        return self.replies

    def choose_several(self, titles: list[str]) -> list[dict]:
        """At a "name several" question: presses each toggle, then Done."""
        count = len(self.messages())
        for title in titles:
            toggle = self.locator(".choice.toggle:enabled").filter(has_text=re.compile(f"^{re.escape(title)}$"))
            if toggle.count() != 1:
                raise AssertionError(f"No single toggle {title!r} in {self.buttons()}:\n{self.dump()}")
            toggle.click()
            assert toggle.get_attribute("aria-pressed") == "true"
        self.locator(".choice.done:enabled").click()
        self.transcript.append(f"USER (several): {titles}")
        self.wait_for_answer(count + 1)
        return self.replies

    def dump(self) -> str:
        return "\n".join(self.transcript[-30:])


# WCAG contrast of every visible piece of text in the widget against the first opaque
# background behind it (up through the shadow host). Returns the failures as strings.
CONTRAST_FAILURES = """(minimum) => {
  const root = document.querySelector('#jaw-screening-widget').shadowRoot;
  const rgba = (css) => {
    const [r, g, b, a = 1] = css.match(/[\\d.]+/g).map(Number);
    return {r, g, b, a};
  };
  const luminance = ({r, g, b}) => {
    const f = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement || n.getRootNode().host) {
      const bg = rgba(getComputedStyle(n).backgroundColor);
      if (bg.a > 0) return bg;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const failures = [];
  const texts = '.launcher, .head h2, .head button, .notice span, .notice button, .msg .text, '
    + '.msg a, .msg .status, .choice, .compose input, .compose .send, .disclaimer, .disclaimer a, '
    + '.progress-text, .more, .alert-title, .msg summary, .msg li';
  root.querySelectorAll(texts).forEach((el) => {
    if (!el.getClientRects().length || !(el.textContent.trim() || el.value)) return;
    const [a, b] = [luminance(rgba(getComputedStyle(el).color)), luminance(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const label = `${el.className || el.tagName} "${el.textContent.trim().slice(0, 30)}"`;
    if (ratio < minimum) failures.push(`${label}: ${ratio.toFixed(2)}`);
  });
  return failures;
}"""


def contrast_failures(page, minimum: float = 4.5) -> list[str]:
    return page.evaluate(CONTRAST_FAILURES, minimum)
