// Agent messages in the web chat: while the page is open it polls the policy service for messages a
// hotline agent sent to this browser's conversation (and the bot's notice when the agent hands back).
// Uses window.chatUI.addMessage(text, {from}) when the chat exposes it, else appends a bubble itself.
(function () {
  "use strict";
  const CURSOR_KEY = "policy-chat-agent-cursor";  // id of the last agent message shown
  const POLL_MS = 3000;

  const style = document.createElement("style");
  style.textContent =
    ".msg.agent { flex-direction: column; align-items: flex-start; }" +
    ".msg.agent .who { font-size: 12px; color: #1f6fd1; margin: 0 0 3px 2px; }" +
    ".msg.agent .bubble { background: #e8f1fd; border-left: 3px solid #1f6fd1; }";
  document.head.appendChild(style);

  function append(text, from) {
    if (window.chatUI && typeof window.chatUI.addMessage === "function") {
      window.chatUI.addMessage(text, { from: from, label: from === "agent" ? "人工客服" : undefined });
      return;
    }
    const log = document.getElementById("log");
    if (!log) return;
    const row = document.createElement("div");
    row.className = "msg " + (from === "agent" ? "agent" : "bot");
    if (from === "agent") {
      const who = document.createElement("div");
      who.className = "who";
      who.textContent = "人工客服";
      row.appendChild(who);
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    row.appendChild(bubble);
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  async function poll() {
    if (document.hidden) return;
    const after = Number(localStorage.getItem(CURSOR_KEY) || "0");
    try {  // the conversation is the one of this browser's signed cookie, sent along by the browser
      const response = await fetch("/api/chat/agent-messages?after=" + after, { credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      (body.messages || []).forEach(function (message) {
        append(message.text, message.from);
        localStorage.setItem(CURSOR_KEY, String(message.id));
      });
    } catch (error) { /* offline for a moment: the next poll catches up */ }
  }

  setInterval(poll, POLL_MS);
  poll();
})();
