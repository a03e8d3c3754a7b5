/*
 * Jaw-pain screening chat widget for clinics' websites. No framework, no build step:
 *
 *   <script>window.JawScreeningWidget = {serverUrl: "https://chat.example.org"};</script>
 *   <script src="https://chat.example.org/widget/widget.js" defer></script>
 *
 * It talks to Rasa's REST channel (POST {serverUrl}/webhooks/rest/webhook). Each request
 * carries the conversation id, so any Rasa server behind a load balancer can answer it.
 * Options and the reasons behind them: docs/website-widget.md.
 */
(function () {
  "use strict";

  // Pasting the snippet twice (e.g. in a template and a page) must not give two launchers.
  if (window.__jawScreeningWidget) return;
  window.__jawScreeningWidget = true;

  // currentScript is null only in unusual embeddings (e.g. some tag managers): find the tag.
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var STORE_KEY = "jawScreeningWidget.v1";
  var REQUEST_TIMEOUT_MS = 60000; // a screening turn takes well under a second; 60 s means stuck
  var RETRY_MAX_MS = 15000; // short enough that a restored server answers quickly
  var DEFAULT_COLORS = { primary: "#0b5cad", onPrimary: "#ffffff" };

  // ---- Configuration: defaults < data-* attributes < window.JawScreeningWidget -----------

  var OPTIONS = ["serverUrl", "clinicName", "emergencyNumber", "launcherText", "disclaimer", "colors", "keepHours"];

  function readConfig() {
    var data = (script && script.dataset) || {};
    var page = window.JawScreeningWidget || {};
    Object.keys(page).forEach(function (name) { // a misspelt option would otherwise do nothing
      if (OPTIONS.indexOf(name) < 0) console.warn("JawScreeningWidget: unknown option " + JSON.stringify(name) + "; the options are " + OPTIONS.join(", "));
    });
    var pick = function (name) { // always a string: emergencyNumber: 999 is as good as "999"
      var v = page[name] != null ? page[name] : data[name];
      return v == null ? "" : String(v).trim();
    };
    var colors = page.colors || {};
    return {
      serverUrl: checkServerUrl(pick("serverUrl")),
      clinicName: pick("clinicName") || "the clinic",
      emergencyNumber: pick("emergencyNumber") || "",
      launcherText: pick("launcherText") || "Questions about jaw pain? Chat with us",
      disclaimer: pick("disclaimer") ||
        "This is a screening, not a diagnosis. A practitioner makes the decision.",
      keepHours: Number(pick("keepHours")) > 0 ? Number(pick("keepHours")) : 24,
      colors: checkColors(colors.primary || data.colorPrimary, colors.onPrimary || data.colorOnPrimary),
    };
  }

  function checkServerUrl(value) {
    if (!value) {
      console.error("JawScreeningWidget: serverUrl is not set; the chat cannot send messages.");
      return null;
    }
    try {
      var url = new URL(value, window.location.href);
      if (url.protocol === "https:" || url.protocol === "http:") return url.href.replace(/\/+$/, "");
    } catch (e) { /* reported below */ }
    console.error("JawScreeningWidget: serverUrl must be an http(s) address, got " + JSON.stringify(value));
    return null;
  }

  // Text must stay readable (WCAG AA, 4.5:1), so colours that fail are replaced, not used.
  function checkColors(primary, onPrimary) {
    if (!primary && !onPrimary) return DEFAULT_COLORS;
    var p = primary || DEFAULT_COLORS.primary, o = onPrimary || DEFAULT_COLORS.onPrimary;
    if (!/^#[0-9a-f]{6}$/i.test(p) || !/^#[0-9a-f]{6}$/i.test(o)) {
      console.warn("JawScreeningWidget: colours must be #rrggbb; using the default colours.");
      return DEFAULT_COLORS;
    }
    // primary is also the text colour of the quick-reply buttons on white
    if (contrast(p, o) < 4.5 || contrast(p, "#ffffff") < 4.5) {
      console.warn("JawScreeningWidget: colours " + p + "/" + o + " are below 4.5:1 contrast; using the default colours.");
      return DEFAULT_COLORS;
    }
    return { primary: p, onPrimary: o };
  }

  function contrast(a, b) {
    var lum = function (hex) {
      var c = [1, 3, 5].map(function (i) {
        var v = parseInt(hex.substr(i, 2), 16) / 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
      });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    var la = lum(a), lb = lum(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  // ---- Stored state: the conversation survives reloads and navigation on this site ------
  //
  // { sender, messages: [{id, from: "bot"|"user", text, buttons?, chosen?}],
  //   queue: [{id, text}] (unsent, oldest first), open, savedAt }

  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function freshState() {
    return { sender: "web-" + newId(), messages: [], queue: [], open: false, savedAt: Date.now() };
  }

  function loadState(keepHours) {
    try {
      var s = JSON.parse(window.localStorage.getItem(STORE_KEY));
      var fresh = s && Date.now() - s.savedAt < keepHours * 3600 * 1000;
      if (fresh && typeof s.sender === "string" && Array.isArray(s.messages) && Array.isArray(s.queue)) return s;
    } catch (e) { /* unreadable or blocked storage: start a new conversation */ }
    return freshState();
  }

  function saveState() {
    state.savedAt = Date.now();
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) { /* storage blocked or full: the chat still works on this page */ }
  }

  // ---- Building the DOM (text is only ever set with textContent) ------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function hiddenText(text) {
    return el("span", { class: "visually-hidden" }, text);
  }

  // Only https:// addresses become links, each opening in a new tab without access back
  // to this page (rel=noopener). http:, javascript: and the rest stay plain text.
  var LINK = /https:\/\/[^\s<>"']+/g;

  function appendText(parent, text) {
    var last = 0, match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text))) {
      var href = match[0].replace(/[.,;:!?)\]]+$/, ""); // sentence punctuation is not the link
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var a = el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, href);
      a.appendChild(hiddenText(" (opens in a new tab)"));
      parent.appendChild(a);
      last = match.index + href.length;
      LINK.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function buildUi() {
    var host = el("div", { id: "jaw-screening-widget" });
    // A shadow root keeps the clinic's CSS out of the widget and the widget's out of the page.
    var root = host.attachShadow({ mode: "open" });
    var css = el("link", { rel: "stylesheet", href: script.src.replace(/widget\.js(\?.*)?$/, "widget.css") });
    host.style.visibility = "hidden"; // until the stylesheet is in, to avoid a flash of raw markup
    css.onload = css.onerror = function () { host.style.visibility = ""; };
    root.appendChild(css);

    var titleId = "jsw-title";
    var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
      "aria-controls": "jsw-panel" }, config.launcherText);
    var panel = el("section", { id: "jsw-panel", class: "panel", role: "dialog",
      "aria-modal": "false", "aria-labelledby": titleId, hidden: "" });

    var header = el("header", { class: "head" });
    header.appendChild(el("h2", { id: titleId }, config.clinicName + " assistant"));
    var restart = el("button", { type: "button", class: "restart" }, "Start over");
    var close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "×");
    header.appendChild(restart);
    header.appendChild(close);

    // Connection problems are announced (role=status) and stay until the queue is sent.
    var notice = el("div", { class: "notice", role: "status" });
    var noticeText = el("span");
    var retryNow = el("button", { type: "button", class: "retry", hidden: "" }, "Try now");
    notice.appendChild(noticeText);
    notice.appendChild(retryNow);

    var log = el("div", { class: "log", role: "log", "aria-live": "polite",
      "aria-label": "Conversation", tabindex: "0" });
    var typing = el("div", { class: "typing", "aria-hidden": "true", hidden: "" });
    typing.appendChild(el("span"));
    typing.appendChild(el("span"));
    typing.appendChild(el("span"));

    var form = el("form", { class: "compose" });
    form.appendChild(el("label", { for: "jsw-input", class: "visually-hidden" }, "Your message"));
    var input = el("input", { id: "jsw-input", type: "text", autocomplete: "off", maxlength: "1000",
      placeholder: "Type your answer" });
    form.appendChild(input);
    form.appendChild(el("button", { type: "submit", class: "send" }, "Send"));

    var footer = el("p", { class: "disclaimer" }, config.disclaimer + " ");
    if (config.emergencyNumber) {
      footer.appendChild(document.createTextNode("In an emergency call "));
      footer.appendChild(el("a", { href: "tel:" + config.emergencyNumber.replace(/[^\d+]/g, "") },
        config.emergencyNumber));
      footer.appendChild(document.createTextNode("."));
    } else {
      footer.appendChild(document.createTextNode("In an emergency call your local emergency number."));
    }

    [header, notice, log, typing, form, footer].forEach(function (n) { panel.appendChild(n); });
    root.appendChild(launcher);
    root.appendChild(panel);
    return { host: host, root: root, launcher: launcher, panel: panel, restart: restart, close: close,
      notice: notice, noticeText: noticeText, retryNow: retryNow, log: log, typing: typing,
      form: form, input: input };
  }

  // ---- Rendering: messages are appended, never re-rendered, so the live region only
  // announces what is new and focus is never lost to a rebuilt button --------------------

  var rendered = {}; // message id -> {node, buttons: [button], status}

  function renderMessage(msg) {
    var node = el("div", { class: "msg " + msg.from });
    node.appendChild(hiddenText(msg.from === "bot" ? "Assistant: " : "You: "));
    var text = el("p", { class: "text" });
    if (msg.from === "bot") appendText(text, msg.text || "");
    else text.textContent = msg.text;
    node.appendChild(text);
    var view = { node: node, buttons: [], status: null };
    if (msg.buttons && msg.buttons.length) {
      var group = el("div", { class: "choices", role: "group", "aria-label": "Quick replies" });
      msg.buttons.forEach(function (b, i) {
        var button = el("button", { type: "button", class: "choice" }, String(b.title));
        button.addEventListener("click", function () { choose(msg, i); });
        group.appendChild(button);
        view.buttons.push(button);
      });
      node.appendChild(group);
    }
    if (msg.from === "user") {
      view.status = el("span", { class: "status" });
      node.appendChild(view.status);
    }
    rendered[msg.id] = view;
    return node;
  }

  function render() {
    var firstNew = null, previous = null;
    state.messages.forEach(function (msg) {
      if (!rendered[msg.id]) {
        var node = renderMessage(msg);
        ui.log.insertBefore(node, previous ? previous.nextSibling : ui.log.firstChild);
        firstNew = firstNew || node;
      }
      previous = rendered[msg.id].node;
    });
    // Buttons answer only the bot's latest turn: once the person has said anything since,
    // a payload would no longer be one "the bot just offered" (the assistant ignores those).
    var lastUser = -1;
    state.messages.forEach(function (m, i) { if (m.from === "user") lastUser = i; });
    var unsent = {};
    state.queue.forEach(function (q) { unsent[q.id] = true; });
    state.messages.forEach(function (msg, i) {
      var view = rendered[msg.id];
      view.buttons.forEach(function (button, b) {
        button.disabled = i < lastUser || msg.chosen !== undefined;
        button.classList.toggle("chosen", msg.chosen === b);
      });
      if (view.status) {
        var waiting = unsent[msg.id] && offline;
        var label = msg.refused ? "Not sent" : waiting ? "Not sent yet" : "";
        view.node.classList.toggle("unsent", !!waiting);
        view.node.classList.toggle("refused", !!msg.refused);
        if (view.status.textContent !== label) view.status.textContent = label;
      }
    });
    if (firstNew) ui.log.scrollTop = firstNew.offsetTop - ui.log.offsetTop - 8; // start of the new text
    ui.typing.hidden = !inFlight;
    ui.panel.setAttribute("data-state", offline ? "offline" : inFlight || state.queue.length ? "sending" : "idle");
  }

  function clearLog() {
    ui.log.textContent = "";
    rendered = {};
  }

  // ---- Sending: one message at a time, oldest first, kept until Rasa has answered it ---

  var inFlight = false, offline = false, attempt = 0, retryTimer = null, epoch = 0;

  function enqueue(text, shownAs) {
    var id = newId();
    if (shownAs !== null) state.messages.push({ id: id, from: "user", text: shownAs });
    state.queue.push({ id: id, text: text });
    saveState();
    render();
    pump();
  }

  function pump() {
    if (inFlight || !state.queue.length) return;
    if (!config.serverUrl) return setNotice("This chat is not set up correctly (no server address). Please contact the clinic by phone.", false);
    clearTimeout(retryTimer);
    retryTimer = null;
    inFlight = true;
    var item = state.queue[0], myEpoch = epoch;
    render();
    post(item.text).then(function (replies) {
      if (myEpoch !== epoch) return; // the person started over meanwhile
      state.queue.shift();
      addReplies(replies);
      attempt = 0;
      offline = false;
      setNotice("", false);
    }, function (error) {
      if (myEpoch !== epoch) return;
      if (error.status === 400 || error.status === 413) {
        // The server refused this message itself (too large, malformed): sending it again
        // would be refused again. Drop it, mark it, and say why in the server's words.
        state.queue.shift();
        var refused = state.messages.find(function (m) { return m.id === item.id; });
        if (refused) refused.refused = true;
        attempt = 0;
        offline = false;
        setNotice(error.serverMessage || "The assistant could not take that message.", false);
        return;
      }
      offline = true;
      attempt += 1;
      // Exponential back-off with jitter, so many visitors do not all retry at the same moment.
      var delay = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, attempt - 1)) * (0.8 + Math.random() * 0.4);
      if (error.status === 429) delay = Math.max(delay, 1000 * (error.retryAfter || 1)); // the server says when
      retryTimer = setTimeout(pump, delay);
      setNotice(error.status === 429 && error.serverMessage
        ? error.serverMessage + " (Your message is kept here and will be sent automatically.)"
        : error.rejected
        ? "The assistant could not take your message (error " + error.status + "). It is kept here and will be sent again; if this goes on, please phone the clinic."
        : "Can't reach the assistant right now. Your message is kept here and will be sent automatically.", true);
    }).catch(function (bug) {
      console.error("JawScreeningWidget:", bug);
    }).then(function () {
      inFlight = false;
      if (myEpoch === epoch) saveState();
      render();
      if (!retryTimer) pump();
    });
  }

  // The answer goes right after the message it answers, before any that are still unsent
  // (typed while the server was away), so the log reads in the order things happened.
  function addReplies(replies) {
    var unsent = state.queue.map(function (q) { return q.id; });
    var at = state.messages.findIndex(function (m) { return unsent.indexOf(m.id) >= 0; });
    if (at < 0) at = state.messages.length;
    var added = [];
    replies.forEach(function (r) {
      var buttons = Array.isArray(r.buttons) ? r.buttons.filter(function (b) { return b && b.title && b.payload; }) : [];
      if (typeof r.text === "string" || buttons.length) {
        added.push({ id: newId(), from: "bot", text: r.text || "", buttons: buttons });
      }
    });
    state.messages.splice.apply(state.messages, [at, 0].concat(added));
  }

  function post(text) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    return fetch(config.serverUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: text }),
      credentials: "omit",
      signal: controller.signal,
    }).then(function (response) {
      if (!response.ok) {
        var failure = new Error("HTTP " + response.status);
        failure.status = response.status;
        failure.rejected = response.status >= 400 && response.status < 500;
        // Refusals carry {"error": "<friendly message>", "retry_after": seconds}; shown as
        // text (textContent), and only if it is a short string.
        return response.json().catch(function () { return null; }).then(function (body) {
          if (body && typeof body.error === "string" && body.error.length < 300) failure.serverMessage = body.error;
          if (body && Number(body.retry_after) > 0) failure.retryAfter = Math.min(Number(body.retry_after), 300);
          throw failure;
        });
      }
      return response.json();
    }).then(function (body) {
      if (!Array.isArray(body)) throw new Error("The reply was not a list of messages");
      return body;
    }).finally(function () { clearTimeout(timer); });
  }

  function setNotice(text, canRetry) {
    if (ui.noticeText.textContent !== text) ui.noticeText.textContent = text;
    ui.notice.classList.toggle("shown", !!text);
    ui.retryNow.hidden = !canRetry;
  }

  // ---- What the person does -------------------------------------------------------------

  function choose(msg, index) {
    if (msg.chosen !== undefined) return;
    msg.chosen = index;
    var button = msg.buttons[index];
    enqueue(String(button.payload), String(button.title)); // the choice, shown as their message
    ui.input.focus(); // the chosen button is now disabled and cannot keep the focus
  }

  function setOpen(open, moveFocus) {
    state.open = open;
    saveState();
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    if (open && !state.messages.length && !state.queue.length) {
      enqueue("hi", null); // the assistant speaks first; a greeting nobody typed is not shown
    }
    if (moveFocus) (open ? ui.input : ui.launcher).focus();
    if (open) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function startOver() {
    // "start over" is a phrase the assistant understands: it clears the answers on the
    // server (the clinic's transcript keeps them). Here the history and unsent messages go.
    epoch += 1;
    clearTimeout(retryTimer);
    retryTimer = null;
    offline = false;
    attempt = 0;
    setNotice("", false);
    state.messages = [];
    state.queue = [];
    clearLog();
    enqueue("start over", "Start over");
    ui.input.focus();
  }

  function wireEvents() {
    ui.launcher.addEventListener("click", function () { setOpen(true, true); });
    ui.close.addEventListener("click", function () { setOpen(false, true); });
    ui.restart.addEventListener("click", startOver);
    ui.retryNow.addEventListener("click", function () { attempt = 0; pump(); });
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); setOpen(false, true); }
    });
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = ui.input.value.trim();
      if (!text) return;
      ui.input.value = "";
      enqueue(text, text);
    });
    // Back online: no need to wait for the next scheduled retry.
    window.addEventListener("online", function () { if (state.queue.length) { attempt = 0; pump(); } });
  }

  // ---- Start -----------------------------------------------------------------------------

  var config, state, ui;

  function start() {
    config = readConfig();
    state = loadState(config.keepHours);
    ui = buildUi();
    ui.host.style.setProperty("--jsw-primary", config.colors.primary);
    ui.host.style.setProperty("--jsw-on-primary", config.colors.onPrimary);
    wireEvents();
    render();
    setOpen(!!state.open, false); // reopened after navigation, without taking the focus
    // Attached only now, with the history already in it: a screen reader announces what is
    // added to a live region, and a restored conversation is not news on every page.
    document.body.appendChild(ui.host);
    ui.log.scrollTop = ui.log.scrollHeight;
    pump(); // anything left unsent on the previous page goes now
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
