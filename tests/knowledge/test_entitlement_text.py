"""Chat wording of an entitlement result (knowledge/entitlement_text.py)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.text_split import utf8_len
from knowledge.citations import entitlement_citations
from knowledge.entitlement_text import render_entitlements


@pytest.fixture
def evaluate(entitlement_engine):
    return entitlement_engine.evaluate


def test_personal_list_for_a_35_year_old_migrant_worker_opening_a_snack_shop(evaluate):
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    messages = render_entitlements(result)
    text = "\n".join(messages)
    assert all(utf8_len(message) <= 2048 for message in messages)
    for fragment in ("一次性创业补贴：每人5000元", "创业担保贷款：个人贷款最高20万元（10万元以下免除反担保）",
                     "秦青优惠贷：最高300万元", "依据：宝政办发〔2020〕49号 （一）优化贷款税收等政策支持个体经营发展",
                     "去哪儿办", "市人社局", "转人工"):
        assert fragment in text
    assert text.index("✅【符合】") < text.index("❓【待确认】") < text.index("📍【办理部门】")
    assert "如果：受疫情影响无法返岗复工；连续无收入来源满3个月（含3个月）" in text
    assert "税费减免" in text.split("📍")[1]  # listed among those that do not apply


def test_every_status_mark_comes_with_its_word(evaluate):
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    text = "\n".join(render_entitlements(result))
    for mark, word in (("✅", "【符合】"), ("❓", "【待确认】"), ("📍", "【办理部门】")):
        assert text.count(mark) == text.count(mark + word) > 0


def test_the_count_of_other_items_equals_the_names_listed_even_when_a_name_contains_a_comma(evaluate):
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    other = [item["title"] for item in result["entitlements"] if item["eligible"] is False]
    assert any("、" in title for title in other)  # 养老保险暂缓缴费、补缴
    line = next(line for line in "\n".join(render_entitlements(result)).split("\n") if line.startswith("其余"))
    count, names = re.fullmatch(r"其余(\d+)项按您说的情况暂不符合：(.*)。", line).groups()
    listed = re.findall(r"「([^」]+)」", names)
    assert int(count) == len(listed) == len(other)
    assert [name.removesuffix("（已过期）") for name in listed] == other


def test_unknown_facts_are_worded_as_conditions_and_messages_stay_under_the_limit(evaluate):
    result = evaluate({"groups": None, "activities": None, "hires": None, "as_of": "2020-06-01"})
    messages = render_entitlements(result)
    assert len(messages) >= 2 and all(utf8_len(message) <= 2048 for message in messages)
    text = "\n".join(messages)
    assert "暂时没有确定能享受的扶持" in text
    assert "如果：年龄在45岁以下（含45岁）；从事个体经营（创业）" in text


def test_oversized_results_are_split_at_line_boundaries(evaluate):
    result = evaluate({"age": 30, "activities": ["self_employed"], "as_of": "2026-11-26"})
    for item in result["entitlements"]:
        item["amount_text"] = item["amount_text"] + "很长的说明" * 80
    messages = render_entitlements(result, max_bytes=600)
    assert all(utf8_len(message) <= 600 for message in messages)
    assert "".join(messages).count("✅【符合】") == 3


def test_with_its_cards_each_citation_line_names_the_section_and_the_article(evaluate, document):
    """The result as the service sends it (with complete cards): 二、（一）…, as an answer's citation line."""
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    clauses = {clause.clause_id: clause for clause in document.clauses}
    number = result["document"]["number"]
    result["citations"] = entitlement_citations(result, clauses.get, lambda doc_id: {"number": number},
                                                dt.date(2026, 11, 26))
    lines = [line.strip() for line in "\n".join(render_entitlements(result)).split("\n") if "依据：" in line]
    assert lines and all(re.fullmatch(r"(以上\d项)?依据：宝政办发〔2020〕49号 [一二三四五六七八九十]+、（[一二三四五六七八九十]+）\S+",
                                      line) for line in lines)


def test_items_in_a_row_resting_on_one_clause_share_one_citation_line(evaluate):
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    eligible = [item for item in result["entitlements"] if item["eligible"] is True]
    first_run = [item for item in eligible if item["clause_id"] == eligible[0]["clause_id"]]
    assert len(first_run) == 3 and eligible[:3] == first_run  # 创业担保贷款, 秦青优惠贷, 一次性创业补贴: （一）
    lines = "\n".join(render_entitlements(result)).split("\n")
    marks = [index for index, line in enumerate(lines) if line.startswith(("✅", "❓"))]
    cited = [index for index, line in enumerate(lines) if "依据：" in line]
    assert lines[cited[0]].strip() == "以上3项依据：宝政办发〔2020〕49号 （一）优化贷款税收等政策支持个体经营发展"
    assert marks[2] < cited[0] < marks[3]  # after the third item, before the fourth
    shown = [item for item in result["entitlements"] if item["eligible"] is not False]
    runs = 1 + sum(1 for before, after in zip(shown, shown[1:]) if before["clause_id"] != after["clause_id"])
    assert len(cited) == runs  # every item is cited: alone, or with the items before it
