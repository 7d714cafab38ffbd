from wechatpy.messages import TextMessage

from bot.text_split import utf8_len
from bot.wechat_render import BotReply, ButtonMemory, bot_reply, render_passive
from bot.wechat_xml import screen_xml

MESSAGE = TextMessage({"ToUserName": "gh_1", "FromUserName": "oUser", "CreateTime": "1700000000",
                       "MsgType": "text", "Content": "hi", "MsgId": "1"})


def test_texts_are_joined_and_citations_ignored():
    reply = bot_reply([{"text": "答：最高20万元。"}, {"custom": {"citations": [{"clause_id": "x"}]}},
                       {"text": "这个回答对您有帮助吗？"}])
    assert reply.parts == ["答：最高20万元。\n\n这个回答对您有帮助吗？"]
    assert not reply.handoff


def test_buttons_become_a_hint_line_and_are_remembered():
    reply = bot_reply([{"text": "您好！", "buttons": [{"title": "转人工", "payload": "/human_handoff"},
                                                      {"title": "摆摊要交费吗", "payload": "摆摊要交费吗"}]}])
    assert reply.parts == ["您好！\n您可以直接回复：「转人工」「摆摊要交费吗」"]
    assert reply.buttons == {"转人工": "/human_handoff", "摆摊要交费吗": "摆摊要交费吗"}


def test_handoff_marker_turns_into_transfer_and_text_follows():
    reply = bot_reply([{"text": "好的，已为您转接人工客服。"}, {"custom": {"handoff": True, "reason": "user_request"}}])
    assert reply.handoff
    assert reply.follow_ups == ["好的，已为您转接人工客服。"]
    xml = screen_xml(render_passive(MESSAGE, reply))
    assert xml["MsgType"] == "transfer_customer_service"
    assert xml["ToUserName"] == "oUser" and xml["FromUserName"] == "gh_1"


def test_handoff_queued_for_our_agents_is_plain_text():
    reply = bot_reply([{"text": "好的，已为您转接人工客服。您在排队，下一位就是您。",
                        "custom": {"handoff": True, "queued": True}}])
    assert not reply.handoff
    assert "排队" in reply.passive_text


def test_handoff_must_be_exactly_true():
    assert not bot_reply([{"custom": {"handoff": "yes"}}, {"text": "x"}]).handoff


def test_long_answer_first_part_passive_rest_follow():
    reply = bot_reply([{"text": "创业担保贷款最高额度为20万元。" * 500}])
    assert len(reply.parts) > 1
    assert reply.passive_text == reply.parts[0] and reply.follow_ups == reply.parts[1:]
    assert all(utf8_len(part) <= 2048 for part in reply.parts)


def test_passive_text_reply_is_wechat_xml_and_cannot_be_broken_out_of():
    reply = bot_reply([{"text": "a]]><MsgType>news</MsgType>"}])
    xml = screen_xml(render_passive(MESSAGE, reply))
    assert xml["MsgType"] == "text" and xml["Content"].startswith("a]] >")


def test_nothing_to_say_renders_empty():
    assert render_passive(MESSAGE, BotReply()) == ""


def test_typed_button_title_resolves_to_its_payload():
    memory = ButtonMemory()
    memory.remember("oUser", {"帮我算算能享受啥": "/check_entitlements"})
    assert memory.resolve("oUser", " 帮我算算能享受啥 ") == "/check_entitlements"
    assert memory.resolve("oUser", "别的问题") == "别的问题"
    assert memory.resolve("oOther", "帮我算算能享受啥") == "帮我算算能享受啥"
    memory.remember("oUser", {})
    assert memory.resolve("oUser", "帮我算算能享受啥") == "帮我算算能享受啥"


def test_screening_result_in_wechat_text_keeps_marks_with_words_counts_and_one_quote(entitlement_engine):
    """WeChat shows text only: the cards are dropped, so nothing the text says is said twice."""
    from knowledge.entitlement_text import render_entitlements

    result = entitlement_engine.evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    quote = result["entitlements"][0]["quote"]
    messages = [{"text": part} for part in render_entitlements(result)]
    messages.append({"custom": {"citations": [{"clause_id": "baoji-2020-49:2.1", "quote": quote}]}})
    text = "\n".join(bot_reply(messages).parts)
    for mark, word in (("✅", "【符合】"), ("❓", "【待确认】"), ("📍", "【办理部门】")):
        assert mark + word in text and text.count(mark) == text.count(mark + word)
    assert "「养老保险暂缓缴费、补缴" in text  # one item, whatever its status suffix
    assert text.count(quote) == 0  # the quote lives in the web card only; the text cites the article


def test_answer_quote_appears_once_in_wechat_text():
    quote = "创业担保贷款个贷最高额度20万元"
    reply = bot_reply([{"text": f"根据宝政办发〔2020〕49号（一）：\n“{quote}”"},
                       {"custom": {"citations": [{"clause_id": "baoji-2020-49:2.1", "quote": quote}]}}])
    assert "\n".join(reply.parts).count(quote) == 1
