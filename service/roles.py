"""The single check point of the admin routes until the agent-console accounts (service/auth.py) land:
`require_role("staff")` accepts the STAFF_TOKEN bearer token as the account "staff-token".
Replaced by a re-export of service.auth when that branch is merged."""
from __future__ import annotations

import functools
import hmac

from aiohttp import web

try:
    from service.auth import editor_name, require_role  # noqa: F401
except ImportError:
    def require_role(minimum: str, page: bool = False):
        def decorate(handler):
            @functools.wraps(handler)
            async def guarded(request: web.Request):
                from service.app import SETTINGS, json_error

                token = request.app[SETTINGS].staff_token
                given = request.headers.get("Authorization", "")
                if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                    raise web.HTTPUnauthorized(text=json_error(401, "login required").text,
                                               content_type="application/json")
                request["user"] = "staff-token"
                return await handler(request)
            guarded.required_role = minimum
            return guarded
        return decorate

    def editor_name(request: web.Request) -> str:
        return request["user"]
