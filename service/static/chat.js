// WeChat-style web chat over the policy service's /api/chat proxy to Rasa's REST channel.
//
// API for other scripts on this page (e.g. the human-agent handoff delivering an agent's replies):
//   window.chatUI.addMessage(text, {from: "bot" | "agent" | "user", at: msSinceEpoch})
//       shows a message (agent messages carry the label 人工客服) and keeps it in the transcript;
//   window.chatUI.addNotice(text)   a centred grey line, e.g. 已为您转接人工客服 (not kept);
//   window.chatUI.send(text)        sends text as if the user had typed it;
// The conversation id is a signed HttpOnly cookie the server issues (service/identity.py): no script reads it.
// Quick replies belong to the step that offered them: as soon as anything is sent, or a human agent speaks,
// they are retired (disabled, and a click on them does nothing), so a finished, cancelled or superseded step
// cannot be answered.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const typing = document.getElementById("typing");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const sendButton = document.getElementById("send");
  const TIME_GAP_MS = 5 * 60 * 1000;  // like WeChat: a time line when the previous message is older than this
  const AGENT_LABEL = "人工客服";

  // The conversation id is the server's: a signed HttpOnly cookie set by /api/chat, kept across reloads.

  // The transcript is kept per browser too, so a reload shows the conversation instead of starting over.
  // Entries: {user: text, at}, {bot: rasaMessage, at}, {agent: text, at}.
  const HISTORY_KEY = "policy-chat-history";
  const HISTORY_LIMIT = 80;
  function loadHistory() {
    try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch (error) { return []; }
  }
  function remember(entry) {
    const history = loadHistory();
    history.push(entry);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(history.slice(-HISTORY_LIMIT)));
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // --- time lines ---------------------------------------------------------------------------------
  let lastMessageAt = null;
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function timeLabel(at, now) {
    const when = new Date(at), today = new Date(now);
    const clock = two(when.getHours()) + ":" + two(when.getMinutes());
    const startOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
    if (at >= startOfToday) return clock;
    if (at >= startOfToday - 24 * 3600 * 1000) return "昨天 " + clock;
    const day = (when.getMonth() + 1) + "月" + when.getDate() + "日 " + clock;
    return when.getFullYear() === today.getFullYear() ? day : when.getFullYear() + "年" + day;
  }
  function stamp(at) {
    if (lastMessageAt === null || at - lastMessageAt > TIME_GAP_MS) {
      log.appendChild(element("div", "time", timeLabel(at, Date.now())));
    }
    lastMessageAt = at;
  }

  // --- messages -----------------------------------------------------------------------------------
  let turnText = "";  // what the bot has said since the user's last message: cards do not repeat it

  function addBubble(who, text, at) {
    stamp(at);
    const row = element("div", "msg " + who);
    if (who !== "user") row.appendChild(element("div", "avatar " + who, who === "agent" ? "客" : "策"));
    const body = element("div", "body");
    if (who === "agent") body.appendChild(element("div", "name", AGENT_LABEL));
    body.appendChild(element("div", "bubble", text));
    row.appendChild(body);
    log.appendChild(row);
    if (who === "user") turnText = "";
    else turnText += text;
    scrollDown();
    return row;
  }

  function addNotice(text) {
    const row = element("div", "msg notice");
    row.appendChild(element("div", "bubble", text));
    log.appendChild(row);
    scrollDown();
  }

  function retireQuickReplies() {
    log.querySelectorAll(".chips:not(.stale)").forEach(function (row) {
      row.classList.add("stale");
      row.querySelectorAll("button").forEach(function (chip) { chip.disabled = true; });
    });
  }

  function addChips(buttons) {
    const row = element("div", "chips");
    buttons.forEach(function (button) {
      const chip = element("button", "chip", button.title);
      chip.type = "button";
      chip.addEventListener("click", function () {
        if (row.classList.contains("stale")) return;  // its step is over
        send(button.payload, { shown: button.title });
      });
      row.appendChild(chip);
    });
    log.appendChild(row);
    scrollDown();
  }

  // --- citation cards -----------------------------------------------------------------------------
  function compact(text) { return String(text || "").replace(/\s+/g, ""); }

  function highlighted(text, quotes) {
    // The article text with each quoted sentence marked (quotes are sentences of this very text).
    const fragment = document.createDocumentFragment();
    const ranges = [];
    (quotes || []).forEach(function (quote) {
      const start = text.indexOf(quote);
      if (quote && start >= 0) ranges.push([start, start + quote.length]);
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    let position = 0;
    ranges.forEach(function (range) {
      if (range[0] < position) return;
      fragment.appendChild(document.createTextNode(text.slice(position, range[0])));
      fragment.appendChild(element("mark", null, text.slice(range[0], range[1])));
      position = range[1];
    });
    fragment.appendChild(document.createTextNode(text.slice(position)));
    return fragment;
  }

  function contextUrl(citation) {
    return citation.context_url || "/api/clauses/" + encodeURIComponent(citation.clause_id);
  }

  function addContext(card, citation) {
    const context = element("details", "context");
    context.appendChild(element("summary", null, "查看条款原文"));
    const body = element("div", "context-text", "正在载入…");
    context.appendChild(body);
    let loaded = false;
    context.addEventListener("toggle", async function () {
      if (!context.open || loaded) return;
      loaded = true;
      try {
        const response = await fetch(contextUrl(citation));
        if (!response.ok) throw new Error(String(response.status));
        const clause = await response.json();
        body.textContent = "";
        if (clause.section && clause.article > 0) body.appendChild(element("div", "context-section", clause.section));
        body.appendChild(highlighted(clause.text || "", citation.quotes || [citation.quote]));
        if (clause.active === false) body.appendChild(element("div", "expired", "这一条已停止适用。"));
      } catch (error) {
        loaded = false;
        body.textContent = "原文暂时打不开，请稍后再试。";
      }
    });
    card.appendChild(context);
  }

  function addCitation(citation) {
    const card = element("div", "card");
    card.dataset.clause = citation.clause_id || "";
    const head = element("div", "card-head");
    head.appendChild(element("span", "tag", "依据"));
    head.appendChild(element("span", "doc-number", citation.doc_number || citation.doc || ""));
    head.appendChild(element("span", "heading", citation.heading || citation.article_label || citation.title || ""));
    card.appendChild(head);
    if (citation.doc_title) card.appendChild(element("div", "doc-title", "《" + citation.doc_title + "》"));
    // The full quote and expiry notes, except what the bubbles above already say word for word.
    const said = compact(turnText);
    const unsaid = (citation.quotes || [citation.quote]).filter(function (quote) {
      return quote && said.indexOf(compact(quote)) < 0;
    });
    if (unsaid.length) card.appendChild(element("blockquote", "quote", "“" + unsaid.join("") + "”"));
    (citation.expiry_notes || []).forEach(function (note) {
      if (said.indexOf(compact(note)) < 0) card.appendChild(element("div", "expired", note));
    });
    if (citation.departments && citation.departments.length) {
      card.appendChild(element("div", "departments", "📍 办理部门：" + citation.departments.join("、")));
    }
    if (citation.clause_id) addContext(card, citation);
    card.appendChild(element("div", "meta", "条款编号：" + citation.clause_id));
    log.appendChild(card);
    scrollDown();
  }

  function render(message, at) {
    if (message.text) addBubble("bot", message.text, at);
    if (message.buttons && message.buttons.length) addChips(message.buttons);
    const custom = message.custom || {};
    (custom.citations || []).forEach(addCitation);
    if (custom.handoff) addNotice("已为您转接" + AGENT_LABEL);
  }

  // --- one reply -----------------------------------------------------------------------------------
  // An answer's citations may carry `bubble`: the answer and a short citation line. The web chat shows it in
  // place of the full-text messages just before it (which quote the clause for text-only channels), so the
  // quote is shown once, in the card. The condensed reply is what the transcript keeps.
  function isPlainText(message) {
    return message.text && !(message.buttons && message.buttons.length) && !message.custom && !message.image;
  }
  function condensed(messages) {
    const shown = [];
    messages.forEach(function (message) {
      const bubble = message.custom && message.custom.bubble;
      if (!bubble) { shown.push(message); return; }
      while (shown.length && isPlainText(shown[shown.length - 1])) shown.pop();
      shown.push(Object.assign({}, message, { text: bubble }));
    });
    return shown;
  }

  // --- sending ------------------------------------------------------------------------------------
  // options.shown: the text to show for the user (a button's title); options.silent: show nothing for
  // the user (the greeting is requested by the page, not typed by the user).
  async function send(payload, options) {
    const shown = (options && options.shown) || payload;
    retireQuickReplies();
    if (!(options && options.silent)) {
      const at = Date.now();
      addBubble("user", shown, at);
      remember({ user: shown, at: at });
    }
    typing.hidden = false;
    log.appendChild(typing);
    scrollDown();
    sendButton.disabled = true;
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ message: payload }),
      });
      const body = await response.json();
      condensed(body.messages || []).forEach(function (message) {
        const at = Date.now();
        render(message, at);
        remember({ bot: message, at: at });
      });
      if (body.error && !(body.messages || []).length) addNotice(body.error);
    } catch (error) {
      addNotice("网络好像断了，请稍后再试。");
    } finally {
      typing.hidden = true;
      sendButton.disabled = false;
      input.focus();
    }
  }

  function addMessage(text, options) {
    const from = (options && options.from) || "bot";
    const at = (options && options.at) || Date.now();
    if (from === "user") {
      addBubble("user", text, at);
      remember({ user: text, at: at });
    } else if (from === "agent") {
      retireQuickReplies();  // the agent now leads the conversation: the bot's open step is superseded
      addBubble("agent", text, at);
      remember({ agent: text, at: at });
    } else {
      render({ text: text }, at);
      remember({ bot: { text: text }, at: at });
    }
  }

  window.chatUI = { addMessage: addMessage, addNotice: addNotice, send: function (text) { return send(text); } };

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  document.getElementById("handoff").addEventListener("click", function () { send("/human_handoff", { shown: "转人工" }); });

  const history = loadHistory();
  history.forEach(function (entry) {
    const at = entry.at || Date.now();
    if (entry.user || entry.agent) retireQuickReplies();
    if (entry.user) addBubble("user", entry.user, at);
    else if (entry.agent) addBubble("agent", entry.agent, at);
    else if (entry.bot) render(entry.bot, at);
  });
  if (!history.length) send("/greet", { silent: true });  // the bot speaks first; nothing is shown for the user
})();
