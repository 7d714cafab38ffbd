"""Login, sessions, CSRF and roles for the aiohttp service (agent console, staff admin, staff API).

* People log in at /login and get a server-side session: the cookie holds a random id (HttpOnly,
  SameSite=Strict, Secure unless SESSION_COOKIE_SECURE=0), the database only its digest.
* Every state-changing request made with a session cookie must carry the session's CSRF token in the
  `X-CSRF-Token` header or a `csrf_token` form field. Bearer tokens are not ambient, so need none.
* Scripts send `Authorization: Bearer <token>` with a token issued to a user (`python -m service.users token`).
  STAFF_TOKEN is a transitional alias: it acts as the password-less account `staff-token` (role staff).
* Handlers declare who may call them with `@require_role("agent" | "staff" | "admin")`; the user is then
  `current_user(request)`. Anonymous → 401, too low a role → 403 (pages redirect anonymous visitors to /login).
"""
from __future__ import annotations

import asyncio
import functools
import hmac
import html
import logging
import secrets
from typing import Awaitable, Callable, Optional
from urllib.parse import quote

from aiohttp import web

from service.errors import refusal
from service.users import LEGACY_TOKEN_USER, ROLES, Session, User, UserStore

logger = logging.getLogger(__name__)

USERS = web.AppKey("users", UserStore)
SESSION_COOKIE = "policy_session"
LOGIN_CSRF_COOKIE = "policy_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LEGACY_TOKEN = web.AppKey("legacy_staff_token", str)
COOKIE_SECURE = web.AppKey("cookie_secure", bool)
USER = web.RequestKey[Optional[User]]("user")  # the authenticated User, or None
SESSION = web.RequestKey("session", Session)     # the cookie Session (absent for bearer tokens)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_refusal(error_class, message: str, **headers) -> web.HTTPException:
    return refusal(error_class.status_code, message, headers=headers or None)


def bearer_user(request: web.Request) -> Optional[User]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[len("Bearer "):].strip()
    if not token.isascii():  # tokens are ASCII: anything else (raw bytes, GBK) is simply a wrong token
        raise json_refusal(web.HTTPUnauthorized, "invalid or revoked token", **{"WWW-Authenticate": "Bearer"})
    legacy = request.app.get(LEGACY_TOKEN, "")
    if legacy and hmac.compare_digest(token.encode(), legacy.encode()):
        return request.app[USERS].get(LEGACY_TOKEN_USER)
    user = request.app[USERS].token_user(token) if token else None
    if user is None:
        raise json_refusal(web.HTTPUnauthorized, "invalid or revoked token", **{"WWW-Authenticate": "Bearer"})
    return user


def cookie_session(request: web.Request) -> Optional[Session]:
    session_id = request.cookies.get(SESSION_COOKIE)
    return request.app[USERS].session(session_id) if session_id else None


async def check_csrf(request: web.Request, session: Session) -> None:
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            given = str((await request.post()).get("csrf_token", ""))
        except (ValueError, AssertionError, LookupError):  # a malformed form carries no token
            given = ""
    if not given or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise json_refusal(web.HTTPForbidden, "CSRF token missing or wrong: reload the page")


async def authenticate(request: web.Request) -> Optional[User]:
    """The caller's account (bearer token or session cookie); CSRF is checked for cookie writes."""
    if USER in request:
        return request[USER]
    user = bearer_user(request)
    if user is None:
        session = cookie_session(request)
        if session is not None:
            if request.method not in SAFE_METHODS:
                await check_csrf(request, session)
            request[SESSION] = session
            user = session.user
    request[USER] = user
    return user


def require_role(minimum: str, page: bool = False) -> Callable[[Handler], Handler]:
    """Decorator: only users with `minimum` or a higher role reach the handler."""
    if minimum not in ROLES:
        raise ValueError(f"unknown role {minimum}")

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = await authenticate(request)
            if user is None:
                if page:
                    raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
                raise json_refusal(web.HTTPUnauthorized, "login required", **{"WWW-Authenticate": "Bearer"})
            if not user.has_role(minimum):
                raise json_refusal(web.HTTPForbidden, f"role {minimum} or higher required")
            return await handler(request)
        # read by the OpenAPI document; a function attribute mypy cannot know of
        guarded.required_role = minimum  # type: ignore[attr-defined]
        return guarded
    return decorate


def current_user(request: web.Request) -> User:
    """The account of a request that passed @require_role."""
    user = request[USER]
    assert user is not None  # @require_role refused the request otherwise
    return user


def editor_name(request: web.Request) -> str:
    """Who a change is attributed to: the authenticated account, never a name from the body."""
    return current_user(request).username


# --- login / logout pages ---------------------------------------------------------------------------------

LOGIN_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>登录 · 灵活就业政策助手</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body class="login"><form method="post" action="/login" class="login-box">
<h1>灵活就业政策助手 · 工作台</h1>{message}
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label>用户名 <input name="username" id="username" autocomplete="username" required value="{username}"></label>
<label>密码 <input name="password" id="password" type="password" autocomplete="current-password" required></label>
<button type="submit" id="login">登录</button></form></body></html>"""


def safe_next(target: str) -> str:
    """Only same-site paths: an open redirect after login would hand the session page to a phisher."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/console"


def login_page(csrf: str, next_path: str, message: str = "", username: str = "", status: int = 200):
    body = LOGIN_PAGE.format(csrf=html.escape(csrf), next=html.escape(next_path), username=html.escape(username),
                             message=f'<p class="error" role="alert">{html.escape(message)}</p>' if message else "")
    response = web.Response(text=body, content_type="text/html", status=status,
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="Strict", path="/login")
    return response


async def show_login(request: web.Request) -> web.Response:
    return login_page(secrets.token_urlsafe(24), safe_next(request.query.get("next", "/console")))


async def do_login(request: web.Request) -> web.Response:
    form = await request.post()
    next_path = safe_next(str(form.get("next", "/console")))
    username, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:1024]
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    fresh = secrets.token_urlsafe(24)
    if not expected or not hmac.compare_digest(str(form.get("csrf_token", "")).encode(), expected.encode()):
        return login_page(fresh, next_path, "页面已过期，请重新登录。", username, status=403)
    # argon2 takes ~0.1 s of CPU on purpose: off the event loop, so logins never stall the chat or the console
    result = await asyncio.get_running_loop().run_in_executor(None, request.app[USERS].login, username, password)
    if result.retry_after > 0:
        wait = int(result.retry_after) + 1
        logger.warning("login delayed after repeated failures (retry in %d s)", wait)
        response = login_page(fresh, next_path, f"密码错误次数过多，请 {wait} 秒后再试。", username, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    if result.user is None:
        logger.info("login failed")
        return login_page(fresh, next_path, "用户名或密码不正确。", username, status=401)
    session_id, _ = request.app[USERS].start_session(result.user)
    logger.info("login: %s (%s)", result.user.username, result.user.role)
    response = web.HTTPSeeOther(next_path)
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="Strict", path="/",
                        secure=request.app[COOKIE_SECURE])
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise response


async def do_logout(request: web.Request) -> web.Response:
    session = cookie_session(request)
    if session is not None:
        await check_csrf(request, session)
        request.app[USERS].end_session(request.cookies[SESSION_COOKIE])
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@require_role("agent")
async def me(request: web.Request) -> web.Response:
    """Who is logged in, and the CSRF token pages send with their writes."""
    user, session = current_user(request), request.get(SESSION)
    return web.json_response({"username": user.username, "role": user.role,
                              "csrf_token": session.csrf if session else None})


def setup_auth(app: web.Application, users: UserStore, legacy_staff_token: str = "",
               cookie_secure: bool = True) -> None:
    app[USERS] = users
    app[COOKIE_SECURE] = cookie_secure
    if legacy_staff_token:
        users.ensure_service_account(LEGACY_TOKEN_USER, "staff")
        app[LEGACY_TOKEN] = legacy_staff_token
    app.router.add_get("/login", show_login)
    app.router.add_post("/login", do_login)
    app.router.add_post("/logout", do_logout)
    app.router.add_get("/api/agent/me", me)
