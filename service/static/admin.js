// Staff admin: one page, plain DOM, every call to /api/admin/… (session cookie + CSRF header).
"use strict";
const state = { me: null, draft: localStorage.getItem("adminDraft") || "" };
const view = document.getElementById("view");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function flash(message, kind = "ok") {
  const box = document.getElementById("flash");
  const line = el("div", { class: kind }, message);
  box.prepend(line);
  setTimeout(() => line.remove(), kind === "ok" ? 6000 : 15000);
}

async function api(method, path, body, isForm) {
  const headers = { "X-CSRF-Token": (state.me && state.me.csrf_token) || "" };
  if (body && !isForm) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, credentials: "same-origin",
                                       body: body ? (isForm ? body : JSON.stringify(body)) : undefined });
  if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.hash); }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || response.statusText);
    error.status = response.status; error.data = data;
    throw error;
  }
  return data;
}

async function guarded(action) {
  try { return await action(); }
  catch (error) {
    const problems = (error.data && error.data.problems) || [];
    flash((error.status === 409 ? "冲突（409）：" : "") + error.message, "error");
    problems.forEach(p => flash("· " + p.reason + (p.suggested_quote ? "（建议引文：" + p.suggested_quote + "）" : ""), "error"));
  }
}

// -- current draft ----------------------------------------------------------------------------------
async function loadDrafts() {
  const { drafts } = await api("GET", "/api/admin/drafts?status=open");
  const select = document.getElementById("current-draft");
  select.replaceChildren(el("option", { value: "" }, "（无）"),
    ...drafts.map(d => el("option", { value: d.id, selected: String(d.id) === state.draft }, `#${d.id} ${d.title}（${d.changes}项）`)));
  if (!drafts.some(d => String(d.id) === state.draft)) setDraft("");
  return drafts;
}
function setDraft(id) { state.draft = String(id || ""); localStorage.setItem("adminDraft", state.draft); }
async function ensureDraft() {
  if (!state.draft) {
    const draft = await api("POST", "/api/admin/drafts", { title: "草稿 " + new Date().toLocaleString("zh-CN") });
    setDraft(draft.id);
    await loadDrafts();
  }
  return state.draft;
}
document.getElementById("current-draft").addEventListener("change", e => { setDraft(e.target.value); route(); });
document.getElementById("new-draft").addEventListener("click", () => guarded(async () => {
  const title = prompt("草稿名称", "");
  if (title === null) return;
  const draft = await api("POST", "/api/admin/drafts", { title });
  setDraft(draft.id); await loadDrafts(); location.hash = "#drafts"; route();
}));

function pager(data, go) {
  return el("div", { class: "pager" },
    el("button", { disabled: data.page <= 1, onclick: () => go(data.page - 1) }, "上一页"),
    `第 ${data.page} / ${data.pages || 1} 页，共 ${data.total} 条`,
    el("button", { disabled: data.page >= (data.pages || 1), onclick: () => go(data.page + 1) }, "下一页"));
}

function diffRuns(runs) {
  return el("div", { class: "diff" }, runs.map(([op, text]) => op === "equal" ? text : el(op === "delete" ? "del" : "ins", {}, text)));
}

// -- drafts ---------------------------------------------------------------------------------------------
async function showDrafts() {
  const drafts = await loadDrafts();
  const list = el("section", { class: "card" }, el("h2", {}, "待发布的草稿"),
    drafts.length ? el("ul", {}, drafts.map(d => el("li", {}, el("a", { href: "#drafts", onclick: () => { setDraft(d.id); route(); } },
      `#${d.id} ${d.title}`), ` — ${d.author}，${d.changes} 项修改`))) : el("p", { class: "muted" }, "没有待发布的草稿。在“文件与条款”或“计算参数”中修改，会自动放进当前草稿。"));
  view.replaceChildren(list);
  if (state.draft) view.append(await draftCard(state.draft));
}

async function draftCard(id) {
  const draft = await api("GET", `/api/admin/drafts/${id}`);
  const { changes, problems } = await api("GET", `/api/admin/drafts/${id}/diff`);
  const previewBox = el("div", { id: "preview" });
  const card = el("section", { class: "card", id: "draft" },
    el("h2", {}, `草稿 #${draft.id}：${draft.title}`),
    el("p", { class: "muted" }, `作者 ${draft.author} · 创建于 ${draft.created_at}`,
      draft.approved_by ? ` · 已由 ${draft.approved_by} 审核通过` : " · 未审核"),
    el("h3", {}, "修改内容"),
    changes.length ? changes.map(changeView) : el("p", { class: "muted" }, "（还没有修改）"),
    el("h3", {}, "发布前检查"),
    problems.length ? el("ul", { id: "problems" }, problems.map(p => el("li", { class: "problem" }, p.reason,
      p.parameter ? [" — 参数 ", el("a", { href: "#parameters" }, p.parameter)] : "",
      p.suggested_quote ? el("div", {}, "建议引文：", p.suggested_quote) : "")))
      : el("p", { id: "checks-ok" }, "✓ 所有参数引文与条款一致"),
    problems.some(p => p.suggested_quote) ? el("p", {}, el("button", { id: "apply-suggestions", type: "button",
      onclick: () => applySuggestions(id) }, "采用全部建议引文")) : "",
    el("p", {},
      el("button", { id: "preview-button", type: "button", onclick: () => runPreview(id, previewBox) }, "影响预览"), " ",
      el("button", { id: "approve-button", type: "button", onclick: () => guarded(async () => {
        await api("POST", `/api/admin/drafts/${id}/approve`); flash("已审核通过"); route(); }) }, "审核通过"), " ",
      el("button", { id: "publish-button", class: "primary", type: "button", onclick: () => publish(id) }, "发布"), " ",
      el("button", { class: "danger", type: "button", onclick: () => discard(id) }, "放弃草稿")),
    previewBox);
  return card;
}

function changeView(change) {
  const body = [el("strong", {}, change.summary), el("span", { class: "muted" }, ` · ${change.author} · 版本 ${change.version}`), " ",
    el("button", { type: "button", onclick: () => guarded(async () => { await api("DELETE", `/api/admin/drafts/${state.draft}/changes/${change.id}`); route(); }) }, "撤销此项")];
  if (change.text) body.push(diffRuns(change.text));
  if (change.parameters && change.parameters.length) body.push(el("div", {}, "引用本条款的参数：",
    change.parameters.map(p => el("span", { class: "tag " + (p.quote_ok ? "in_force" : "expired") }, p.name + (p.quote_ok ? " ✓" : " 引文需更新")))));
  if (change.fields) body.push(el("table", {}, change.fields.map(f => el("tr", {}, el("td", {}, f.field),
    el("td", {}, el("del", {}, JSON.stringify(f.before))), el("td", {}, el("ins", {}, JSON.stringify(f.after)))))));
  if (change.lines) body.push(el("pre", { class: "diff" }, change.lines.join("\n")));
  return el("div", { class: "change", "data-target": change.target }, ...body);
}

async function applySuggestions(id) {
  await guarded(async () => {
    const result = await api("POST", `/api/admin/drafts/${id}/apply-suggestions`);
    flash(`已采用 ${result.applied.length} 条建议引文，请核对数值`); route();
  });
}

async function runPreview(id, box) {
  box.replaceChildren(el("p", {}, "正在用问题集和计算用例预览影响……"));
  await guarded(async () => {
    const result = await api("POST", `/api/admin/drafts/${id}/preview`);
    const answers = result.changed_answers.concat(result.unanswered);
    box.replaceChildren(el("h3", {}, "影响预览"),
      el("p", { id: "preview-summary" }, `问题集 ${result.questions} 题：${result.changed_answers.length} 个回答改变，${result.unanswered.length} 个将无法回答；`,
        `计算用例 ${result.entitlements.cases} 个：${result.entitlements.changed.length} 项结果改变（${result.seconds} 秒）`),
      answers.length ? el("table", { id: "preview-answers" }, el("tr", {}, el("th", {}, "问题"), el("th", {}, "发布前"), el("th", {}, "发布后（与发布前的差别）")),
        answers.map(row => el("tr", {}, el("td", {}, row.q, row.before.answerable && !row.after.answerable ? el("div", { class: "problem" }, "将无法回答") : ""),
          el("td", {}, el("div", { class: "diff" }, row.before.text)), el("td", {}, diffRuns(row.diff))))) : "",
      result.entitlements.changed.length ? el("table", { id: "preview-entitlements" },
        el("tr", {}, el("th", {}, "计算用例"), el("th", {}, "项目"), el("th", {}, "变化")),
        result.entitlements.changed.map(c => el("tr", {}, el("td", {}, c.case, el("div", { class: "muted" }, "按 " + c.as_of)), el("td", {}, c.title),
          el("td", {}, c.fields.map(f => el("div", {}, f.field, "：", el("del", {}, JSON.stringify(f.before)), " → ", el("ins", {}, JSON.stringify(f.after)))))))) : "");
  });
}

async function publish(id) {
  await guarded(async () => {
    const release = await api("POST", `/api/admin/drafts/${id}/publish`, { note: "" });
    flash(`已发布：版本 #${release.id}。几秒内所有回答和计算器生效。`);
    setDraft(""); location.hash = "#releases"; route();
  });
}
async function discard(id) {
  if (!confirm("放弃这个草稿？")) return;
  await guarded(async () => { await api("DELETE", `/api/admin/drafts/${id}`); setDraft(""); route(); });
}

// -- documents and clauses ------------------------------------------------------------------------------
async function showDocuments(docId) {
  const { documents } = await api("GET", "/api/admin/documents");
  const upload = el("form", { id: "upload", onsubmit: e => { e.preventDefault(); parseUpload(e.target); } },
    el("label", {}, "文件编号 ", el("input", { type: "text", name: "doc_id", placeholder: "baoji-2021-12", required: true })), " ",
    el("input", { type: "file", name: "file", accept: ".txt,.docx", required: true }), " ",
    el("button", { type: "submit" }, "解析预览"), el("div", { id: "parsed" }));
  view.replaceChildren(
    el("section", { class: "card" }, el("h2", {}, "政策文件"), el("table", { id: "documents" },
      el("tr", {}, el("th", {}, "文件"), el("th", {}, "文号"), el("th", {}, "条款"), el("th", {}, "状态"), el("th", {}, "")),
      documents.map(d => el("tr", {}, el("td", {}, el("a", { href: `#documents/${d.doc_id}` }, d.title || d.doc_id)), el("td", {}, d.number),
        el("td", {}, d.clause_count), el("td", {}, d.active ? "生效" : "已废止"),
        el("td", {}, el("button", { type: "button", onclick: () => documentActive(d.doc_id, !d.active) }, d.active ? "废止（加入草稿）" : "恢复（加入草稿）")))))),
    el("section", { class: "card" }, el("h2", {}, "上传新文件（.txt 或 .docx）"), upload));
  if (docId) view.append(await clausesCard(docId));
}

async function documentActive(docId, active) {
  await guarded(async () => {
    const draft = await ensureDraft();
    await api("POST", `/api/admin/drafts/${draft}/documents/${docId}/${active ? "restore" : "retire"}`);
    flash(`已加入草稿 #${draft}，发布后生效`); loadDrafts();
  });
}

async function parseUpload(form) {
  const data = new FormData(form);
  await guarded(async () => {
    const parsed = await api("POST", "/api/admin/documents/parse", data, true);
    const box = document.getElementById("parsed");
    box.replaceChildren(el("h3", {}, `${parsed.title || "（无标题）"} ${parsed.number || ""}`),
      el("p", {}, `${parsed.clause_count} 条，${parsed.articles} 个条目；部门 ${parsed.departments.length} 个；金额：${parsed.amounts.join("、") || "无"}；日期：${parsed.dates.join("、") || "无"}`),
      parsed.warnings.length ? el("ul", { id: "warnings" }, parsed.warnings.map(w => el("li", { class: "problem" }, w))) : el("p", {}, "没有警告"),
      el("details", {}, el("summary", {}, "章节与条款"), el("ul", {}, parsed.sections.map(s => el("li", {}, s))),
        el("table", {}, parsed.clauses.map(c => el("tr", {}, el("td", {}, c.clause_id), el("td", {}, c.title), el("td", {}, c.departments.join("、")))))),
      el("button", { id: "add-document", class: "primary", type: "button", onclick: () => guarded(async () => {
        const draft = await ensureDraft();
        await api("POST", `/api/admin/drafts/${draft}/documents`, { doc_id: parsed.doc_id, text: parsed.text });
        flash(`文件已加入草稿 #${draft}，预览并发布后生效`); location.hash = "#drafts"; route();
      }) }, "加入草稿"));
  });
}

async function clausesCard(docId) {
  const doc = await api("GET", `/api/admin/documents/${docId}`);
  return el("section", { class: "card", id: "clauses" }, el("h2", {}, `${doc.number} 的条款`),
    el("table", {}, doc.clauses.map(c => el("tr", { "data-clause": c.clause_id }, el("td", {}, c.clause_id),
      el("td", {}, el("a", { href: `#clause/${c.clause_id}` }, c.title || "（无标题）")), el("td", {}, c.active ? "生效" : "已废止"), el("td", {}, "v" + c.version)))));
}

async function showClause(clauseId) {
  const { clause, history, parameters } = await api("GET", `/api/admin/clauses/${clauseId}`);
  let pending = null;
  if (state.draft) {
    const draft = await api("GET", `/api/admin/drafts/${state.draft}`);
    pending = draft.changes.find(c => c.kind === "clause" && c.target === clauseId);
  }
  const version = pending ? pending.version : clause.version;
  const text = el("textarea", { id: "clause-text" });
  text.value = pending && pending.payload.text ? pending.payload.text : clause.text;
  view.replaceChildren(el("section", { class: "card" },
    el("h2", {}, `${clause.clause_id} ${clause.title}`),
    el("p", { class: "muted" }, `已发布版本 v${clause.version}` + (pending ? `，草稿中已修改（版本 ${version}）` : "") + (clause.active ? "" : " · 已废止")),
    text,
    el("p", {}, el("button", { id: "save-clause", class: "primary", type: "button", onclick: () => guarded(async () => {
      const draft = await ensureDraft();
      await api("PUT", `/api/admin/drafts/${draft}/clauses/${clauseId}`, { text: text.value, version });
      flash(`已加入草稿 #${draft}`); location.hash = "#drafts"; route();
    }) }, "保存到草稿"), " ",
      el("button", { type: "button", onclick: () => guarded(async () => {
        const draft = await ensureDraft();
        await api("PUT", `/api/admin/drafts/${draft}/clauses/${clauseId}`, { active: !clause.active, version });
        flash(`已加入草稿 #${draft}`); route();
      }) }, clause.active ? "废止（加入草稿）" : "恢复（加入草稿）")),
    el("h3", {}, "引用本条款的计算参数"),
    parameters.length ? el("ul", {}, parameters.map(p => el("li", {}, el("a", { href: "#parameters" }, p.name), `：${JSON.stringify(p.entry.value)} ${p.entry.unit || ""} — “${p.entry.reference.quote}”`))) : el("p", { class: "muted" }, "无"),
    el("h3", {}, "版本历史"),
    el("table", {}, history.slice().reverse().map(h => el("tr", {}, el("td", {}, "v" + h.version), el("td", {}, h.action), el("td", {}, h.editor), el("td", {}, h.created_at), el("td", {}, h.note))))));
}

// -- parameters -------------------------------------------------------------------------------------------
async function showParameters() {
  const { parameters, today } = await api("GET", "/api/admin/parameters");
  view.replaceChildren(el("section", { class: "card" }, el("h2", {}, "计算参数（与条款引文绑定）"),
    el("p", { class: "muted" }, "改数值时填写生效日期：该日期之前仍按旧值计算；不填日期则更正所有日期的数值。"),
    el("table", { id: "parameters" }, el("tr", {}, el("th", {}, "参数"), el("th", {}, `今日（${today}）数值`), el("th", {}, "引文"), el("th", {}, "修改")),
      parameters.map(parameterRow))));
}

function parameterRow(p) {
  const value = el("input", { type: "text", size: 8, value: JSON.stringify(p.value_today), "aria-label": "数值" });
  const from = el("input", { type: "date", "aria-label": "生效日期" });
  const quote = el("input", { type: "text", size: 40, value: p.entry.reference.quote, "aria-label": "引文" });
  const dated = (p.entry.values || []).map(v => `自 ${v.from} 起 ${JSON.stringify(v.value)}`).join("；");
  return el("tr", { "data-parameter": p.name },
    el("td", {}, el("strong", {}, p.name), el("div", { class: "muted" }, p.entry.description), p.problem ? el("div", { class: "problem" }, p.problem) : ""),
    el("td", {}, `${JSON.stringify(p.value_today)} ${p.entry.unit || ""}`, dated ? el("div", { class: "muted" }, dated) : ""),
    el("td", {}, el("a", { href: `#clause/${p.entry.reference.clause_id}` }, p.entry.reference.clause_id), el("div", {}, p.entry.reference.quote)),
    el("td", {}, value, " 自 ", from, el("br"), "引文 ", quote, " ",
      el("button", { type: "button", onclick: () => guarded(async () => {
        const draft = await ensureDraft();
        const current = await api("GET", `/api/admin/drafts/${draft}`);
        const pending = current.changes.find(c => c.kind === "parameter" && c.target === p.name);
        const body = { version: pending ? pending.version : p.version };
        if (quote.value !== p.entry.reference.quote) body.quote = quote.value;  // else keep the draft's quote
        let parsed; try { parsed = JSON.parse(value.value); } catch (e) { parsed = value.value; }
        if (JSON.stringify(parsed) !== JSON.stringify(p.value_today)) { body.value = parsed; if (from.value) body.from = from.value; }
        await api("PUT", `/api/admin/drafts/${draft}/parameters/${p.name}`, body);
        flash(`已加入草稿 #${draft}`); location.hash = "#drafts"; route();
      }) }, "加入草稿")));
}

// -- expiry -------------------------------------------------------------------------------------------------
const STATUS = { expired: "已到期", ends_soon: "90天内到期", in_force: "有效" };
async function showExpiry() {
  const data = await api("GET", "/api/admin/expiry");
  view.replaceChildren(el("section", { class: "card" }, el("h2", {}, `有期限的条款与参数（今天 ${data.today}）`),
    el("p", {}, `已到期 ${data.counts.expired} · 90天内到期 ${data.counts.ends_soon} · 有效 ${data.counts.in_force}`),
    el("table", { id: "expiry" }, el("tr", {}, el("th", {}, "规定"), el("th", {}, "截止"), el("th", {}, "状态"), el("th", {}, "备注"), el("th", {}, "")),
      data.items.map(item => el("tr", { "data-key": item.key },
        el("td", {}, el("a", { href: `#clause/${item.clause_id}` }, item.clause_id), " ", item.parameter || "", el("div", {}, item.text)),
        el("td", {}, item.until, el("div", { class: "muted" }, item.raw)),
        el("td", {}, el("span", { class: "tag " + item.status }, STATUS[item.status])),
        el("td", {}, item.notes.map(n => el("div", {}, `${n.note}（${n.account}）`))),
        el("td", {}, item.kind === "clause" ? el("button", { type: "button", onclick: () => guarded(async () => {
          const draft = await ensureDraft();
          await api("PUT", `/api/admin/drafts/${draft}/clauses/${item.clause_id}`, { active: false, version: item.version });
          flash(`废止 ${item.clause_id} 已加入草稿 #${draft}，发布后生效`);
        }) }, "废止") : "", " ",
          el("button", { type: "button", onclick: () => guarded(async () => {
            const note = prompt("备注", ""); if (!note) return;
            await api("POST", "/api/admin/notes", { key: item.key, note }); route();
          }) }, "备注")))))));
}

// -- insights -------------------------------------------------------------------------------------------------
async function showInsights() {
  view.replaceChildren(el("div", { class: "grid" }, el("section", { class: "card", id: "topics7" }), el("section", { class: "card", id: "topics30" })),
    el("section", { class: "card", id: "unanswered" }), el("section", { class: "card", id: "unhelpful" }), el("section", { class: "card", id: "lexicon" }));
  const topics = async (days, page = 1) => {
    const data = await api("GET", `/api/admin/insights/topics?days=${days}&page=${page}&per_page=10`);
    document.getElementById("topics" + days).replaceChildren(el("h2", {}, `近 ${days} 天热门主题`),
      el("table", {}, data.items.map(t => el("tr", {}, el("td", {}, t.topic, el("div", { class: "muted" }, t.examples.join(" / "))), el("td", {}, t.times)))),
      pager(data, p => topics(days, p)));
  };
  const regression = q => el("button", { type: "button", class: "add-regression", onclick: () => guarded(async () => { await api("POST", "/api/admin/regression", { q }); flash("已加入回归问题集：影响预览会检查这个问题"); }) }, "加入回归集");
  const clauseLinks = ids => ids.map(id => el("div", {}, el("a", { href: `#clause/${id}` }, "打开条款 " + id)));
  const unanswered = async (page = 1) => {
    const data = await api("GET", `/api/admin/insights/unanswered?page=${page}&per_page=20`);
    document.getElementById("unanswered").replaceChildren(el("h2", {}, "未能回答的问题"),
      el("p", { class: "muted" }, "最接近的条款可直接打开修改；常见说法可加为同义词（映射到政策用语）或检索词条，随下一次发布生效。"),
      el("table", {}, data.items.map(r => el("tr", { "data-question": r.question }, el("td", {}, r.question), el("td", {}, `${r.times} 次`), el("td", {}, r.last_asked),
        el("td", {}, clauseLinks((r.nearest || []).map(h => h.clause_id))), el("td", {}, regression(r.question), lexiconForm(r.question))))),
      pager(data, unanswered));
  };
  const unhelpful = async (page = 1) => {
    const data = await api("GET", `/api/admin/insights/unhelpful?page=${page}&per_page=20`);
    document.getElementById("unhelpful").replaceChildren(el("h2", {}, "被评为“没帮助”的回答"),
      el("table", {}, data.items.map(r => el("tr", {}, el("td", {}, r.question), el("td", {}, el("div", { class: "diff" }, r.answer || "（无记录）")),
        el("td", {}, clauseLinks(r.clause_ids)), el("td", {}, r.created_at), el("td", {}, regression(r.question), lexiconForm(r.question))))),
      pager(data, unhelpful));
  };
  const lexicon = async () => {
    const { entries } = await api("GET", "/api/admin/lexicon");
    document.getElementById("lexicon").replaceChildren(el("h2", {}, "工作人员添加的同义词与检索词条（已发布）"),
      entries.length ? el("table", {}, entries.map(e => el("tr", { "data-lexicon": e.target }, el("td", {}, e.kind === "synonym" ? "同义词" : "检索词条"),
        el("td", {}, e.key), el("td", {}, e.terms.join(" ")),
        el("td", {}, el("button", { type: "button", onclick: () => guarded(async () => {
          const draft = await ensureDraft();
          await api("PUT", `/api/admin/drafts/${draft}/lexicon`, { kind: e.kind, key: e.key, remove: true, version: e.version });
          flash(`删除已加入草稿 #${draft}，发布后生效`); loadDrafts();
        }) }, "删除（加入草稿）")))))
        : el("p", { class: "muted" }, "还没有。knowledge/lexicon/ 中的词表是项目维护的基础词表。"));
  };
  await Promise.all([topics(7), topics(30), unanswered(), unhelpful(), lexicon()]);
}

// A synonym ("练摊" → 临时摊点 摊位) or a search term, from an insights row, into the current draft.
function lexiconForm(question) {
  const kind = el("select", { name: "kind", "aria-label": "类型" }, el("option", { value: "synonym" }, "同义词"), el("option", { value: "term" }, "检索词条"));
  const key = el("input", { type: "text", name: "key", size: 8, placeholder: "问题中的说法", "aria-label": "说法" });
  const terms = el("input", { type: "text", name: "terms", size: 14, placeholder: "政策用语（空格分开）", "aria-label": "政策用语" });
  const form = el("form", { class: "lexicon-form", onsubmit: e => { e.preventDefault(); guarded(async () => {
    const draft = await ensureDraft();
    await api("PUT", `/api/admin/drafts/${draft}/lexicon`, { kind: kind.value, key: key.value, terms: terms.value.split(/\s+/).filter(Boolean) });
    flash(`已加入草稿 #${draft}：预览并发布后生效`); loadDrafts();
  }); } }, kind, " ", key, " ", terms, " ", el("button", { type: "submit" }, "加入草稿"));
  return el("details", { class: "lexicon" }, el("summary", {}, "加同义词 / 词条"), el("p", { class: "muted" }, question), form);
}

// -- releases and audit ----------------------------------------------------------------------------------------
async function showReleases(page = 1) {
  const data = await api("GET", `/api/admin/releases?page=${page}`);
  view.replaceChildren(el("section", { class: "card" }, el("h2", {}, "发布记录"),
    el("p", { class: "muted" }, `服务当前使用的知识库修订号：${data.live_revision}`),
    el("table", { id: "releases" }, el("tr", {}, el("th", {}, "版本"), el("th", {}, "说明"), el("th", {}, "发布人"), el("th", {}, "时间"), el("th", {}, "")),
      data.releases.map((r, index) => el("tr", { "data-release": r.id }, el("td", {}, "#" + r.id), el("td", {}, r.note, el("div", { class: "muted" }, r.summary.map(s => s.target).join("、"))),
        el("td", {}, r.author), el("td", {}, r.created_at),
        el("td", {}, index === 0 && page === 1 ? "当前" : el("button", { type: "button", onclick: () => rollback(r.id) }, "恢复到此版本")))))));
}
async function rollback(id) {
  if (!confirm(`恢复到发布版本 #${id}？将作为一次新的发布生效。`)) return;
  await guarded(async () => { const release = await api("POST", `/api/admin/releases/${id}/rollback`); flash(`已恢复，新版本 #${release.id}`); showReleases(); });
}

async function showAudit(page = 1) {
  const data = await api("GET", `/api/admin/audit?page=${page}&per_page=50`);
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  view.replaceChildren(el("section", { class: "card" }, el("h2", {}, "审计日志"),
    el("table", { id: "audit" }, el("tr", {}, el("th", {}, "时间"), el("th", {}, "账号"), el("th", {}, "操作"), el("th", {}, "对象"), el("th", {}, "详情")),
      data.items.map(a => el("tr", {}, el("td", {}, a.at), el("td", {}, a.account), el("td", {}, a.action), el("td", {}, a.target), el("td", { class: "muted" }, JSON.stringify(a.detail))))),
    pager({ ...data, pages }, showAudit)));
}

// -- routing ----------------------------------------------------------------------------------------------------
async function route() {
  const [name, ...rest] = (location.hash.slice(1) || "drafts").split("/");
  const arg = rest.join("/");
  document.querySelectorAll("#tabs a").forEach(a => a.classList.toggle("active", a.getAttribute("href") === "#" + name));
  const pages = { drafts: showDrafts, documents: () => showDocuments(arg), clause: () => showClause(arg), parameters: showParameters,
                  expiry: showExpiry, insights: showInsights, releases: () => showReleases(), audit: () => showAudit() };
  await guarded(() => (pages[name] || showDrafts)());
  loadDrafts().catch(() => {});
}

(async function start() {
  state.me = await api("GET", "/api/agent/me");
  document.getElementById("account").textContent = `${state.me.username}（${state.me.role}）`;
  document.querySelector("#logout input").value = state.me.csrf_token || "";
  window.addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "1";
})();
