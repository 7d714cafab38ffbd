"""Public routes of the policy service under hostile input: identity, JSON only, caps, Origin, rate limits."""
import json
from urllib.parse import urlsplit

import pytest
import requests

from tests.service.conftest import STAFF_TOKEN, FakeRasa

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@pytest.fixture
def fake_rasa(policy_service):
    rasa = FakeRasa(urlsplit(policy_service.settings.rasa_url).port).start()
    yield rasa
    rasa.stop()


def test_chat_sender_comes_from_the_signed_cookie_never_from_the_body(policy_service, fake_rasa):
    browser = requests.Session()
    first = browser.post(policy_service.url + "/api/chat", json={"sender": "wechat:victim", "message": "跳过"})
    assert first.status_code == 200 and first.json()["messages"][0]["text"] == "答：跳过"
    cookie = first.cookies["policy_chat"]
    chat_id = cookie.split(".")[0]
    assert fake_rasa.received[-1]["body"] == {"sender": chat_id, "message": "跳过"}
    assert "httponly" in first.headers["Set-Cookie"].lower()
    browser.post(policy_service.url + "/api/chat", json={"message": "再问"})
    assert fake_rasa.received[-1]["body"]["sender"] == chat_id  # the same conversation after that
    assert "Set-Cookie" not in browser.post(policy_service.url + "/api/chat", json={"message": "三"}).headers


def test_a_forged_cookie_gets_a_new_conversation(policy_service, fake_rasa):
    forged = requests.post(policy_service.url + "/api/chat", json={"message": "你好"},
                           cookies={"policy_chat": "someone-else.bad-signature"})
    assert forged.status_code == 200
    assert fake_rasa.received[-1]["body"]["sender"] != "someone-else"
    assert forged.cookies["policy_chat"].split(".")[0] == fake_rasa.received[-1]["body"]["sender"]


@pytest.mark.parametrize("path", ["/api/chat", "/api/feedback", "/api/answer", "/api/entitlements"])
def test_deeply_nested_json_is_400(policy_service, path):
    response = policy_service.post(path, data="[" * 5000 + "]" * 5000, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]


@pytest.mark.parametrize("path", ["/api/chat", "/api/feedback"])
def test_public_posts_are_json_only(policy_service, path):
    response = policy_service.post(path, data="kind=positive", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


@pytest.mark.parametrize("path", ["/api/chat", "/api/feedback"])
def test_public_posts_are_capped_at_16_kb(policy_service, path):
    body = json.dumps({"kind": "negative", "message": "贷", "question": "x" * 20_000})
    assert policy_service.post(path, data=body, headers={"Content-Type": "application/json"}).status_code == 413


def test_feedback_fields_are_capped(policy_service):
    response = policy_service.post("/api/feedback", json={"kind": "negative", "clause_ids": ["x"] * 21})
    assert response.status_code == 400 and response.json()["field"] == "clause_ids"
    response = policy_service.post("/api/feedback", json={"kind": "negative", "question": {"nested": 1}})
    assert response.status_code == 400 and response.json()["field"] == "question"


@pytest.mark.parametrize("path", ["/api/chat", "/api/feedback"])
def test_cross_origin_posts_are_refused(policy_service, path):
    response = policy_service.post(path, json={"kind": "positive", "message": "你好"},
                                   headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_same_origin_feedback_is_accepted(policy_service):
    response = policy_service.post("/api/feedback", json={"kind": "positive"}, headers={"Origin": policy_service.url})
    assert response.status_code == 201


def test_feedback_from_one_client_is_rate_limited_without_starving_others(policy_service):
    flooder = {"X-Forwarded-For": "203.0.113.7"}  # as the reverse proxy on this host reports the client
    statuses = [policy_service.post("/api/feedback", json={"kind": "positive"}, headers=flooder).status_code
                for _ in range(30)]
    assert statuses.count(429) >= 5 and statuses[0] == 201
    other = {"X-Forwarded-For": "198.51.100.9"}
    assert policy_service.post("/api/feedback", json={"kind": "positive"}, headers=other).status_code == 201


def test_personal_numbers_in_feedback_are_masked_before_storing(policy_service):
    policy_service.post("/api/feedback", json={"kind": "negative", "question": "我电话13812345678怎么没人回",
                                               "answer": "卡号6222020012345678"})
    stored = policy_service.get("/api/feedback", headers=STAFF).json()["feedback"][0]
    assert stored["question"] == "我电话*******5678怎么没人回"
    assert "6222020012345678" not in json.dumps(stored)


@pytest.mark.parametrize("value", ["Bearer 令牌".encode("utf-8"), b"Bearer \xff\xfe", "令牌".encode("gbk")])
def test_bad_authorization_headers_get_401_never_500(policy_service, value):
    response = policy_service.get("/api/feedback", headers={"Authorization": value})
    assert response.status_code == 401
