"""`GET /api/openapi.json`: the service's OpenAPI 3.0 description, assembled from per-module path dicts.

Each route module owns the description of its own routes: it calls `contribute(app, PATHS)` where it adds
them, so the spec cannot drift into a second list kept somewhere else. `schema()` / `json_body()` /
`responses()` keep those dicts short. schemathesis (tests/service/test_openapi_fuzz.py) fuzzes every path here.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

OPENAPI_PATHS = web.AppKey("openapi_paths", dict)
TITLE = "灵活就业政策助手 policy service"
VERSION = "1.0"

ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
         "required": ["error"]}
STAFF_SECURITY: list[dict[str, list[str]]] = [{"staffToken": []}]
# Signed in by token or session cookie (the route's @require_role says which role).
ACCOUNT_SECURITY: list[dict[str, list[str]]] = [{"staffToken": []}, {"sessionCookie": []}]
REQUIRED_TEXT = {"type": "string", "minLength": 1}
CLAUSE_ID = {"name": "clause_id", "in": "path", "required": True,
             "schema": {"type": "string", "example": "baoji-2020-49:2.1"}}


def contribute(app: web.Application, paths: dict[str, dict]) -> None:
    """Add a module's paths (`{"/api/x": {"get": {...}}}`) to the app's spec; methods of one path merge."""
    if OPENAPI_PATHS not in app:
        app[OPENAPI_PATHS] = {}
    collected = app[OPENAPI_PATHS]
    for path, operations in paths.items():
        collected.setdefault(path, {}).update(operations)


def json_body(properties: dict[str, Any], required: tuple[str, ...] = (), max_properties: int = 32) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": list(required),
        "maxProperties": max_properties}}}}


def responses(ok: int = 200, ok_schema: dict | None = None, *errors: int) -> dict:
    described = {str(ok): {"description": "success",
                           "content": {"application/json": {"schema": ok_schema or {"type": "object"}}}}}
    for status in errors:
        described[str(status)] = {"description": REASONS.get(status, "error"),
                                  "content": {"application/json": {"schema": ERROR}}}
    return described


REASONS = {400: "bad request (the reason is in `error`)", 401: "staff token required",
           403: "forbidden", 404: "not found", 413: "body too large", 415: "JSON required",
           429: "too many requests", 503: "a dependency is unavailable"}


def spec(app: web.Application) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": VERSION},
        "paths": dict(sorted(app.get(OPENAPI_PATHS, {}).items())),
        "components": {"securitySchemes": {
            "staffToken": {"type": "http", "scheme": "bearer",
                           "description": "a user's token (python -m service.users token NAME)"},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "policy_session",
                              "description": "login at /login; writes also need the X-CSRF-Token header"}}},
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(spec(request.app))


def add_openapi_route(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi_json)
