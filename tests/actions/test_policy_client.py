"""actions/policy_client.py against a local aiohttp server standing in for the policy service.

The server's handlers decide each answer (JSON, a 4xx or 5xx, a body that is not JSON, or never answering),
so every path of the client runs over real HTTP. A server that never answers is cut off by the client's own
timeout (shortened here), not by anything in the test waiting.
"""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from actions import actions, policy_client
from actions.policy_client import PolicyClient, PolicyRequestRejected, PolicyServiceUnavailable


class PolicyServiceDouble:
    """Records each request; `reply` (method, path, body) -> web.Response decides the answer."""

    def __init__(self):
        self.requests: list[tuple[str, str, object]] = []
        self.reply = lambda method, path, body: web.json_response({"echo": body})
        self.never_answer = asyncio.Event()  # set only when the test ends, to release hung handlers

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.requests.append((request.method, request.path, body))
        reply = self.reply(request.method, request.path, body)
        if reply is None:
            await self.never_answer.wait()
            return web.Response(status=204)
        return reply


@pytest.fixture
async def service():
    double = PolicyServiceDouble()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", double.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    double.url = str(server.make_url(""))
    yield double
    double.never_answer.set()
    await server.close()


@pytest.fixture
async def closed_port_url():
    """The URL of a port nothing listens on: a server is started there and closed again."""
    server = TestServer(web.Application(), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url(""))
    await server.close()
    return url


async def test_answer_posts_the_question_with_its_evidence_and_returns_the_json(service):
    service.reply = lambda method, path, body: web.json_response({"kind": "answer", "parts": ["答"]})
    reply = await PolicyClient(service.url).answer("贷款最多多少", intent="ask_loan", confidence=0.9,
                                                   context={"topic": "loan"}, sender="rest:u1", channel="rest")
    assert reply == {"kind": "answer", "parts": ["答"]}
    assert service.requests == [("POST", "/api/answer", {
        "q": "贷款最多多少", "intent": "ask_loan", "confidence": 0.9, "context": {"topic": "loan"},
        "sender": "rest:u1", "channel": "rest"})]


@pytest.mark.parametrize("call, path", [
    (lambda client: client.entitlements({"age": 30}), "/api/entitlements"),
    (lambda client: client.feedback({"kind": "negative"}), "/api/feedback"),
    (lambda client: client.handoff({"sender": "rest:u1"}), "/api/handoff"),
])
async def test_each_call_posts_its_record_to_its_route(service, call, path):
    await call(PolicyClient(service.url))
    method, got_path, body = service.requests[0]
    assert (method, got_path) == ("POST", path)
    assert body == {"/api/entitlements": {"age": 30}, "/api/feedback": {"kind": "negative"},
                    "/api/handoff": {"sender": "rest:u1"}}[path]


async def test_documents_are_read_with_a_get_and_missing_ones_are_an_empty_list(service):
    service.reply = lambda method, path, body: web.json_response({"documents": [{"id": "baoji-2020-49"}]})
    assert await PolicyClient(service.url).documents() == [{"id": "baoji-2020-49"}]
    service.reply = lambda method, path, body: web.json_response({})
    assert await PolicyClient(service.url).documents() == []
    assert [request[:2] for request in service.requests] == [("GET", "/api/documents")] * 2


async def test_the_base_url_comes_from_the_environment_without_its_trailing_slash(service, monkeypatch):
    monkeypatch.setenv("POLICY_SERVICE_URL", service.url + "/")
    client = PolicyClient()
    assert client.base_url == service.url.rstrip("/")
    await client.feedback({"kind": "positive"})
    assert service.requests[0][1] == "/api/feedback"
    monkeypatch.delenv("POLICY_SERVICE_URL")
    assert PolicyClient().base_url == policy_client.DEFAULT_URL


async def test_a_4xx_is_a_rejection_carrying_the_services_reason(service):
    service.reply = lambda method, path, body: web.json_response({"error": "age must be 16–60"}, status=422)
    with pytest.raises(PolicyRequestRejected) as rejected:
        await PolicyClient(service.url).entitlements({"age": 99})
    assert rejected.value.message == "age must be 16–60"


async def test_a_4xx_without_a_reason_names_its_status(service):
    service.reply = lambda method, path, body: web.json_response(None, status=404)
    with pytest.raises(PolicyRequestRejected) as rejected:
        await PolicyClient(service.url).documents()
    assert rejected.value.message == "HTTP 404"


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_means_the_service_is_unavailable(service, status):
    service.reply = lambda method, path, body: web.json_response({"error": "boom"}, status=status)
    with pytest.raises(PolicyServiceUnavailable, match=f"HTTP {status}"):
        await PolicyClient(service.url).answer("贷款")


async def test_a_body_that_is_not_json_means_the_service_is_unavailable(service):
    service.reply = lambda method, path, body: web.Response(text="<html>proxy error</html>", status=200)
    with pytest.raises(PolicyServiceUnavailable):
        await PolicyClient(service.url).answer("贷款")


async def test_nothing_listening_means_the_service_is_unavailable(closed_port_url):
    with pytest.raises(PolicyServiceUnavailable):
        await PolicyClient(closed_port_url).answer("贷款")


async def test_a_service_that_never_answers_is_cut_off_by_the_timeout(service, monkeypatch):
    monkeypatch.setattr(policy_client, "TIMEOUT", aiohttp.ClientTimeout(total=0.2))
    service.reply = lambda method, path, body: None
    with pytest.raises(PolicyServiceUnavailable, match="TimeoutError"):
        await PolicyClient(service.url).answer("贷款")
    assert len(service.requests) == 1  # it was asked once, and not again


def test_the_default_timeout_leaves_the_action_time_to_answer_within_its_deadline():
    """Rasa gives an action ACTION_TIMEOUT (3 s, bot/rasa_tuning.py): the client must give up before that."""
    assert policy_client.TIMEOUT.total < 3.0


# --- the degraded replies, through the real client -------------------------------------------------------
@pytest.fixture
def answer_action_against(monkeypatch):
    def point_at(url: str) -> actions.ActionAnswerPolicy:
        monkeypatch.setenv("POLICY_SERVICE_URL", url)
        return actions.ActionAnswerPolicy()
    return point_at


async def test_the_answer_action_degrades_politely_when_nothing_listens(
        closed_port_url, answer_action_against, tracker_from, dispatcher):
    await answer_action_against(closed_port_url).run(dispatcher, tracker_from("loan_question"), {})
    assert dispatcher.messages[0]["text"] == actions.SERVICE_DOWN_REPLY
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/human_handoff"


async def test_the_answer_action_degrades_politely_when_the_service_hangs(
        service, monkeypatch, answer_action_against, tracker_from, dispatcher):
    monkeypatch.setattr(policy_client, "TIMEOUT", aiohttp.ClientTimeout(total=0.2))
    service.reply = lambda method, path, body: None
    await answer_action_against(service.url).run(dispatcher, tracker_from("loan_question"), {})
    assert dispatcher.messages[0]["text"] == actions.SERVICE_DOWN_REPLY


async def test_the_answer_action_degrades_politely_on_a_server_error(
        service, answer_action_against, tracker_from, dispatcher):
    service.reply = lambda method, path, body: web.json_response({"error": "index missing"}, status=503)
    await answer_action_against(service.url).run(dispatcher, tracker_from("loan_question"), {})
    assert dispatcher.messages[0]["text"] == actions.SERVICE_DOWN_REPLY
    assert service.requests[0][1] == "/api/answer"
