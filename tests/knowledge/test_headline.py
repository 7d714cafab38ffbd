"""The answer's first sentence (knowledge/headline.py): which entitlements a question names, personal verdicts
from what the asker says about themselves, and totals computed from the dated parameters."""
import datetime as dt

import pytest

from knowledge.headline import HeadlineContext, _entitlement_lead, relevant_rules
from knowledge.textnorm import normalize

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def engine(entitlement_engine):
    return entitlement_engine


def named(engine, question: str) -> set[str]:
    return relevant_rules(normalize(question).lower(), None, engine.rules, personal=True)[1]


def lead(engine, question: str, **facts) -> str:
    context = HeadlineContext(engine=engine, facts=facts, stated=bool(facts), today=TODAY)
    found = _entitlement_lead(normalize(question).lower(), None, context, anywhere=True)
    return found.sentence if found else ""


def test_a_benefit_the_asker_says_they_never_had_is_not_what_they_ask_about(engine):
    assert "social_insurance_subsidy" not in named(engine, "我之前没交社保也没贷过款，想开个早餐店，一次性创业补贴给多少")
    assert named(engine, "我从来没贷过款，创业担保贷款能贷多少") == {"guarantee_loan"}
    # a question, not a denial: 有没有 / 领没领过 / 不用
    assert "social_insurance_subsidy" in named(engine, "打零工的有没有社保补贴")
    assert "startup_subsidy" in named(engine, "我领没领过创业补贴怎么查")
    assert "guarantee_loan" in named(engine, "借8万是不是不用反担保")


def test_denying_every_qualifying_group_is_a_no_not_a_maybe(engine):
    sentence = lead(engine, "我没有建档立卡，也没办就业创业证，开了个小卖部，税费减免能享受吗",
                    activities=["self_employed"])
    assert sentence.startswith("税费减免要求属于建档立卡贫困人口或持《就业创业证》人员") and "不符合" in sentence
    assert "待确认" not in sentence


def test_a_graduation_year_too_long_ago_is_named_in_the_verdict(engine):
    sentence = lead(engine, "我2019年大学毕业的，现在打零工，社保补贴还能申请不", activities=["part_time"])
    assert "您说的“2019年大学毕业”超过了“离校2年内（未就业）高校毕业生”的期限，按这一身份不符合" in sentence


@pytest.fixture(scope="module")
def terms():
    from knowledge.reply import dialogue_terms
    return dialogue_terms()


def total(engine, terms, question: str, rule_id: str) -> str:
    from knowledge.headline import derived_total
    rule = next(rule for rule in engine.rules.entitlements if rule["id"] == rule_id)
    return derived_total(normalize(question).lower(), rule, engine.parameters, terms)


def test_totals_for_stated_households_people_and_periods_show_the_arithmetic(engine, terms):
    assert "86400元（14400元×3年×2户）" in total(engine, terms, "两户三年税费减免加起来最多多少", "tax_relief")
    assert "28800元（14400元×2年）" in total(engine, terms, "开店只干了两年就关门了，这两年税费最多能减多少", "tax_relief")
    assert "2400元（600元×4个月）" in total(engine, terms, "以工代训干了4个月就走了，这个人的补贴能拿多少", "training_subsidy")
    assert "9000元（600元×5个月×3人）" in total(engine, terms, "招了3个零就业家庭的人以工代训，每人干了5个月，补贴合计多少",
                                              "training_subsidy")


def test_a_period_beyond_the_cap_counts_at_the_cap(engine, terms):
    line = total(engine, terms, "以工代训补贴一个人干满一年能补多少", "training_subsidy")
    assert "最长6个月，按6个月算" in line and "3600元（600元×6个月）" in line
    assert "43200元（14400元×3年）" in total(engine, terms, "干了三年半，税费一共能免多少", "tax_relief")


def test_counts_joined_by_and_add_up_but_a_part_of_a_count_does_not(engine, terms):
    assert "3人" in total(engine, terms, "招了两个退役军人和一个贫困劳动力以工代训，补贴总共多少", "training_subsidy")
    assert "3人" in total(engine, terms, "招了3个人，其中2个退役军人，以工代训一共补多少", "training_subsidy")


def test_no_extra_total_when_nothing_beyond_the_benefit_is_stated(engine, terms):
    assert total(engine, terms, "个体户税费减免三年一共能减多少", "tax_relief") == ""  # the benefit line says it
    assert total(engine, terms, "以工代训补贴每个人最多能拿多少钱", "training_subsidy") == ""
    assert total(engine, terms, "2020年招的人以工代训补多少", "training_subsidy") == ""  # a calendar year


def test_the_entitlement_s_own_amount_names_it(engine):
    chosen = relevant_rules(normalize("贫困户开店每年能减14400，一共能免多少").lower(), None, engine.rules,
                            personal=False, parameters=engine.parameters)[1]
    assert chosen == {"tax_relief"}
    assert relevant_rules("开店能减多少", None, engine.rules, personal=False, parameters=engine.parameters)[1] == set()


def test_where_to_go_for_an_entitlement_answered_from_its_rules(engine):
    from knowledge.headline import entitlement_where
    rule = next(rule for rule in engine.rules.entitlements if rule["id"] == "startup_subsidy")
    line = entitlement_where(["documents", "place"], [rule])
    assert line.startswith("一次性创业补贴由市人社局") and "没有写明具体办理地点、需要的材料" in line
    assert entitlement_where(["amount"], [rule]) == ""


def test_an_age_on_the_limit_is_told_the_limit_includes_it(engine):
    on_limit = lead(engine, "我刚好45岁，开了个凉皮店，秦青贷还能申请不", age=45, activities=["self_employed"])
    assert on_limit.startswith("秦青优惠贷要求年龄在45岁以下（含45岁），您的年龄：45岁，符合")
    over = lead(engine, "我46了，开了个凉皮店，秦青贷还能申请不", age=46, activities=["self_employed"])
    assert "您的年龄：46岁，不符合" in over and "创业担保贷款没有年龄要求" in over


def test_an_amount_the_asker_states_is_checked_against_the_dated_limits(engine):
    from knowledge.headline import amount_checks
    rule = next(rule for rule in engine.rules.entitlements if rule["id"] == "guarantee_loan")
    above = amount_checks(normalize("想贷15万，要不要寻人反担保").lower(), rule, engine.parameters)
    assert above == "创业担保贷款：您说的15万元超过10万元，不能免除反担保；未超过20万元，在个人贷款最高额度以内"
    on_limit = amount_checks(normalize("借10万块要反担保吗").lower(), rule, engine.parameters)
    assert on_limit.startswith("创业担保贷款：您说的10万元未超过10万元，免除反担保")  # 以下 includes the number
    assert amount_checks("我45岁，能贷多少", rule, engine.parameters) == ""  # no amount of money stated


def test_a_yearly_limit_is_not_pro_rated_for_a_month():
    from knowledge.headline import stated_period
    assert stated_period("个体户的定额税一个月交多少", "年") is None
    assert stated_period("税费2年一共能减多少", "年") == 2
    assert stated_period("以工代训补贴干了4个月能拿多少", "个月") == 4


def test_an_entitlement_is_cited_with_its_section():
    from knowledge.entitlements import EntitlementEngine
    from knowledge.headline import entitlement_heading
    rules = EntitlementEngine().rules
    assert entitlement_heading(1, rules) == "二、（一）优化贷款税收等政策支持个体经营发展"
    assert entitlement_heading(13, rules).startswith("四、（十三）")
