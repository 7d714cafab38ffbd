"""The WeChat protocol end to end against a fake bot and the fake customer-service API (no Rasa needed).

The reply deadline runs on an injected clock: `endpoint` freezes it (every answer is in time), `late_endpoint`
moves it a whole deadline at each reading (no answer is ever in time). Nothing here waits on real time:
`endpoint.settle()` returns when every message's work and its customer-service messages are done.
"""
import asyncio
import base64
import logging
import os
import time

import pytest

from bot.guard import NO_TEXT_REPLY
from bot.text_split import utf8_len
from bot.wechat_config import WeChatSettings
from bot.wechat_endpoint import (VOICE_NOT_RECOGNISED_REPLY, OpenIdRedactor, WeChatEndpoint,
                                 openid_pseudonym)
from tests.support.fake_wechat_api import FakeWeChatApi
from tests.support.wechat_client import WeChatServerSide, new_openid

TOKEN, APP_ID, SECRET = "unit-token", "wx00unit00000000", "unit-secret"
AES_KEY = base64.b64encode(os.urandom(32)).decode()[:-1]
DEADLINE = 4.5  # on the frozen clock only a stalled event loop could reach it


class Clock:
    """Monotonic seconds for the endpoint's deadline: frozen, or `step` seconds later at each reading."""

    def __init__(self, step=0.0):
        self.now, self.step = 1000.0, step

    def __call__(self):
        self.now += self.step
        return self.now


class FakeBot:
    def __init__(self):
        self.calls = []
        self.delay = 0.0
        self.answer = None
        self.fail = False

    async def __call__(self, openid, text, metadata):
        self.calls.append((openid, text))
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("tracker store down")
        return self.answer if self.answer is not None else [{"recipient_id": openid, "text": f"答：{text}"}]


@pytest.fixture(scope="module")
def fake_api():
    api = FakeWeChatApi(APP_ID, SECRET).start()
    yield api
    api.stop()


@pytest.fixture
def bot():
    return FakeBot()


@pytest.fixture
def wechat():
    return WeChatServerSide(TOKEN, APP_ID, AES_KEY, "gh_unit")


def unit_settings(fake_api):
    return WeChatSettings.load(None, {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": APP_ID,
                                      "WECHAT_APP_SECRET": SECRET, "WECHAT_AES_KEY": AES_KEY,
                                      "WECHAT_API_BASE": fake_api.url, "WECHAT_REPLY_DEADLINE": str(DEADLINE)})


@pytest.fixture
def endpoint(bot, fake_api):
    return WeChatEndpoint(unit_settings(fake_api), bot, follow_up_delay_s=0, clock=Clock())


@pytest.fixture
def late_endpoint(bot, fake_api):
    return WeChatEndpoint(unit_settings(fake_api), bot, follow_up_delay_s=0, clock=Clock(step=DEADLINE))


async def post(endpoint, wechat, xml, query=None):
    """Post as WeChat does in safe mode (the endpoint has an EncodingAESKey)."""
    query, body = wechat.seal(query or wechat.signed_query(), xml)
    return await endpoint.receive(query, body.encode())


async def pushed(endpoint, fake_api, openid):
    """Every customer-service message the user got, once the endpoint has nothing left to send."""
    await endpoint.settle()
    return [message.content for message in fake_api.messages_to(openid)]


# --- verification -------------------------------------------------------------------------------
def test_url_verification_echoes_only_when_signed(endpoint, wechat):
    assert endpoint.verify(wechat.signed_query(echostr="12345")).body == "12345"
    forged = {**wechat.signed_query(echostr="12345"), "signature": "0" * 40}
    assert endpoint.verify(forged).status == 403


async def test_unconfigured_channel_answers_503(bot):
    endpoint = WeChatEndpoint(WeChatSettings.load(None, {}), bot)
    assert endpoint.verify({"echostr": "1"}).status == 503
    assert (await endpoint.receive({}, b"<xml/>")).status == 503


# --- refused requests -----------------------------------------------------------------------------
async def test_forged_signature_is_403_and_nothing_processed(endpoint, wechat, bot):
    query = {**wechat.signed_query(), "signature": "f" * 40}
    assert (await post(endpoint, wechat, wechat.text(new_openid(), "你好"), query)).status == 403
    assert bot.calls == []


async def test_xxe_body_is_400_and_nothing_processed(endpoint, wechat, bot):
    xml = ('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           + wechat.text(new_openid(), "&xxe;").replace("<![CDATA[&xxe;]]>", "&xxe;"))
    assert (await post(endpoint, wechat, xml)).status == 400
    assert bot.calls == []


async def test_oversized_body_is_413(endpoint, wechat, bot):
    xml = wechat.text(new_openid(), "贷" * 20000)
    assert (await post(endpoint, wechat, xml)).status == 413
    assert bot.calls == []


async def test_encrypted_body_with_dtd_inside_is_400(endpoint, wechat, bot):
    inner = '<!DOCTYPE xml [<!ENTITY a "b">]>' + wechat.text(new_openid(), "你好")
    query, body = wechat.encrypted(inner)
    assert (await post(endpoint, wechat, body, query)).status == 400
    assert bot.calls == []


async def test_wrong_msg_signature_is_403(endpoint, wechat, bot):
    query, body = wechat.encrypted(wechat.text(new_openid(), "你好"))
    query["msg_signature"] = "0" * 40
    assert (await post(endpoint, wechat, body, query)).status == 403
    assert bot.calls == []


# --- message types --------------------------------------------------------------------------------
async def test_text_goes_to_bot_with_openid_as_sender(endpoint, wechat, bot):
    openid = new_openid()
    reply = wechat.reply((await post(endpoint, wechat, wechat.text(openid, " 摆摊要交费吗 "))).body)
    assert reply.type == "text" and reply.content == "答：摆摊要交费吗"
    assert reply.target == openid and reply.source == "gh_unit"
    assert bot.calls == [(openid, "摆摊要交费吗")]


async def test_voice_recognition_goes_to_bot(endpoint, wechat, bot):
    reply = wechat.reply((await post(endpoint, wechat, wechat.voice(new_openid(), "贷款能贷多少"))).body)
    assert reply.content == "答：贷款能贷多少"


async def test_voice_without_recognition_asks_to_type(endpoint, wechat, bot):
    reply = wechat.reply((await post(endpoint, wechat, wechat.voice(new_openid(), ""))).body)
    assert reply.content == VOICE_NOT_RECOGNISED_REPLY and bot.calls == []


async def test_subscribe_gets_the_bots_greeting(endpoint, wechat, bot):
    openid = new_openid()
    await post(endpoint, wechat, wechat.event(openid, "subscribe"))
    assert bot.calls == [(openid, "/greet")]


@pytest.mark.parametrize("event", ["unsubscribe", "LOCATION", "CLICK", "some_future_event"])
async def test_other_events_get_success_and_no_bot(endpoint, wechat, bot, event):
    response = await post(endpoint, wechat, wechat.event(new_openid(), event))
    assert response.body == "success" and bot.calls == []


async def test_image_gets_polite_text_only_notice(endpoint, wechat, bot):
    reply = wechat.reply((await post(endpoint, wechat, wechat.image(new_openid()))).body)
    assert reply.content == NO_TEXT_REPLY and bot.calls == []


async def test_emoji_only_text_is_screened(endpoint, wechat, bot):
    reply = wechat.reply((await post(endpoint, wechat, wechat.text(new_openid(), "😀🎉"))).body)
    assert reply.content == NO_TEXT_REPLY and bot.calls == []


async def test_bot_failure_gets_polite_reply(endpoint, wechat, bot):
    bot.fail = True
    reply = wechat.reply((await post(endpoint, wechat, wechat.text(new_openid(), "你好"))).body)
    assert "出了点问题" in reply.content


async def test_typed_button_title_sends_its_payload(endpoint, wechat, bot):
    openid = new_openid()
    bot.answer = [{"text": "您好", "buttons": [{"title": "帮我算算能享受啥", "payload": "/check_entitlements"}]}]
    first = wechat.reply((await post(endpoint, wechat, wechat.text(openid, "你好"))).body)
    assert first.content.endswith("您可以直接回复：「帮我算算能享受啥」")
    bot.answer = None
    await post(endpoint, wechat, wechat.text(openid, "帮我算算能享受啥"))
    assert bot.calls[-1] == (openid, "/check_entitlements")


# --- duplicates, deadline, long answers, handoff --------------------------------------------------
async def test_same_msg_id_three_times_concurrently_is_processed_once(endpoint, wechat, bot):
    bot.delay = 0.1
    xml = wechat.text(new_openid(), "创业担保贷款")
    responses = await asyncio.gather(*(post(endpoint, wechat, xml) for _ in range(3)))
    assert len(bot.calls) == 1
    contents = {wechat.reply(r.body).content for r in responses}
    assert contents == {"答：创业担保贷款"}


async def test_late_answer_gets_success_then_one_customer_service_message(late_endpoint, wechat, bot, fake_api):
    openid = new_openid()
    xml = wechat.text(openid, "慢问题")
    response = await post(late_endpoint, wechat, xml)
    assert response.body == "success"
    retry = await post(late_endpoint, wechat, xml)  # WeChat's retry of the same message
    assert retry.body == "success"
    assert await pushed(late_endpoint, fake_api, openid) == ["答：慢问题"]
    assert len(bot.calls) == 1


async def test_deadline_counts_from_the_requests_arrival(endpoint, wechat, bot, fake_api):
    openid = new_openid()
    arrived = endpoint.clock() - DEADLINE  # the channel read the body for a whole deadline
    query, body = wechat.seal(wechat.signed_query(), wechat.text(openid, "慢问题"))
    assert (await endpoint.receive(query, body.encode(), arrived)).body == "success"
    assert await pushed(endpoint, fake_api, openid) == ["答：慢问题"]


async def test_concurrent_copies_of_a_late_message_push_once(late_endpoint, wechat, bot, fake_api):
    openid = new_openid()
    xml = wechat.text(openid, "慢问题")
    responses = await asyncio.gather(*(post(late_endpoint, wechat, xml) for _ in range(3)))
    assert {r.body for r in responses} == {"success"}
    assert await pushed(late_endpoint, fake_api, openid) == ["答：慢问题"]
    assert len(bot.calls) == 1


async def test_no_late_answer_after_48_hours(late_endpoint, wechat, bot, fake_api):
    openid = new_openid()
    xml = wechat.text(openid, "旧消息", create_time=int(time.time()) - 49 * 3600)
    assert (await post(late_endpoint, wechat, xml)).body == "success"
    assert await pushed(late_endpoint, fake_api, openid) == []
    assert bot.calls == [(openid, "旧消息")]


async def test_long_answer_first_part_passive_rest_via_customer_service(endpoint, wechat, bot, fake_api):
    openid = new_openid()
    long_answer = "".join(f"第{n}句：创业担保贷款最高额度为20万元。" for n in range(1, 400))
    bot.answer = [{"text": long_answer}, {"text": "这个回答对您有帮助吗？"}]
    reply = wechat.reply((await post(endpoint, wechat, wechat.text(openid, "长问题"))).body)
    rest = await pushed(endpoint, fake_api, openid)
    parts = [reply.content] + rest
    assert len(parts) > 2 and all(utf8_len(part) <= 2048 for part in parts)
    assert "".join(parts).replace("\n", "") == long_answer + "这个回答对您有帮助吗？"


async def test_handoff_transfers_to_customer_service(endpoint, wechat, bot, fake_api):
    openid = new_openid()
    bot.answer = [{"text": "好的，已为您转接人工客服。"}, {"custom": {"handoff": True}}]
    reply = wechat.reply((await post(endpoint, wechat, wechat.text(openid, "转人工"))).body)
    assert reply.type == "transfer_customer_service"
    assert await pushed(endpoint, fake_api, openid) == ["好的，已为您转接人工客服。"]


async def test_safe_mode_round_trip(endpoint, wechat, bot):
    openid = new_openid()
    query, body = wechat.encrypted(wechat.text(openid, "加密的问题"))
    response = await post(endpoint, wechat, body, query)
    reply = wechat.reply(wechat.decrypt_reply(response.body))
    assert reply.content == "答：加密的问题" and reply.target == openid


async def test_openid_never_appears_in_logs(endpoint, late_endpoint, wechat, bot, caplog):
    caplog.set_level(logging.DEBUG)
    openid = new_openid()
    bot.fail = True
    await post(endpoint, wechat, wechat.text(openid, "你好"))
    bot.fail = False
    await post(late_endpoint, wechat, wechat.text(openid, "慢"))
    await late_endpoint.settle()
    assert "not ready in time" in caplog.text and "failed" in caplog.text
    assert openid not in caplog.text


def test_access_log_lines_show_a_pseudonym_instead_of_the_openid():
    openid = new_openid()
    record = logging.LogRecord("sanic.access", logging.INFO, __file__, 1, "", None, None)
    record.request = f"POST http://h/webhooks/wechat/webhook?signature=x&openid={openid}&nonce=1"
    assert OpenIdRedactor().filter(record)
    assert openid not in record.request and f"openid={openid_pseudonym(openid)}&nonce=1" in record.request


# --- replay protection ------------------------------------------------------------------------------
async def test_plaintext_is_refused_while_an_aes_key_is_configured(endpoint, wechat, bot):
    response = await endpoint.receive(wechat.signed_query(), wechat.text(new_openid(), "你好").encode())
    assert response.status == 403 and "encrypt_type=aes" in response.body
    assert bot.calls == []


async def test_plaintext_is_accepted_when_no_key_is_configured(bot):
    plain = WeChatEndpoint(WeChatSettings.load(None, {"WECHAT_TOKEN": TOKEN}), bot)
    wechat = WeChatServerSide(TOKEN, APP_ID, AES_KEY, "gh_unit")
    response = await plain.receive(wechat.signed_query(), wechat.text(new_openid(), "你好").encode())
    assert response.status == 200 and "答：你好" in response.body


async def test_captured_query_string_replayed_for_another_message_is_403(endpoint, wechat, bot):
    victim, attacker = new_openid(), new_openid()
    captured = wechat.signed_query()
    assert (await post(endpoint, wechat, wechat.text(victim, "你好"), captured)).status == 200
    replayed = await post(endpoint, wechat, wechat.text(attacker, "跳过"), captured)
    assert replayed.status == 403
    assert bot.calls == [(victim, "你好")]


async def test_wechat_retry_of_the_same_msg_id_with_the_same_query_gets_the_same_reply(endpoint, wechat, bot):
    openid = new_openid()
    query, xml = wechat.signed_query(), wechat.text(openid, "你好", msg_id=987654321)
    first = await post(endpoint, wechat, xml, query)
    again = await post(endpoint, wechat, xml, query)
    assert first.status == again.status == 200
    assert wechat.reply(first.body).content == wechat.reply(again.body).content == "答：你好"
    assert bot.calls == [(openid, "你好")]


@pytest.mark.parametrize("offset", [-301, 301, -10**9])
async def test_timestamp_outside_the_300_s_window_is_403(endpoint, wechat, bot, offset):
    now = 1_780_000_000  # the endpoint's clock is frozen: a loaded machine cannot move the boundary
    frozen = WeChatEndpoint(endpoint.settings, bot, api=endpoint.api, follow_up_delay_s=0, wall_clock=lambda: now)
    timestamp, nonce = str(now + offset), "n" + str(offset)
    query = {"signature": wechat.signature(timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    assert (await post(frozen, wechat, wechat.text(new_openid(), "你好"), query)).status == 403
    assert frozen.verify({**query, "echostr": "1"}).status == 403
    assert bot.calls == []


async def test_a_flooding_openid_is_asked_to_slow_down_while_others_are_answered(bot, fake_api):
    from bot.ratelimit import SLOW_DOWN_REPLY, RateLimiter
    settings = WeChatSettings.load(None, {"WECHAT_TOKEN": TOKEN})
    limited = WeChatEndpoint(settings, bot, limiter=RateLimiter(rate_per_s=0.001, burst=2))
    wechat = WeChatServerSide(TOKEN, APP_ID, AES_KEY, "gh_unit")
    flooder, other = new_openid(), new_openid()

    async def ask(openid, text):
        return wechat.reply((await limited.receive(wechat.signed_query(), wechat.text(openid, text).encode())).body)

    answers = [(await ask(flooder, f"问题{n}")).content for n in range(4)]
    assert answers[:2] == ["答：问题0", "答：问题1"] and answers[2:] == [SLOW_DOWN_REPLY] * 2
    assert (await ask(other, "你好")).content == "答：你好"
    assert len(bot.calls) == 3
