"""JSON error bodies, one shape for every route: {"error": reason, ...extra fields}.

`json_error` returns the response; `refusal` builds the exception to raise from helpers deep in a handler.
"""
from __future__ import annotations

import json

from aiohttp import web

_EXCEPTIONS = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
               409: web.HTTPConflict, 415: web.HTTPUnsupportedMediaType, 422: web.HTTPUnprocessableEntity,
               429: web.HTTPTooManyRequests}


def json_error(status: int, message: str, **extra) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def refusal(status: int, message: str, headers: dict | None = None, **extra) -> web.HTTPException:
    body = json.dumps({"error": message, **extra}, ensure_ascii=False)
    if status == 413:
        return web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, text=body, content_type="application/json",
                                             headers=headers)
    return _EXCEPTIONS[status](text=body, content_type="application/json", headers=headers)
