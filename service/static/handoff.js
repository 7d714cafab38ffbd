// Agent messages in the web chat: while the page is open it polls the policy service for messages a
// hotline agent sent to this browser's conversation (and the bot's notice when the agent hands back),
// and shows them through window.chatUI.addMessage (chat.js, loaded first), which styles and keeps them.
(function () {
  "use strict";
  const CURSOR_KEY = "policy-chat-agent-cursor";  // id of the last agent message shown
  const POLL_MS = 3000;

  async function poll() {
    if (document.hidden) return;
    const after = Number(localStorage.getItem(CURSOR_KEY) || "0");
    try {  // the conversation is the one of this browser's signed cookie, sent along by the browser
      const response = await fetch("/api/chat/agent-messages?after=" + after, { credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      (body.messages || []).forEach(function (message) {
        window.chatUI.addMessage(message.text, { from: message.from === "agent" ? "agent" : "bot" });
        localStorage.setItem(CURSOR_KEY, String(message.id));
      });
    } catch (error) { /* offline for a moment: the next poll catches up */ }
  }

  setInterval(poll, POLL_MS);
  poll();
})();
