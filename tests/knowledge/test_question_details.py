"""Question-detail rules (knowledge/question_details.py, data in knowledge/lexicon/question_details.yaml)."""
from knowledge.question_details import asked_details, detail_missing, has_evidence
from knowledge.textnorm import normalize


def test_the_details_a_question_asks_for():
    assert asked_details("创业担保贷款能贷多少") == ["amount"]
    assert set(asked_details("贷款利率多少，要带什么材料")) == {"rate", "documents"}
    assert asked_details("创业担保贷款") == []


def test_evidence_and_explicit_statement():
    assert has_evidence("amount", ["个人贷款最高额度20万元。"], explicit=True)
    deferred = ["按规定给予补贴。"]
    assert has_evidence("amount", deferred) and not has_evidence("amount", deferred, explicit=True)
    assert not has_evidence("duration", ["对符合条件的人员给予补贴。"])


def test_a_detail_is_missing_only_when_asked_and_not_stated():
    assert detail_missing("临时救助金给多少", ["对符合条件的人员给予一次性临时救助。"])
    assert not detail_missing("临时救助金给多少", ["一次性临时救助金500元。"])
    assert not detail_missing("临时救助金", ["对符合条件的人员给予一次性临时救助。"])


def test_things_to_prepare_or_bring_ask_for_the_documents():
    assert asked_details(normalize("去办个体登记要准备哪些东西")) == ["documents"]
    assert asked_details(normalize("申请的时候得带些啥")) == ["documents"]
    assert "documents" not in asked_details(normalize("我准备开个小店，能贷多少"))  # a plan, not a question


def test_a_school_leaving_window_is_no_stated_duration():
    who = ["对就业困难人员、离校 2 年内未就业高校毕业生从事非全日制等工作的，在规定期限内给予社会保险补贴。"]
    assert has_evidence("duration", who) and not has_evidence("duration", who, explicit=True)
    assert has_evidence("duration", ["可在 3 年内享受每户每年 14400 元限额的税费减免。"], explicit=True)
    assert has_evidence("duration", ["按每人每月 600 元标准给予最长 6 个月以工代训补贴。"], explicit=True)


def test_a_period_the_asker_states_is_not_asked():
    assert asked_details(normalize("我在菜市场卖菜十几年了，标准化菜市场是啥说法")) == []
    assert asked_details(normalize("干了好几年了，还能补不")) == []
    assert asked_details(normalize("补贴能补几年")) == ["duration"]


def test_an_english_relative_where_asks_for_no_place():
    assert "place" not in asked_details(normalize("Do households where nobody has a job get help finding work?"))
    assert "place" not in asked_details(normalize("Is there an area where street stalls are allowed at night?"))
    assert "place" in asked_details(normalize("Where do I apply for the start-up loan?"))


def test_how_to_cope_is_a_plea_not_a_procedure_question():
    assert "procedure" not in asked_details(normalize("养老保险交不上咋办"))
    assert "procedure" not in asked_details(normalize("老板欠了工钱不给，怎么办？"))
    assert "procedure" in asked_details(normalize("营业执照怎么办"))
    assert "procedure" in asked_details(normalize("创业担保贷款怎么申请"))


def test_a_period_the_asker_has_worked_is_no_duration_asked():
    assert "duration" not in asked_details(normalize("在深圳打了几年工，回来开店能贷款吗"))
    assert "duration" in asked_details(normalize("社保补贴能补几年"))
