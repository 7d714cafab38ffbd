import json

import pytest

from bot.guard import (EMPTY_REPLY, MAX_CHARS, NO_TEXT_REPLY, PROCESSING_FAILED_REPLY, BadRequest, parse_rest_body,
                       screen_text, with_fallback_reply)


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x1b\x07", "\u200b\u200e"])
def test_empty_or_invisible_text_gets_the_empty_reply(raw):
    assert screen_text(raw).reply == EMPTY_REPLY


@pytest.mark.parametrize("raw", ["😀😀🎉", "？？？", "!!!"])
def test_text_without_letters_or_digits_gets_the_text_only_reply(raw):
    assert screen_text(raw).reply == NO_TEXT_REPLY


def test_too_long_text_reply_names_the_length_and_limit():
    screened = screen_text("贷" * (MAX_CHARS + 1))
    assert str(MAX_CHARS + 1) in screened.reply and str(MAX_CHARS) in screened.reply


def test_normal_question_passes_cleaned():
    screened = screen_text("  创业担保\x00贷款能贷多少？ ")
    assert screened.reply is None
    assert screened.text == "创业担保贷款能贷多少？"


def test_question_with_emoji_passes():
    assert screen_text("摆摊要交钱吗😀").reply is None


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


def test_valid_body_is_parsed():
    assert parse_rest_body(body(sender="u1", message="你好")) == ("u1", "你好", None)


def test_sender_defaults():
    assert parse_rest_body(body(message="你好"))[0] == "default"


@pytest.mark.parametrize("raw,reason", [
    (b"\xff\xfe", "UTF-8"),
    (b"{nope", "not JSON"),
    (b"[1]", "JSON object"),
    (body(sender="u"), '"message"'),
    (body(sender="u", message=["a"]), '"message"'),
    (body(sender=5, message="hi"), '"sender"'),
    (body(sender="u", message="hi", metadata="x"), '"metadata"'),
    (b" " * (64 * 1024 + 1), "larger"),
])
def test_bad_bodies_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(BadRequest, match=reason):
        parse_rest_body(raw)


def test_silence_from_the_bot_becomes_a_polite_apology():
    assert with_fallback_reply([]) == [{"text": PROCESSING_FAILED_REPLY}]


def test_real_replies_are_left_alone():
    replies = [{"text": "您好"}, {"custom": {"handoff": True}}]
    assert with_fallback_reply(replies) == replies
