"""The WeChat Official Account channel of the real Rasa server, driven by wechatpy as WeChat's side.

Messages are built, signed and (in safe mode) encrypted with wechatpy (tests/support/wechat_client.py), posted
to /webhooks/wechat/webhook, and the replies parsed/decrypted with wechatpy. "Processed" is observed
independently in Rasa's tracker store (SQLite) and at the policy proxy the action server talks through;
late and long answers arrive at the fake customer-service API (tests/support/fake_wechat_api.py).
Slow and 5,000-character answers come from the real bot: the policy proxy delays or rewrites the policy
service's /api/answer for one question (tests/e2e/policy_proxy.py) — no test hooks in production code.
"""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.text_split import utf8_len
from bot.wechat_endpoint import openid_pseudonym
from tests.support.background_server import wait_until
from tests.support.wechat_client import WeChatServerSide, new_openid

LOAN_QUESTION = "创业担保贷款最多能贷多少？"
FEEDBACK_PROMPT = "这个回答对您有帮助吗"


@pytest.fixture(scope="module")
def wechat(wechat_account):
    return WeChatServerSide(wechat_account["token"], wechat_account["app_id"], wechat_account["aes_key"],
                            wechat_account["original_id"])


@pytest.fixture(scope="module")
def webhook(services):
    services.say("wechat-warm-up", LOAN_QUESTION, timeout=120)  # first answers load encoders and caches
    return f"{services.rasa_url}/webhooks/wechat/webhook"


def post(wechat, webhook, query, body, timeout=30):
    """Post as WeChat does: in safe mode (the test account has an EncodingAESKey), with the OpenID in the query."""
    sender = re.search(r"<FromUserName><!\[CDATA\[(.*?)\]\]>", body)
    query, body = wechat.seal(query, body)
    if sender:  # WeChat adds the sender's OpenID to the query string, too
        query = {**query, "openid": sender.group(1)}
    return requests.post(webhook, params=query, data=body.encode("utf-8"), headers={"Content-Type": "text/xml"},
                         timeout=timeout)


def ask(webhook, wechat, xml):
    response = post(wechat, webhook, wechat.signed_query(), xml)
    assert response.status_code == 200, response.text
    return wechat.reply(response.text)


def user_messages(services, sender):
    """What Rasa recorded as said by this sender: the independent proof that a message was processed."""
    return services.user_texts("wechat:" + sender)


# --- URL verification ------------------------------------------------------------------------------
def test_url_verification_echoes_echostr_when_signed(webhook, wechat):
    response = requests.get(webhook, params=wechat.signed_query(echostr="7260382942391231"), timeout=10)
    assert response.status_code == 200 and response.text == "7260382942391231"


def test_url_verification_with_forged_signature_is_403(webhook, wechat):
    query = {**wechat.signed_query(echostr="7260382942391231"), "signature": "0" * 40}
    response = requests.get(webhook, params=query, timeout=10)
    assert response.status_code == 403 and "7260382942391231" not in response.text


# --- message types -------------------------------------------------------------------------------
def test_text_question_gets_cited_answer_as_passive_reply(services, webhook, wechat):
    user = new_openid()
    reply = ask(webhook, wechat, wechat.text(user, LOAN_QUESTION))
    assert reply.type == "text" and reply.target == user and reply.source == wechat.original_id
    assert "20万" in reply.content and "宝政办发〔2020〕49号" in reply.content
    assert utf8_len(reply.content) <= 2048
    assert user_messages(services, user) == [LOAN_QUESTION]  # sender id in Rasa is the OpenID


def test_voice_with_recognition_is_answered(services, webhook, wechat):
    user = new_openid()
    reply = ask(webhook, wechat, wechat.voice(user, "创业担保贷款最多能贷多少"))
    assert "20万" in reply.content
    assert user_messages(services, user) == ["创业担保贷款最多能贷多少"]


def test_voice_without_recognition_asks_to_type(services, webhook, wechat):
    user = new_openid()
    reply = ask(webhook, wechat, wechat.voice(user, ""))
    assert "打字" in reply.content
    assert user_messages(services, user) == []


def test_subscribe_gets_welcome_saying_what_the_bot_can_do(webhook, wechat):
    reply = ask(webhook, wechat, wechat.event(new_openid(), "subscribe"))
    assert reply.type == "text"
    assert "政策" in reply.content and "转人工" in reply.content
    assert "您可以直接回复：" in reply.content  # the greeting's buttons as a hint line


def test_typing_a_button_title_acts_like_pressing_it(services, webhook, wechat):
    user = new_openid()
    ask(webhook, wechat, wechat.event(user, "subscribe"))
    reply = ask(webhook, wechat, wechat.text(user, "帮我算算能享受啥"))
    assert "/check_entitlements" in user_messages(services, user)
    assert "年龄" in reply.content


def test_unsubscribe_gets_success_and_nothing_processed(services, webhook, wechat):
    user = new_openid()
    response = post(wechat, webhook, wechat.signed_query(), wechat.event(user, "unsubscribe"))
    assert response.status_code == 200 and response.text == "success"
    assert user_messages(services, user) == []


def test_image_gets_polite_text_only_notice(services, webhook, wechat):
    user = new_openid()
    reply = ask(webhook, wechat, wechat.image(user))
    assert "文字" in reply.content
    assert user_messages(services, user) == []


def test_handoff_goes_to_the_agents_queue_and_back(services, webhook, wechat, fake_wechat_api):
    """转人工 over WeChat: queued (no transfer to WeChat's own customer service), the bot is quiet while an
    agent holds the conversation, the agent's replies arrive as customer-service messages, and after
    resolve the bot answers again."""
    user = new_openid()
    agent_name = "wx-agent-" + user[-6:].lower()
    _, agent = services.add_user(agent_name, "agent")
    reply = ask(webhook, wechat, wechat.text(user, "我要转人工"))
    assert reply.type == "text" and "排队" in reply.content
    queue = requests.get(f"{services.service_url}/api/agent/queue", headers=agent, timeout=10).json()
    handoff = next(c for c in queue["conversations"] if c["sender_id"].endswith(user))
    assert handoff["channel"] == "wechat"
    status = ask(webhook, wechat, wechat.text(user, "人呢？怎么还没人回我"))
    assert "您在排队，前面还有" in status.content or "下一位就是您" in status.content

    base = f"{services.service_url}/api/agent/queue/{handoff['id']}"
    assert requests.post(base + "/claim", headers=agent, timeout=10).status_code == 200
    quiet = post(wechat, webhook, wechat.signed_query(), wechat.text(user, LOAN_QUESTION))
    assert quiet.status_code == 200 and quiet.text == "success"  # no passive reply: the agent holds it
    said = wait_until(lambda: services.bot_said_after("wechat:" + user, LOAN_QUESTION), lambda got: got is not None, 30)
    assert said == []  # Rasa logged the question for the transcript and the bot said nothing
    sent = requests.post(base + "/reply", headers=agent, json={"text": "您好，我是人工客服，请讲"}, timeout=10).json()
    assert sent["message"]["status"] == "sent"
    assert fake_wechat_api.messages_to(user)[-1].content == "【人工客服】您好，我是人工客服，请讲"
    detail = requests.get(base, headers=agent, timeout=10).json()
    assert any(line["text"] == LOAN_QUESTION for line in detail["transcript"] if line["author"] == "user")

    assert requests.post(base + "/resolve", headers=agent, timeout=10).status_code == 200
    assert "智能助手" in fake_wechat_api.messages_to(user)[-1].content
    held = services.lines_while_held("wechat:" + user)  # Rasa's tracker: while held, only the agent spoke
    assert ("user", LOAN_QUESTION) in held and [line for line in held if line[0] == "bot"] == [("bot", agent_name)]
    pushed = len(fake_wechat_api.messages_to(user))
    answer = post(wechat, webhook, wechat.signed_query(), wechat.text(user, LOAN_QUESTION))
    if answer.text == "success":  # slower than WeChat's deadline: the answer follows as a customer-service message
        text = fake_wechat_api.wait_for(user, pushed + 1, timeout=30)[pushed].content
    else:
        text = wechat.reply(answer.text).content
    assert "20万" in text


# --- refused requests ------------------------------------------------------------------------------
def test_forged_signature_is_403_and_nothing_processed(services, webhook, wechat, policy_proxy):
    user = new_openid()
    asked_before = policy_proxy.asked(LOAN_QUESTION)
    query = {**wechat.signed_query(), "signature": "f" * 40}
    response = post(wechat, webhook, query, wechat.text(user, LOAN_QUESTION))
    assert response.status_code == 403
    assert user_messages(services, user) == []
    assert policy_proxy.asked(LOAN_QUESTION) == asked_before


XXE = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10)) + "]>")


@pytest.mark.parametrize("prolog,entity", [(XXE, "&xxe;"), (BILLION_LAUGHS, "&lol9;")],
                         ids=["xxe", "billion-laughs"])
def test_dtd_bodies_are_400_and_nothing_processed(services, webhook, wechat, policy_proxy, prolog, entity):
    user = new_openid()
    asked_before = policy_proxy.asked(LOAN_QUESTION)
    xml = prolog + wechat.text(user, LOAN_QUESTION).replace("</Content>", f"</Content><Extra>{entity}</Extra>")
    response = post(wechat, webhook, wechat.signed_query(), xml)  # correctly signed: the XML itself is refused
    assert response.status_code == 400
    assert "root:" not in response.text and "lol" not in response.text
    assert user_messages(services, user) == []
    assert policy_proxy.asked(LOAN_QUESTION) == asked_before


def test_oversized_body_is_413(services, webhook, wechat):
    user = new_openid()
    response = post(wechat, webhook, wechat.signed_query(), wechat.text(user, "贷" * 20000))
    assert response.status_code == 413
    assert user_messages(services, user) == []


# --- duplicates, deadline, long answers, safe mode ---------------------------------------------------
def test_same_msg_id_posted_three_times_concurrently_is_processed_once(services, webhook, wechat, policy_proxy):
    user = new_openid()
    asked_before = policy_proxy.asked(LOAN_QUESTION)
    xml = wechat.text(user, LOAN_QUESTION)
    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda _: post(wechat, webhook, wechat.signed_query(), xml), range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    contents = {wechat.reply(r.text).content for r in responses}
    assert len(contents) == 1 and "20万" in contents.pop()
    assert user_messages(services, user) == [LOAN_QUESTION]
    assert policy_proxy.asked(LOAN_QUESTION) == asked_before + 1


def test_hung_policy_service_still_gets_a_polite_passive_reply_in_time(services, webhook, wechat, policy_proxy,
                                                                       fake_wechat_api):
    """Every hop's deadline is below WeChat's: a policy service that needs 6 s is given up on by the action
    (2.5 s) and the user gets the polite reply as the passive reply, not a late one. The endpoint answers
    "success" to whatever is not ready by its deadline (WECHAT_REPLY_DEADLINE ≤ 4.5 s, on its own clock), so a
    passive reply is the proof that it came in time: no stopwatch here. (Late delivery through the
    customer-service API, for a slow Rasa, is covered in tests/bot/test_wechat_endpoint.py.)"""
    user = new_openid()
    policy_proxy.slow_down(LOAN_QUESTION, 6.0)
    xml = wechat.text(user, LOAN_QUESTION)
    response = post(wechat, webhook, wechat.signed_query(), xml)
    assert response.status_code == 200 and response.text != "success"
    reply = wechat.reply(response.text)
    assert reply.content and "20万" not in reply.content
    retry = post(wechat, webhook, wechat.signed_query(), xml)  # a WeChat retry of the same message
    assert wechat.reply(retry.text).content == reply.content
    assert not any("20万" in message.content for message in fake_wechat_api.messages_to(user))
    assert user_messages(services, user) == [LOAN_QUESTION]


def long_answer(answer: dict) -> dict:
    text = "".join(f"第{n}条说明：创业担保贷款个人最高可申请20万元，按规定给予贴息。" for n in range(1, 200))[:5000]
    return {**answer, "answerable": True, "parts": [text]}


def test_5000_character_answer_is_split_into_parts_of_at_most_2048_bytes(webhook, wechat, policy_proxy,
                                                                           fake_wechat_api):
    user = new_openid()
    policy_proxy.rewrite(LOAN_QUESTION, long_answer)
    reply = ask(webhook, wechat, wechat.text(user, LOAN_QUESTION))
    assert reply.type == "text"
    rest = wait_until(lambda: fake_wechat_api.messages_to(user),
                      lambda sent: any(FEEDBACK_PROMPT in message.content for message in sent), timeout=20)
    parts = [reply.content] + [message.content for message in rest]
    assert len(parts) >= 3
    assert all(utf8_len(part) <= 2048 for part in parts), [utf8_len(part) for part in parts]
    expected = long_answer({})["parts"][0]
    assert expected in "".join(part.replace("\n", "") for part in parts)


def test_safe_mode_round_trip(services, webhook, wechat):
    user = new_openid()
    query, body = wechat.encrypted(wechat.text(user, LOAN_QUESTION))
    assert wechat.original_id in body and LOAN_QUESTION not in body
    response = post(wechat, webhook, {**query, "openid": user}, body)
    assert response.status_code == 200
    assert "20万" not in response.text  # the reply is encrypted, too
    reply = wechat.reply(wechat.decrypt_reply(response.text))
    assert reply.type == "text" and reply.target == user and "20万" in reply.content
    assert user_messages(services, user) == [LOAN_QUESTION]


def test_safe_mode_with_forged_msg_signature_is_403(services, webhook, wechat):
    user = new_openid()
    query, body = wechat.encrypted(wechat.text(user, LOAN_QUESTION))
    response = post(wechat, webhook, {**query, "msg_signature": "0" * 40}, body)
    assert response.status_code == 403
    assert user_messages(services, user) == []


def test_no_openid_in_the_rasa_log(services, webhook, wechat):
    user = new_openid()
    message = wechat.text(user, LOAN_QUESTION)
    assert "20万" in ask(webhook, wechat, message).content
    assert "20万" in ask(webhook, wechat, message).content  # WeChat's retry, which the channel logs about this user
    assert user_messages(services, user) == [LOAN_QUESTION]
    logged = f"repeated delivery of a message from {openid_pseudonym(user)}"  # by pseudonym, whatever ran before
    # supervisord copies Rasa's output into the log file on its own schedule: wait for the line to arrive
    log = wait_until(lambda: services.log_path("rasa").read_text(errors="replace"), lambda text: logged in text, 30)
    assert logged in log
    assert user not in log
