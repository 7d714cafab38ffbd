import datetime as dt

import pytest

from knowledge.answer import MAX_PART_BYTES, compose_answer, split_parts
from knowledge.citations import chinese_number

TODAY = dt.date(2025, 6, 1)


def test_loan_question_quotes_the_sentence_and_cites_the_article(searcher):
    answer = compose_answer("创业担保贷款最多能贷多少？", searcher, today=TODAY)
    text = "\n".join(answer.parts)
    assert answer.answerable
    assert "20万" in text and "宝政办发〔2020〕49号" in text
    assert "（一）优化贷款税收等政策支持个体经营发展" in text
    assert "市人社局" in text
    assert "引导劳动者以市场为导向" not in text  # quotes sentences, not the whole article
    (citation,) = answer.citations
    assert citation["clause_id"] == "baoji-2020-49:2.1" and citation["article"] == 1
    assert citation["title"] == "优化贷款税收等政策支持个体经营发展"
    assert "20万元" in citation["quote"] and citation["departments"][0] == "市财政局"


def test_counter_guarantee_answer(searcher):
    answer = compose_answer("借8万开店的话需要别人给我做反担保吗", searcher, today=TODAY)
    text = "\n".join(answer.parts)
    assert "10万元以下免除反担保" in text and "（一）" in text


def test_expired_time_limit_is_flagged_never_presented_as_current(searcher):
    expired = "\n".join(compose_answer("创业担保贷款最多能贷多少？", searcher, today=TODAY).parts)
    assert "2020年内优先支持" in expired and "已于2020年12月31日到期" in expired
    current = compose_answer("创业担保贷款最多能贷多少？", searcher, today=dt.date(2020, 6, 1))
    assert "到期" not in "\n".join(current.parts) and current.citations[0]["expired"] is False


def test_fully_expired_sentence_is_marked(searcher):
    answer = compose_answer("灵活就业人员养老保险能缓缴吗", searcher, today=TODAY)
    text = "\n".join(answer.parts)
    assert "（十三）" in text and "（已过期）" in text and "2021年12月31日到期" in text
    assert answer.citations[0]["expired"] is True


def test_two_part_question_answers_both_halves(searcher):
    answer = compose_answer("开理发店要交登记费吗？能贷多少？", searcher, today=TODAY)
    assert [c["article"] for c in answer.citations] == [7, 1]
    text = "\n".join(answer.parts)
    assert "不收取任何费用" in text and "20万元" in text


def test_missing_amount_says_as_regulated_and_names_the_department(searcher):
    answer = compose_answer("非全日制的社保补贴给多少钱", searcher, today=TODAY)
    text = "\n".join(answer.parts)
    assert answer.answerable and "（二）" in text
    assert "按规定" in text and "市人社局" in text


@pytest.mark.parametrize("question", ["失业保险金最长能领几个月", "今天下雨吗"])
def test_honest_no_answer(searcher, question):
    answer = compose_answer(question, searcher, today=TODAY)
    assert answer.answerable is False and answer.citations == []
    assert len(answer.parts) == 1 and "没有涉及" in answer.parts[0]


def test_parts_fit_the_wechat_limit_and_break_at_sentence_ends():
    sentence = "对符合条件的灵活就业人员按规定给予社会保险补贴。"
    text = "\n\n".join(["根据宝政办发〔2020〕49号：" + sentence * 40] * 3)
    parts = split_parts(text)
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= MAX_PART_BYTES for p in parts)
    assert all(p.endswith(("。", "：")) for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_a_single_overlong_sentence_is_still_split_within_the_limit():
    parts = split_parts("补贴" * 3000)
    assert all(len(p.encode("utf-8")) <= MAX_PART_BYTES for p in parts) and "".join(parts) == "补贴" * 3000


def test_chinese_article_numbers():
    assert [chinese_number(n) for n in (1, 10, 11, 16, 23)] == ["一", "十", "十一", "十六", "二十三"]


def test_an_answer_cites_the_section_with_the_article(searcher):
    text = "\n".join(compose_answer("创业担保贷款最多能贷多少", searcher).parts)
    assert "宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展" in text
