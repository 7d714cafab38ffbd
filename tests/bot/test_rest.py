"""bot/rest.py: the validated REST channel and the web chat's channel, served by Sanic as Rasa serves them.

A scripted agent replaces Rasa's dialogue (tests/support/rasa_channel.py); everything between the HTTP request
and the agent — body limit, validation, screening, namespacing, rate limit, deadline, fallback and pause — is
the channel's own code. Runs in the Rasa runtime (.venv/rasa).
"""
from __future__ import annotations

import aiohttp
import pytest

from bot import channel_policy, rest
from bot.channel_policy import SLOW_REPLY
from bot.guard import EMPTY_REPLY, MAX_BODY_BYTES, PROCESSING_FAILED_REPLY
from bot.pause import PAUSED_MARKER
from bot.ratelimit import SENDER_BURST, SENDER_RATE_PER_S, SLOW_DOWN_REPLY, sender_limiter
from tests.support.rasa_channel import ChannelServer

PROXY_TOKEN = "unit-proxy-token"


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def served():
    async with ChannelServer(rest.GuardedRestInput()) as server:
        yield server


async def post(http, url, body, headers=None):
    kwargs = {"data": body} if isinstance(body, (bytes, str)) else {"json": body}
    async with http.post(url + "/webhook", headers=headers, **kwargs) as response:
        return response.status, await response.json(content_type=None), response.headers


async def test_health(served, http):
    async with http.get(served.url + "/") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_a_message_reaches_the_bot_under_a_namespaced_sender_and_the_reply_names_the_client(served, http):
    status, replies, _ = await post(http, served.url, {"sender": "u1", "message": "贷款能贷多少", "metadata": {"a": 1}})
    assert status == 200
    assert replies == [{"recipient_id": "u1", "text": "答：贷款能贷多少"}]
    message = served.agent.received[0]
    assert (message.sender_id, message.text, message.input_channel, message.metadata) == (
        "rest:u1", "贷款能贷多少", "rest", {"a": 1})


@pytest.mark.parametrize("body, reason", [
    (b"\xff\xfe", "not valid UTF-8"),
    (b"{not json", "not JSON"),
    (b'["a list"]', "must be a JSON object"),
    (b'{"sender": "u1"}', 'field "message" is required'),
    (b'{"sender": "", "message": "hi"}', 'field "sender"'),
    (b'{"message": "hi", "metadata": [1]}', 'field "metadata"'),
])
async def test_a_malformed_body_is_a_400_with_its_reason_and_the_bot_is_not_run(served, http, body, reason):
    status, answer, _ = await post(http, served.url, body, headers={"Content-Type": "application/json"})
    assert status == 400 and reason in answer["error"]
    assert served.agent.received == []


async def test_a_body_over_the_limit_is_refused_while_it_streams_in(served, http):
    status, answer, _ = await post(http, served.url, b'{"message": "' + b"a" * MAX_BODY_BYTES + b'"}')
    assert status == 413 and str(MAX_BODY_BYTES) in answer["error"]
    assert served.agent.received == []


async def test_screened_text_is_answered_by_the_channel_without_the_bot(served, http):
    status, replies, _ = await post(http, served.url, {"sender": "u1", "message": " \u200b "})
    assert (status, replies) == (200, [{"recipient_id": "u1", "text": EMPTY_REPLY}])
    assert served.agent.received == []


async def test_control_characters_are_removed_before_the_bot_sees_the_text(served, http):
    await post(http, served.url, {"sender": "u1", "message": "摆摊\u200b要交费吗\x07"})
    assert served.agent.received[0].text == "摆摊要交费吗"


async def test_a_sender_over_its_rate_is_told_to_slow_down_with_retry_after(served, http):
    served.channel.limiter = sender_limiter(clock=lambda: 1000.0)  # time stands still: no token comes back
    for _ in range(SENDER_BURST):
        assert (await post(http, served.url, {"sender": "fast", "message": "你好"}))[0] == 200
    status, replies, headers = await post(http, served.url, {"sender": "fast", "message": "你好"})
    assert (status, replies) == (429, [{"recipient_id": "fast", "text": SLOW_DOWN_REPLY}])
    assert int(headers["Retry-After"]) == int(1 / SENDER_RATE_PER_S) + 1
    assert len(served.agent.received) == SENDER_BURST
    assert (await post(http, served.url, {"sender": "other", "message": "你好"}))[0] == 200  # per sender


async def test_a_late_bot_gets_what_it_said_so_far_and_the_slow_reply(served, http, monkeypatch):
    monkeypatch.setattr(rest, "within_deadline", lambda work: channel_policy.within_deadline(work, deadline_s=0.05))
    served.agent.reply = served.agent.never
    status, replies, _ = await post(http, served.url, {"sender": "u1", "message": "贷款"})
    assert (status, replies) == (200, [{"recipient_id": "u1", "text": SLOW_REPLY}])


async def test_a_bot_that_fails_or_says_nothing_still_answers_politely(served, http):
    async def fail(message):
        raise RuntimeError("tracker store down")

    async def silent(message):
        return []

    for reply in (fail, silent):
        served.agent.reply = reply
        status, replies, _ = await post(http, served.url, {"sender": "u1", "message": "贷款"})
        assert (status, replies) == (200, [{"recipient_id": "u1", "text": PROCESSING_FAILED_REPLY}])


async def test_a_conversation_an_agent_holds_gets_the_pause_marker_not_the_failure_reply(served, http):
    async def silent(message):
        return []
    served.agent.reply = silent
    await served.agent.pause("rest:held")
    status, replies, _ = await post(http, served.url, {"sender": "held", "message": "在吗"})
    assert (status, replies) == (200, [{**PAUSED_MARKER, "recipient_id": "held"}])


# --- the web chat's channel -------------------------------------------------------------------------------
@pytest.fixture
async def web(monkeypatch):
    monkeypatch.setenv("CHAT_PROXY_TOKEN", PROXY_TOKEN)
    async with ChannelServer(rest.WebChatInput()) as server:
        yield server


async def test_the_web_channel_serves_only_the_policy_service(web, http):
    body = {"sender": "browser-1", "message": "贷款"}
    assert (await post(http, web.url, body))[0] == 403
    assert (await post(http, web.url, body, headers={rest.PROXY_TOKEN_HEADER: "guess"}))[0] == 403
    status, replies, _ = await post(http, web.url, body, headers={rest.PROXY_TOKEN_HEADER: PROXY_TOKEN})
    assert (status, replies) == (200, [{"recipient_id": "browser-1", "text": "答：贷款"}])
    assert [m.sender_id for m in web.agent.received] == ["web:browser-1"]


async def test_the_web_channel_is_off_without_a_proxy_token(monkeypatch, http):
    monkeypatch.delenv("CHAT_PROXY_TOKEN", raising=False)
    async with ChannelServer(rest.WebChatInput()) as server:
        status, answer, _ = await post(http, server.url, {"sender": "b", "message": "贷款"},
                                       headers={rest.PROXY_TOKEN_HEADER: ""})
        assert status == 503 and "CHAT_PROXY_TOKEN" in answer["error"]
        assert server.agent.received == []
