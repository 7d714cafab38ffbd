"""What the policy service's route modules share: app keys, JSON errors and bodies, the worker pool.

app.py builds the application from the route modules (staff, console, handoff_routes, admin); they all
build on this module and none imports app.py, so there is no import cycle.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from aiohttp import web

from bot.guard import MAX_CHARS
from knowledge.citations import entitlement_citations
from knowledge.entitlements import EntitlementEngine
from knowledge.search import Searcher
from knowledge.store import Store
from service import limits
from service.config import Settings
from service.errors import refusal

MAX_QUERY_CHARS = MAX_CHARS  # one limit for every typed question (bot/guard.py)
MAX_K = 20
STATIC_DIR = Path(__file__).parent / "static"

SETTINGS = web.AppKey("settings", Settings)
SEARCHER = web.AppKey[Searcher[Store]]("searcher")
ENGINE = web.AppKey("engine", EntitlementEngine)  # the admin installs a PublishedEntitlementEngine
# Called as hook(question, answer, sender pseudonym) after each answer (the admin's question log).
AnswerHook = Callable[[str, dict, str], None]
ANSWER_HOOKS = web.AppKey[list[AnswerHook]]("answer_hooks")
# Search and encoding are CPU-bound: worker threads keep the event loop free. Two, one per core: the native
# encoder serialises its own calls, while tokenising, BM25 and FAISS of another question run beside it.
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
SQLITE_MAX_ROW_ID = 2 ** 63 - 1


def row_id(text: str) -> int | None:
    """A database row id from a URL path segment; None for anything no row can have (junk, 0, beyond int64)."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 0 < value <= SQLITE_MAX_ROW_ID else None


def plain(value):
    """Dataclasses (and lists of them) to JSON-ready dicts."""
    if is_dataclass(value) and not isinstance(value, type):
        return {key: plain(item) for key, item in asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


def read_query(request: web.Request) -> str:
    query = (request.query.get("q") or "").strip()
    if not query:
        raise refusal(400, "parameter q is required", field="q")
    if len(query) > MAX_QUERY_CHARS:
        raise refusal(400, f"q is longer than {MAX_QUERY_CHARS} characters", field="q")
    return query


MAX_JSON_BYTES = 256 * 1024  # staff documents are the largest bodies
MAX_PUBLIC_JSON_BYTES = 16 * 1024  # /api/chat and /api/feedback: a message, a question and an answer


async def read_json_object(request: web.Request, max_bytes: int = MAX_JSON_BYTES) -> dict:
    return await limits.read_json(request, max_bytes)


async def in_worker(request: web.Request, function, *args):
    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], function, *args)


def searcher_of(request: web.Request) -> Searcher[Store]:
    """The searcher. Never rebuilt on the request path: the IndexKeeper (service/publishing.py) swaps
    in a new index after each publish."""
    return request.app[SEARCHER]


# The web chat's conversation-id signing key (service.identity).
CHAT_SECRET = web.AppKey("chat_secret", bytes)


def with_citations(app: web.Application, result: dict) -> dict:
    """The result with a complete card for each clause it cites (the chat's cards and citation lines)."""
    store = app[SEARCHER].store
    as_of = date.fromisoformat(result["as_of"])  # expiry is judged at the date the result is computed for
    result["citations"] = entitlement_citations(result, store.clause, store.document, as_of)
    return result
