// WeChat-style web chat over the policy service's /api/chat proxy to Rasa's REST channel.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const typing = document.getElementById("typing");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const sendButton = document.getElementById("send");

  function senderId() {  // persistent per browser, so the conversation continues after a reload
    let id = localStorage.getItem("policy-chat-sender");
    if (!id) {
      id = "web-" + (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
      localStorage.setItem("policy-chat-sender", id);
    }
    return id;
  }

  // The transcript is kept per browser too, so a reload shows the conversation instead of starting over.
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

  function addBubble(who, text) {
    const row = element("div", "msg " + who);
    row.appendChild(element("div", "bubble", text));
    log.appendChild(row);
    scrollDown();
  }

  function addChips(buttons) {
    const row = element("div", "chips");
    buttons.forEach(function (button) {
      const chip = element("button", "chip", button.title);
      chip.type = "button";
      chip.addEventListener("click", function () {
        row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        send(button.payload, button.title);
      });
      row.appendChild(chip);
    });
    log.appendChild(row);
    scrollDown();
  }

  function addCitation(citation) {
    const card = element("details", "card");
    const label = citation.article_label || citation.title || "";
    card.appendChild(element("summary", null, "依据：" + (citation.doc_number || citation.doc || "") + " " + label));
    if (citation.quote) card.appendChild(element("div", "quote", citation.quote));
    (citation.expiry_notes || []).forEach(function (note) { card.appendChild(element("div", "expired", note)); });
    if (citation.departments && citation.departments.length) {
      card.appendChild(element("div", "meta", "咨询部门：" + citation.departments.join("、")));
    }
    card.appendChild(element("div", "meta", "条款编号：" + citation.clause_id));
    log.appendChild(card);
    scrollDown();
  }

  function render(message) {
    if (message.text) addBubble("bot", message.text);
    if (message.buttons && message.buttons.length) addChips(message.buttons);
    const custom = message.custom || {};
    (custom.citations || []).forEach(addCitation);
    if (custom.handoff) addBubble("notice", "已为您转接人工客服");
  }

  async function send(payload, shown) {
    addBubble("user", shown || payload);
    remember({ user: shown || payload });
    typing.hidden = false;
    log.appendChild(typing);
    scrollDown();
    sendButton.disabled = true;
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: senderId(), message: payload }),
      });
      const body = await response.json();
      (body.messages || []).forEach(function (message) { render(message); remember({ bot: message }); });
      if (body.error && !(body.messages || []).length) addBubble("notice", body.error);
    } catch (error) {
      addBubble("notice", "网络好像断了，请稍后再试。");
    } finally {
      typing.hidden = true;
      sendButton.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  document.getElementById("handoff").addEventListener("click", function () { send("/human_handoff", "转人工"); });
  const history = loadHistory();
  history.forEach(function (entry) {
    if (entry.user) addBubble("user", entry.user);
    else if (entry.bot) render(entry.bot);
  });
  log.querySelectorAll(".chip").forEach(function (chip) { chip.disabled = true; });  // old quick replies
  if (!history.length) send("/greet", "你好");
})();
