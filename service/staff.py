"""Staff routes: keep the knowledge base current without a developer or a restart.

Every change goes to the SQLite store as a new clause version (who, when, why); the search index is
brought up to date before the response, so the next question already sees the change.
"""
from __future__ import annotations

import re

from aiohttp import web

from knowledge.parser import parse_document
from knowledge.store import ClauseNotFound
from service import app as core
from service import openapi

DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
MAX_DOCUMENT_CHARS = 500_000


def required_text(body: dict, field: str, limit: int = 20_000) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise web.HTTPBadRequest(text=f'{{"error": "field \\"{field}\\" is required", "field": "{field}"}}',
                                 content_type="application/json")
    if len(value) > limit:
        raise web.HTTPBadRequest(text=f'{{"error": "field \\"{field}\\" is too long", "field": "{field}"}}',
                                 content_type="application/json")
    return value.strip()


async def staff_body(request: web.Request) -> dict:
    core.require_staff(request)
    return await core.read_json_object(request)


async def apply_change(request: web.Request, change):
    """Run a store change and refresh the index in the knowledge worker; 404 for an unknown clause."""
    def run():
        result = change(request.app[core.SEARCHER].store)
        request.app[core.SEARCHER].refresh()
        return result
    try:
        return await core.in_worker(request, run)
    except ClauseNotFound:
        raise web.HTTPNotFound(text='{"error": "no such clause"}', content_type="application/json")


async def edit_clause(request: web.Request) -> web.Response:
    body = await staff_body(request)
    text, editor = required_text(body, "text"), required_text(body, "editor", 100)
    note = str(body.get("note", ""))[:500]
    clause_id = request.match_info["clause_id"]
    clause = await apply_change(request, lambda store: store.update_clause(clause_id, text, editor, note))
    return web.json_response(core.plain(clause))


def activation_route(retire: bool):
    """Retire (take out of answers) or restore a clause; the reason goes into its version history."""
    async def handler(request: web.Request) -> web.Response:
        body = await staff_body(request)
        editor, note = required_text(body, "editor", 100), str(body.get("reason") or body.get("note") or "")[:500]
        clause_id = request.match_info["clause_id"]
        change = (lambda store: store.retire_clause(clause_id, editor, note)) if retire else \
                 (lambda store: store.restore_clause(clause_id, editor, note))
        return web.json_response(core.plain(await apply_change(request, change)))
    return handler


async def clause_history(request: web.Request) -> web.Response:
    core.require_staff(request)
    clause_id = request.match_info["clause_id"]
    if request.app[core.SEARCHER].store.clause(clause_id) is None:
        return core.json_error(404, "no such clause")
    return web.json_response({"history": core.plain(request.app[core.SEARCHER].store.history(clause_id))})


async def add_document(request: web.Request) -> web.Response:
    """Add or re-load a policy document from its plain text (same format as knowledge/data/*.txt)."""
    body = await staff_body(request)
    doc_id = required_text(body, "doc_id", 64)
    if not DOC_ID.match(doc_id):
        return core.json_error(400, 'field "doc_id" must be lower-case letters, digits and "-"', field="doc_id")
    text, editor = required_text(body, "text", MAX_DOCUMENT_CHARS), required_text(body, "editor", 100)
    document = parse_document(text, doc_id)
    if not document.clauses:
        return core.json_error(400, "no clauses found in the text: is it a numbered policy document?", field="text")
    changed = await apply_change(request, lambda store: store.add_document(document, editor=editor))
    return web.json_response({"doc_id": doc_id, "changed": changed, "clauses": len(document.clauses),
                              "number": document.number, "title": document.title}, status=201 if changed else 200)


_CLAUSE_ID = [{"name": "clause_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_STAFF_ERRORS = (400, 401, 403, 404, 413, 415)
_ACTIVATION = {"summary": "", "security": openapi.STAFF_SECURITY, "parameters": _CLAUSE_ID,
               "requestBody": openapi.json_body({"editor": {"type": "string"}, "reason": {"type": "string"},
                                                 "note": {"type": "string"}}, ("editor",)),
               "responses": openapi.responses(200, None, *_STAFF_ERRORS)}
OPENAPI_PATHS = {
    "/api/clauses/{clause_id}": {"put": {
        "summary": "staff: edit a clause (new version)", "security": openapi.STAFF_SECURITY, "parameters": _CLAUSE_ID,
        "requestBody": openapi.json_body({"text": {"type": "string"}, "editor": {"type": "string"},
                                          "note": {"type": "string"}}, ("text", "editor")),
        "responses": openapi.responses(200, None, *_STAFF_ERRORS)}},
    "/api/clauses/{clause_id}/retire": {"post": {**_ACTIVATION, "summary": "staff: take a clause out of answers"}},
    "/api/clauses/{clause_id}/restore": {"post": {**_ACTIVATION, "summary": "staff: bring a clause back"}},
    "/api/clauses/{clause_id}/history": {"get": {
        "summary": "staff: every version of a clause", "security": openapi.STAFF_SECURITY, "parameters": _CLAUSE_ID,
        "responses": openapi.responses(200, None, 401, 403, 404)}},
    "/api/documents": {"post": {
        "summary": "staff: add or re-load a policy document", "security": openapi.STAFF_SECURITY,
        "requestBody": openapi.json_body({"doc_id": {"type": "string"}, "text": {"type": "string"},
                                          "editor": {"type": "string"}}, ("doc_id", "text", "editor")),
        "responses": openapi.responses(201, None, *_STAFF_ERRORS)}},
}


def add_staff_routes(app: web.Application) -> None:
    openapi.contribute(app, OPENAPI_PATHS)
    app.router.add_put("/api/clauses/{clause_id}", edit_clause)
    app.router.add_post("/api/clauses/{clause_id}/retire", activation_route(retire=True))
    app.router.add_post("/api/clauses/{clause_id}/restore", activation_route(retire=False))
    app.router.add_get("/api/clauses/{clause_id}/history", clause_history)
    app.router.add_post("/api/documents", add_document)
