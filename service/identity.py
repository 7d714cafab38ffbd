"""The web chat's conversation id: issued by the server in a signed, HttpOnly cookie, never taken from a body.

The cookie holds `<random id>.<HMAC-SHA256 of it>`; Rasa sees the conversation as `web:<random id>` (the web
channel adds the namespace). The signing key is CHAT_COOKIE_SECRET, else a random key kept in
`<var>/secrets/chat-cookie.key` (0600) so that conversations survive a restart.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from aiohttp import web

COOKIE = "policy_chat"
COOKIE_MAX_AGE_S = 180 * 24 * 3600
ID_BYTES = 18


def load_secret(var_dir: Path) -> bytes:
    configured = os.environ.get("CHAT_COOKIE_SECRET", "")
    if configured:
        return configured.encode("utf-8")
    path = var_dir / "secrets" / "chat-cookie.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(32))
    return path.read_text().strip().encode("utf-8")


def _sign(secret: bytes, chat_id: str) -> str:
    digest = hmac.new(secret, chat_id.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def signed(secret: bytes, chat_id: str) -> str:
    """The cookie value for `chat_id`."""
    return f"{chat_id}.{_sign(secret, chat_id)}"


def verified_id(secret: bytes, cookie: str | None) -> str | None:
    """The chat id in a cookie we signed, or None for a missing, malformed or forged cookie."""
    chat_id, _, signature = (cookie or "").partition(".")
    if not chat_id or not signature or not chat_id.isascii() or not signature.isascii():
        return None
    return chat_id if hmac.compare_digest(signature, _sign(secret, chat_id)) else None


def new_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def chat_id_of(request: web.Request, secret: bytes) -> tuple[str, bool]:
    """(the caller's chat id, True when it is new and the cookie must be set on the response)."""
    known = verified_id(secret, request.cookies.get(COOKIE))
    return (known, False) if known else (new_id(), True)


def set_cookie(response: web.StreamResponse, request: web.Request, secret: bytes, chat_id: str) -> None:
    response.set_cookie(COOKIE, signed(secret, chat_id), max_age=COOKIE_MAX_AGE_S, path="/",
                        httponly=True, samesite="Strict", secure=request.secure)
