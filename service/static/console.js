// Hotline agent console: queue of handed-off conversations, policy search, copyable answers, calculator.
// Everything goes through the JSON API under /api/agent/…; writes carry the session's CSRF token.
(function () {
  "use strict";
  const $ = function (id) { return document.getElementById(id); };
  let csrf = "";
  let selected = null;       // id of the open conversation
  let lastSuggestedFor = ""; // the citizen message the suggestions were computed for
  let me = null;
  let fieldLabels = {};      // calculator field name → its Chinese label

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function api(method, path, body) {
    const options = { method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
    return data;
  }

  function waited(seconds) {
    if (seconds < 60) return seconds + " 秒";
    if (seconds < 3600) return Math.floor(seconds / 60) + " 分钟";
    return Math.floor(seconds / 3600) + " 小时 " + Math.floor((seconds % 3600) / 60) + " 分";
  }

  const CHANNELS = { web: "网页", wechat: "微信", rest: "接口" };
  const TITLE = document.title;

  // --- clause cards -------------------------------------------------------------------------------------
  function highlighted(text, spans) {
    const box = el("div", "text");
    let at = 0;
    (spans || []).forEach(function (span) {
      if (span[0] > at) box.appendChild(document.createTextNode(text.slice(at, span[0])));
      box.appendChild(el("mark", null, text.slice(span[0], span[1])));
      at = span[1];
    });
    box.appendChild(document.createTextNode(text.slice(at)));
    return box;
  }

  function clauseCard(card) {
    const box = el("div", "card");
    box.dataset.clauseId = card.clause_id;
    const head = el("div", "head");
    head.appendChild(el("span", "doc", card.doc_number));
    head.appendChild(el("span", "loc", card.location));
    head.appendChild(el("span", "title", card.title));
    head.appendChild(el("span", "badge " + card.status.state, card.status.text));
    box.appendChild(head);
    box.appendChild(highlighted(card.text, card.highlights));
    (card.status.notes || []).forEach(function (note) { box.appendChild(el("div", "meta", note)); });
    const meta = el("div", "meta", "咨询部门：" + (card.departments.join("、") || "—") + " · 相关度 " + card.score.toFixed(3));
    box.appendChild(meta);
    const buttons = el("div", "buttons");
    const open = el("button", "secondary open-article", "查看全文");
    open.type = "button";
    open.addEventListener("click", function () { showArticle(card.clause_id); });
    buttons.appendChild(open);
    box.appendChild(buttons);
    return box;
  }

  // --- search as you type -------------------------------------------------------------------------------
  let searchTimer = null;
  let searchSeq = 0;
  async function runSearch() {
    const query = $("search-box").value.trim();
    const seq = ++searchSeq;
    $("copy-answer").disabled = !query;
    if (!query) { $("results").replaceChildren(); $("search-note").textContent = ""; return; }
    try {
      const data = await api("GET", "/api/agent/search?k=5&q=" + encodeURIComponent(query));
      if (seq !== searchSeq) return;  // a newer keystroke already asked
      $("search-note").textContent = data.answerable ? "" : "这份政策可能没有直接涉及这个问题，以下是最接近的条款：";
      $("results").replaceChildren.apply($("results"), data.cards.map(clauseCard));
    } catch (error) { $("search-note").textContent = "检索失败：" + error.message; }
  }

  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch (error) {
      const area = el("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      const done = document.execCommand("copy");
      area.remove();
      return done;
    }
  }

  // The bot's whole answer to a question (direct answer, quote, citation), into the clipboard and shown in
  // the box with the given id prefix ("copy" under the search box, "suggest-copy" beside the conversation).
  async function copyAnswer(question, box) {
    let data;
    try { data = await api("POST", "/api/agent/answer", { q: question }); } catch (error) {
      $(box + "-note").textContent = "复制失败：" + error.message;
      $(box + "-preview").textContent = "";
      $(box + "-box").hidden = false;
      return;
    }
    const copied = await copyText(data.copy_text);
    $(box + "-preview").textContent = data.copy_text;
    $(box + "-note").textContent = (copied ? "已复制到剪贴板，与机器人发送的一致。" : "浏览器未允许复制，请手动选中下面的文字。") +
      (data.nlu_error ? "意图识别暂不可用，答复只按检索结果生成，可能与机器人的略有不同。" : "");
    $(box + "-box").hidden = false;
  }

  async function showArticle(clauseId) {
    const data = await api("GET", "/api/agent/articles/" + encodeURIComponent(clauseId));
    const box = $("article");
    box.replaceChildren();
    box.appendChild(el("h3", null, data.doc_number + " " + data.location + " " + data.title));
    box.appendChild(el("div", "muted", data.doc_title + " · " + data.section));
    data.clauses.forEach(function (clause) {
      const row = el("div", "clause", clause.text);
      row.dataset.clauseId = clause.clause_id;
      box.appendChild(row);
      box.appendChild(el("div", "meta muted", clause.status.text + (clause.departments.length ? " · " + clause.departments.join("、") : "")));
    });
    const nav = el("div", "buttons");
    [["previous", "上一条"], ["next", "下一条"]].forEach(function (pair) {
      if (!data[pair[0]]) return;
      const button = el("button", "secondary", pair[1]);
      button.type = "button";
      button.addEventListener("click", function () { showArticle(data[pair[0]]); });
      nav.appendChild(button);
    });
    box.appendChild(nav);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  // --- calculator ---------------------------------------------------------------------------------------
  function checkboxes(legend, name, items) {
    const set = el("fieldset");
    set.appendChild(el("legend", null, legend));
    items.forEach(function (item) {
      const label = el("label");
      const box = el("input");
      box.type = "checkbox"; box.name = name; box.value = item.name; box.id = name + "-" + item.name;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + item.label));
      set.appendChild(label);
    });
    return set;
  }

  function buildCalculator(form) {
    fieldLabels = form.field_labels || {};
    const root = $("calc-form");
    root.replaceChildren();
    const basics = el("fieldset");
    basics.appendChild(el("legend", null, "基本情况"));
    form.facts.forEach(function (fact) {
      const label = el("label", null, fact.label + (fact.unit ? "（" + fact.unit + "）" : "") + " ");
      let input;
      if (fact.type === "number") {
        input = el("input"); input.type = "number"; input.min = fact.min; input.max = fact.max; input.step = "any";
      } else {
        input = el("select");
        [["", "不清楚"], ["true", "是"], ["false", "否"]].forEach(function (pair) {
          const option = el("option", null, pair[1]); option.value = pair[0]; input.appendChild(option);
        });
      }
      input.name = fact.name; input.id = "fact-" + fact.name; input.dataset.type = fact.type;
      label.appendChild(input);
      basics.appendChild(label);
    });
    const date = el("label", null, "按哪天的规定测算 ");
    const asOf = el("input"); asOf.type = "date"; asOf.id = "as-of"; asOf.value = form.as_of;
    date.appendChild(asOf);
    basics.appendChild(date);
    root.appendChild(basics);
    root.appendChild(checkboxes("人员类别（可多选）", "groups", form.groups));
    root.appendChild(checkboxes("从事或准备从事（可多选）", "activities", form.activities));
    const submit = el("button", null, "测算"); submit.type = "submit"; submit.id = "calc-run";
    root.appendChild(submit);
  }

  function calculatorRequest() {
    const body = { as_of: $("as-of").value || undefined };
    ["groups", "activities"].forEach(function (name) {
      body[name] = Array.from(document.querySelectorAll("input[name=" + name + "]:checked")).map(function (box) { return box.value; });
    });
    document.querySelectorAll("#calc-form [data-type]").forEach(function (input) {
      if (input.value === "") return;
      body[input.name] = input.dataset.type === "number" ? Number(input.value) : input.value === "true";
    });
    return body;
  }

  function resultRow(item) {
    const kind = item.eligible === true ? "yes" : item.eligible === null ? "maybe" : "no";
    const row = el("div", "result " + kind);
    row.dataset.entitlement = item.id;
    const mark = { yes: "✅ 可以享受", maybe: "❓ 待确认", no: "✖ 不符合" }[kind];
    row.appendChild(el("div", null, mark + " · " + item.title + (item.status === "expired" ? "（已过期）" : "")));
    if (item.amount_text) row.appendChild(el("div", "amount", item.amount_text));
    (item.why || []).forEach(function (line) { row.appendChild(el("div", "muted", line)); });
    if (item.missing && item.missing.length) {
      const named = item.missing.map(function (field) { return fieldLabels[field.split(/[.[]/)[0]] || field; });
      row.appendChild(el("div", "muted", "还需要了解：" + Array.from(new Set(named)).join("、")));
    }
    (item.notes || []).forEach(function (note) { row.appendChild(el("div", "muted", note)); });
    row.appendChild(el("div", "meta", "依据：" + item.reference + " · 办理：" + (item.departments || []).join("、")));
    return row;
  }

  async function calculate(event) {
    event.preventDefault();
    try {
      const data = await api("POST", "/api/agent/calculator", calculatorRequest());
      const order = { true: 0, null: 1, false: 2 };
      const items = data.entitlements.slice().sort(function (a, b) { return order[a.eligible] - order[b.eligible]; });
      $("calc-result").replaceChildren.apply($("calc-result"), items.map(resultRow));
      $("calc-summary").textContent = data.summary;
      $("calc-summary-box").hidden = false;
    } catch (error) {
      $("calc-result").replaceChildren(el("p", "error", "测算失败：" + error.message));
    }
  }

  // --- queue and conversation ---------------------------------------------------------------------------
  async function refreshQueue() {
    let data;
    try { data = await api("GET", "/api/agent/queue"); } catch (error) { return; }
    $("queue-count").textContent = data.conversations.length;
    const waiting = data.conversations.filter(function (conv) { return conv.status === "queued"; }).length;
    document.title = (waiting ? "(" + waiting + ") " : "") + TITLE;  // seen from another tab
    $("queue-empty").hidden = data.conversations.length > 0;
    $("hours-note").hidden = data.open_now;
    $("queue").replaceChildren.apply($("queue"), data.conversations.map(function (conv) {
      const item = el("li", conv.id === selected ? "selected" : "");
      item.dataset.id = conv.id;
      const line = el("div", "line1");
      line.appendChild(el("span", null, (CHANNELS[conv.channel] || conv.channel) + " #" + conv.id));
      line.appendChild(el("span", "badge " + conv.status, conv.status === "queued" ? "等待 " + waited(conv.waiting_s) : "处理中 · " + conv.claimed_by));
      item.appendChild(line);
      item.appendChild(el("div", "muted", conv.reason_text + (conv.out_of_hours ? " · 非工作时间留言" : "")));
      if (conv.question) item.appendChild(el("div", "q", "“" + conv.question + "”"));
      item.addEventListener("click", function () { openConversation(conv.id); });
      return item;
    }));
  }

  function transcriptLine(line) {
    const who = { user: "市民", bot: "机器人", agent: "人工客服 " + (line.agent || ""), event: "" }[line.author];
    const row = el("div", "line " + line.author);
    if (who) row.appendChild(el("span", "who", who));
    row.appendChild(document.createTextNode(line.text));
    return row;
  }

  const STATUS_TEXT = { pending: "待对方拉取", sent: "已送达", failed: "发送失败", expired: "超出48小时窗口" };

  async function openConversation(id) {
    if (selected !== id) lastSuggestedFor = "";
    selected = id;
    await refreshConversation();
    refreshQueue();
  }

  async function refreshConversation() {
    if (selected === null) return;
    let data;
    try { data = await api("GET", "/api/agent/queue/" + selected); } catch (error) { return; }
    const conv = data.handoff;
    $("conversation").hidden = false;
    $("conv-title").textContent = (CHANNELS[conv.channel] || conv.channel) + "会话 #" + conv.id;
    $("conv-meta").textContent = conv.reason_text + " · 已等待 " + waited(conv.waiting_s) +
      (conv.status === "claimed" ? " · 由 " + conv.claimed_by + " 处理" : conv.status === "queued" ? " · 排队中" : " · 已结束");
    const mine = conv.status === "claimed" && me && conv.claimed_by === me.username;
    $("claim").disabled = conv.status !== "queued";
    $("resolve").disabled = conv.status === "resolved" || (conv.status === "claimed" && !mine);
    $("reply-text").disabled = $("reply-send").disabled = !mine;
    const box = $("transcript");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    box.replaceChildren.apply(box, data.transcript.map(transcriptLine));
    data.outbox.filter(function (m) { return m.status === "failed" || m.status === "expired"; }).forEach(function (m) {
      const row = el("div", "line agent");
      row.appendChild(el("span", "who", "未送达"));
      row.appendChild(document.createTextNode(m.text));
      row.appendChild(el("span", "status " + m.status, STATUS_TEXT[m.status] + "：" + m.error));
      const retry = el("button", "secondary", "重试");
      retry.type = "button";
      retry.addEventListener("click", function () { api("POST", "/api/agent/messages/" + m.id + "/retry").then(refreshConversation); });
      row.appendChild(retry);
      box.appendChild(row);
    });
    if (atBottom) box.scrollTop = box.scrollHeight;
    $("conv-error").hidden = !data.transcript_error;
    $("conv-error").textContent = data.transcript_error ? "读取对话记录失败：" + data.transcript_error : "";
    const suggestions = data.suggestions;
    $("suggest-copy").disabled = !suggestions;
    if (suggestions && suggestions.query !== lastSuggestedFor) {
      lastSuggestedFor = suggestions.query;
      $("suggest-copy-box").hidden = true;
      $("suggestions").replaceChildren.apply($("suggestions"), suggestions.cards.map(clauseCard));
    }
  }

  async function act(path, body) {
    try {
      await api("POST", "/api/agent/queue/" + selected + "/" + path, body);
      $("conv-error").hidden = true;
    } catch (error) {
      $("conv-error").textContent = error.message;
      $("conv-error").hidden = false;
    }
    await refreshConversation();
    refreshQueue();
  }

  // --- start --------------------------------------------------------------------------------------------
  async function start() {
    me = await api("GET", "/api/agent/me");
    csrf = me.csrf_token || "";
    $("logout-csrf").value = csrf;
    $("who").textContent = me.username + "（" + { agent: "坐席", staff: "政策专员", admin: "管理员" }[me.role] + "）";
    document.querySelectorAll(".tab").forEach(function (tab) {
      tab.addEventListener("click", function () {
        document.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("active", t === tab); });
        document.querySelectorAll(".tab-body").forEach(function (body) { body.hidden = body.id !== tab.dataset.tab; });
      });
    });
    $("copy-answer").addEventListener("click", function () { copyAnswer($("search-box").value.trim(), "copy"); });
    $("suggest-copy").addEventListener("click", function () { if (lastSuggestedFor) copyAnswer(lastSuggestedFor, "suggest-copy"); });
    $("search-box").addEventListener("input", function () {
      $("copy-box").hidden = true;  // it answered the previous question
      clearTimeout(searchTimer);
      searchTimer = setTimeout(runSearch, 250);
    });
    buildCalculator(await api("GET", "/api/agent/calculator"));
    $("calc-form").addEventListener("submit", calculate);
    $("calc-copy").addEventListener("click", function () { copyText($("calc-summary").textContent); });
    $("calc-print").addEventListener("click", function () { window.print(); });
    $("claim").addEventListener("click", function () { act("claim"); });
    $("resolve").addEventListener("click", function () { act("resolve"); });
    $("reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      const text = $("reply-text").value.trim();
      if (!text) return;
      $("reply-text").value = "";
      act("reply", { text: text });
    });
    refreshQueue();
    setInterval(refreshQueue, 3000);
    setInterval(refreshConversation, 3000);
  }
  start();
})();
