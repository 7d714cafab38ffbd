"""The chat's answer decision (knowledge.reply): the answer first, personal where facts were given,
follow-ups in context, clarification, social replies — and the NLU only advising."""
import datetime as dt

import pytest

from knowledge.decision import NluHint, answer_probability
from knowledge.reply import Context, is_follow_up, merged_facts, respond, social_kind
from knowledge.profile_text import parse_profile
from knowledge.textnorm import normalize

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def engine(entitlement_engine):
    return entitlement_engine


def ask(searcher, engine, message, intent="", confidence=0.0, context=None):
    return respond(message, searcher, engine, NluHint(intent, confidence), context or Context(), TODAY)


def text_of(reply) -> str:
    return "\n".join(reply.parts).replace(" ", "")


def test_the_reply_opens_with_the_answer_then_the_quote(searcher, engine):
    reply = ask(searcher, engine, "创业担保贷款最多能贷多少？", "ask_loan", 0.95)
    first_line = reply.parts[0].splitlines()[0]
    assert reply.kind == "answer"
    assert "20万元" in first_line and "10万元以下免除反担保" in first_line
    assert "依据宝政办发〔2020〕49号（一）" in text_of(reply)
    assert reply.citations[0]["clause_id"] == "baoji-2020-49:2.1"


def test_derived_totals_show_the_arithmetic_from_the_parameters(searcher, engine):
    tax = text_of(ask(searcher, engine, "个体户税费减免三年一共能减多少"))
    assert "14400元" in tax and "43200元" in tax and "14400元×3年" in tax
    training = text_of(ask(searcher, engine, "以工代训补贴每个人最多能拿多少钱"))
    assert "600元" in training and "3600元" in training and "600元×6个月" in training


def test_facts_in_the_question_give_a_personal_answer(searcher, engine):
    reply = ask(searcher, engine, "我48岁，开个修车铺，秦青优惠贷能办吗？", "ask_loan", 0.9)
    lead = reply.parts[0].splitlines()[0]
    assert reply.personal
    assert "秦青优惠贷要求年龄在45岁以下（含45岁）" in lead and "48岁" in lead and "不符合" in lead
    assert "创业担保贷款没有年龄要求" in lead and "20万元" in lead
    assert reply.facts["age"] == 48 and reply.facts["activities"] == ["self_employed"]


def test_a_laid_off_stall_keeper_gets_to_confirm_not_a_flat_no(searcher, engine):
    reply = ask(searcher, engine, "我下岗了，想在家门口摆个卖凉皮的小摊，能贷点款不？", "inform", 0.7)
    text = text_of(reply)
    assert reply.kind == "answer" and reply.personal
    assert "创业担保贷款：待确认" in text and "不符合" not in text.split("依据")[0]
    assert set(reply.facts["groups"]) == {"laid_off_worker"} and "street_stall" in reply.facts["activities"]


def test_an_out_of_scope_intent_does_not_refuse_a_covered_question(searcher, engine):
    reply = ask(searcher, engine, "我想摆摊卖凉皮，能贷款吗，另外社保有补贴吗", "out_of_scope", 0.98)
    assert reply.kind == "answer"
    assert {1, 2} <= {citation["article"] for citation in reply.citations}


def test_the_intent_is_weighed_as_calibrated_evidence(searcher):
    weights = searcher.config.chat_decision
    assert weights["out_of_scope"] < 0  # measured on the tuning set, never a veto on its own
    relevant = answer_probability(0.95, NluHint("out_of_scope", 1.0), weights)
    weak = answer_probability(0.55, NluHint("out_of_scope", 1.0), weights)
    assert relevant >= 0.5 > weak


def test_a_greeting_intent_does_not_swallow_a_question(searcher, engine):
    assert ask(searcher, engine, "晚上能在小区门口摆摊吗", "greet", 0.99).kind == "answer"
    greeting = ask(searcher, engine, "你好呀", "greet", 0.99)
    assert greeting.kind == "social" and greeting.social == "greet"


@pytest.mark.parametrize("text, kind", [("你好", "greet"), ("您好，在吗？", "greet"), ("谢谢啦", "thanks"),
                                        ("拜拜", "goodbye"), ("你是机器人吗", "chitchat"),
                                        ("你好，创业担保贷款能贷多少", ""), ("谢谢，那去哪办", "")])
def test_social_only_when_nothing_else_is_said(text, kind):
    assert social_kind(normalize(text)) == kind


def test_honest_no_answer_for_what_the_document_does_not_cover(searcher, engine):
    reply = ask(searcher, engine, "今天宝鸡下雨吗", "out_of_scope", 0.99)
    assert reply.kind == "no_answer" and not reply.citations
    assert "没有涉及" in text_of(reply)


def test_a_bare_generic_question_gets_a_clarifying_question(searcher, engine):
    reply = ask(searcher, engine, "有什么补贴？", "ask_subsidy", 0.9)
    assert reply.kind == "clarify"
    titles = [button["title"] for button in reply.buttons]
    assert titles[:4] == ["创业补贴", "社保补贴", "以工代训", "房租奖补"] and "帮我算算" in titles


def test_the_same_generic_question_with_facts_is_answered(searcher, engine):
    reply = ask(searcher, engine, "我是农民工，开了个面馆，有什么补贴？")
    assert reply.kind == "answer" and "5000元" in text_of(reply)


def loan_context(searcher, engine):
    first = ask(searcher, engine, "创业担保贷款最多能贷多少？", "ask_loan", 0.95)
    return Context(first.topic_question, first.topic_clauses, {})


def test_where_to_go_follows_the_topic_and_names_its_departments(searcher, engine):
    context = loan_context(searcher, engine)
    for follow_up in ("这个去哪办？", "需要什么材料？"):
        reply = ask(searcher, engine, follow_up, "out_of_scope", 0.8, context)
        lead = reply.parts[0].splitlines()[0]
        assert reply.kind == "answer" and reply.follow_up, follow_up
        assert "市人社局" in lead and "负责办理" in lead
        assert reply.citations[0]["clause_id"] == "baoji-2020-49:2.1"
    materials = ask(searcher, engine, "需要什么材料？", "", 0.0, context)
    assert "没有写明需要的材料" in text_of(materials)


def test_a_new_age_in_a_follow_up_recomputes_the_personal_answer(searcher, engine):
    first = ask(searcher, engine, "我40岁开小店，秦青优惠贷能贷吗")
    assert "符合" in first.parts[0].splitlines()[0]
    context = Context(first.topic_question, first.topic_clauses, first.facts)
    reply = ask(searcher, engine, "那我50岁呢", "inform", 0.6, context)
    lead = reply.parts[0].splitlines()[0]
    assert reply.follow_up and "50岁" in lead and "不符合" in lead


def test_a_topic_switch_is_recognised(searcher, engine):
    context = loan_context(searcher, engine)
    reply = ask(searcher, engine, "摆摊要交占道费吗", "ask_venue", 0.9, context)
    assert not reply.follow_up and reply.citations[0]["article"] == 7


def test_two_topics_in_one_message_are_both_answered(searcher, engine):
    reply = ask(searcher, engine, "我想摆摊卖凉皮，能贷款吗，另外社保有补贴吗", "out_of_scope", 0.7)
    articles = {citation["article"] for citation in reply.citations}
    assert reply.kind == "answer" and {1, 2} <= articles


def test_asking_twice_gives_the_same_answer(searcher, engine):
    first = ask(searcher, engine, "摆摊要交费吗")
    again = ask(searcher, engine, "摆摊要交费吗", context=Context(first.topic_question, first.topic_clauses))
    assert again.parts == first.parts


def test_follow_up_detection():
    context = Context("创业担保贷款最多能贷多少", ["baoji-2020-49:2.1"])
    assert is_follow_up(normalize("这个去哪办"), context)
    assert is_follow_up(normalize("那我50岁呢"), context)
    assert is_follow_up(normalize("要不要担保"), context)
    assert not is_follow_up(normalize("灵活就业人员的养老保险能缓缴吗"), context)
    assert not is_follow_up(normalize("摆摊要交占道费吗"), context)
    assert not is_follow_up(normalize("这个去哪办"), Context())


def test_a_correction_replaces_the_group():
    known = {"age": 40, "groups": ["laid_off_worker"]}
    assert merged_facts(known, parse_profile("不对，我是农民工"))["groups"] == ["migrant_worker"]
    assert merged_facts(known, parse_profile("我还是退役军人"))["groups"] == ["laid_off_worker", "veteran"]


def test_the_nlu_only_advises_with_the_default_weights():
    assert answer_probability(0.8, NluHint("out_of_scope", 1.0)) == pytest.approx(0.8)
    assert answer_probability(0.2, NluHint("ask_loan", 1.0)) == pytest.approx(0.2)
    weighted = {"bias": 0.0, "relevance": 1.0, "out_of_scope": -1.0}
    assert answer_probability(0.6, NluHint("out_of_scope", 1.0), weighted) < 0.6


def test_a_described_situation_with_a_generic_question_gets_a_personal_overview(searcher, engine):
    reply = ask(searcher, engine, "我是农民工，44岁，想开面馆，能享受啥", "ask_eligibility", 0.8)
    text = text_of(reply)
    assert reply.kind == "answer" and reply.personal and reply.offer_screening
    for expected in ("创业担保贷款：按您说的情况符合", "秦青优惠贷：按您说的情况符合", "5000元"):
        assert expected in text
    assert "社会保险补贴" not in text  # 不符合 items are left to the full screening


def test_a_missing_detail_is_answered_with_the_department_not_refused(searcher, engine):
    reply = ask(searcher, engine, "创业担保贷款要准备什么材料", "ask_loan", 0.9)
    assert reply.kind == "answer"
    lead = reply.parts[0].splitlines()[0]
    assert "没有写明需要的材料" in lead and "市人社局" in lead


def test_an_explicit_request_for_the_screening_is_recognised(searcher, engine):
    assert ask(searcher, engine, "帮我算算：我是农民工，44岁，想开个面馆").kind == "screening"
    assert ask(searcher, engine, "我是农民工，44岁，想开个面馆，能享受啥？").kind == "answer"


def follow(searcher, engine, *messages):
    """Replies to a conversation, each message in the context the previous answer left."""
    context, replies = Context(), []
    for message in messages:
        reply = ask(searcher, engine, message, context=context)
        replies.append(reply)
        if reply.kind == "answer":
            context = Context(reply.topic_question, reply.topic_clauses, reply.facts or context.facts)
    return replies


def test_short_follow_ups_stay_on_the_topic_and_an_unknown_topic_is_refused(searcher, engine):
    topic, months, where, insurance = follow(searcher, engine, "以工代训补贴是多少", "补几个月", "找哪个部门申请",
                                             "那医保报销咋弄")
    assert months.follow_up and months.citations[0]["article"] == 2 and "6个月" in text_of(months)
    assert where.follow_up and "市人社局" in where.parts[0].splitlines()[0]
    assert insurance.kind == "no_answer"


def test_a_correction_that_rules_the_topic_out_names_what_applies_instead(searcher, engine):
    _, corrected = follow(searcher, engine, "我是建档立卡贫困户，开小卖部能免税吗", "不对，我不是贫困户，我是农民工")
    lead = corrected.parts[0].splitlines()[0]
    assert "税费减免" in lead and "不符合" in lead and "一次性创业补贴" in lead and "5000元" in lead


def test_a_named_entitlement_picks_its_clause_when_retrieval_ranks_it_just_below(searcher, engine):
    reply = ask(searcher, engine, "个体户登记要钱不")
    assert reply.citations[0]["article"] == 7 and "不收取任何费用" in reply.parts[0].splitlines()[0]


def test_a_described_person_asking_about_an_entitlement_is_answered_even_if_the_nlu_doubts(searcher, engine):
    reply = ask(searcher, engine, "我下岗了，想在家门口摆个卖凉皮的小摊，能贷点款不？", "out_of_scope", 0.95)
    lead = reply.parts[0].splitlines()[0]
    assert reply.kind == "answer" and reply.personal and "创业担保贷款：待确认" in lead
    assert reply.citations[0]["clause_id"] == "baoji-2020-49:2.1"


def test_a_marked_follow_up_with_a_word_the_policy_lacks_stays_on_topic(searcher, engine):
    _, chased = follow(searcher, engine, "晚上能在小区门口摆摊吗", "那城管会不会赶我")
    assert chased.follow_up and chased.citations[0]["article"] == 8


def test_the_chinese_nlu_is_no_evidence_for_an_english_question(searcher, engine):
    reply = ask(searcher, engine, "How much can I borrow for a startup guarantee loan?", "out_of_scope", 0.99)
    assert reply.kind == "answer" and reply.citations[0]["article"] == 1


def test_a_button_payload_keeps_its_intent(searcher, engine):
    assert ask(searcher, engine, "/greet", "greet", 1.0).kind == "social"


def test_the_web_bubble_carries_the_answer_and_a_short_citation_line_not_the_quote(searcher, engine):
    reply = ask(searcher, engine, "创业担保贷款最多能贷多少？", "ask_loan", 0.95)
    lead = reply.parts[0].splitlines()[0]
    quote = reply.citations[0]["quotes"][0]
    assert quote.replace(" ", "") in text_of(reply)  # the text-only channels keep the quote
    assert reply.bubble.splitlines() == [lead, "依据：宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展"]
    assert quote not in reply.bubble and "负责部门" not in reply.bubble  # the card shows them


def test_the_web_bubble_has_one_short_form_per_question(searcher, engine):
    reply = ask(searcher, engine, "开理发店要交登记费吗？能贷多少？")
    assert [line for line in reply.bubble.splitlines() if line.startswith("依据：")] == [
        "依据：宝政办发〔2020〕49号 三、（七）实施服务管理零收费",
        "依据：宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展"]
    assert not any(citation["quote"] in reply.bubble for citation in reply.citations)


def test_replies_without_a_short_form_leave_the_bubble_empty(searcher, engine):
    assert ask(searcher, engine, "你好", "greet", 0.99).bubble == ""
    assert ask(searcher, engine, "医保怎么报销").bubble == ""
