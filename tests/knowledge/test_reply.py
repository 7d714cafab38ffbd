"""The chat's answer decision (knowledge.reply): the answer first, personal where facts were given,
follow-ups in context, clarification, social replies — and the NLU only advising."""
import datetime as dt

import pytest

from knowledge.decision import NluHint, answer_probability
from knowledge.reply import (Context, follow_up_kind, is_follow_up, merged_facts, respond, returned_topic,
                             same_question, social_kind, without_opener)
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
    assert "依据宝政办发〔2020〕49号二、（一）" in text_of(reply)
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


@pytest.mark.parametrize("message", ["补助怎么领", "能给多少钱", "补贴一般发多少"])
def test_a_bare_how_much_or_how_to_claim_question_gets_a_clarifying_question(searcher, engine, message):
    reply = ask(searcher, engine, message)
    assert reply.kind == "clarify" and not reply.citations and len(reply.buttons) >= 4


def test_a_named_subsidy_is_not_a_generic_question(searcher, engine):
    reply = ask(searcher, engine, "创业补贴怎么领")
    assert reply.kind == "answer" and "5000元" in text_of(reply)


def test_a_total_for_several_people_multiplies_the_per_person_maximum(searcher, engine):
    text = text_of(ask(searcher, engine, "厂里新招了三个贫困劳动力搞以工代训，总共最多补多少"))
    assert "3人合计最多10800元（600元×6个月×3人）" in text  # from the dated parameters, rules.yaml per_unit
    assert "不符合" not in text.split("依据")[0]  # whom an employer hired is not asked: unknown, never "nobody"
    single = text_of(ask(searcher, engine, "以工代训补贴每个人最多能拿多少钱"))
    assert "合计" not in single  # no headcount stated: the per-person figure only
    asked = text_of(ask(searcher, engine, "小企业新招了5个退役军人搞以工代训，最多能补多少钱"))  # an amount asked
    assert "5人合计最多18000元" in asked


def test_a_term_only_the_best_clause_has_keeps_it_over_a_topic_word_of_another(searcher, engine):
    reply = ask(searcher, engine, "想在家门口干活，以工代赈项目会优先招人吗，招哪些人")
    assert reply.citations[0]["article"] == 6  # 招人 is a topic of 以工代训 (（二）), 以工代赈 is （六）'s own


@pytest.mark.parametrize("question", ["想找个零活干，到哪里看招工信息", "天天跑零工，招工的信息去哪看"])
def test_job_postings_are_not_an_employer_hiring(searcher, engine, question):
    reply = ask(searcher, engine, question)
    assert reply.citations[0]["article"] in (10, 15) and "以工代训" not in text_of(reply)


def test_a_misspelt_clause_name_keeps_its_clause_over_a_topic_word_of_another(searcher, engine):
    reply = ask(searcher, engine, "以工代振项目招工吗")  # 招工 is a topic of 以工代训 (（二）)
    assert reply.citations[0]["article"] == 6


def test_dialect_questions_are_answered_in_standard_terms(searcher, engine):
    text = text_of(ask(searcher, engine, "额是企业下岗的，想开个碎饭馆，政府给撒补贴"))
    assert "5000元" in text


def test_a_rate_the_text_does_not_state_is_said_to_be_missing_before_the_quote(searcher, engine):
    reply = ask(searcher, engine, "秦青优惠贷最高300万，利率是多少", "ask_loan", 0.9)
    assert reply.kind == "answer" and text_of(reply).startswith("政策原文没有写明利率或利息")
    assert "300万元" in text_of(reply)  # what the text does state follows


def test_a_period_the_quote_states_is_not_called_missing(searcher, engine):
    text = text_of(ask(searcher, engine, "个体户的税费减免能享受几年"))
    assert "没有写明" not in text and "3年" in text
    stated = text_of(ask(searcher, engine, "店里生意停了好几个月，房租能减点不"))  # a period stated, not asked
    assert "没有写明具体期限" not in stated


def test_a_generic_word_does_not_move_the_answer_to_another_clause(searcher, engine):
    reply = ask(searcher, engine, "家政服务 有啥扶持")
    assert reply.citations[0]["article"] == 4


def test_graduating_too_long_ago_is_said_in_the_persons_own_words(searcher, engine):
    reply = ask(searcher, engine, "大学毕业5年了，在超市做兼职，社保补贴有没有")
    lead = reply.parts[0].splitlines()[0]
    assert "毕业5年" in lead and "超过了“离校2年内（未就业）高校毕业生”的期限" in lead and "不符合" in lead
    assert "graduate_2y" not in (reply.facts.get("groups") or [])


def test_dialect_is_read_as_standard_chinese(searcher, engine):
    reply = ask(searcher, engine, "额屋里是贫困户，开个小铺子税能少交点不")
    assert reply.kind == "answer" and reply.citations[0]["article"] == 1
    assert "14400元" in text_of(reply)


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
            context = Context(reply.topic_question, reply.topic_clauses, reply.facts or context.facts,
                              reply.topic_history)
        elif reply.kind == "clarify":  # the action keeps the generic question as the topic, with no clause
            context = Context(reply.topic_question, [], context.facts, reply.topic_history)
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
    assert "临时摊点" in chased.parts[0].splitlines()[0]  # its words match no sentence better: the topic's stays


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


# ── conversation context (issue 8, part 4): follow-ups, topic switches, repeats, clarification ─────────────
def lead_of(reply) -> str:
    return reply.parts[0].splitlines()[0]


@pytest.mark.parametrize("text", ["好的", "嗯嗯", "不用了", "算了", "OK"])
def test_a_bare_yes_no_or_stop_is_an_acknowledgement(text):
    assert social_kind(normalize(text)) == "ack"


@pytest.mark.parametrize("text", ["要不要担保", "用不用找人担保", "不用交钱吗", "算了，那社保补贴呢"])
def test_a_yes_no_question_is_not_an_acknowledgement(text):
    assert social_kind(normalize(text)) == ""


def test_a_guarantee_question_read_as_deny_is_answered_in_the_loan_context(searcher, engine):
    context = loan_context(searcher, engine)
    reply = ask(searcher, engine, "要不要担保", "deny", 0.9, context)
    assert reply.kind == "answer" and reply.follow_up and reply.citations[0]["clause_id"] == "baoji-2020-49:2.1"
    assert "10万元" in lead_of(reply)
    assert ask(searcher, engine, "好的", "affirm", 0.95, context).social == "ack"


def test_an_opener_is_dropped_and_a_bare_follow_up_behind_it_stays_on_topic(searcher, engine):
    assert without_opener("另外问一下，摆摊要交占道费吗") == "摆摊要交占道费吗"
    assert without_opener("By the way, where do I apply?").lower() == "where do i apply?"
    assert without_opener("另外") == "另外" and without_opener("对面小区能摆摊吗") == "对面小区能摆摊吗"
    context = loan_context(searcher, engine)
    where = ask(searcher, engine, "对了，这个去哪办", context=context)
    assert where.follow_up and "市人社局" in lead_of(where)
    back = ask(searcher, engine, "说回摆摊，占道经营要交钱吗", context=context)
    assert not back.follow_up and back.citations[0]["article"] == 7


def test_the_same_question_again_is_not_read_as_a_follow_up_of_itself(searcher, engine):
    assert same_question("秦青优惠贷最高贷多少？", "秦青优惠贷 最高贷多少")
    first, again = follow(searcher, engine, "秦青优惠贷最高贷多少", "秦青优惠贷最高贷多少")
    assert not again.follow_up and again.parts == first.parts


def test_a_question_on_a_condition_of_the_topic_stays_on_it(searcher, engine):
    _, age = follow(searcher, engine, "秦青优惠贷最高贷多少", "对年龄有要求吗")
    assert age.follow_up and age.citations[0]["article"] == 1 and "45岁" in text_of(age)


def test_the_follow_up_picks_the_clause_its_own_words_name_among_those_under_discussion(searcher, engine):
    both, rent, loan = follow(searcher, engine, "开面馆能贷多少？另外房东的房租能减不",
                              "减房租这块归哪个部门", "贷款呢，要找人担保不")
    assert {c["article"] for c in both.citations} >= {1, 8}
    assert rent.follow_up and rent.citations[0]["article"] == 8 and "市发改委" in lead_of(rent)
    assert loan.citations[0]["article"] == 1 and "10万元" in text_of(loan)


def test_a_follow_up_naming_an_entitlement_becomes_the_topic(searcher, engine):
    _, loan, older = follow(searcher, engine, "我是下岗职工，开了个小吃店，一次性创业补贴能领吗", "那创业担保贷款呢",
                            "我56岁了有影响吗")
    assert loan.follow_up and loan.topic_question == "那创业担保贷款呢"
    assert older.follow_up and "创业担保贷款没有年龄要求" in lead_of(older)


def test_where_to_complain_stays_on_the_topic(searcher, engine):
    _, where = follow(searcher, engine, "工地老板拖欠工资不给，政府管不管", "找哪个部门投诉")
    assert where.follow_up and where.citations[0]["article"] == 12 and "市人社局" in lead_of(where)


def test_an_english_follow_up_resolves_against_the_topic(searcher, engine):
    context = loan_context(searcher, engine)
    for question in ("Where do I apply?", "Which office handles it?"):
        reply = ask(searcher, engine, question, "out_of_scope", 0.9, context)
        assert reply.follow_up and "市人社局" in lead_of(reply), question


def test_the_answer_to_a_clarifying_question_is_used(searcher, engine):
    asked, facts, where = follow(searcher, engine, "有啥补助？", "我是农民工，想回老家开个早点铺", "这个钱去哪领")
    assert asked.kind == "clarify" and asked.topic_question == "有啥补助？" and len(asked.buttons) == 5
    assert facts.kind == "answer" and facts.personal and "5000元" in text_of(facts)
    assert where.follow_up and "市人社局" in lead_of(where)
    _, picked = follow(searcher, engine, "有啥补助？", "以工代训")
    assert picked.kind == "answer" and picked.citations[0]["article"] == 2 and "600元" in text_of(picked)


def test_a_second_generic_question_after_a_clarification_is_clarified_again(searcher, engine):
    _, again = follow(searcher, engine, "有什么补贴？", "有啥优惠政策")
    assert again.kind == "clarify"


def test_a_follow_up_with_words_of_its_own_quotes_the_sentence_they_ask_about(searcher, engine):
    _, extra = follow(searcher, engine, "个体户登记注册收费吗", "要是额外变相收费呢")
    assert extra.follow_up and extra.citations[0]["article"] == 7
    assert "不得额外设置条件变相收费" in text_of(extra)


@pytest.mark.parametrize("text, age", [("我都60了还能贷吗", 60), ("我55了，有影响没", 55), ("我已经48啦", 48),
                                       ("我借了10万了", None), ("我有2个娃了", None)])
def test_an_age_said_without_sui_is_read(text, age):
    assert parse_profile(text, today=TODAY).age == age


def test_an_age_in_a_follow_up_says_the_loan_has_no_age_limit(searcher, engine):
    _, _, older = follow(searcher, engine, "我是农民工，开了个小超市，创业担保贷款能贷多少", "那秦青优惠贷呢", "我都60了")
    assert "秦青优惠贷" in lead_of(older) and "不符合" in lead_of(older)
    assert lead_of(older).count("创业担保贷款没有年龄要求") <= 1


def test_weather_without_nlu_evidence_is_refused_and_english_without_it_is_answered(searcher, engine):
    # No NLU evidence (nlu_fallback, /api/answer without an intent) is retrieval's own decision; English, which
    # the NLU cannot read, has its own term — it must not make every message without evidence answerable.
    assert ask(searcher, engine, "今天宝鸡下雨吗").kind == "no_answer"
    assert ask(searcher, engine, "How is the weather in Baoji today?", "out_of_scope", 1.0).kind == "no_answer"
    assert ask(searcher, engine, "Does it cost anything to register as a sole proprietor?").kind == "answer"


def test_a_group_named_as_the_subject_is_not_the_askers_description(searcher, engine):
    subject = ask(searcher, engine, "退役军人一次性经济补助金有多少", "ask_subsidy", 0.9)
    assert not subject.personal and "按您说的情况" not in text_of(subject) and subject.facts == {}
    asker = ask(searcher, engine, "我是退役军人，能贷款不", "ask_loan", 0.9)
    assert asker.personal and asker.facts.get("groups") == ["veteran"]


def test_a_one_character_topic_inside_another_word_pulls_in_no_entitlement(searcher, engine):
    # 证 is a topic of 无须办理营业执照; in 报到证 it names something the document does not cover
    reply = ask(searcher, engine, "高校毕业生报到证怎么办理", "inform", 0.98)
    assert "营业执照" not in text_of(reply)
    assert reply.kind == "no_answer" or "没有写明" in text_of(reply).splitlines()[0]
    assert "无须办理营业执照" in text_of(ask(searcher, engine, "摆摊要办证不", "ask_registration", 0.9))


def test_a_shop_moving_its_goods_outside_is_answered_despite_an_out_of_scope_intent(searcher, engine):
    reply = ask(searcher, engine, "临街的铺子能不能把东西摆到门口卖", "out_of_scope", 0.99)
    assert reply.kind == "answer" and "出店经营" in text_of(reply)


def test_the_nlus_greeting_is_not_the_reply_to_a_question_that_opens_with_one(searcher, engine):
    assert ask(searcher, engine, "你好，宝鸡今天下雨吗", "greet", 0.95).kind == "no_answer"
    assert ask(searcher, engine, "你叫啥名字", "chitchat", 0.99).social == "chitchat"  # small talk stays social


# ── returning to an earlier topic: the topic history ────────────────────────────────────────────────────────
def test_a_return_to_the_previous_topic_reads_the_follow_up_in_its_context(searcher, engine):
    loan, training, back = follow(searcher, engine, "创业担保贷款最多能借多少", "对了，以工代训每人每月补多少",
                                  "回到刚才那个贷款，去哪办")
    assert training.citations[0]["article"] == 2 and training.topic_history[0]["question"] == loan.topic_question
    assert back.returned and back.follow_up and back.citations[0]["article"] == 1
    assert "市人社局" in lead_of(back)
    assert back.topic_question == loan.topic_question  # the loan is under discussion again …
    assert [topic["question"] for topic in back.topic_history] == [training.topic_question]  # … training is earlier


def test_the_earlier_topic_the_words_name_is_the_one_returned_to(searcher, engine):
    *_, back = follow(searcher, engine, "创业担保贷款最多能借多少", "以工代训补贴标准是多少", "个体户登记注册收费吗",
                      "说回刚才的贷款，借12万要反担保吗")
    assert back.returned and back.citations[0]["article"] == 1 and "10万元" in lead_of(back)


def test_going_back_with_nothing_else_asks_the_earlier_question_again(searcher, engine):
    first, _, back = follow(searcher, engine, "零工市场谁来维护秩序", "个体户注册登记收费吗", "回到刚才的问题")
    assert back.returned and back.parts == first.parts


def test_the_history_keeps_the_latest_earlier_topics_once_each(searcher, engine):
    replies = follow(searcher, engine, "创业担保贷款最多能借多少", "以工代训补贴标准是多少", "个体户登记注册收费吗",
                     "个体户登记注册收费吗", "零工市场谁来维护秩序", "秦青优惠贷最高贷多少")
    questions = [topic["question"] for topic in replies[-1].topic_history]
    assert questions == ["零工市场谁来维护秩序", "个体户登记注册收费吗", "以工代训补贴标准是多少"]
    assert replies[3].topic_history == replies[2].topic_history  # the same question again is no new topic


def test_without_an_earlier_topic_a_return_opener_is_only_dropped(searcher, engine):
    reply = ask(searcher, engine, "回到刚才的，个体户登记注册收费吗", context=loan_context(searcher, engine))
    assert not reply.returned and reply.citations[0]["article"] == 7


def test_a_correction_of_the_activity_answers_the_topic_again_for_the_new_facts(searcher, engine):
    first, corrected, again = follow(searcher, engine, "我是企业失业人员，开了家理发店，一次性创业补贴能拿吗",
                                     "不对，我没开店，是在工地打零工", "那要是开个网店呢")
    assert "符合" in lead_of(first) and "5000元" in lead_of(first)
    assert corrected.follow_up and corrected.citations[0]["article"] == 1 and "不符合" in lead_of(corrected)
    assert again.citations[0]["article"] == 1 and "5000元" in lead_of(again) and "不符合" not in lead_of(again)


def test_naming_the_training_subsidy_states_no_fact_about_the_asker(searcher, engine):
    loan, training, back = follow(searcher, engine, "创业担保贷款最多能借多少", "对了，以工代训每人每月补多少",
                                  "回到刚才那个贷款，借12万要反担保吗")
    assert training.facts == {} and not back.personal
    assert "不符合" not in lead_of(back) and "10万元以下免除反担保" in lead_of(back)


def test_a_follow_up_naming_another_entitlement_of_the_clause_is_about_it(searcher, engine):
    tax, loan, guarantee = follow(searcher, engine, "建档立卡户开个小卖部，税费能减多少", "那贷款呢", "要担保吗")
    assert loan.follow_up and loan.citations[0]["article"] == 1
    assert "创业担保贷款" in lead_of(loan) and "20万元" in lead_of(loan) and "税费减免" not in lead_of(loan)
    assert loan.topic_question == "那贷款呢" and "10万元" in lead_of(guarantee)


def test_a_follow_up_in_the_words_of_its_topic_stays_on_it(searcher, engine):
    pension, now = follow(searcher, engine, "灵活就业人员养老保险能缓缴吗", "现在还能缓吗")
    assert now.follow_up and now.citations[0]["article"] == 13 and "不再适用" in lead_of(now)


def test_an_age_after_a_loan_answer_is_about_that_loan_not_a_switch_to_the_age_limited_one(searcher, engine):
    loan, older = follow(searcher, engine, "创业担保贷款最多能贷多少", "那我50岁呢")
    assert older.follow_up and "创业担保贷款没有年龄要求" in lead_of(older)
    assert older.topic_question == loan.topic_question


def test_a_correction_of_the_question_is_not_read_as_a_correction_of_the_facts(searcher, engine):
    fee, corrected = follow(searcher, engine, "摆摊要交费吗", "不对，我问的是摆摊要不要办执照")
    assert "无须办理营业执照" in "".join(corrected.parts)


def test_how_to_do_an_activity_of_its_own_is_a_new_question(searcher, engine):
    assert not is_follow_up(normalize("怎么搞直播带货"), Context("创业孵化基地有免费场地吗", ["baoji-2020-49:3.8"]))
    assert is_follow_up(normalize("那企业下岗的呢"), Context("农民工返乡创业有补贴吗", ["baoji-2020-49:2.1"]))
    assert is_follow_up(normalize("一个人一个月多少"), Context("企业招退役军人有补贴吗", ["baoji-2020-49:2.2"]))


def test_english_letters_are_no_echo_of_the_topic(searcher, engine):
    topic = Context("Can a laid-off worker get a start-up subsidy?", ["baoji-2020-49:2.1"])
    assert follow_up_kind(normalize("social insurance subsidy?"), topic) == ""
    assert follow_up_kind(normalize("For how many months?"), topic) == "bare"


def test_a_return_that_names_something_of_its_own_is_answered_on_its_own_words(searcher, engine):
    *_, back = follow(searcher, engine, "城管划了地方，临时摊点能摆吗", "对了，哪里能看到招工信息",
                      "再说回摆摊，占道经营要交钱吗")
    assert back.returned and not back.follow_up
    assert back.citations[0]["article"] == 7 and "免征" in lead_of(back)  # the fee clause, not the stall one


@pytest.mark.parametrize("message", ["要是只借8万块，还得找人作保不", "只借5万元用不用找人担保"])
def test_an_amount_and_a_guarantee_in_other_words_stay_on_the_loan(searcher, engine, message):
    context = loan_context(searcher, engine)
    assert follow_up_kind(normalize(message), context) == "bare"
    reply = ask(searcher, engine, message, context=context)
    assert reply.follow_up and reply.citations[0]["article"] == 1 and "免除反担保" in lead_of(reply)


def test_which_office_with_a_demonstrative_inside_stays_on_the_topic(searcher, engine):
    *_, office = follow(searcher, engine, "交不起养老保险，能暂缓缴费吗", "办这个该上哪个单位")
    assert office.follow_up and office.citations[0]["article"] == 13 and "市人社局" in lead_of(office)


def test_a_longer_question_the_topics_clause_answers_asks_more_of_its_entitlement(searcher, engine):
    training, total = follow(searcher, engine, "以工代训每人每月补多少", "新招了2个登记失业人员，加起来最多能补多少钱")
    assert total.follow_up and total.citations[0]["article"] == 2
    assert "7200元" in text_of(total)  # 600元 × 6个月 × 2人: the topic named the entitlement
    loan, tax = follow(searcher, engine, "创业担保贷款最多能借多少", "建档立卡贫困人口开个小卖部税费减免能减多少")
    assert "14400元" in lead_of(tax)  # a question naming an entitlement of its own is about that one


def test_another_persons_generic_question_is_a_question_of_its_own(searcher, engine):
    qinqing = ask(searcher, engine, "秦青优惠贷最高多少")
    context = Context(qinqing.topic_question, qinqing.topic_clauses, {})
    assert follow_up_kind(normalize("那网约车司机有啥扶持"), context) == "marked"
    assert follow_up_kind(normalize("那企业下岗的呢"), context) == "bare"  # the same question for another person
    reply = ask(searcher, engine, "那网约车司机有啥扶持", context=context)
    assert not reply.follow_up and reply.citations[0]["article"] == 3


def test_a_part_with_no_topic_of_its_own_asks_about_the_part_before_it(searcher, engine):
    from knowledge.reply import with_detail_parts_joined
    from knowledge.search import PartResult
    parts = [PartResult("持就业创业证开店,税费3年最多减免多少", True, 0.9, []), PartResult("平均每年多少", False, 0.1, []),
             PartResult("秦云就业小程序能干啥", True, 0.8, [])]
    assert [part.text for part in with_detail_parts_joined(parts, engine)] == [
        "持就业创业证开店,税费3年最多减免多少 平均每年多少", "秦云就业小程序能干啥"]
    text = text_of(ask(searcher, engine, "我是农民工，回老家开了个装修队，申请创业补贴要带啥，去哪达申请"))
    assert "一次性创业补贴由市人社局" in text and "没有写明具体办理地点、需要的材料" in text
    assert "（十三）" not in text  # "去哪达申请" alone finds the 临时救助金's 经本人申请


# --- dlg9: pronouns, neighbouring clauses, soft returns, corrections by 不是 ----------------------------------------
def test_a_pronoun_inside_the_message_stands_for_the_topic(searcher, engine):
    _, fees = follow(searcher, engine, "外卖平台收的管理费运营费能减免吗", "平台收钱这事归哪个部门管")
    assert fees.follow_up and fees.citations[0]["article"] == 3


def test_a_pronoun_after_its_own_noun_is_a_new_question():
    context = Context("创业担保贷款最多贷多少", ["baoji-2020-49:2.1"])
    assert follow_up_kind(normalize("零工市场这块谁来管"), context) == ""
    assert follow_up_kind(normalize("学这个有补贴没"), context) == "marked"


def test_a_follow_up_about_a_neighbouring_clause_cites_that_clause(searcher, engine):
    """家政培训 (（四）) has no subsidy; "学这个有补贴没" asks about the training subsidies of （十一）, which the topic
    and the message rank high together — then the amount and the place stay on that clause."""
    _, subsidy, amount = follow(searcher, engine, "想去学做保姆，有没有家政培训", "学这个给补贴不", "补多少钱")
    assert subsidy.follow_up and subsidy.citations[0]["article"] == 11
    assert amount.citations[0]["article"] == 11 and "没有写明" in lead_of(amount)


def test_a_place_pronoun_is_a_follow_up_of_the_place_under_discussion(searcher, engine):
    _, services = follow(searcher, engine, "社区有没有找工作登记的地方", "那里能办些啥")
    assert services.follow_up and services.citations[0]["article"] == 9


def test_the_follow_up_quotes_the_sentence_of_its_new_words(searcher, engine):
    _, road = follow(searcher, engine, "在政府指定的地方卖菜要办营业执照吗", "占了道要交钱不")
    assert road.citations[0]["article"] == 7 and "免征" in lead_of(road)


def test_words_the_topic_has_do_not_pull_another_sentence(searcher, engine):
    _, which = follow(searcher, engine, "孵化基地能免费给创业的人提供场地不", "啥样的基地才有")
    assert which.follow_up and "孵化" in which.citations[0]["quote"]


def test_a_who_question_about_a_condition_of_the_entitlement_stays_on_it(searcher, engine):
    _, which = follow(searcher, engine, "招了贫困劳动力搞以工代训，补贴怎么算", "什么样的企业才能领")
    assert which.follow_up and which.citations[0]["article"] == 2 and "中小微企业" in lead_of(which)


def test_a_soft_return_goes_back_only_to_the_topic_its_words_name(searcher, engine):
    _, rent, licence = follow(searcher, engine, "帮人修自行车要办执照不", "房租太高政府能减不", "刚才那个执照的事找谁")
    assert rent.citations[0]["article"] == 8
    assert licence.returned and licence.citations[0]["article"] == 7
    _, rent_again = follow(searcher, engine, "房租太高政府能减不", "刚才那个去哪办")
    assert not rent_again.returned and rent_again.citations[0]["article"] == 8


def test_an_out_of_scope_intent_does_not_refuse_a_marked_follow_up_retrieval_answers(searcher, engine):
    context = Context("卖自家种的菜要办营业执照吗", ["baoji-2020-49:3.7"])
    reply = ask(searcher, engine, "那摆摊的范围谁来划", "out_of_scope", 0.97, context)
    assert reply.kind == "answer" and reply.citations[0]["article"] == 8


def test_a_leading_no_with_a_description_corrects_the_facts(searcher, engine):
    _, corrected = follow(searcher, engine, "我是退役军人，开了个小超市，一次性创业补贴能领吗", "不是，我是企业下岗职工")
    assert corrected.follow_up and corrected.citations[0]["article"] == 1
    assert corrected.facts["groups"] == ["laid_off_worker"] and "不符合" not in lead_of(corrected)


def test_a_generic_question_with_a_little_word_is_clarified(searcher, engine):
    assert ask(searcher, engine, "政府能给点啥扶持").kind == "clarify"


def test_a_short_question_naming_another_entitlement_is_a_new_question(searcher, engine):
    _, pension = follow(searcher, engine, "晚上去夜市摆摊城管管不管", "养老保险交不上咋办")
    assert not pension.follow_up and pension.citations[0]["article"] == 13


def test_a_short_question_whose_words_the_topic_clause_has_stays_on_it(searcher, engine):
    _, who = follow(searcher, engine, "有没有学直播销售的培训", "谁来组织")
    assert who.follow_up and who.citations[0]["article"] == 11


def test_a_soft_return_on_a_tie_goes_back_to_the_earlier_topic():
    context = Context("我想开个家政店，能贷款不", ["baoji-2020-49:2.1"], {},
                      [{"question": "家政公司招工有啥扶持", "clauses": ["baoji-2020-49:2.4"]}])
    message, restored, opened = returned_topic("刚才说的家政那个找谁", context)
    assert restored.topic_clauses == ["baoji-2020-49:2.4"] and not opened and message == "家政那个找谁"
    assert returned_topic("刚才那个找谁", context) is None


def test_what_things_to_prepare_is_a_documents_follow_up(searcher, engine):
    _, things = follow(searcher, engine, "创业担保贷款个人能贷多少", "得准备啥东西")
    assert things.follow_up and things.citations[0]["article"] == 1 and "没有写明需要的材料" in lead_of(things)
