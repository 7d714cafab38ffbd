"""The hotline agent console: `/console` and its JSON API under `/api/agent/…` (role agent or above).

Search cards, the article in context, the bot's own answer to copy, and the entitlement calculator. Every
fact comes from `knowledge/` (the same search, answer composition and engine the bot uses); the form's
fields and their Chinese labels come from knowledge/rules.yaml, so a new group there appears here too.
"""
from __future__ import annotations

import datetime as dt
import re

from aiohttp import web

from knowledge.answer import is_fully_expired
from knowledge.citations import article_label, chinese_number, expiry_notes
from knowledge.decision import NluHint
from knowledge.entitlement_request import BOOLEAN_FIELDS, NUMBER_FIELDS, RequestError
from knowledge.entitlement_text import render_entitlements
from knowledge.entitlements import EntitlementEngine
from knowledge.parser import extract_time_limits
from knowledge.reply import respond
from knowledge.textnorm import normalize
from knowledge.tokenize import expand, tokenize
from service import core
from service import errors
from service import openapi
from service.auth import require_role
from service.rasa_api import RASA, RasaUnavailable

SECTION_NUMBER = re.compile(r"^([一二三四五六七八九十]+、)")
MAX_HIGHLIGHT_TERMS = 30


def today() -> dt.date:
    return dt.date.today()


def match_terms(query: str) -> list[str]:
    """Words of the query worth highlighting: its tokens and the policy terms its phrases stand for."""
    normalized = normalize(query)
    terms, residual = expand(normalized)
    words = {word for word in tokenize(normalized) + tokenize(residual) + terms if len(word) >= 2 or
             re.match(r"[\u4e00-\u9fff]", word) is None and len(word) >= 1}
    return sorted(words, key=len, reverse=True)[:MAX_HIGHLIGHT_TERMS]


def highlight_spans(text: str, terms: list[str]) -> list[list[int]]:
    """Non-overlapping [start, end) spans of the terms in text, longest term first, in text order."""
    taken = [False] * len(text)
    spans = []
    for term in terms:
        for found in re.finditer(re.escape(term), text):
            start, end = found.span()
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                spans.append([start, end])
    return sorted(spans)


def location_label(section: str, article: int) -> str:
    """二、（一） — the section number and the article, as agents read a citation aloud."""
    number = SECTION_NUMBER.match(section or "")
    article_part = f"（{chinese_number(article)}）" if article > 0 else ""
    return (number.group(1) if number else "") + article_part or (section or "前言")


def clause_status(sentences: list[str], issued: str | None, on: dt.date) -> dict:
    """In force since the document's date, or expired when every sentence is governed by a time limit that
    ran out (with that date); an in-force clause lists its expired provisions in the bot's own words."""
    expired = [sentence for sentence in sentences if is_fully_expired(sentence, on)]
    if sentences and len(expired) == len(sentences):
        last = max(limit.until for sentence in sentences for limit in extract_time_limits(sentence))
        return {"state": "expired", "text": f"已过期（{last.isoformat()} 到期）", "date": last.isoformat(), "notes": []}
    notes = [note for sentence in sentences for note in expiry_notes(sentence, on)]
    since = f"（{issued} 起）" if issued else ""
    return {"state": "in_force", "text": f"现行有效{since}", "date": issued, "notes": notes}


def document_dates(searcher) -> dict:
    return {doc["doc_id"]: doc.get("date") for doc in searcher.store.documents()}


def card(hit, terms: list[str], issued: dict, on: dt.date) -> dict:
    return {
        "clause_id": hit.clause_id, "doc": hit.doc, "doc_number": hit.doc_number or hit.doc,
        "location": location_label(hit.section, hit.article), "article_label": article_label(hit),
        "section": hit.section, "title": hit.title, "text": hit.text,
        "highlights": highlight_spans(hit.text, terms), "departments": list(hit.departments),
        "status": clause_status(hit.sentences, issued.get(hit.doc), on), "score": round(float(hit.score), 4),
    }


def search_cards(searcher, query: str, k: int) -> dict:
    """Runs in the knowledge worker: search plus everything a card shows."""
    searcher.refresh()
    result = searcher.search(query, k=k)
    terms, issued, on = match_terms(query), document_dates(searcher), today()
    return {"query": query, "normalized": result.normalized, "answerable": result.answerable, "terms": terms,
            "cards": [card(hit, terms, issued, on) for hit in result.hits]}


@require_role("agent")
async def search(request: web.Request) -> web.Response:
    query = core.read_query(request)
    try:
        k = max(1, min(core.MAX_K, int(request.query.get("k", "5"))))
    except ValueError:
        return errors.json_error(400, "parameter k must be an integer", field="k")
    return web.json_response(await core.in_worker(request, search_cards, request.app[core.SEARCHER], query, k))


def article_in_context(store, clause_id: str, on: dt.date) -> dict | None:
    found = store.clause(clause_id)
    if found is None:
        return None
    doc_clauses = sorted(store.clauses(doc_id=found.doc_id), key=lambda c: [int(p) for p in c.path.split(".")])
    head = ".".join(found.path.split(".")[:2]) if found.article > 0 else found.path
    members = [c for c in doc_clauses if c.path == head or c.path.startswith(head + ".")]
    heads = [c for c in doc_clauses if c.path.count(".") == (1 if found.article > 0 else 0)]
    index = next((i for i, c in enumerate(heads) if c.path == head), None)
    document = store.document(found.doc_id) or {}
    return {
        "clause_id": found.clause_id, "doc": found.doc_id, "doc_number": document.get("number", found.doc_id),
        "doc_title": document.get("title", ""), "section": found.section,
        "location": location_label(found.section, found.article), "title": found.title,
        "clauses": [{"clause_id": c.clause_id, "path": c.path, "text": c.text, "departments": c.departments,
                     "status": clause_status(c.sentences, document.get("date"), on)}
                    for c in members or [found]],
        "previous": heads[index - 1].clause_id if index else None,
        "next": heads[index + 1].clause_id if index is not None and index + 1 < len(heads) else None,
    }


@require_role("agent")
async def article(request: web.Request) -> web.Response:
    store = request.app[core.SEARCHER].store
    found = await core.in_worker(request, article_in_context, store, request.match_info["clause_id"], today())
    if found is None:
        return errors.json_error(404, "no such clause")
    return web.json_response(found)


async def nlu_hint(request: web.Request, question: str) -> tuple[NluHint, str]:
    """The intent Rasa's NLU gives the question, as the bot's answer action passes it to knowledge.reply;
    without Rasa the answer is composed from retrieval alone, and the console says so."""
    rasa = request.app.get(RASA)
    if rasa is None:
        return NluHint(), "Rasa is not configured"
    try:
        return NluHint(*await rasa.intent(question)), ""
    except RasaUnavailable as error:
        return NluHint(), str(error)


@require_role("agent")
async def answer(request: web.Request) -> web.Response:
    """Exactly what the bot would send as the first answer to the question, plus that text ready to paste:
    the same composer (knowledge.reply.respond) with the same NLU evidence, as a new conversation."""
    body = await core.read_json_object(request)
    question = body.get("q")
    if not isinstance(question, str) or not question.strip() or len(question) > core.MAX_QUERY_CHARS:
        return errors.json_error(400, f'field "q" must be 1-{core.MAX_QUERY_CHARS} characters', field="q")
    nlu, nlu_error = await nlu_hint(request, question)

    def compose():
        return core.plain(respond(question, core.searcher_of(request), request.app[core.ENGINE], nlu, today=today()))
    result = await core.in_worker(request, compose)
    result["nlu"] = {"intent": nlu.intent, "confidence": nlu.confidence} if not nlu_error else None
    if nlu_error:
        result["nlu_error"] = nlu_error
    result["copy_text"] = "\n\n".join(result.get("parts") or [])
    return web.json_response(result)


def calculator_form(engine: EntitlementEngine) -> dict:
    """The fields of POST /api/entitlements with the document's wording (knowledge/rules.yaml)."""
    rules = engine.rules
    facts = []
    for name, fact in rules.facts.items():
        if name in NUMBER_FIELDS:
            low, high = NUMBER_FIELDS[name]
            facts.append({"name": name, "label": fact["label"], "type": "number", "unit": fact.get("unit", ""),
                          "min": low, "max": high})
        elif name in BOOLEAN_FIELDS:
            facts.append({"name": name, "label": fact["label"], "type": "boolean"})
    return {
        "document": dict(rules.document),
        "groups": [{"name": name, "label": label} for name, label in rules.groups.items()],
        "activities": [{"name": name, "label": label} for name, label in rules.activities.items()],
        "facts": facts, "as_of": today().isoformat(),
        # what a result's `missing` names mean (hires[0].count → hires)
        "field_labels": {"groups": "人员类别", "activities": "从事的活动",
                         **{name: fact["label"] for name, fact in rules.facts.items()}},
    }


def summary_text(form: dict, request_body: dict, result: dict) -> str:
    """Plain text for the caller: the facts as understood, then the bot's own wording of the result."""
    labels = {item["name"]: item["label"] for item in form["groups"] + form["activities"] + form["facts"]}
    facts = []
    if request_body.get("age") is not None:
        facts.append(f"年龄 {request_body['age']} 岁")
    for field in ("groups", "activities"):
        names = request_body.get(field) or []
        if names:
            facts.append("、".join(labels.get(name, name) for name in names))
    for item in form["facts"]:
        value = request_body.get(item["name"])
        if item["name"] != "age" and value is not None:
            shown = ("是" if value else "否") if item["type"] == "boolean" else f"{value}{item.get('unit', '')}"
            facts.append(f"{item['label']}：{shown}")
    header = f"政策测算（按 {result['as_of']} 有效的规定）\n情况：{'；'.join(facts) or '未填写'}"
    return "\n\n".join([header] + render_entitlements(result, max_bytes=1 << 20))


@require_role("agent")
async def calculator(request: web.Request) -> web.Response:
    return web.json_response(calculator_form(request.app[core.ENGINE]))


@require_role("agent")
async def calculate(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    engine = request.app[core.ENGINE]
    try:
        result = core.plain(core.with_citations(request.app, engine.evaluate(body)))
    except RequestError as error:
        return errors.json_error(400, error.message, field=error.field)
    result["summary"] = summary_text(calculator_form(engine), body, result)
    return web.json_response(result)


@require_role("agent", page=True)
async def console_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(core.STATIC_DIR / "console.html",
                            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                                     "X-Frame-Options": "DENY"})


AGENT = openapi.ACCOUNT_SECURITY  # any account with role agent or above
_CLAUSE = {"name": "clause_id", "in": "path", "required": True, "schema": {"type": "string"}}
OPENAPI_PATHS = {
    "/api/agent/me": {"get": {"summary": "agent: who is logged in, and the CSRF token for writes",
                              "security": AGENT, "responses": openapi.responses(200, None, 401)}},
    "/api/agent/search": {"get": {
        "summary": "agent: clause cards (location 二、（一）, highlights, departments, status, score)",
        "security": AGENT, "parameters": [
            {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": core.MAX_QUERY_CHARS}},
            {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 20}}],
        "responses": openapi.responses(200, None, 400, 401, 403)}},
    "/api/agent/articles/{clause_id}": {"get": {
        "summary": "agent: the whole article of a clause, in context", "security": AGENT,
        "parameters": [_CLAUSE], "responses": openapi.responses(200, None, 401, 403, 404)}},
    "/api/agent/answer": {"post": {
        "summary": "agent: the answer the bot would send (same composer, same NLU intent from Rasa), "
                   "and `copy_text` to paste", "security": AGENT,
        "requestBody": openapi.json_body({"q": {"type": "string", "maxLength": core.MAX_QUERY_CHARS}}, ("q",)),
        "responses": openapi.responses(200, None, 400, 401, 403)}},
    "/api/agent/calculator": {
        "get": {"summary": "agent: calculator fields with their Chinese labels", "security": AGENT,
                "responses": openapi.responses(200, None, 401, 403)},
        "post": {"summary": "agent: evaluate a profile (POST /api/entitlements body) plus a plain-text summary",
                 "security": AGENT, "requestBody": openapi.json_body({
                     "age": {"type": "number", "nullable": True},
                     "groups": {"type": "array", "items": {"type": "string"}},
                     "activities": {"type": "array", "items": {"type": "string"}},
                     "as_of": {"type": "string", "format": "date"}}),
                 "responses": openapi.responses(200, None, 400, 401, 403)}},
}


def add_console_routes(app: web.Application) -> None:
    app.router.add_get("/console", console_page)
    app.router.add_get("/api/agent/search", search)
    app.router.add_get("/api/agent/articles/{clause_id}", article)
    app.router.add_post("/api/agent/answer", answer)
    app.router.add_get("/api/agent/calculator", calculator)
    app.router.add_post("/api/agent/calculator", calculate)
    openapi.contribute(app, OPENAPI_PATHS)
