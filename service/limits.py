"""Input limits of the public routes: JSON only, size caps read while streaming, Origin check, rate limits.

Bad input of any shape gets a 4xx with a reason, never a 500: `error_middleware` turns what the JSON parser
and header decoding raise on hostile input (deeply nested JSON, invalid UTF-8) into a 400 for every route,
including routes other modules add.

Clients are told apart by address. Behind a reverse proxy on this host (TRUSTED_PROXIES, default loopback)
the client is the last X-Forwarded-For hop; a loopback caller without that header is one of our own
processes (the action server posting feedback) and is not rate-limited per client — each chat user is
already limited per sender in the Rasa channels.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterable

from aiohttp import web

from bot.ratelimit import RateLimiter

JSON_TYPES = ("application/json",)
LOOPBACK = ("127.0.0.1", "::1")
CLIENT_LIMITER = web.AppKey("client_limiter", RateLimiter)
# A person chats at most a few messages a minute; a page reload and quick replies make short bursts.
CLIENT_RATE_PER_S = 1.0
CLIENT_BURST = 20


def bad_request(message: str, status: int = 400, **extra) -> web.HTTPException:
    error_class = {400: web.HTTPBadRequest, 403: web.HTTPForbidden, 413: web.HTTPRequestEntityTooLarge,
                   415: web.HTTPUnsupportedMediaType, 429: web.HTTPTooManyRequests}[status]
    body = json.dumps({"error": message, **extra}, ensure_ascii=False)
    if status == 413:
        return web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, text=body, content_type="application/json")
    return error_class(text=body, content_type="application/json")


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except RecursionError:
        raise bad_request("JSON nested too deeply")
    except UnicodeError:
        raise bad_request("request is not valid UTF-8")


def trusted_proxies() -> tuple[str, ...]:
    configured = os.environ.get("TRUSTED_PROXIES")
    return tuple(part.strip() for part in configured.split(",") if part.strip()) if configured else LOOPBACK


def client_of(request: web.Request) -> str | None:
    """The client's address, or None for one of our own processes on this host."""
    remote = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if remote in trusted_proxies():
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
        return None if remote in LOOPBACK else remote
    return remote


def rate_limit(request: web.Request) -> None:
    client = client_of(request)
    if client is None:
        return
    limiter = request.app[CLIENT_LIMITER]
    if not limiter.allow(client):
        raise web.HTTPTooManyRequests(
            text=json.dumps({"error": "too many requests, please slow down", "messages": []}, ensure_ascii=False),
            content_type="application/json", headers={"Retry-After": str(int(limiter.retry_after(client)) + 1)})


def check_origin(request: web.Request, allowed: Iterable[str] = ()) -> None:
    """A browser's cross-site POST is refused: Origin, when sent, must be this service's own origin."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser (or a same-origin GET-less client): rate limits and caps still apply
    own = {f"http://{request.host}", f"https://{request.host}", *allowed, *_configured_origins()}
    if origin not in own:
        raise bad_request("cross-origin request refused", 403)


def _configured_origins() -> list[str]:
    return [origin.strip() for origin in os.environ.get("ALLOWED_ORIGINS", "").split(",") if origin.strip()]


async def read_json(request: web.Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object: JSON content type only, at most `max_bytes` (read in chunks, never whole)."""
    if request.content_type not in JSON_TYPES:
        raise bad_request("Content-Type must be application/json", 415)
    if request.content_length is not None and request.content_length > max_bytes:
        raise bad_request(f"body larger than {max_bytes} bytes", 413)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise bad_request(f"body larger than {max_bytes} bytes", 413)
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks).decode("utf-8"))
    except UnicodeDecodeError:
        raise bad_request("body is not valid UTF-8")
    except (ValueError, RecursionError):
        raise bad_request("body must be a JSON object")
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    return body


def capped_text(body: dict, field: str, limit: int, required: bool = False) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise bad_request(f'field "{field}" must be a string', field=field)
    if required and not value.strip():
        raise bad_request(f'field "{field}" is required', field=field)
    if len(value) > limit:
        raise bad_request(f'field "{field}" is longer than {limit} characters', field=field)
    return value


def install(app: web.Application) -> None:
    app.middlewares.append(error_middleware)
    app[CLIENT_LIMITER] = RateLimiter(CLIENT_RATE_PER_S, CLIENT_BURST)
