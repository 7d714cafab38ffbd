"""Free-text profile extraction for the screening dialogue (knowledge/profile_text.py)."""
from __future__ import annotations

import dataclasses
import datetime

import pytest
import yaml

from knowledge.entitlement_request import LIST_FIELDS, SCREENING_FACTS
from knowledge.entitlement_rules import load_rules
from knowledge.profile_text import (TERMS_FILE, ProfileUpdate, denied_names, is_question, parse_profile,
                                    reuse_answer, updated_names)

TODAY = datetime.date(2026, 11, 26)


def parse(text, expecting=None):
    return parse_profile(text, expecting=expecting, today=TODAY)


@pytest.mark.parametrize("text, groups", [
    ("我是农民工，建档立卡户", ["poverty_registered", "migrant_worker"]),
    ("我是農民工，建檔立卡戶", ["poverty_registered", "migrant_worker"]),  # Traditional characters
    ("退伍军人", ["veteran"]),
    ("有就业创业证", ["employment_card"]),                                 # not read as 创业
    ("大学毕业两年", ["graduate_2y"]),
    ("失业农民工", ["migrant_worker", "laid_off_worker"]),
    ("登记失业了", ["registered_unemployed"]),
    ("零就业家庭", ["zero_employment_family"]),
    ("建档立卡贫困劳动力", ["poor_labor", "poverty_registered"]),
])
def test_groups(text, groups):
    assert sorted(parse(text, "groups").groups) == sorted(groups)


@pytest.mark.parametrize("text, activities", [
    ("开了个面馆", ["self_employed"]),
    ("想开小吃店", ["self_employed"]),
    ("开了一家理发店", ["self_employed"]),
    ("跑外卖", ["platform_worker"]),
    ("开滴滴", ["platform_worker"]),
    ("打零工、做钟点工", ["part_time"]),
    ("摆摊", ["street_stall"]),
    ("在夜市摆摊卖菜", ["vendor", "street_stall"]),
    ("修鞋配钥匙", ["skilled_service"]),
    ("我们是小微企业，招了几个人", ["sme_employer"]),
    ("以个人身份交养老保险", ["flexible_insured"]),
])
def test_activities(text, activities):
    assert sorted(parse(text, "activities").activities) == sorted(activities)


@pytest.mark.parametrize("text, expecting, age", [
    ("三十五", "age", 35), ("35周岁", None, 35), ("35岁", None, 35), ("我今年四十", "age", 40),
    ("35", "age", 35), ("85年生的", "age", 41), ("不对，我43岁", "groups", 43), ("不是35岁，是43岁", None, 43),
    ("150岁", None, 150),          # parsed; the form's validation rejects it with a hint
    ("I'm 50 years old, can I get the loan?", None, 50), ("I am 38 and a veteran", None, 38), ("aged 47", None, 47),
])
def test_age(text, expecting, age):
    assert parse(text, expecting).age == age


@pytest.mark.parametrize("text, expecting", [
    ("35", None),                  # a bare number is an age only when the age was asked
    ("3个月", "age"),              # a number with a unit is not an age
    ("开了3家店", "age"),
    ("My kid is 3 years old", None),  # someone else's age
])
def test_numbers_that_are_not_ages(text, expecting):
    assert parse(text, expecting).age is None


def test_the_issue_example_fills_everything_at_once():
    update = parse("我是农民工，44岁，建档立卡户，想开个面馆，能享受啥？")
    assert update.age == 44
    assert sorted(update.groups) == ["migrant_worker", "poverty_registered"]
    assert update.activities == ["self_employed"]


@pytest.mark.parametrize("text", ["都不是", "没有", "我都不是啊", "一个都不是", "不是", "啥也没干"])
def test_none_answers(text):
    update = parse(text, "groups")
    assert update.none and not update.skip and update.groups == []


@pytest.mark.parametrize("text", ["不知道", "跳过", "不清楚", "这个不想说"])
def test_skip_answers(text):
    update = parse(text, "age")
    assert update.skip and not update.none


@pytest.mark.parametrize("text", ["算了", "不查了，算了"])
def test_stop_fills_nothing(text):
    assert parse(text, "groups") == ProfileUpdate(stop=True)


def test_denied_names_are_reported_apart():
    update = parse("我不是农民工，是退役军人", "groups")
    assert update.groups == ["veteran"] and update.not_groups == ["migrant_worker"]


def test_correction_marker():
    assert parse("不对，我43岁").correction
    assert not parse("我43岁").correction


def test_policy_names_are_not_read_as_activities():
    assert parse("创业担保贷款能贷多少？", "activities").activities == []
    assert parse("一次性创业补贴咋领", "activities").activities == []


def test_optional_facts():
    update = parse("疫情回不去，连续三个月没收入了，也没交失业保险，没吃低保")
    assert update.facts() == {"covid_income_loss": True, "months_without_income": 3,
                              "unemployment_insurance": False, "dibao": False}
    assert parse("我失业了，有失业保险").facts() == {"unemployment_insurance": True}
    assert parse("低保户").facts() == {"dibao": True}


def test_questions():
    assert is_question("创业担保贷款能贷多少？")
    assert is_question("农民工能享受啥补贴吗")
    assert not is_question("农民工")


@pytest.mark.parametrize("current, text, answering, expected", [
    (None, "农民工、退役军人", True, ["migrant_worker", "veteran"]),
    (None, "都不是", True, []),
    (None, "我不是农民工", True, []),
    (None, "我不是农民工", False, None),                        # nothing to remove, not asked: unchanged
    (["migrant_worker"], "还是建档立卡户", False, ["migrant_worker", "poverty_registered"]),
    (["migrant_worker"], "不对，我是退役军人", False, ["veteran"]),
    (["migrant_worker", "veteran"], "我不是农民工", False, ["veteran"]),
    (["migrant_worker"], "35岁", False, ["migrant_worker"]),
])
def test_updated_names(current, text, answering, expected):
    assert updated_names(current, parse(text, "groups" if answering else None), "groups", answering) == expected


def test_every_term_maps_to_a_contract_name():
    terms = yaml.safe_load(TERMS_FILE.read_text(encoding="utf-8"))
    rules = load_rules()
    assert set(terms["groups"]) == set(rules.groups)
    assert set(terms["activities"]) == set(rules.activities)


def test_a_profile_update_can_carry_every_screening_fact():
    fields = {field.name for field in dataclasses.fields(ProfileUpdate)}
    assert set(SCREENING_FACTS) | {f"not_{name}" for name in LIST_FIELDS} <= fields
    update = ProfileUpdate(age=35, groups=["migrant_worker"], covid_income_loss=True, months_without_income=3)
    assert update.facts() == {"covid_income_loss": True, "months_without_income": 3}


def test_an_age_said_without_sui_is_read():
    assert parse_profile("我46了，想开个快餐店").age == 46
    assert parse_profile("额都五十咧，还能贷不").age == 50  # dialect: 额 → 我, 咧 → 了
    assert parse_profile("我干了3年了").age is None


@pytest.mark.parametrize("text", ["我离校三年了", "大学毕业快5年了", "毕业都十年了，还能算毕业生不"])
def test_a_time_since_graduation_beyond_the_limit_rules_the_graduate_group_out(text):
    update = parse_profile(text)
    assert "graduate_2y" not in update.groups and update.not_groups == ["graduate_2y"]


def test_a_recent_graduate_is_still_one():
    assert parse_profile("我是大学生，毕业1年").groups == ["graduate_2y"]


def test_a_year_of_leaving_school_long_before_today_rules_the_graduate_group_out():
    long_ago = parse("我2019年大学毕业的，一直没正式工作")
    assert long_ago.groups == [] and long_ago.not_groups == ["graduate_2y"]
    assert parse("我是2025年大专毕业的").groups == ["graduate_2y"]  # within the limit: still one
    assert denied_names("我2019年大学毕业的", today=TODAY) == ["graduate_2y"]
    assert denied_names("我2025年大学毕业的", today=TODAY) == []


def test_a_verb_of_getting_it_between_the_negation_and_the_group_still_denies():
    update = parse("我没有建档立卡，也没办就业创业证，开了个小卖部")
    assert update.groups == [] and set(update.not_groups) == {"poverty_registered", "employment_card"}
    assert update.activities == ["self_employed"]


def test_the_reader_knows_exactly_the_contract_names_of_the_rules():
    from knowledge.profile_text import known_names

    rules = load_rules()
    assert known_names("groups") == set(rules.groups) and known_names("activities") == set(rules.activities)


@pytest.mark.parametrize("text, reuse", [("用刚才的", True), ("/affirm", None), ("好的", True), ("就用之前的吧", True),
                                         ("重新填", False), ("不用了", False), ("从头来", False),
                                         ("我是农民工", False), ("算了", None), ("跳过", None)])
def test_the_answer_to_reusing_the_facts_set_aside(text, reuse):
    assert reuse_answer(text) is reuse


def test_naming_the_training_subsidy_or_a_ride_hailing_driver():
    assert parse_profile("以工代训每人每月补多少").activities == []  # the subsidy's name, not "I am an employer"
    assert parse_profile("网约车司机呢").activities == ["platform_worker"]


@pytest.mark.parametrize("text", ["到哪里看招工信息", "家政培训有没有", "有没有招聘信息"])
def test_a_word_inside_a_phrase_that_means_something_else_is_no_fact(text):
    update = parse(text)
    assert update.activities == [] and update.groups == []


def test_a_leading_no_before_a_self_description_is_a_correction():
    assert parse("不是，我是农民工").correction and parse("不是的，俺是退伍军人").correction
    assert not parse("我不是退役军人").correction and not parse("不是退役军人能办吗").correction


def test_an_age_after_myself_without_sui():
    assert parse("那我自己50了还能贷不").age == 50
