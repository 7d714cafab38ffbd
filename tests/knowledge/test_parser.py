import datetime as dt

import pytest

from knowledge.parser import (analyze_clause_text, extract_amounts, extract_time_limits, parse_document,
                              split_departments)

CLAUSE_IDS = ["baoji-2020-49:0", "baoji-2020-49:1"] + [
    f"baoji-2020-49:{section}.{n}" for section, numbers in
    ((2, range(1, 7)), (3, range(7, 9)), (4, range(9, 14)), (5, range(14, 17))) for n in numbers]


def test_document_metadata(document):
    assert document.doc_id == "baoji-2020-49"
    assert document.number == "宝政办发〔2020〕49号"
    assert document.issuer == "宝鸡市人民政府办公室"
    assert document.title == "宝鸡市人民政府办公室关于支持多渠道灵活就业的实施意见"
    assert document.date == dt.date(2020, 12, 15)  # the signature date, not the 印发 date


def test_all_seventeen_articles_with_stable_ids(document, policy_text):
    assert [c.clause_id for c in document.clauses] == CLAUSE_IDS
    assert sorted({c.article for c in document.clauses}) == list(range(17))
    assert [c.clause_id for c in parse_document(policy_text, "baoji-2020-49").clauses] == CLAUSE_IDS


def test_preamble_and_general_requirements_are_article_zero(document):
    preamble, general = document.clauses[:2]
    assert (preamble.path, preamble.article) == ("0", 0)
    assert preamble.text.startswith("为深入贯彻落实")
    assert (general.path, general.article, general.title, general.section) == ("1", 0, "总体要求", "一、总体要求")


def test_articles_have_section_lead_title_and_sentences(articles):
    first = articles[1]
    assert first.section == "二、积极拓宽渠道，开发更多灵活就业岗位"
    assert first.title == "优化贷款税收等政策支持个体经营发展"
    assert first.text.startswith("优化贷款税收等政策支持个体经营发展。引导劳动者")
    assert any(s.startswith("创业担保贷款个贷最高额度20万元，10万元以下免除反担保") for s in first.sentences)
    assert all(not s.startswith("（") for s in first.sentences)  # departments are not a sentence
    assert articles[7].section == "三、加大扶持力度，不断优化自主创业环境"
    assert articles[7].title == "实施服务管理零收费"
    assert articles[16].title == "加大宣传力度"


def test_departments_come_from_the_trailing_parenthesis(articles):
    assert articles[1].departments == ["市财政局", "市人社局", "人民银行宝鸡支行", "市税务局", "市市场监管局",
                                       "市商务局", "团市委", "各县区人民政府", "高新区管委会"]
    assert articles[13].departments == ["市民政局", "市财政局", "市人社局", "市税务局"]
    assert articles[16].departments == ["市人社局", "市委文明办", "各县区人民政府", "高新区管委会"]


def test_department_parenthesis_moved_to_its_own_paragraph_still_attaches(articles):
    # "（十一）…到个人。\n\n（市教育局、市财政局、市人社局等按职责分工负责）"
    assert articles[11].departments == ["市教育局", "市财政局", "市人社局"]
    assert articles[11].text.endswith("（市教育局、市财政局、市人社局等按职责分工负责）")


def test_page_breaks_inside_sentences_are_repaired(articles):
    assert "纳入创业补贴范围，按规定给予每人5000元的一次性创业补贴" in articles[1].text
    assert "培育网红经济，推行网上营销" in articles[3].text
    assert "免费向辖区内劳动者开放" in articles[8].text
    assert "实时动态发布岗位信息和求职信息" in articles[10].text
    assert "经本人申请" in articles[13].text


def test_stray_spaces_inside_numbers_are_removed(articles):
    assert "20万元" in articles[1].text and "20 万元" not in articles[1].text
    assert "不低于5%的比例" in articles[8].text
    assert "实行柔性城市管理，在不影响通行" in articles[8].text


def test_signature_and_distribution_block_is_not_a_clause(document):
    everything = "".join(c.text for c in document.clauses)
    for fragment in ("抄送", "印发", "共印", "2020年12月15日", "市中级人民法院"):
        assert fragment not in everything
    assert document.clauses[-1].text.endswith("高新区管委会按职责分工负责）")


def _values(clause):
    return {(a.value, a.unit) for a in clause.amounts}


def test_amounts_are_extracted_in_base_units(articles):
    assert {(200000, "元"), (100000, "元"), (3000000, "元"), (14400, "元"), (5000, "元"), (45, "岁")} <= _values(articles[1])
    assert {(600, "元"), (6, "个月")} <= _values(articles[2])
    assert {(5, "%"), (100000, "元")} <= _values(articles[8])
    raw = {a.raw for a in articles[1].amounts}
    assert "20万元" in raw


def test_time_limits_become_dates(articles):
    (limit,) = articles[1].time_limits
    assert (limit.raw, limit.until, limit.kind) == ("2020年内", dt.date(2020, 12, 31), "within_year")
    limits = {(t.raw, t.until, t.kind) for t in articles[13].time_limits}
    assert ("2021年底前", dt.date(2021, 12, 31), "deadline") in limits
    assert ("2020年", dt.date(2020, 12, 31), "year") in limits
    assert limit.expired(dt.date(2021, 1, 1)) and not limit.expired(dt.date(2020, 6, 1))


def test_time_limit_patterns():
    until = {t.raw: t.until for t in extract_time_limits("2021年6月30日前完成，2022年3月底前补缴，二〇二三年年底前")}
    assert until["2021年6月30日前"] == dt.date(2021, 6, 30)
    assert until["2022年3月底前"] == dt.date(2022, 3, 31)
    assert until["2023年年底前"] == dt.date(2023, 12, 31)


def test_amounts_ignore_calendar_years():
    assert {(a.value, a.unit) for a in extract_amounts("2020年起三年内每人每月 600 元")} == {(600, "元"), (3, "年")}


SYNTHETIC = """某市人民政府文件

某政发〔2021〕7号

某市人民政府关于测试的通知

各县区人民政府：

总的说明。

一、第一部分

(一)有分项的条款。开头说明。
1.第一项。内容一，每人补贴 1 000 元。
2．第二项。内容二
续接的半句话。
（1）细项。细项内容。（市人社局、市财政局按职责分工负责）

二、没有分项的部分
1.跳过一级的条款。内容三。

某市人民政府

二〇二一年三月五日
"""


def test_levels_may_be_skipped_and_half_width_brackets_work():
    doc = parse_document(SYNTHETIC, "test")
    assert doc.number == "某政发〔2021〕7号" and doc.date == dt.date(2021, 3, 5)
    paths = {c.path: c for c in doc.clauses}
    assert set(paths) == {"0", "1.1", "1.1.1", "1.1.2", "1.1.2.1", "2.0.1"}
    assert paths["1.1"].article == 1 and paths["1.1"].title == "有分项的条款"
    assert paths["1.1.2"].text == "第二项。内容二续接的半句话。"  # paragraph split repaired
    assert paths["1.1.2.1"].article == 1
    # departments named once at the end of the last sub-item apply to the whole article
    assert paths["1.1"].departments == ["市人社局", "市财政局"]
    assert paths["1.1.1"].departments == ["市人社局", "市财政局"]
    assert paths["2.0.1"].section == "二、没有分项的部分" and paths["2.0.1"].article == 0


def test_analyze_clause_text_recomputes_derived_fields():
    fields = analyze_clause_text("新标题。贷款额度提高到 30 万元，2025年底前有效。（市财政局、市人社局按职责分工负责）",
                                 lead_title=True)
    assert fields["title"] == "新标题"
    assert fields["sentences"] == ["贷款额度提高到30万元，2025年底前有效。"]
    assert fields["departments"] == ["市财政局", "市人社局"]
    assert fields["amounts"][0].value == 300000
    assert fields["time_limits"][0].until == dt.date(2025, 12, 31)


@pytest.mark.parametrize("text, departments", [
    ("正文。（各有关部门和各县区人民政府、高新区管委会按职责分工负责）", ["各有关部门", "各县区人民政府", "高新区管委会"]),
    ("正文。（市人社局、市统计局和各县区人民政府、高新区管委会按职责分工负责）",
     ["市人社局", "市统计局", "各县区人民政府", "高新区管委会"]),
    ("鼓励职业院校（含技工院校）优化专业布局。", []),
])
def test_split_departments(text, departments):
    assert split_departments(text)[1] == departments
