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

  var OPTIONS = ["serverUrl", "clinicName", "emergencyNumber", "launcherText", "disclaimer", "colors", "keepHours", "text"];

  // The panel's own words (not the assistant's: those come from the server, reviewed in
  // clinical/wording/). All in one place so a clinic can translate them with the `text`
  // option, e.g. {text: {done: "Fertig"}}; docs/website-widget.md lists them.
  var TEXT = {
    emergency: "Emergency advice", // the title of an alert that says to call the emergency number
    sameDay: "Urgent advice", // the title of an alert that says to see a doctor today
    call: "Call", // read before each number to tap: "Call Emergency services: 999"
    progress: "Section {section} of {of}: {title}",
    moreBelow: "More below",
    chooseSeveral: "Choose all that apply, then Done",
    done: "Done",
    summarySection: "{title} ({count})", // a section of the summary, opened and closed
  };

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? String(values[name]) : all; });
  }

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
    var text = {};
    Object.keys(TEXT).forEach(function (key) {
      var own = page.text && page.text[key];
      text[key] = typeof own === "string" && own.trim() ? own : TEXT[key];
    });
    return {
      text: text,
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
  // { sender, messages: [{id, from: "bot"|"user", text, buttons?, custom?, messageId?, chosen?, pressed?}],
  //   queue: [{id, text, replyTo?}] (unsent, oldest first), open, savedAt }

  // The conversation id: "web-" and 96 random bits in hex. The REST channel accepts only
  // this form (channels/sender_ids.py), so no visitor can name an SMS, WhatsApp or
  // Telegram conversation, or guess another visitor's.
  var SENDER_FORM = /^web-[0-9a-f]{24,32}$/;

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
      // A stored id of another form (written by hand, or by an older widget) would only
      // get 400s from the server: start a new conversation instead.
      if (fresh && SENDER_FORM.test(s.sender) && Array.isArray(s.messages) && Array.isArray(s.queue)) return s;
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

  // Small inline icons (no font or file to load); always next to words, never alone.
  var ICONS = {
    alert: "M12 2 1 21h22L12 2zm1 15h-2v2h2v-2zm0-8h-2v6h2V9z",
    phone: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
    chat: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z",
  };

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
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
    css.onload = css.onerror = function () {
      host.style.visibility = "";
      // Only now is the log a scrolling box of its own height: a restored conversation opens
      // at its latest message, not at the top of its history.
      if (ui && !ui.panel.hidden) scrollToEnd();
    };
    root.appendChild(css);

    var titleId = "jsw-title";
    var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
      "aria-controls": "jsw-panel" });
    // On phones the label is visually hidden and the launcher is a round icon button; the
    // label stays its accessible name.
    launcher.appendChild(icon("chat"));
    launcher.appendChild(el("span", { class: "label" }, config.launcherText));
    var panel = el("section", { id: "jsw-panel", class: "panel", role: "dialog",
      "aria-modal": "false", "aria-labelledby": titleId, hidden: "" });

    // A div, not <header>: inside the page a <header> is a second "banner" landmark (axe:
    // landmark-no-duplicate-banner); the dialog's name already says what this is.
    var header = el("div", { class: "head" });
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

    // Where the person is in the questions. Not a live region: the assistant's section
    // introductions already say it, and a second announcement per question would be noise.
    var progress = el("div", { class: "progress", hidden: "" });
    var progressText = el("span", { class: "progress-text" });
    var progressBar = el("span", { class: "progress-bar", "aria-hidden": "true" });
    var progressFill = el("span");
    progressBar.appendChild(progressFill);
    progress.appendChild(progressText);
    progress.appendChild(progressBar);

    var logWrap = el("div", { class: "log-wrap" });
    var log = el("div", { class: "log", role: "log", "aria-live": "polite",
      "aria-label": "Conversation", tabindex: "0" });
    // Shown while new messages or the latest buttons are below what the log shows.
    var more = el("button", { type: "button", class: "more", hidden: "" });
    more.appendChild(el("span", { "aria-hidden": "true" }, "\u2193 "));
    more.appendChild(document.createTextNode(config.text.moreBelow));
    logWrap.appendChild(log);
    logWrap.appendChild(more);
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

    [header, progress, notice, logWrap, typing, form, footer].forEach(function (n) { panel.appendChild(n); });
    root.appendChild(launcher);
    root.appendChild(panel);
    return { host: host, root: root, launcher: launcher, panel: panel, restart: restart, close: close,
      notice: notice, noticeText: noticeText, retryNow: retryNow, log: log, typing: typing,
      form: form, input: input, progress: progress, progressText: progressText, progressFill: progressFill,
      more: more, css: css };
  }

  // ---- Rendering: messages are appended, never re-rendered, so the live region only
  // announces what is new and focus is never lost to a rebuilt button --------------------

  var rendered = {}; // message id -> {node, buttons: [button], done, status}

  // What a bot message is comes from its `custom` object (docs/website-widget.md), never
  // from its words: an alert, paragraphs and lists, the summary by section, numbers to
  // call, the progress, several answers at once. Anything missing or malformed falls back
  // to the plain text, which every message carries.
  function plainObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function strings(list) { return Array.isArray(list) && list.every(function (x) { return typeof x === "string"; }); }

  function alertLevel(custom) {
    return custom.kind === "alert" && (custom.level === "emergency" || custom.level === "same_day") ? custom.level : null;
  }

  function calls(custom) {
    // Only dialable digits reach a tel: link (the server builds them from clinic.yml; a
    // number is never taken out of message text).
    return (Array.isArray(custom.call) ? custom.call : []).filter(function (c) {
      return plainObject(c) && typeof c.label === "string" && typeof c.number === "string" &&
        typeof c.tel === "string" && /^\+?\d{2,15}$/.test(c.tel);
    });
  }

  function renderBlocks(parent, blocks) {
    blocks.forEach(function (block) {
      if (typeof block.paragraph === "string") {
        var p = el("p");
        appendText(p, block.paragraph);
        parent.appendChild(p);
      } else if (strings(block.list)) {
        var ul = el("ul");
        block.list.forEach(function (item) { var li = el("li"); appendText(li, item); ul.appendChild(li); });
        parent.appendChild(ul);
      }
    });
  }

  // The summary: one group per section, closed at first so the whole summary and the
  // "Is this all correct?" buttons fit in the panel; each opens with a tap (a native
  // <details>, so it works with the keyboard and says "expanded"/"collapsed").
  function renderSummary(parent, custom) {
    if (typeof custom.heading === "string") parent.appendChild(el("p", {}, custom.heading));
    custom.sections.forEach(function (section) {
      if (!plainObject(section) || typeof section.title !== "string" || !Array.isArray(section.items)) return;
      var details = el("details", { class: "section" });
      details.appendChild(el("summary", {}, fill(config.text.summarySection,
        { title: section.title, count: section.items.length })));
      var ul = el("ul");
      section.items.forEach(function (item) {
        if (!plainObject(item)) return;
        var li = el("li");
        li.appendChild(el("span", { class: "q" }, String(item.question) + ": "));
        li.appendChild(el("span", { class: "a" }, String(item.answer)));
        ul.appendChild(li);
      });
      details.appendChild(ul);
      parent.appendChild(details);
    });
  }

  function structured(custom) {
    return custom.kind === "summary" && Array.isArray(custom.sections) ? "summary"
      : Array.isArray(custom.blocks) ? "blocks" : null;
  }

  function renderMessage(msg) {
    var custom = msg.from === "bot" && plainObject(msg.custom) ? msg.custom : {};
    var level = alertLevel(custom);
    var node = el("div", { class: "msg " + msg.from + (level ? " alert alert-" + level : "") });
    node.appendChild(hiddenText(msg.from === "bot" ? "Assistant: " : "You: "));
    if (level) {
      // Colour, an icon and a title: the kind of advice never rests on colour alone.
      var title = el("p", { class: "alert-title" });
      title.appendChild(icon("alert"));
      title.appendChild(document.createTextNode(" " + (level === "emergency" ? config.text.emergency : config.text.sameDay)));
      node.appendChild(title);
    }
    var kind = structured(custom);
    var text = el(kind ? "div" : "p", { class: "text" });
    if (kind) node.setAttribute("data-text", msg.text || ""); // the words as sent (tests, copy)
    if (kind === "summary") renderSummary(text, custom);
    else if (kind === "blocks") renderBlocks(text, custom.blocks);
    else if (msg.from === "bot") appendText(text, msg.text || "");
    else text.textContent = msg.text;
    node.appendChild(text);
    var numbers = calls(custom);
    if (numbers.length) {
      var list = el("ul", { class: "calls" });
      numbers.forEach(function (c) {
        var a = el("a", { href: "tel:" + c.tel, class: "call" });
        a.appendChild(icon("phone"));
        a.appendChild(hiddenText(config.text.call + " "));
        a.appendChild(document.createTextNode(" " + c.label + ": " + c.number));
        var li = el("li");
        li.appendChild(a);
        list.appendChild(li);
      });
      node.appendChild(list);
    }
    var view = { node: node, buttons: [], done: null, status: null };
    if (msg.buttons && msg.buttons.length) {
      var several = plainObject(custom.select) && custom.select.several === true;
      var alone = several && strings(custom.select.alone) ? custom.select.alone : [];
      var group = el("div", { class: "choices", role: "group",
        "aria-label": several ? config.text.chooseSeveral : "Quick replies" });
      msg.buttons.forEach(function (b, i) {
        // In a "name several" question, options that can go together are toggles (their
        // pressed state is announced); "Nothing yet" or "Not sure" still answer at once.
        var toggle = several && alone.indexOf(String(b.payload)) < 0;
        var button = el("button", toggle ? { type: "button", class: "choice toggle", "aria-pressed": "false" }
          : { type: "button", class: "choice" }, String(b.title));
        button.addEventListener("click", function () { toggle ? press(msg, i) : choose(msg, i); });
        group.appendChild(button);
        view.buttons.push(button);
      });
      if (several) {
        view.done = el("button", { type: "button", class: "choice done" }, config.text.done);
        view.done.addEventListener("click", function () { chooseSeveral(msg); });
        group.appendChild(view.done);
      }
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
      var answered = i < lastUser || msg.chosen !== undefined;
      var pressed = msg.pressed || [];
      view.buttons.forEach(function (button, b) {
        button.disabled = answered;
        button.classList.toggle("chosen", msg.chosen === b || (msg.chosen === "several" && pressed.indexOf(b) >= 0));
        if (button.hasAttribute("aria-pressed")) button.setAttribute("aria-pressed", String(pressed.indexOf(b) >= 0));
      });
      // Done is offered once something is chosen; until then it would send nothing.
      if (view.done) view.done.disabled = answered || !pressed.length;
      if (view.status) {
        var waiting = unsent[msg.id] && offline;
        var label = msg.refused ? "Not sent" : waiting ? "Not sent yet" : "";
        view.node.classList.toggle("unsent", !!waiting);
        view.node.classList.toggle("refused", !!msg.refused);
        if (view.status.textContent !== label) view.status.textContent = label;
      }
    });
    if (firstNew) ui.log.scrollTop = firstNew.offsetTop - ui.log.offsetTop - 8; // start of the new text
    showProgress();
    updateMore();
    ui.typing.hidden = !inFlight;
    ui.panel.setAttribute("data-state", offline ? "offline" : inFlight || state.queue.length ? "sending" : "idle");
  }

  // The progress of the latest question asked; gone once a summary or an alert followed it
  // (the questions are over, or stopped).
  function showProgress() {
    var shown = null;
    state.messages.forEach(function (m) {
      if (m.from !== "bot" || !plainObject(m.custom)) return;
      var p = m.custom.progress;
      if (plainObject(p) && p.section > 0 && p.of >= p.section && typeof p.title === "string") shown = p;
      else if (m.custom.kind === "summary" || m.custom.kind === "alert") shown = null;
    });
    ui.progress.hidden = !shown;
    if (!shown) return;
    var label = fill(config.text.progress, shown);
    if (ui.progressText.textContent !== label) ui.progressText.textContent = label;
    ui.progressFill.style.width = Math.round(100 * shown.section / shown.of) + "%";
  }

  // "More below": the log has more under what it shows (new messages, or the buttons of a
  // long message). Checked after each render, scroll and resize.
  function updateMore() {
    var log = ui.log;
    ui.more.hidden = ui.panel.hidden || log.scrollHeight - log.scrollTop - log.clientHeight <= 24;
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
    updateMore();
  }

  function clearLog() {
    ui.log.textContent = "";
    rendered = {};
  }

  // ---- Sending: one message at a time, oldest first, kept until Rasa has answered it ---

  var inFlight = false, offline = false, attempt = 0, retryTimer = null, epoch = 0;

  // replyTo: for a tapped button, the server's id of the message it belongs to.
  function enqueue(text, shownAs, replyTo) {
    var id = newId();
    if (shownAs !== null) state.messages.push({ id: id, from: "user", text: shownAs });
    state.queue.push(replyTo ? { id: id, text: text, replyTo: replyTo } : { id: id, text: text });
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
    post(item).then(function (replies) {
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
        var message = { id: newId(), from: "bot", text: r.text || "", buttons: buttons };
        if (r.custom && typeof r.custom === "object" && !Array.isArray(r.custom)) message.custom = r.custom;
        if (buttons.length && typeof r.message_id === "string" && MESSAGE_ID.test(r.message_id)) message.messageId = r.message_id;
        added.push(message);
      }
    });
    state.messages.splice.apply(state.messages, [at, 0].concat(added));
  }

  // A tap says which message it answers (metadata, so the payload stays the payload): the
  // server refuses it, as "that question has moved on", when that message is no longer
  // the latest question, e.g. a second click, or another tab on the same conversation
  // (channels/taps.py). Without the id (a message from an older widget) it goes as before.
  var MESSAGE_ID = /^[0-9a-f]{16}$/;

  function post(item) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    var body = { sender: state.sender, message: item.text };
    if (item.replyTo) body.metadata = { reply_to: item.replyTo };
    return fetch(config.serverUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
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
    enqueue(String(button.payload), String(button.title), msg.messageId); // the choice, shown as their message
    ui.input.focus(); // the chosen button is now disabled and cannot keep the focus
  }

  function press(msg, index) {
    if (msg.chosen !== undefined) return;
    var pressed = (msg.pressed || []).slice();
    var at = pressed.indexOf(index);
    if (at >= 0) pressed.splice(at, 1); else pressed.push(index);
    msg.pressed = pressed.sort(function (a, b) { return a - b; });
    saveState();
    render();
  }

  // The chosen options go as one typed answer, their titles in a list ("Night guard /
  // splint, Pain relief"): the assistant reads it as it reads "a splint and painkillers".
  // One payload per combination could not be offered, and payloads not offered are ignored.
  function chooseSeveral(msg) {
    if (msg.chosen !== undefined || !(msg.pressed || []).length) return;
    msg.chosen = "several";
    var text = msg.pressed.map(function (i) { return String(msg.buttons[i].title); }).join(", ");
    enqueue(text, text, msg.messageId); // typed words, but still the answer to this message only
    ui.input.focus();
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
    if (open) scrollToEnd();
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
    ui.log.addEventListener("scroll", updateMore, { passive: true });
    window.addEventListener("resize", updateMore);
    ui.more.addEventListener("click", function () {
      scrollToEnd();
      // The cue is now hidden: the focus goes to what it pointed at, the latest choices
      // if there are any, otherwise the text box.
      var choices = ui.log.querySelectorAll(".choice:enabled");
      (choices.length ? choices[0] : ui.input).focus();
    });
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
    scrollToEnd();
    pump(); // anything left unsent on the previous page goes now
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
