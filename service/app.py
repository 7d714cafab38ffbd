"""Routes of the policy service. Thin: every decision is made in `knowledge/`."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import aiohttp
from aiohttp import web

from bot.masking import mask
from bot.pseudonym import pseudonym
from knowledge.entitlement_parameters import ParameterError
from knowledge.entitlement_request import RequestError
from knowledge.entitlements import EntitlementEngine
from knowledge.citations import complete_cards
from knowledge.decision import NluHint
from knowledge.reply import MAX_HISTORY, Context, respond
from knowledge.search import load_searcher
from service.admin import add_admin_routes
from service.auth import require_role, setup_auth
from service.console import add_console_routes
from service.core import (ANSWER_HOOKS, CHAT_SECRET, ENGINE, EXECUTOR, MAX_JSON_BYTES, MAX_K, MAX_PUBLIC_JSON_BYTES,
                          MAX_QUERY_CHARS, SEARCHER, SETTINGS, STATIC_DIR, in_worker, plain,
                          read_json_object, read_query, searcher_of, with_citations)
from service.errors import json_error
from service.handoff_routes import add_handoff_routes, wechat_push_from_env
from service.staff import add_staff_routes
from service import identity, limits, openapi
from service.caching import QueryVectorCache
from service.config import Settings
from service.handoff import HandoffQueue, OfficeHours
from service.rasa_api import RasaApi
from service.users import UserStore

logger = logging.getLogger(__name__)
FEEDBACK_KINDS = ("positive", "negative", "unanswered")
KNOWLEDGE_THREADS = 2


def hit_json(hit) -> dict:
    return {
        "clause_id": hit.clause_id, "doc": hit.doc, "article": hit.article, "title": hit.title,
        "text": hit.text, "score": round(float(hit.score), 4), "departments": list(hit.departments),
    }


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "index": request.app[SEARCHER].describe()})


async def search(request: web.Request) -> web.Response:
    query = read_query(request)
    try:
        k = max(1, min(MAX_K, int(request.query.get("k", "5"))))
    except ValueError:
        return json_error(400, "parameter k must be an integer")
    result = await in_worker(request, lambda: searcher_of(request).search(query, k=k))
    return web.json_response({
        "query": result.query, "normalized": result.normalized, "answerable": result.answerable,
        "hits": [hit_json(hit) for hit in result.hits],
    })


async def answer(request: web.Request) -> web.Response:
    """The chat's one call per message: the answer decision (knowledge.reply) with the NLU's hint and the
    conversation's context. An unanswered question is recorded for staff here, not by a second call."""
    body = await read_json_object(request)
    question = body.get("q")
    if not isinstance(question, str) or not question.strip():
        return json_error(400, 'field "q" is required and must be a non-empty string', field="q")
    if len(question) > MAX_QUERY_CHARS:
        return json_error(400, f'field "q" is longer than {MAX_QUERY_CHARS} characters', field="q")
    try:
        nlu, context = read_nlu_hint(body), read_context(body.get("context"))
    except ValueError as error:
        return json_error(400, str(error), field="context")
    engine, searcher = request.app[ENGINE], searcher_of(request)
    result = await in_worker(request, lambda: respond(question, searcher, engine, nlu, context, date.today()))
    if result.kind == "no_answer":
        searcher.store.add_feedback("unanswered", question=mask(question[:2000]), answer="", clause_ids=[],
                                    sender=sender_hash(body.get("sender")), channel=str(body.get("channel", ""))[:32])
    reply = plain(result)
    store = searcher.store  # every citation leaves as a complete card, one per clause
    reply["citations"] = complete_cards(reply["citations"], store.clause, store.document, date.today())
    reply["answerable"] = result.answerable
    reply["offer_screening"] = result.answerable and (
        result.offer_screening or cites_entitlement_clause(engine, reply["citations"]))
    for hook in request.app.get(ANSWER_HOOKS, ()):
        hook(question, reply, sender_hash(body.get("sender")))
    return web.json_response(reply)


def read_nlu_hint(body: dict) -> NluHint:
    intent, confidence = body.get("intent") or "", body.get("confidence") or 0.0
    if not isinstance(intent, str) or not isinstance(confidence, (int, float)) or isinstance(confidence, bool):
        raise ValueError('"intent" must be a string and "confidence" a number')
    return NluHint(intent[:64], float(confidence))


def read_context(raw) -> Context:
    """{"question": str, "clauses": [str], "facts": {"age", "groups", "activities"}, "history": [...]} — all
    optional."""
    if raw is None:
        return Context()
    if not isinstance(raw, dict):
        raise ValueError('"context" must be an object')
    question, clauses, facts = raw.get("question") or "", raw.get("clauses") or [], raw.get("facts") or {}
    if not isinstance(question, str) or not isinstance(clauses, list) or not isinstance(facts, dict):
        raise ValueError('"context" has the wrong shape: {"question": str, "clauses": [str], "facts": {}}')
    known: dict[str, Any] = {}
    if isinstance(facts.get("age"), (int, float)) and not isinstance(facts.get("age"), bool):
        known["age"] = float(facts["age"])
    for key in ("groups", "activities"):
        if isinstance(facts.get(key), list):
            known[key] = [str(name) for name in facts[key]][:20]
    return Context(question[:MAX_QUERY_CHARS], [str(c) for c in clauses][:10], known, read_history(raw.get("history")))


def read_history(raw) -> list[dict]:
    """The earlier topics, latest first: [{"question": str, "clauses": [str]}] — malformed entries are dropped."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError('"context.history" must be a list of {"question": str, "clauses": [str]}')
    return [{"question": topic["question"][:MAX_QUERY_CHARS], "clauses": [str(c) for c in topic["clauses"]][:10]}
            for topic in raw[:MAX_HISTORY]
            if isinstance(topic, dict) and isinstance(topic.get("question"), str)
            and isinstance(topic.get("clauses"), list)]


def cites_entitlement_clause(engine: EntitlementEngine, citations: list[dict]) -> bool:
    """The answer quotes a clause the entitlement calculator covers: worth offering a personal screening."""
    covered = {article["clause_id"] for article in engine.rules.articles.values()}
    return any(citation.get("clause_id") in covered for citation in citations)


async def clause(request: web.Request) -> web.Response:
    found = request.app[SEARCHER].store.clause(request.match_info["clause_id"])
    if found is None:
        return json_error(404, "no such clause")
    return web.json_response(plain(found))


async def documents(request: web.Request) -> web.Response:
    documents = [doc for doc in request.app[SEARCHER].store.documents() if doc.get("active", True)]
    return web.json_response({"documents": plain(documents)})


async def entitlements_route(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    try:
        result = request.app[ENGINE].evaluate(body)
    except RequestError as error:
        return json_error(400, error.message, field=error.field)
    return web.json_response(plain(with_citations(request.app, result)))


async def screening_wording(request: web.Request) -> web.Response:
    """The document's wording of each group and activity contract name, from the rules in force: what the
    chat's screening says back ("好的，记下了：农民工"). Follows publishes and /api/admin/reload."""
    rules = request.app[ENGINE].rules
    return web.json_response({"groups": dict(rules.groups), "activities": dict(rules.activities)})


def sender_hash(sender) -> str:
    """What is stored of the sender a record came from: its pseudonym (bot.pseudonym), "" when none was given."""
    return pseudonym(str(sender)) if sender else ""


MAX_CLAUSE_IDS = 20


async def feedback(request: web.Request) -> web.Response:
    limits.check_origin(request)
    limits.rate_limit(request)
    body = await read_json_object(request, MAX_PUBLIC_JSON_BYTES)
    kind = body.get("kind")
    if kind not in FEEDBACK_KINDS:
        return json_error(400, f'field "kind" must be one of {", ".join(FEEDBACK_KINDS)}', field="kind")
    clause_ids = body.get("clause_ids") or []
    if not isinstance(clause_ids, list) or len(clause_ids) > MAX_CLAUSE_IDS \
            or not all(isinstance(c, str) and len(c) <= 64 for c in clause_ids):
        return json_error(400, f'field "clause_ids" must be a list of at most {MAX_CLAUSE_IDS} clause ids',
                          field="clause_ids")
    question = limits.capped_text(body, "question", 2000)
    answer_text = limits.capped_text(body, "answer", 4000)
    record_id = request.app[SEARCHER].store.add_feedback(  # personal numbers never reach the store
        kind, question=mask(question), answer=mask(answer_text), clause_ids=clause_ids,
        sender=sender_hash(body.get("sender")), channel=limits.capped_text(body, "channel", 32),
    )
    return web.json_response({"id": record_id}, status=201)


@require_role("staff")  # feedback holds citizens' questions
async def recent_feedback(request: web.Request) -> web.Response:
    records = request.app[SEARCHER].store.feedback(rating=request.query.get("kind"))
    return web.json_response({"feedback": [{**record, "kind": record["rating"]} for record in records]})


CHAT_UNAVAILABLE = "对话服务暂时不可用，请稍后再试。"
# The web chat's deadline is 5 s: Rasa answers within 4 s (its channels' deadline), this hop waits 4.5 s.
CHAT_TIMEOUT = aiohttp.ClientTimeout(total=4.5)
MAX_CHAT_CHARS = 2000  # longer texts still reach Rasa's channel, which answers them politely (500 max)


async def chat(request: web.Request) -> web.Response:
    """Proxy from the web chat to Rasa's web channel, so the page needs a single origin.

    The conversation id comes from the signed cookie (service.identity), never from the body."""
    limits.check_origin(request)
    limits.rate_limit(request)
    body = await read_json_object(request, MAX_PUBLIC_JSON_BYTES)
    message = limits.capped_text(body, "message", MAX_CHAT_CHARS)
    chat_id, is_new = identity.chat_id_of(request, request.app[CHAT_SECRET])
    response = await ask_rasa(request.app[SETTINGS], chat_id, message)
    if is_new:
        identity.set_cookie(response, request, request.app[CHAT_SECRET], chat_id)
    return response


async def ask_rasa(settings: Settings, chat_id: str, message: str) -> web.Response:
    headers = {"X-Chat-Proxy-Token": settings.chat_proxy_token}
    try:
        async with aiohttp.ClientSession(timeout=CHAT_TIMEOUT) as session:
            async with session.post(f"{settings.rasa_url}/webhooks/web/webhook", headers=headers,
                                    json={"sender": chat_id, "message": message}) as reply:
                payload = await reply.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        logger.warning("rasa unreachable or late: %s", error or type(error).__name__)
        return json_error(503, CHAT_UNAVAILABLE, messages=[])
    if reply.status >= 400:
        reason = payload.get("error") if isinstance(payload, dict) else None
        messages = payload if isinstance(payload, list) else []  # 429: the channel's polite slow-down reply
        return json_error(reply.status, reason or CHAT_UNAVAILABLE, messages=messages)
    return web.json_response({"messages": payload})


async def index_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})


@require_role("staff")
async def reload_knowledge(request: web.Request) -> web.Response:
    """Staff: re-read the published parameters and rules from the store (they change through drafts;
    the YAML in git only seeds an empty store). The index follows the store by itself."""
    try:
        request.app[ENGINE].reload()
    except (ParameterError, ValueError) as error:
        return json_error(400, f"parameters not reloaded: {error}")
    return web.json_response({"parameters": len(request.app[ENGINE].parameters),
                              "index": request.app[SEARCHER].describe()})


async def load_knowledge(app: web.Application) -> None:
    settings = app[SETTINGS]
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    app[EXECUTOR] = ThreadPoolExecutor(max_workers=KNOWLEDGE_THREADS, thread_name_prefix="knowledge")
    app[SEARCHER] = await asyncio.get_running_loop().run_in_executor(
        app[EXECUTOR], lambda: load_searcher(settings.db_path, settings.index_dir, encoder=settings.encoder))
    app[SEARCHER].encoder = QueryVectorCache(app[SEARCHER].encoder)
    app[ENGINE] = EntitlementEngine(settings.parameters_dir)
    app[CHAT_SECRET] = identity.load_secret(settings.db_path.parent)
    logger.info("knowledge loaded: %s", app[SEARCHER].describe())


async def close_knowledge(app: web.Application) -> None:
    app[EXECUTOR].shutdown(wait=True)


_Q = {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 500}}
_TEXT = {"type": "string", "maxLength": MAX_QUERY_CHARS}
OPENAPI_PATHS = {
    "/healthz": {"get": {"summary": "liveness and index description", "responses": openapi.responses()}},
    "/api/search": {"get": {
        "summary": "retrieve clauses, best first",
        "parameters": [_Q, {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 20}}],
        "responses": openapi.responses(200, None, 400)}},
    "/api/answer": {"post": {
        "summary": "a composed, cited answer",
        "requestBody": openapi.json_body({
            "q": _TEXT, "intent": {"type": "string", "nullable": True}, "confidence": {"type": "number"},
            "context": {"type": "object", "nullable": True, "properties": {
                "question": {"type": "string"}, "clauses": {"type": "array", "items": {"type": "string"}},
                "facts": {"type": "object"}}},
            "sender": {"type": "string", "nullable": True}, "channel": {"type": "string"}}, ("q",)),
        "responses": openapi.responses(200, None, 400, 413, 415)}},
    "/api/clauses/{clause_id}": {"get": {
        "summary": "one clause",
        "parameters": [openapi.CLAUSE_ID],
        "responses": openapi.responses(200, None, 404)}},
    "/api/documents": {"get": {"summary": "policy documents", "responses": openapi.responses()}},
    "/api/entitlements": {"post": {
        "summary": "personal entitlements calculator",
        "requestBody": openapi.json_body({"age": {"type": "integer", "nullable": True},
                                          "groups": {"type": "array", "items": {"type": "string"}},
                                          "activities": {"type": "array", "items": {"type": "string"}},
                                          "as_of": {"type": "string", "format": "date"}}),
        "responses": openapi.responses(200, None, 400, 413, 415)}},
    "/api/entitlements/wording": {"get": {
        "summary": "the document's wording of the group and activity names (rules in force)",
        "responses": openapi.responses()}},
    "/api/feedback": {
        "post": {"summary": "feedback from the chat",
                 "requestBody": openapi.json_body({"kind": {"type": "string", "enum": list(FEEDBACK_KINDS)},
                                                   "question": _TEXT, "answer": {"type": "string"},
                                                   "clause_ids": {"type": "array", "items": {"type": "string"}},
                                                   "sender": {"type": "string"}, "channel": {"type": "string"}},
                                                  ("kind",)),
                 "responses": openapi.responses(201, None, 400, 403, 413, 415, 429)},
        "get": {"summary": "staff: recent feedback", "security": openapi.STAFF_SECURITY,
                "parameters": [{"name": "kind", "in": "query", "schema": {"type": "string"}}],
                "responses": openapi.responses(200, None, 401, 403)}},
    "/api/chat": {"post": {
        "summary": "the web chat's proxy to Rasa (sender from the signed cookie)",
        "requestBody": openapi.json_body({"message": _TEXT}, ("message",)),
        "responses": openapi.responses(200, None, 400, 403, 413, 415, 429, 503)}},
    "/api/admin/reload": {"post": {"summary": "staff: reload parameters and refresh the index",
                                   "security": openapi.STAFF_SECURITY,
                                   "responses": openapi.responses(200, None, 400, 401, 403)}},
}


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_JSON_BYTES)
    app[SETTINGS] = settings
    setup_auth(app, UserStore(settings.users_db), legacy_staff_token=settings.staff_token,
               cookie_secure=settings.cookie_secure)
    limits.install(app)
    app.on_startup.append(load_knowledge)
    app.on_cleanup.append(close_knowledge)
    app.router.add_get("/", index_page)
    app.router.add_get("/chat", index_page)
    app.router.add_static("/static", STATIC_DIR)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/search", search)
    app.router.add_post("/api/answer", answer)
    app.router.add_get("/api/clauses/{clause_id}", clause)
    app.router.add_get("/api/documents", documents)
    app.router.add_post("/api/entitlements", entitlements_route)
    app.router.add_get("/api/entitlements/wording", screening_wording)
    app.router.add_post("/api/feedback", feedback)
    app.router.add_get("/api/feedback", recent_feedback)
    app.router.add_post("/api/admin/reload", reload_knowledge)
    add_staff_routes(app)
    add_admin_routes(app)
    add_console_routes(app)
    hours = OfficeHours.parse(settings.handoff_hours, settings.handoff_timezone)
    add_handoff_routes(app, HandoffQueue(settings.handoff_db, hours), RasaApi(settings.rasa_url, settings.rasa_token),
                       wechat_push_from_env())
    openapi.contribute(app, OPENAPI_PATHS)
    openapi.add_openapi_route(app)
    return app
