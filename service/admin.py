"""Staff admin API under /api/admin/…: drafts, diff, impact preview, publish, rollback, documents,
parameters, expiry, insights and audit. Thin over knowledge.drafts / impact / insights.

Every route needs the staff role (login session with CSRF, or a user-bound bearer token; service/auth.py);
every change is attributed to the authenticated account, never to a name in the body. Store work
runs in the admin worker thread, never in the thread that serves citizens' searches; publishing only
commits to the store — the IndexKeeper (service/publishing.py) rebuilds and swaps the index.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor

from aiohttp import BodyPartReader, web

from knowledge.drafts import DraftError, Drafts, StaleEdit, read_state
from knowledge.impact import ImpactPreview
from knowledge.insights import Insights
from knowledge.parameters_store import PublishedEntitlementEngine, published_quote_problems
from service import core
from service.errors import json_error, refusal
from service import openapi
from service.auth import editor_name, require_role
from service.documents import DocumentError, document_preview, text_of_upload
from service.publishing import IndexBuilder, IndexKeeper

logger = logging.getLogger(__name__)

DRAFTS = web.AppKey("drafts", Drafts)
PREVIEW = web.AppKey("impact_preview", ImpactPreview)
INSIGHTS = web.AppKey("insights", Insights)
KEEPER = web.AppKey("index_keeper", IndexKeeper)
ADMIN_EXECUTOR = web.AppKey("admin_executor", ThreadPoolExecutor)
DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_PAGE = 200
MAX_LIVE_WAIT = 60.0


# -- helpers ------------------------------------------------------------------------------------------
async def in_admin(request: web.Request, function, *args):
    """Run store / parse / preview work in the admin thread; DraftError → its HTTP status with the reason."""
    try:
        return await asyncio.get_running_loop().run_in_executor(request.app[ADMIN_EXECUTOR], function, *args)
    except StaleEdit as error:
        raise _refusal(409, str(error), conflicts=error.conflicts)
    except DraftError as error:
        extra = {"problems": error.problems} if hasattr(error, "problems") else {}
        raise _refusal(error.status, str(error), **extra)


_refusal = refusal


def int_param(request: web.Request, name: str, missing: str) -> int:
    found = core.row_id(request.match_info[name])
    if found is None:
        raise _refusal(404, missing)
    return found


def draft_id_of(request: web.Request) -> int:
    return int_param(request, "draft_id", "没有这个草稿")


def based_on(body: dict) -> int | None:
    """The version the editor saw (`version`); required so that a stale edit can be refused."""
    value = body.get("version")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refusal(400, '需要字段 "version"：您修改时看到的版本号（用于发现他人同时修改）', field="version")
    return value


def optional_text_field(body: dict, field: str, limit: int = 20_000) -> str | None:
    return None if body.get(field) is None else text_field(body, field, limit)


def text_field(body: dict, field: str, limit: int = 20_000) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _refusal(400, f'字段 "{field}" 必须是非空文字', field=field)
    if len(value) > limit:
        raise _refusal(400, f'字段 "{field}" 太长（最多 {limit} 字）', field=field)
    return value.strip()


def page_of(request: web.Request) -> tuple[int, int]:
    try:
        page = max(1, int(request.query.get("page", "1")))
        per_page = max(1, min(MAX_PAGE, int(request.query.get("per_page", "50"))))
    except ValueError:
        raise _refusal(400, "page 和 per_page 必须是整数")
    return page, per_page


def ok(data, status: int = 200) -> web.Response:
    return web.json_response(core.plain(data), status=status)


# -- drafts -------------------------------------------------------------------------------------------
@require_role("staff")
async def list_drafts(request: web.Request) -> web.Response:
    status = request.query.get("status")
    return ok({"drafts": await in_admin(request, request.app[DRAFTS].list_drafts, status),
               "review_required": request.app[DRAFTS].review_required})


@require_role("staff")
async def create_draft(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    title = optional_text_field(body, "title", 200) or ""
    return ok(await in_admin(request, request.app[DRAFTS].create, editor_name(request), title), 201)


@require_role("staff")
async def get_draft(request: web.Request) -> web.Response:
    drafts, draft_id = request.app[DRAFTS], draft_id_of(request)
    draft = await in_admin(request, drafts.get, draft_id)
    draft["problems"] = await in_admin(request, drafts.problems, draft_id) if draft["status"] == "open" else []
    return ok(draft)


@require_role("staff")
async def discard_draft(request: web.Request) -> web.Response:
    return ok(await in_admin(request, request.app[DRAFTS].discard, draft_id_of(request), editor_name(request)))


@require_role("staff")
async def draft_diff(request: web.Request) -> web.Response:
    drafts, draft_id = request.app[DRAFTS], draft_id_of(request)
    changes = await in_admin(request, drafts.diff, draft_id)
    problems = await in_admin(request, drafts.problems, draft_id)
    return ok({"draft_id": draft_id, "changes": changes, "problems": problems})


@require_role("staff")
async def edit_clause(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    text = optional_text_field(body, "text")
    active = body.get("active")
    if active is not None and not isinstance(active, bool):
        raise _refusal(400, '字段 "active" 必须是 true 或 false', field="active")
    change = await in_admin(request, lambda: request.app[DRAFTS].edit_clause(
        draft_id_of(request), request.match_info["clause_id"], editor_name(request), based_on(body), text, active))
    return ok(change)


@require_role("staff")
async def set_parameter(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    version = based_on(body)
    changes = {key: value for key, value in body.items() if key != "version"}
    change = await in_admin(request, lambda: request.app[DRAFTS].set_parameter(
        draft_id_of(request), request.match_info["name"], editor_name(request), version, changes))
    return ok(change)


@require_role("staff")
async def set_rules(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    text = text_field(body, "text", 200_000)
    change = await in_admin(request, lambda: request.app[DRAFTS].set_rules(
        draft_id_of(request), text, editor_name(request), based_on(body)))
    return ok(change)


@require_role("staff")
async def set_lexicon(request: web.Request) -> web.Response:
    """A staff synonym (kind "synonym": key → policy terms) or search term (kind "term") in the draft;
    {remove: true} deletes a published one. Live with the draft's publish, in every process."""
    body = await core.read_json_object(request)
    kind, remove = body.get("kind"), body.get("remove") is True
    if kind not in ("synonym", "term"):
        raise _refusal(400, '字段 "kind" 须为 "synonym"（同义词）或 "term"（检索词条）', field="kind")
    key = text_field(body, "key", 40)
    terms = body.get("terms") or []
    version = body.get("version") if isinstance(body.get("version"), int) else None
    change = await in_admin(request, lambda: request.app[DRAFTS].set_lexicon(
        draft_id_of(request), kind, key, terms, editor_name(request), version, remove))
    return ok(change)


@require_role("staff")
async def list_lexicon(request: web.Request) -> web.Response:
    """The published staff synonyms and search terms (the curated files under knowledge/lexicon/ aside)."""
    store = request.app[DRAFTS].store
    entries = await in_admin(request, store.lexicon)
    return ok({"entries": [{"target": target, **entry} for target, entry in entries.items()]})


@require_role("staff")
async def approve(request: web.Request) -> web.Response:
    """Review: a second staff member (not an author of the draft) approves it for publishing."""
    return ok(await in_admin(request, request.app[DRAFTS].approve, draft_id_of(request), editor_name(request)))


@require_role("staff")
async def apply_suggestions(request: web.Request) -> web.Response:
    """Take every suggested quote into the draft (parameters and rules whose quote an edit broke)."""
    drafts, draft_id = request.app[DRAFTS], draft_id_of(request)
    applied = await in_admin(request, drafts.apply_suggestions, draft_id, editor_name(request))
    return ok({"applied": applied, "problems": await in_admin(request, drafts.problems, draft_id)})


@require_role("staff")
async def remove_change(request: web.Request) -> web.Response:
    change_id = int_param(request, "change_id", "没有这个修改")
    return ok(await in_admin(request, request.app[DRAFTS].remove_change, draft_id_of(request), change_id,
                             editor_name(request)))


@require_role("staff")
async def preview(request: web.Request) -> web.Response:
    """Impact preview: every answer and entitlement the draft would change (takes a few seconds)."""
    draft_id = draft_id_of(request)
    await in_admin(request, request.app[DRAFTS].get, draft_id)
    extra = await in_admin(request, request.app[INSIGHTS].regression_questions)
    live_index = request.app[core.SEARCHER].index
    result = await in_admin(request, lambda: request.app[PREVIEW].run(draft_id, live_index, extra_questions=extra))
    return ok({**result, "regression": len(extra)})


@require_role("staff")
async def publish(request: web.Request) -> web.Response:
    body = await core.read_json_object(request) if request.can_read_body else {}
    note = str(body.get("note") or "")[:500]
    release = await in_admin(request, request.app[DRAFTS].publish, draft_id_of(request), editor_name(request), note)
    return ok(release, 201)


# -- releases -----------------------------------------------------------------------------------------
@require_role("staff")
async def list_releases(request: web.Request) -> web.Response:
    page, per_page = page_of(request)
    releases = await in_admin(request, request.app[DRAFTS].releases, per_page, (page - 1) * per_page)
    return ok({"releases": releases, "live_revision": request.app[KEEPER].revision, "page": page})


@require_role("staff")
async def live(request: web.Request) -> web.Response:
    """The live revision; with ?revision=N, wait (at most ?timeout seconds, ≤ 60) until N is live:
    a publish's index swapped in, calculator reloaded and answer cache emptied in this process."""
    keeper = request.app[KEEPER]
    try:
        revision = int(request.query.get("revision", "-1"))
        timeout = min(MAX_LIVE_WAIT, max(0.0, float(request.query.get("timeout", "30"))))
    except ValueError:
        raise _refusal(400, "revision 须为整数，timeout 须为秒数")
    reached = await keeper.until_live(revision, timeout)
    return ok({"live": reached, "revision": keeper.revision, "last_error": keeper.last_error})


@require_role("staff")
async def rollback(request: web.Request) -> web.Response:
    """Restore release N: publish a draft that brings back everything as it was (or only create it)."""
    release_id = int_param(request, "release_id", "没有这个发布版本")
    body = await core.read_json_object(request) if request.can_read_body else {}
    drafts, account = request.app[DRAFTS], editor_name(request)
    if body.get("draft_only"):
        return ok(await in_admin(request, drafts.rollback_draft, release_id, account), 201)
    return ok(await in_admin(request, drafts.rollback, release_id, account), 201)


# -- clauses, documents, parameters ------------------------------------------------------------------
@require_role("staff")
async def clause_detail(request: web.Request) -> web.Response:
    clause_id = request.match_info["clause_id"]
    store = request.app[DRAFTS].store

    def read():
        clause = store.clause(clause_id)
        if clause is None:
            raise DraftError("没有这个条款", 404)
        state = read_state(store)
        quoted_by = [{"name": name, **row} for name, row in state.parameters.items()
                     if row["entry"].get("reference", {}).get("clause_id") == clause_id]
        return {"clause": clause, "history": store.history(clause_id), "parameters": quoted_by}
    return ok(await in_admin(request, read))


@require_role("staff")
async def list_documents(request: web.Request) -> web.Response:
    store = request.app[DRAFTS].store
    return ok({"documents": await in_admin(request, store.documents)})


@require_role("staff")
async def document_clauses(request: web.Request) -> web.Response:
    doc_id, store = request.match_info["doc_id"], request.app[DRAFTS].store
    document = await in_admin(request, store.document, doc_id)
    if document is None:
        raise _refusal(404, "没有这个文件")
    clauses = await in_admin(request, lambda: store.clauses(active_only=False, doc_id=doc_id))
    return ok({**document, "clauses": [{"clause_id": c.clause_id, "path": c.path, "article": c.article,
                                        "title": c.title, "text": c.text, "active": c.active, "version": c.version,
                                        "departments": c.departments} for c in clauses]})


async def read_upload(request: web.Request) -> tuple[dict, str]:
    """A document from JSON {doc_id, text} or a multipart form (doc_id, file: .txt or .docx)."""
    if request.content_type == "multipart/form-data":
        fields, text = await read_multipart_upload(request)
    else:
        fields = await core.read_json_object(request)
        text = text_field(fields, "text", 500_000)
    doc_id = str(fields.get("doc_id") or "").strip()
    if not DOC_ID.match(doc_id):
        raise _refusal(400, '字段 "doc_id" 须为小写字母、数字和“-”（如 baoji-2021-12）', field="doc_id")
    return {"doc_id": doc_id, "source": str(fields.get("source") or "")}, text


async def read_multipart_upload(request: web.Request) -> tuple[dict, str]:
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError) as error:  # no or bad boundary: the client's form is malformed
        raise _refusal(400, f"multipart 表单格式不正确：{error}")
    fields, text = {}, None
    try:
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise _refusal(400, "multipart 表单不能嵌套")
            if part.name == "file":
                data = await part.read(decode=False)
                if len(data) > MAX_DOCUMENT_BYTES:
                    raise _refusal(413, "文件太大（最多 4 MB）")
                try:
                    text = text_of_upload(part.filename or "", bytes(data))
                except DocumentError as error:
                    raise _refusal(400, str(error), field="file")
                fields["source"] = part.filename or ""
            elif part.name:
                fields[part.name] = (await part.text())[:200]
    except (ValueError, AssertionError, LookupError) as error:  # truncated parts, bad headers or charset
        raise _refusal(400, f"multipart 表单格式不正确：{error}")
    if text is None:
        raise _refusal(400, "请上传文件（字段 file）", field="file")
    return fields, text


@require_role("staff")
async def parse_upload(request: web.Request) -> web.Response:
    """Parsed preview of an uploaded document; nothing is stored."""
    fields, text = await read_upload(request)
    store = request.app[DRAFTS].store
    return ok(await in_admin(request, lambda: {"text": text, **fields,
                                              **document_preview(text, fields["doc_id"], store)}))


@require_role("staff")
async def add_document(request: web.Request) -> web.Response:
    fields, text = await read_upload(request)
    drafts, draft_id = request.app[DRAFTS], draft_id_of(request)
    change = await in_admin(request, lambda: drafts.add_document(draft_id, fields["doc_id"], text,
                                                                 editor_name(request), fields["source"]))
    store = drafts.store
    return ok({"change": change, **await in_admin(request, document_preview, text, fields["doc_id"], store)}, 201)


def document_activation(active: bool):
    @require_role("staff")
    async def handler(request: web.Request) -> web.Response:
        return ok(await in_admin(request, request.app[DRAFTS].set_document_active, draft_id_of(request),
                                 request.match_info["doc_id"], active, editor_name(request)))
    return handler


@require_role("staff")
async def list_parameters(request: web.Request) -> web.Response:
    store, today = request.app[DRAFTS].store, dt.date.today()

    def read():
        state = read_state(store)
        problems = {p.get("parameter"): p["reason"] for p in published_quote_problems(store)}
        parameters = state.parameter_set()
        return [{"name": name, "version": row["version"], "entry": row["entry"],
                 "value_today": parameters[name].value_at(today), "problem": problems.get(name)}
                for name, row in state.parameters.items()]
    return ok({"parameters": await in_admin(request, read), "today": today})


# -- expiry, insights, audit ---------------------------------------------------------------------------
@require_role("staff")
async def expiry(request: web.Request) -> web.Response:
    return ok(await in_admin(request, request.app[INSIGHTS].provisions, dt.date.today()))


@require_role("staff")
async def add_note(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    key, note = text_field(body, "key", 200), text_field(body, "note", 1000)
    return ok(await in_admin(request, request.app[INSIGHTS].add_note, key, note, editor_name(request)), 201)


@require_role("staff")
async def insights_list(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    page, per_page = page_of(request)
    insights = request.app[INSIGHTS]
    if kind == "topics":
        try:
            days = int(request.query.get("days", "7"))
        except ValueError:
            raise _refusal(400, "days 必须是整数")
        return ok(await in_admin(request, insights.topics, days, page, per_page))
    data = await in_admin(request, insights.feedback, kind, page, per_page)
    if kind == "unanswered":  # the clauses nearest to each question: what staff open to fix the gap
        searcher = request.app[core.SEARCHER]
        for item in data["items"]:
            hits = (await in_admin(request, searcher.search, item["question"], 3)).hits
            item["nearest"] = [{"clause_id": h.clause_id, "title": h.title, "doc_number": h.doc_number}
                               for h in hits]
    return ok(data)


@require_role("staff")
async def add_regression(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    question = text_field(body, "q", core.MAX_QUERY_CHARS)
    return ok(await in_admin(request, request.app[INSIGHTS].add_regression, question, editor_name(request)), 201)


@require_role("staff")
async def audit(request: web.Request) -> web.Response:
    page, per_page = page_of(request)
    log = await in_admin(request, lambda: request.app[DRAFTS].audit_log(per_page, (page - 1) * per_page,
                                                                        request.query.get("account")))
    return ok({**log, "page": page, "per_page": per_page})


# -- wiring -------------------------------------------------------------------------------------------
PENDING_LISTENERS = web.AppKey("publish_listeners", list)


def on_published(app: web.Application, listener) -> None:
    """Register `listener(revision)`: called once the new index and calculator are live (e.g. to
    empty an answer cache). Safe to call before startup."""
    app[PENDING_LISTENERS].append(listener)


async def start_admin(app: web.Application) -> None:
    searcher = app[core.SEARCHER]
    store = searcher.store
    app[ADMIN_EXECUTOR] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="admin")
    loop = asyncio.get_running_loop()

    def build():
        engine = PublishedEntitlementEngine(store, seed_from=(app[core.SETTINGS].parameters_dir,
                                                              app[core.SETTINGS].rules_path))
        drafts = Drafts(store, review_required=app[core.SETTINGS].review_required)
        return engine, drafts, Insights(store), ImpactPreview(drafts, searcher.encoder)
    engine, drafts, insights, impact = await loop.run_in_executor(app[ADMIN_EXECUTOR], build)
    app[core.ENGINE], app[DRAFTS], app[INSIGHTS], app[PREVIEW] = engine, drafts, insights, impact
    app[core.ANSWER_HOOKS].append(record_answers(app))
    settings = app[core.SETTINGS]
    builder = IndexBuilder(settings.db_path, settings.encoder, settings.index_dir)
    try:  # the builder process is ready before the service answers: the first publish does not wait for it
        await asyncio.wrap_future(builder.warm())
    except Exception:
        logger.exception("index builder process did not start; publishes will retry it")
    keeper = IndexKeeper(searcher, engine, builder)
    for listener in app[PENDING_LISTENERS]:
        keeper.on_published(listener)
    app[KEEPER] = keeper.start()


async def stop_admin(app: web.Application) -> None:
    if KEEPER in app:
        app[KEEPER].stop()
    if ADMIN_EXECUTOR in app:
        app[ADMIN_EXECUTOR].shutdown(wait=True)


@require_role("staff", page=True)
async def admin_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(core.STATIC_DIR / "admin.html",
                            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                                     "X-Frame-Options": "DENY"})


async def public_document(request: web.Request) -> web.Response:
    """A document's clauses in force (public: what the bot can quote), so clause ids need no guessing."""
    doc_id, store = request.match_info["doc_id"], request.app[core.SEARCHER].store
    document = store.document(doc_id)
    if document is None or not document.get("active", True):
        return json_error(404, "no such document")
    return ok({**document, "clauses": [{"clause_id": c.clause_id, "article": c.article, "title": c.title,
                                        "text": c.text, "version": c.version, "departments": c.departments}
                                       for c in store.clauses(doc_id=doc_id)]})


def record_answers(app: web.Application):
    """The answer route's hook: log the question (masked) in the admin thread, off the request path."""
    def hook(question: str, answer: dict, sender: str) -> None:
        future = app[ADMIN_EXECUTOR].submit(app[INSIGHTS].record_answer, question, answer, sender)
        future.add_done_callback(warn_if_failed)
    return hook


def warn_if_failed(done: Future) -> None:
    if done.exception() is not None:
        logger.warning("question not logged: %s", done.exception())


STAFF = openapi.ACCOUNT_SECURITY  # an account with role staff or above
_ID = {"type": "string"}
_VERSION = {"type": "integer", "description": "the version the editor saw (a stale one gets 409)"}
# (method, path, handler, summary, request body properties or None, required body fields)
ROUTES = [
    ("GET", "/api/admin/drafts", list_drafts, "drafts (?status=open)", None, ()),
    ("POST", "/api/admin/drafts", create_draft, "start a draft", {"title": _ID}, ()),
    ("GET", "/api/admin/drafts/{draft_id}", get_draft, "a draft with its changes and problems", None, ()),
    ("DELETE", "/api/admin/drafts/{draft_id}", discard_draft, "discard a draft", None, ()),
    ("GET", "/api/admin/drafts/{draft_id}/diff", draft_diff, "readable diff and publish problems", None, ()),
    ("POST", "/api/admin/drafts/{draft_id}/preview", preview,
     "impact preview: changed answers and entitlements, questions that become unanswered", None, ()),
    ("POST", "/api/admin/drafts/{draft_id}/publish", publish, "publish (409 stale, 422 refused with reasons)",
     {"note": _ID}, ()),
    ("PUT", "/api/admin/drafts/{draft_id}/clauses/{clause_id}", edit_clause, "edit / retire / restore a clause",
     {"text": _ID, "active": {"type": "boolean"}, "version": _VERSION}, ("version",)),
    ("PUT", "/api/admin/drafts/{draft_id}/parameters/{name}", set_parameter,
     "change a parameter (value from a date, quote, clause id)",
     {"value": {"type": "number"}, "from": {"type": "string", "format": "date"}, "quote": _ID, "clause_id": _ID,
      "version": _VERSION}, ("version",)),
    ("PUT", "/api/admin/drafts/{draft_id}/rules", set_rules, "replace the rules (YAML)",
     {"text": _ID, "version": _VERSION}, ("text", "version")),
    ("POST", "/api/admin/drafts/{draft_id}/approve", approve,
     "approve a draft (another staff member than its authors; needed when ADMIN_REVIEW_REQUIRED=1)", None, ()),
    ("POST", "/api/admin/drafts/{draft_id}/apply-suggestions", apply_suggestions,
     "take every suggested quote into the draft (values stay to be checked)", None, ()),
    ("DELETE", "/api/admin/drafts/{draft_id}/changes/{change_id}", remove_change, "take a change out of a draft",
     None, ()),
    ("PUT", "/api/admin/drafts/{draft_id}/lexicon", set_lexicon,
     "add / change a staff synonym (kind synonym: key → terms) or search term (kind term); remove: true deletes",
     {"kind": {"type": "string", "enum": ["synonym", "term"]}, "key": _ID,
      "terms": {"type": "array", "items": {"type": "string"}}, "remove": {"type": "boolean"}, "version": _VERSION},
     ("kind", "key")),
    ("POST", "/api/admin/drafts/{draft_id}/documents", add_document,
     "add a document (JSON {doc_id, text} or multipart doc_id + file .txt/.docx)", {"doc_id": _ID, "text": _ID},
     ("doc_id",)),
    ("POST", "/api/admin/drafts/{draft_id}/documents/{doc_id}/retire", document_activation(False),
     "retire a document", None, ()),
    ("POST", "/api/admin/drafts/{draft_id}/documents/{doc_id}/restore", document_activation(True),
     "restore a retired document", None, ()),
    ("GET", "/api/admin/releases", list_releases, "published releases, newest first", None, ()),
    ("GET", "/api/admin/live", live,
     "the live store revision; ?revision=N&timeout=S waits until a publish is live in this process", None, ()),
    ("POST", "/api/admin/releases/{release_id}/rollback", rollback,
     "restore a release as a new publish ({draft_only: true}: only create the draft)",
     {"draft_only": {"type": "boolean"}}, ()),
    ("GET", "/api/admin/clauses/{clause_id}", clause_detail, "a clause, its history and the parameters quoting it",
     None, ()),
    ("GET", "/api/admin/documents", list_documents, "documents, retired ones too", None, ()),
    ("GET", "/api/admin/documents/{doc_id}", document_clauses, "a document's clauses, retired ones too", None, ()),
    ("POST", "/api/admin/documents/parse", parse_upload, "parsed preview of an uploaded document (stores nothing)",
     {"doc_id": _ID, "text": _ID}, ("doc_id",)),
    ("GET", "/api/admin/lexicon", list_lexicon, "published staff synonyms and search terms", None, ()),
    ("GET", "/api/admin/parameters", list_parameters, "calculator parameters with dated values and quote checks",
     None, ()),
    ("GET", "/api/admin/expiry", expiry, "dated provisions: end date, status, notes", None, ()),
    ("POST", "/api/admin/notes", add_note, "note on a dated provision", {"key": _ID, "note": _ID}, ("key", "note")),
    ("GET", "/api/admin/insights/{kind}", insights_list,
     "unanswered questions, answers rated 没帮助, top topics (?days=7|30); paginated", None, ()),
    ("POST", "/api/admin/regression", add_regression, "add a question to the preview's regression set",
     {"q": _ID}, ("q",)),
    ("GET", "/api/admin/audit", audit, "who changed what and when (?page, ?account)", None, ()),
]


def _operation(path: str, summary: str, body: dict | None, required: tuple) -> dict:
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"\{(\w+)\}", path)]
    if path.endswith(("/insights/{kind}",)):
        parameters[0]["schema"] = {"type": "string", "enum": ["unanswered", "unhelpful", "topics"]}
    operation = {"summary": "staff: " + summary, "security": STAFF,
                 "responses": openapi.responses(200, None, 400, 401, 403, 404, 409, 422)}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = openapi.json_body(body, required)
    return operation


def add_admin_routes(app: web.Application) -> None:
    app[PENDING_LISTENERS] = []
    app[core.ANSWER_HOOKS] = []
    app.on_startup.append(start_admin)
    app.on_cleanup.insert(0, stop_admin)
    paths: dict[str, dict] = {}
    for method, path, handler, summary, body, required in ROUTES:
        route_path = path.replace("{kind}", "{kind:unanswered|unhelpful|topics}")
        app.router.add_route(method, route_path, handler)
        paths.setdefault(path, {})[method.lower()] = _operation(path, summary, body, required)
    app.router.add_get("/admin", admin_page)
    app.router.add_get("/api/documents/{doc_id}", public_document)
    paths["/api/documents/{doc_id}"] = {"get": {
        "summary": "a document's clauses in force",
        "parameters": [{"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": openapi.responses(200, None, 404)}}
    openapi.contribute(app, paths)
