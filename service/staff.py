"""The first staff routes, kept as thin aliases of the admin API (service/admin.py).

Each call is a one-change draft published at once — with the same checks (a stale `version` is 409,
a parameter quote the edit would break is 422 with the reason) and the same audit trail, attributed
to the authenticated account. The response waits until the new index is live (≤ 10 s), so the next
question already sees the change.
"""
from __future__ import annotations

from aiohttp import web

from service import admin
from service import core
from service import errors
from service import openapi
from service.auth import editor_name, require_role

LIVE_WAIT_SECONDS = 10.0


async def publish_one(request: web.Request, title: str, change) -> dict:
    """Create a draft, make one change, publish it; wait until the index reflects it."""
    drafts, account = request.app[admin.DRAFTS], editor_name(request)

    def run():
        draft = drafts.create(account, title)
        try:
            change(drafts, draft["id"], account)
            return drafts.publish(draft["id"], account, note=title)
        except Exception:
            if drafts.get(draft["id"])["status"] == "open":
                drafts.discard(draft["id"], account)
            raise
    release = await admin.in_admin(request, run)
    await wait_live(request.app, release["revision"])
    return release


async def wait_live(app: web.Application, revision: int) -> None:
    await app[admin.KEEPER].until_live(revision, LIVE_WAIT_SECONDS)


@require_role("staff")
async def edit_clause(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    text, version = admin.text_field(body, "text"), admin.based_on(body)
    clause_id = request.match_info["clause_id"]
    await publish_one(request, str(body.get("note") or f"修改条款 {clause_id}")[:200],
                      lambda drafts, draft_id, account: drafts.edit_clause(draft_id, clause_id, account, version, text))
    return web.json_response(core.plain(request.app[admin.DRAFTS].store.clause(clause_id)))


def activation_route(retire: bool):
    """Retire (take out of answers) or restore a clause."""
    @require_role("staff")
    async def handler(request: web.Request) -> web.Response:
        body = await core.read_json_object(request)
        clause_id = request.match_info["clause_id"]
        version = body.get("version") if isinstance(body.get("version"), int) else None
        reason = str(body.get("reason") or body.get("note") or "")[:200]
        title = f"{'废止' if retire else '恢复'}条款 {clause_id}" + (f"：{reason}" if reason else "")
        await publish_one(request, title, lambda drafts, draft_id, account: drafts.edit_clause(
            draft_id, clause_id, account, version, active=not retire))
        return web.json_response(core.plain(request.app[admin.DRAFTS].store.clause(clause_id)))
    return handler


@require_role("staff")
async def clause_history(request: web.Request) -> web.Response:
    clause_id = request.match_info["clause_id"]
    store = request.app[admin.DRAFTS].store
    if store.clause(clause_id) is None:
        return errors.json_error(404, "no such clause")
    return web.json_response({"history": core.plain(store.history(clause_id))})


@require_role("staff")
async def add_document(request: web.Request) -> web.Response:
    """Add or re-load a policy document from its plain text (same format as knowledge/data/*.txt)."""
    fields, text = await admin.read_upload(request)
    release = await publish_one(request, f"载入文件 {fields['doc_id']}", lambda drafts, draft_id, account:
                                drafts.add_document(draft_id, fields["doc_id"], text, account))
    document = request.app[admin.DRAFTS].store.document(fields["doc_id"])
    assert document is not None  # published just above
    return web.json_response({"doc_id": fields["doc_id"], "changed": True, "clauses": document["clause_count"],
                              "number": document["number"], "title": document["title"],
                              "release": release["id"]}, status=201)


_CLAUSE_ID = [{"name": "clause_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_STAFF_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)
_VERSION = {"type": "integer", "description": "the version the editor saw (a stale one gets 409)"}
_ACTIVATION = {"summary": "", "security": openapi.STAFF_SECURITY, "parameters": _CLAUSE_ID,
               "requestBody": openapi.json_body({"reason": {"type": "string"}, "version": _VERSION}),
               "responses": openapi.responses(200, None, *_STAFF_ERRORS)}
OPENAPI_PATHS = {
    "/api/clauses/{clause_id}": {"put": {
        "summary": "staff (alias of a one-change draft, published): edit a clause", "security": openapi.STAFF_SECURITY,
        "parameters": _CLAUSE_ID,
        "requestBody": openapi.json_body({"text": {"type": "string"}, "version": _VERSION, "note": {"type": "string"}},
                                         ("text", "version")),
        "responses": openapi.responses(200, None, *_STAFF_ERRORS)}},
    "/api/clauses/{clause_id}/retire": {"post": {**_ACTIVATION, "summary": "staff: take a clause out of answers"}},
    "/api/clauses/{clause_id}/restore": {"post": {**_ACTIVATION, "summary": "staff: bring a clause back"}},
    "/api/clauses/{clause_id}/history": {"get": {
        "summary": "staff: every version of a clause", "security": openapi.STAFF_SECURITY, "parameters": _CLAUSE_ID,
        "responses": openapi.responses(200, None, 401, 403, 404)}},
    "/api/documents": {"post": {
        "summary": "staff (alias of a one-change draft, published): add or re-load a policy document",
        "security": openapi.STAFF_SECURITY,
        "requestBody": openapi.json_body({"doc_id": {"type": "string"}, "text": {"type": "string"}}, ("doc_id", "text")),
        "responses": openapi.responses(201, None, *_STAFF_ERRORS)}},
}


def add_staff_routes(app: web.Application) -> None:
    openapi.contribute(app, OPENAPI_PATHS)
    app.router.add_put("/api/clauses/{clause_id}", edit_clause)
    app.router.add_post("/api/clauses/{clause_id}/retire", activation_route(retire=True))
    app.router.add_post("/api/clauses/{clause_id}/restore", activation_route(retire=False))
    app.router.add_get("/api/clauses/{clause_id}/history", clause_history)
    app.router.add_post("/api/documents", add_document)
