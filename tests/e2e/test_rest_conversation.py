"""Talks to the real Rasa server through the REST channel, with the action server and policy service up."""
import uuid

import pytest
import requests

from tests.e2e.services import reply_text


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_loan_question_is_answered_with_quote_and_citation(services):
    reply = services.say(new_sender(), "创业担保贷款最多能贷多少？")
    text = reply_text(reply)
    assert "20万" in text
    assert "（一）" in text
    assert "宝政办发〔2020〕49号" in text
    assert any("citations" in (m.get("custom") or {}) for m in reply), reply


def test_counter_guarantee_question_cites_article_one(services):
    text = reply_text(services.say(new_sender(), "借8万开店的话需要别人给我做反担保吗"))
    assert "10万元以下免除反担保" in text
    assert "（一）" in text


def test_out_of_scope_gets_honest_no_answer_and_handoff_offer(services):
    reply = services.say(new_sender(), "今天宝鸡下雨吗")
    text = reply_text(reply)
    assert "没有涉及" in text
    buttons = [button["payload"] for message in reply for button in message.get("buttons", [])]
    assert "/human_handoff" in buttons


def test_near_miss_is_not_answered_with_a_random_clause(services):
    text = reply_text(services.say(new_sender(), "失业保险金最长能领几个月"))
    assert "没有涉及" in text


def test_greeting_says_what_the_bot_can_do(services):
    text = reply_text(services.say(new_sender(), "你好"))
    assert "政策" in text


def test_handoff_carries_marker_for_channels(services):
    reply = services.say(new_sender(), "我要转人工")
    assert any((message.get("custom") or {}).get("handoff") is True for message in reply), reply


def test_feedback_after_answer_is_stored_for_staff(services):
    sender = new_sender()
    services.say(sender, "摆摊要交占道费吗")
    reply = services.say(sender, "/feedback_positive")
    assert "谢谢" in reply_text(reply)
    stored = requests.get(f"{services.service_url}/api/feedback", params={"kind": "positive"},
                          headers=services.staff_headers, timeout=10).json()["feedback"]
    assert any(record["question"] == "摆摊要交占道费吗" for record in stored)


BAD_BODIES = [
    ("empty text", {"sender": "bad-1", "message": ""}, 200),
    ("whitespace", {"sender": "bad-2", "message": "   \n\t "}, 200),
    ("very long", {"sender": "bad-3", "message": "贷款" * 5000}, 200),
    ("emoji only", {"sender": "bad-4", "message": "😀😀🎉"}, 200),
    ("control characters", {"sender": "bad-5", "message": "\x00\x07\x1b"}, 200),
    ("no message", {"sender": "bad-6"}, 400),
    ("message not a string", {"sender": "bad-7", "message": 42}, 400),
]


@pytest.mark.parametrize("label,body,status", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_input_gets_polite_reply_or_clear_4xx(services, label, body, status):
    response = requests.post(f"{services.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
    assert response.status_code == status
    if status == 200:
        messages = response.json()
        assert messages and messages[0]["text"], messages
    else:
        assert "message" in response.json()["error"]
    # the same sender still gets a real answer afterwards
    follow_up = reply_text(services.say(body["sender"], "创业担保贷款最多能贷多少？"))
    assert "20万" in follow_up


@pytest.mark.parametrize("raw", [b"\xff\xfe\xfa not utf-8", b"{not json", b"[1, 2]"])
def test_malformed_bodies_get_400_with_reason(services, raw):
    response = requests.post(f"{services.rasa_url}/webhooks/rest/webhook", data=raw,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"]


def test_conversation_is_persisted_in_the_sqlite_tracker_store(services):
    sender = new_sender()
    services.say(sender, "摆摊要交钱吗")
    assert services.user_texts("rest:" + sender) == ["摆摊要交钱吗"]
