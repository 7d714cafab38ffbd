"""bot/wechat.py: the WeChat input channel as Rasa serves it — settings, routes, the bot call, pauses, the log.

The protocol itself (signatures, safe mode, deadlines, pushes) is tested in test_wechat_endpoint.py; here a
real Sanic server carries the channel's blueprint and a scripted agent stands in for Rasa's dialogue
(tests/support/rasa_channel.py), and WeChat's side is built with wechatpy (tests/support/wechat_client.py).
Runs in the Rasa runtime (.venv/rasa).
"""
from __future__ import annotations

import base64
import dataclasses
import logging
import os

import aiohttp
import pytest
from wechatpy.replies import EmptyReply

from bot.wechat import WeChatInput
from bot.wechat_config import WeChatSettings
from bot.wechat_endpoint import OpenIdRedactor
from tests.support.rasa_channel import ChannelServer
from tests.support.wechat_client import WeChatServerSide, new_openid

TOKEN, APP_ID = "unit-token", "wx00unit00000000"
AES_KEY = base64.b64encode(os.urandom(32)).decode()[:-1]


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def wechat():
    return WeChatServerSide(TOKEN, APP_ID, AES_KEY, "gh_unit")


def plaintext_settings(**changes) -> WeChatSettings:
    """Plaintext mode (no EncodingAESKey) and no AppSecret: every answer is the passive reply."""
    return dataclasses.replace(WeChatSettings.load(None, {"WECHAT_TOKEN": TOKEN}), **changes)


@pytest.fixture
async def served():
    async with ChannelServer(WeChatInput(plaintext_settings())) as server:
        yield server


async def post(http, url, query, xml):
    async with http.post(url + "/webhook", params=query, data=xml.encode("utf-8")) as response:
        return response.status, await response.text()


def test_settings_come_from_the_environment_and_credentials_override_them(monkeypatch):
    monkeypatch.setenv("WECHAT_TOKEN", "from-env")
    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_AES_KEY", AES_KEY)
    channel = WeChatInput.from_credentials({"token": "from-credentials"})
    assert (channel.settings.token, channel.settings.app_id, channel.settings.aes_key) == (
        "from-credentials", APP_ID, AES_KEY)
    assert WeChatInput.name() == "wechat"


def test_the_access_log_filter_is_installed_once(monkeypatch):
    access_log = logging.getLogger("sanic.access")
    monkeypatch.setattr(access_log, "filters", [])
    WeChatInput(plaintext_settings())
    WeChatInput(plaintext_settings())
    assert [type(f) for f in access_log.filters] == [OpenIdRedactor]


async def test_health_says_whether_the_channel_is_configured(http):
    for settings, status in ((plaintext_settings(), "ok"), (WeChatSettings(), "not configured")):
        async with ChannelServer(WeChatInput(settings)) as server:
            async with http.get(server.url + "/") as response:
                assert await response.json() == {"status": status}


async def test_url_verification_reads_the_query_string(served, http, wechat):
    async with http.get(served.url + "/webhook", params=wechat.signed_query(echostr="8372")) as response:
        assert (response.status, await response.text()) == (200, "8372")
    forged = {**wechat.signed_query(echostr="8372"), "signature": "0" * 40}
    async with http.get(served.url + "/webhook", params=forged) as response:
        assert response.status == 403


async def test_a_text_message_reaches_the_bot_as_a_namespaced_sender_and_the_reply_is_passive(served, http, wechat):
    openid = new_openid()
    status, body = await post(http, served.url, wechat.signed_query(), wechat.text(openid, "摆摊要交费吗"))
    assert status == 200
    reply = wechat.reply(body)
    assert (reply.content, reply.target) == ("答：摆摊要交费吗", openid)
    message = served.agent.received[0]
    assert (message.sender_id, message.text, message.input_channel) == (f"wechat:{openid}", "摆摊要交费吗", "wechat")


async def test_safe_mode_through_the_channel(http, wechat):
    settings = WeChatSettings.load(None, {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID, "WECHAT_AES_KEY": AES_KEY})
    async with ChannelServer(WeChatInput(settings)) as server:
        openid = new_openid()
        query, body = wechat.encrypted(wechat.text(openid, "加密的问题"))
        status, answer = await post(http, server.url, query, body)
        assert status == 200 and "<Encrypt>" in answer
        assert wechat.reply(answer).content == "答：加密的问题"


async def test_a_body_over_the_limit_is_refused_before_the_bot_runs(http, wechat):
    async with ChannelServer(WeChatInput(plaintext_settings(max_body_bytes=512))) as server:
        status, answer = await post(http, server.url, wechat.signed_query(), wechat.text(new_openid(), "长" * 400))
        assert (status, answer) == (413, "request body too large")
        assert server.agent.received == []


async def test_an_unconfigured_channel_answers_503(http, wechat):
    async with ChannelServer(WeChatInput(WeChatSettings())) as server:
        status, answer = await post(http, server.url, wechat.signed_query(), wechat.text(new_openid(), "你好"))
        assert status == 503 and "WECHAT_TOKEN" in answer
        assert server.agent.received == []


async def test_a_conversation_an_agent_holds_gets_no_bot_reply(served, http, wechat):
    async def silent(message):
        return []
    served.agent.reply = silent
    held, free = new_openid(), new_openid()
    await served.agent.pause(f"wechat:{held}")
    _, body = await post(http, served.url, wechat.signed_query(), wechat.text(held, "在吗"))
    assert isinstance(wechat.reply(body), EmptyReply)  # the agent answers through the customer-service API
    _, body = await post(http, served.url, wechat.signed_query(), wechat.text(free, "在吗"))
    assert wechat.reply(body).content  # a silent bot in a conversation nobody holds: the polite failure reply
