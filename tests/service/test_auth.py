"""Login, sessions, CSRF, roles and bearer tokens, over real HTTP against the running service."""
import logging
import re

import pytest
import requests

from service.auth import USERS
from service.users import FIRST_DELAY_S, FREE_FAILURES, ROLES, UserError, UserStore, failure_delay, main

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def store(tmp_path):
    return UserStore(tmp_path / "users.db", clock=Clock())


def test_database_is_private_and_holds_no_secret_in_clear(store):
    assert store.path.stat().st_mode & 0o777 == 0o600
    user = store.add("li.agent", PASSWORD, "agent")
    session_id, _ = store.start_session(user)
    token = store.issue_token("li.agent")
    raw = store.path.read_bytes()
    for secret in (PASSWORD, session_id, token):
        assert secret.encode() not in raw
    assert b"$argon2id$" in raw


def test_roles_are_ordered(store):
    agent, staff = store.add("a1", PASSWORD, "agent"), store.add("s1", PASSWORD, "staff")
    admin = store.add("root", PASSWORD, "admin")
    assert agent.has_role("agent") and not agent.has_role("staff")
    assert staff.has_role("agent") and not staff.has_role("admin")
    assert admin.has_role("staff")


@pytest.mark.parametrize("username,password,role", [("x", PASSWORD, "agent"), ("ok_name", "short", "agent"),
                                                    ("ok_name", PASSWORD, "boss"), ("bad name", PASSWORD, "agent")])
def test_bad_accounts_are_refused(store, username, password, role):
    with pytest.raises(UserError):
        store.add(username, password, role)


def test_repeated_failures_delay_the_account_then_expire(store):
    store.add("li", PASSWORD, "agent")
    for _ in range(FREE_FAILURES):
        result = store.login("li", "wrong password")
        assert result.user is None and result.retry_after == 0
    sixth = store.login("li", PASSWORD)  # even the right password waits
    assert sixth.user is None and sixth.retry_after == FIRST_DELAY_S
    store.clock.now += FIRST_DELAY_S
    assert store.login("li", PASSWORD).user.username == "li"
    assert store.login("li", "wrong").retry_after == 0  # a success resets the count


def test_delay_grows_and_is_capped():
    assert failure_delay(FREE_FAILURES - 1) == 0
    assert failure_delay(FREE_FAILURES + 1) == 2 * failure_delay(FREE_FAILURES)
    assert failure_delay(100) == 15 * 60


def test_sessions_expire_when_idle(store):
    user = store.add("li", PASSWORD, "agent")
    session_id, session = store.start_session(user)
    assert store.session(session_id).csrf == session.csrf
    store.clock.now += 9 * 3600
    assert store.session(session_id) is None


def test_disabled_user_loses_sessions_and_tokens(store):
    user = store.add("li", PASSWORD, "agent")
    session_id, _ = store.start_session(user)
    token = store.issue_token("li")
    store.set_active("li", False)
    assert store.session(session_id) is None and store.token_user(token) is None
    assert store.login("li", PASSWORD).user is None


def test_cli_adds_first_admin_without_default_password(tmp_path, monkeypatch, capsys):
    db = tmp_path / "users.db"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    assert main(["--db", str(db), "add", "Admin", "--role", "admin"]) == 0
    assert UserStore(db).login("admin", PASSWORD).user.role == "admin"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("\n"))
    assert main(["--db", str(db), "add", "nopass", "--role", "admin"]) == 1  # empty password refused
    assert main(["--db", str(db), "token", "admin"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert UserStore(db).token_user(token).username == "admin"


# --- over HTTP ----------------------------------------------------------------------------------------------
class Browser:
    """Keeps the session cookie by hand: requests never sends a Secure cookie over http://."""

    def __init__(self, service):
        self.service, self.cookies = service, {}

    def request(self, method, path, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(method, self.service.url + path, headers=headers, allow_redirects=False,
                                    timeout=30, **kwargs)
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value
        return response

    def login(self, username, password):
        form = self.request("GET", "/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        return self.request("POST", "/login", data={"username": username, "password": password,
                                                    "csrf_token": csrf, "next": "/console"})


@pytest.fixture()
def accounts(policy_service):
    users = UserStore(policy_service.settings.users_db)
    names = {}
    for role in ("agent", "staff", "admin"):
        name = f"{role}-{len(users.users())}"
        users.add(name, PASSWORD, role)
        names[role] = name
    return users, names


def test_login_sets_a_safe_session_cookie(policy_service, accounts):
    _, names = accounts
    browser = Browser(policy_service)
    response = browser.login(names["agent"], PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/console"
    set_cookie = [h for k, h in response.raw.headers.items() if k.lower() == "set-cookie"]
    session_cookie = next(h for h in set_cookie if h.startswith("policy_session="))
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert attribute.lower() in session_cookie.lower()
    me = browser.request("GET", "/api/agent/me").json()
    assert me["username"] == names["agent"] and me["role"] == "agent" and me["csrf_token"]


def test_login_form_without_its_csrf_token_is_refused(policy_service, accounts):
    _, names = accounts
    response = requests.post(policy_service.url + "/login", allow_redirects=False,
                             data={"username": names["agent"], "password": PASSWORD})
    assert response.status_code == 403 and "policy_session" not in response.cookies


def test_post_with_session_needs_the_csrf_token(policy_service, accounts):
    _, names = accounts
    browser = Browser(policy_service)
    browser.login(names["staff"], PASSWORD)
    refused = browser.request("POST", "/api/admin/reload")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    csrf = browser.request("GET", "/api/agent/me").json()["csrf_token"]
    assert browser.request("POST", "/api/admin/reload", headers={"X-CSRF-Token": csrf}).status_code == 200


def test_wrong_role_is_403_and_anonymous_401(policy_service, accounts):
    users, names = accounts
    agent = Browser(policy_service)
    agent.login(names["agent"], PASSWORD)
    assert agent.request("GET", "/api/feedback").status_code == 403
    assert requests.get(policy_service.url + "/api/feedback").status_code == 401
    token = users.issue_token(names["staff"])
    assert requests.get(policy_service.url + "/api/feedback",
                        headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert requests.get(policy_service.url + "/api/feedback",
                        headers={"Authorization": "Bearer pat_forged"}).status_code == 401


def test_logout_ends_the_session(policy_service, accounts):
    _, names = accounts
    browser = Browser(policy_service)
    browser.login(names["agent"], PASSWORD)
    session_id = browser.cookies["policy_session"]
    csrf = browser.request("GET", "/api/agent/me").json()["csrf_token"]
    assert browser.request("POST", "/logout", data={"csrf_token": csrf}).status_code == 303
    stale = requests.get(policy_service.url + "/api/agent/me", headers={"Cookie": f"policy_session={session_id}"})
    assert stale.status_code == 401


def test_sixth_wrong_password_is_delayed_by_the_accounts_clock(policy_service, accounts, monkeypatch):
    _, names = accounts
    clock = Clock()  # the service's account store reads this clock: no waiting, no wall-clock race
    monkeypatch.setattr(policy_service.runner.app[USERS], "clock", clock)
    browser = Browser(policy_service)
    for _ in range(FREE_FAILURES):
        assert browser.login(names["admin"], "not the password").status_code == 401
    sixth = browser.login(names["admin"], PASSWORD)  # even the right password is not checked now
    assert sixth.status_code == 429 and int(sixth.headers["Retry-After"]) == FIRST_DELAY_S + 1
    assert "秒后再试" in sixth.text and "policy_session" not in browser.cookies
    clock.now += FIRST_DELAY_S - 1
    assert browser.login(names["admin"], PASSWORD).status_code == 429
    clock.now += 1
    assert browser.login(names["admin"], PASSWORD).status_code == 303


def test_no_password_session_id_csrf_or_token_is_logged(policy_service, accounts, caplog):
    """Every log record the service writes while people log in, work, fail and log out (access log included)."""
    users, names = accounts
    caplog.set_level(logging.DEBUG)
    browser = Browser(policy_service)
    assert browser.login(names["staff"], "a wrong password").status_code == 401
    assert browser.login(names["staff"], PASSWORD).status_code == 303
    session_id = browser.cookies["policy_session"]
    csrf = browser.request("GET", "/api/agent/me").json()["csrf_token"]
    assert browser.request("POST", "/api/admin/reload", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert browser.request("POST", "/api/admin/reload", headers={"X-CSRF-Token": "forged"}).status_code == 403
    token = users.issue_token(names["agent"])
    assert requests.get(policy_service.url + "/api/agent/queue", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).status_code == 200
    assert browser.request("POST", "/logout", data={"csrf_token": csrf}).status_code == 303
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "login failed" in logged and f"login: {names['staff']}" in logged  # the service's records are here
    for secret in ("a wrong password", PASSWORD, session_id, csrf, token):
        assert secret not in logged


def test_open_redirect_after_login_is_refused(policy_service, accounts):
    _, names = accounts
    browser = Browser(policy_service)
    form = browser.request("GET", "/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = browser.request("POST", "/login", data={"username": names["agent"], "password": PASSWORD,
                                                       "csrf_token": csrf, "next": "//evil.example/"})
    assert response.headers["Location"] == "/console"


# --- every guarded route, read from the router (a new route is covered without editing this list) --------
SAMPLE_IDS = ("1", "baoji-2020-49:2.1", "unanswered")  # one of these fits every path parameter


def concrete_path(resource) -> str:
    """A URL the route answers: each path parameter filled with a sample value its pattern accepts."""
    info = resource.get_info()
    if "formatter" not in info:
        return resource.canonical
    names = re.findall(r"\{(\w+)\}", info["formatter"])
    for sample in SAMPLE_IDS:
        path = info["formatter"].format(**{name: sample for name in names})
        if info["pattern"].fullmatch(path):
            return path
    raise AssertionError(f"no sample value fits {info['formatter']}")


def guarded_routes(app):
    """(method, concrete path, required role) of every route behind @require_role."""
    for route in app.router.routes():
        role = getattr(route.handler, "required_role", None)
        if role is not None:
            yield route.method, concrete_path(route.resource), role


def test_the_console_admin_and_their_apis_are_all_guarded(policy_service):
    app = policy_service.runner.app
    routes = list(guarded_routes(app))
    for route in app.router.routes():
        if route.resource is not None and route.resource.canonical.startswith(
                ("/api/agent", "/api/admin", "/console", "/admin")):
            assert getattr(route.handler, "required_role", None), (route.method, route.resource.canonical)
    assert all(role == "agent" for _, path, role in routes if path.startswith("/api/agent"))
    assert all(role == "staff" for _, path, role in routes if path.startswith("/api/admin"))
    assert len(routes) > 40


def test_anonymous_callers_get_401_on_every_guarded_api_route(policy_service):
    for method, path, _ in guarded_routes(policy_service.runner.app):
        response = requests.request(method, policy_service.url + path, json={}, allow_redirects=False, timeout=30)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert method == "HEAD" or response.json()["error"] == "login required"
        else:  # a page sends the browser to the login form
            assert response.status_code == 303 and response.headers["Location"].startswith("/login"), (method, path)


def test_a_role_too_low_gets_403_on_every_route_that_needs_more(policy_service, accounts):
    users, names = accounts
    tokens = {role: {"Authorization": f"Bearer {users.issue_token(names[role])}"} for role in ROLES}
    refused = 0
    for method, path, required in guarded_routes(policy_service.runner.app):
        for role in ROLES[:ROLES.index(required)]:
            response = requests.request(method, policy_service.url + path, headers=tokens[role], json={},
                                        allow_redirects=False, timeout=30)
            assert response.status_code == 403, (role, method, path)
            refused += 1
    assert refused > 30  # every staff route was tried with an agent's token


def test_every_state_changing_route_refuses_a_session_without_its_csrf_token(policy_service, accounts):
    _, names = accounts
    browser = Browser(policy_service)
    assert browser.login(names["admin"], PASSWORD).status_code == 303
    writes = [(m, p) for m, p, _ in guarded_routes(policy_service.runner.app) if m not in ("GET", "HEAD", "OPTIONS")]
    assert writes
    for method, path in writes + [("POST", "/logout")]:
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = browser.request(method, path, headers=dict(headers), json={})
            assert response.status_code == 403 and "CSRF" in response.json()["error"], (method, path, headers)
    assert browser.request("GET", "/api/agent/me").status_code == 200  # the session itself still works
