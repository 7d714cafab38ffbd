"""Security findings of issue #10 against the real services: identities, limits, masking, file modes."""
import os
import sqlite3
import stat
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from bot.ratelimit import SLOW_DOWN_REPLY
from tests.e2e.services import reply_text


def new_sender() -> str:
    return f"id-{uuid.uuid4().hex[:8]}"


def web_chat(services, message, session=None, **extra):
    session = session or requests.Session()
    return session.post(f"{services.service_url}/api/chat", json={"message": message, **extra}, timeout=30)


def test_a_foreign_sender_on_the_web_chat_cannot_read_or_change_another_conversation(services):
    victim = new_sender()
    assert "年龄" in reply_text(services.say(victim, "帮我算算我能享受啥扶持政策"))
    for forged in (victim, "rest:" + victim):
        response = web_chat(services, "跳过", sender=forged)
        assert response.status_code == 200
        assert "年龄" not in reply_text(response.json()["messages"])
    assert services.user_texts("rest:" + victim) == ["帮我算算我能享受啥扶持政策"]


def test_the_web_chat_id_is_a_signed_httponly_cookie_issued_by_the_server(services):
    browser = requests.Session()
    first = web_chat(services, "你好", browser)
    cookie = next(c for c in browser.cookies if c.name == "policy_chat")
    assert "httponly" in {key.lower() for key in cookie._rest}
    assert "samesite=strict" in first.headers["Set-Cookie"].lower()
    chat_id = cookie.value.split(".")[0]
    web_chat(services, "摆摊要交占道费吗", browser)
    assert services.user_texts("web:" + chat_id)[-1] == "摆摊要交占道费吗"

    forged = requests.Session()
    forged.cookies.set("policy_chat", chat_id + ".forged-signature", domain=cookie.domain, path="/")
    web_chat(services, "转人工", forged)
    assert "转人工" not in services.user_texts("web:" + chat_id)


def test_the_web_channel_refuses_anyone_but_the_policy_service(services):
    response = requests.post(f"{services.rasa_url}/webhooks/web/webhook", timeout=10,
                             json={"sender": "someone", "message": "你好"})
    assert response.status_code == 403


def test_personal_numbers_are_masked_in_the_tracker_store(services):
    sender = new_sender()
    reply = services.say(sender, "我的电话是13812345678，身份证610302199001011234")
    assert reply_text(reply)
    stored = services.user_texts("rest:" + sender)
    assert stored == ["我的电话是*******5678，身份证**************1234"]
    with sqlite3.connect(f"file:{services.tracker_db}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ?", ("rest:" + sender,)).fetchall()
    assert rows and not any("13812345678" in data or "610302199001011234" in data for (data,) in rows)


def test_database_files_are_private(services):
    services.say(new_sender(), "你好")
    for path in (services.tracker_db, services.var_dir / "knowledge.db"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_a_flooding_sender_is_slowed_down_while_others_are_answered(services):
    flooder = new_sender()
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda _: requests.post(f"{services.rasa_url}/webhooks/rest/webhook", timeout=60,
                                                        json={"sender": flooder, "message": "你好"}), range(16)))
    assert [r.status_code for r in replies].count(429) >= 4
    assert all(r.json()[0]["text"] == SLOW_DOWN_REPLY for r in replies if r.status_code == 429)
    assert "20万" in reply_text(services.say(new_sender(), "创业担保贷款最多能贷多少？"))


NESTED = b"[" * 5000 + b"]" * 5000


def test_deeply_nested_json_is_400_on_every_json_endpoint(services):
    targets = [f"{services.rasa_url}/webhooks/rest/webhook"] + [
        f"{services.service_url}{path}" for path in ("/api/chat", "/api/feedback", "/api/answer", "/api/entitlements")]
    for url in targets:
        response = requests.post(url, data=NESTED, headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code == 400, url


def test_oversized_rest_body_is_refused_while_streaming(services):
    def chunks():
        for _ in range(4096):  # 64 MiB if it were all read
            yield b"x" * 16384
    try:
        response = requests.post(f"{services.rasa_url}/webhooks/rest/webhook", data=chunks(), timeout=60,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 413
    except requests.ConnectionError:
        pass  # the server hung up before the client finished sending: refused, too
    assert "20万" in reply_text(services.say(new_sender(), "创业担保贷款最多能贷多少？"))
