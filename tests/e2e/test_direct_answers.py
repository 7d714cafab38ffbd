"""Issue 8, end to end through Rasa's REST channel: the question that was asked gets answered — directly,
personally where facts were given, in the context of the conversation — whatever intent the NLU picks."""
import uuid

from tests.e2e.services import reply_text


def new_sender() -> str:
    return f"direct-{uuid.uuid4().hex[:8]}"


def first_line(reply) -> str:
    return next(m["text"] for m in reply if m.get("text")).splitlines()[0]


def cited_articles(reply) -> list:
    return [c["article"] for m in reply for c in (m.get("custom") or {}).get("citations", [])]


def buttons(reply) -> list:
    return [b["payload"] for m in reply for b in m.get("buttons", [])]


def test_a_situation_is_answered_not_pulled_into_the_screening(services):
    reply = services.say(new_sender(), "我去年刚毕业，现在在跑外卖打零工，社保有补贴吗")
    text = reply_text(reply)
    assert "社会保险补贴" in first_line(reply) and "符合" in first_line(reply)
    assert 2 in cited_articles(reply)
    assert "您今年多大年龄" not in text and "记下了" not in text


def test_a_laid_off_stall_keeper_is_answered_for_the_loan_and_the_subsidy(services):
    reply = services.say(new_sender(), "我下岗了想摆个小吃摊，能贷款不？有没有补贴？")
    text = reply_text(reply)
    assert "创业担保贷款：待确认" in text and "一次性创业补贴：待确认" in text
    assert "20万元" in text and "5000元" in text
    assert "没有涉及" not in text and "记下了" not in text


def test_a_question_the_nlu_may_call_a_greeting_is_answered(services):
    sender = new_sender()
    for _ in range(2):
        reply = services.say(sender, "晚上能在小区门口摆摊吗")
        assert first_line(reply).startswith("可以") and 8 in cited_articles(reply), reply


def test_a_follow_up_about_the_stall_stays_on_its_article(services):
    sender = new_sender()
    services.say(sender, "晚上能在小区门口摆摊吗")
    reply = services.say(sender, "那城管会不会赶我")
    assert "没有涉及" not in reply_text(reply) and cited_articles(reply)[0] == 8
    assert "临时摊点" in first_line(reply)


def test_a_laid_off_worker_asking_for_a_loan_for_a_stall_is_answered(services):
    reply = services.say(new_sender(), "我下岗了，想在家门口摆个卖凉皮的小摊，能贷点款不？")
    assert "没有涉及" not in reply_text(reply)
    assert "创业担保贷款" in first_line(reply) and 1 in cited_articles(reply)


def test_totals_are_computed_with_the_arithmetic_shown(services):
    tax = reply_text(services.say(new_sender(), "建档立卡户开小卖部，税费减免三年一共能减多少")).replace(" ", "")
    assert "14400元" in tax and "43200元" in tax
    training = reply_text(services.say(new_sender(), "以工代训补贴每个人最多能拿多少钱")).replace(" ", "")
    assert "600元" in training and "3600元" in training


def test_personal_facts_in_the_question_give_a_personal_verdict(services):
    reply = services.say(new_sender(), "我48岁，开个修车铺，秦青优惠贷能办吗？")
    lead = first_line(reply)
    assert "秦青优惠贷要求年龄在45岁以下（含45岁）" in lead and "48岁" in lead and "不符合" in lead
    assert "创业担保贷款没有年龄要求" in lead and "20万元" in lead
    assert "/check_entitlements" in buttons(reply)  # the screening is offered, not forced


def test_follow_ups_resolve_against_the_topic(services):
    sender = new_sender()
    services.say(sender, "创业担保贷款最多能贷多少？")
    where = services.say(sender, "这个去哪办？")
    assert "市人社局" in first_line(where) and "负责办理" in first_line(where)
    materials = services.say(sender, "需要什么材料？")
    assert "没有写明需要的材料" in reply_text(materials) and "市人社局" in first_line(materials)
    older = services.say(sender, "那我50岁呢")
    assert "没有涉及" not in reply_text(older) and cited_articles(older)[0] == 1


def test_two_topics_in_one_message_are_both_answered(services):
    reply = services.say(new_sender(), "我想摆摊卖凉皮，能贷款吗，另外社保有补贴吗")
    assert {1, 2} <= set(cited_articles(reply))
    assert "没有涉及" not in reply_text(reply)


def test_a_bare_generic_question_gets_a_clarifying_question(services):
    reply = services.say(new_sender(), "有什么补贴？")
    assert "/check_entitlements" in buttons(reply) and len(buttons(reply)) == 5
    assert not cited_articles(reply)


def test_traditional_characters_and_typos_reach_the_answer(services):
    assert "20万" in reply_text(services.say(new_sender(), "創業擔保貸款最高能貸多少錢")).replace(" ", "")
    assert "20万" in reply_text(services.say(new_sender(), "担宝贷款最多能贷多少")).replace(" ", "")


def test_facts_from_a_question_are_not_asked_again_by_the_screening(services):
    sender = new_sender()
    services.say(sender, "我48岁，开个修车铺，秦青优惠贷能办吗？")
    reply = services.say(sender, "/check_entitlements")
    text = reply_text(reply)
    assert "多大年龄" not in text and "属于下面哪类人员" in text


def test_restarting_after_stop_asks_whether_to_reuse_the_facts_or_starts_clean(services):
    sender = new_sender()
    services.say(sender, "/check_entitlements")
    services.say(sender, "35岁")
    stopped = reply_text(services.say(sender, "算了"))
    assert "先放一边" in stopped and "35岁" in stopped
    offer = services.say(sender, "/check_entitlements")
    assert "35岁" in reply_text(offer) and buttons(offer) == ["/affirm", "/deny"]
    assert "多大年龄" in reply_text(services.say(sender, "重新填"))  # afresh: the age is asked again


def test_reusing_the_facts_set_aside_skips_their_questions(services):
    sender = new_sender()
    services.say(sender, "我48岁，开个修车铺，秦青优惠贷能办吗？")
    services.say(sender, "帮我算算")
    services.say(sender, "算了")
    assert "48岁" in reply_text(services.say(sender, "还是帮我算算吧"))
    reused = reply_text(services.say(sender, "/affirm"))
    assert "48岁" in reused and "属于下面哪类人员" in reused and "多大年龄" not in reused


def test_going_back_to_an_earlier_topic(services):
    sender = new_sender()
    services.say(sender, "创业担保贷款最多能借多少")
    assert cited_articles(services.say(sender, "对了，以工代训每人每月补多少"))[0] == 2
    back = services.say(sender, "回到刚才那个贷款，借12万要反担保吗")
    assert cited_articles(back)[0] == 1 and "10万元" in first_line(back) and "不符合" not in first_line(back)
    where = services.say(sender, "去哪办")
    assert "创业担保贷款" in first_line(where) and "市人社局" in first_line(where)


def test_a_group_correction_after_the_list_recalculates(services):
    sender = new_sender()
    for message in ("/check_entitlements", "35", "都不是", "开了个面馆"):
        services.say(sender, message)
    corrected = reply_text(services.say(sender, "不对，我是农民工"))
    assert "5000元" in corrected


# ── conversation context (issue 8, parts 3–5) ────────────────────────────────────────────────────────
def test_a_guarantee_follow_up_is_answered_not_taken_for_a_yes_no_or_a_handoff(services):
    sender = new_sender()
    services.say(sender, "创业担保贷款最多能贷多少？")
    for question in ("要不要担保", "用不用找人担保"):
        reply = services.say(sender, question)
        text = reply_text(reply)
        assert "10万元" in first_line(reply) and cited_articles(reply)[0] == 1, question
        assert "转接人工" not in text and "还有什么想了解的" not in text, question
    assert "还有什么想了解的" in reply_text(services.say(sender, "好的"))


def test_asking_the_same_question_twice_gets_the_same_answer(services):
    sender = new_sender()
    first = services.say(sender, "秦青优惠贷最高贷多少")
    again = services.say(sender, "秦青优惠贷最高贷多少")
    assert reply_text(again) == reply_text(first) and "300万元" in first_line(again)


def test_a_correction_in_the_chat_recalculates(services):
    sender = new_sender()
    services.say(sender, "我是建档立卡贫困户，开小卖部能免税吗")
    corrected = services.say(sender, "不对，我是农民工")
    lead = first_line(corrected)
    assert "不符合" in lead and "5000元" in lead and cited_articles(corrected)[0] == 1
    younger = services.say(new_sender(), "我44岁，开烧烤店，秦青优惠贷能申请不")
    assert "符合" in first_line(younger) and "不符合" not in first_line(younger)


def test_an_age_correction_in_the_chat_recalculates(services):
    sender = new_sender()
    services.say(sender, "我44岁，开烧烤店，秦青优惠贷能申请不")
    lead = first_line(services.say(sender, "不对，说错了，我48岁"))
    assert "48岁" in lead and "不符合" in lead


def test_the_answer_to_a_clarifying_question_is_used(services):
    sender = new_sender()
    assert len(buttons(services.say(sender, "有什么补贴？"))) == 5
    reply = services.say(sender, "我是农民工，想回老家开个早点铺")
    assert "5000元" in reply_text(reply) and 1 in cited_articles(reply)
    where = services.say(sender, "这个钱去哪领")
    assert "市人社局" in first_line(where)
