"""Question-detail rules (knowledge/question_details.py, data in knowledge/lexicon/question_details.yaml)."""
from knowledge.question_details import asked_details, detail_missing, has_evidence


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
