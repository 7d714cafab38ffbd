"""knowledge.decision and the chat calibration: "the NLU cannot read it" is not "the NLU is silent"."""
from types import SimpleNamespace

import numpy as np
import pytest

from knowledge.calibrate import CHAT_FEATURES, collect_chat, cross_validated
from knowledge.decision import NluHint, answer_probability, decision_features, hint_for, latin_share


def test_the_share_of_latin_letters_tells_english_from_chinese():
    assert latin_share("How long can I receive unemployment benefits?") == 1.0
    assert latin_share("创业担保贷款最多贷多少") == 0.0
    assert 0.0 < latin_share("秦青优惠贷 how much") < 1.0
    assert latin_share("123 ？") == 0.0


def test_the_nlu_hint_counts_for_chinese_text_and_button_payloads_only():
    guess = NluHint("out_of_scope", 0.9)
    assert hint_for("失业金能领多久", guess) == guess
    assert hint_for("how long can i receive unemployment benefits?", guess) == NluHint()
    assert hint_for("/greet", NluHint("greet", 1.0)) == NluHint("greet", 1.0)
    assert decision_features(0.5, NluHint("greet", 1.0), "/greet")["latin"] == 0.0


def test_english_has_its_own_weight_and_chinese_without_evidence_is_retrievals_decision():
    weights = {"bias": -0.5, "relevance": 1.0, "latin": 1.5, "policy": 0.8}
    silent = answer_probability(0.4, NluHint(), weights, "今天宝鸡下雨吗")
    english = answer_probability(0.4, NluHint(), weights, "will it rain in baoji today?")
    read = answer_probability(0.4, NluHint("ask_loan", 1.0), weights, "能贷款吗")
    assert silent < 0.5 < english and silent < read
    assert answer_probability(0.4, NluHint(), weights) == silent  # no text: as Chinese without evidence


class FakeSearcher:
    def __init__(self, relevance: dict):
        self.relevance = relevance

    def search(self, question, k=3):
        return SimpleNamespace(relevance=self.relevance[question], normalized=question.lower(), features={})


def test_a_question_the_nlu_read_also_counts_as_if_the_nlu_were_silent():
    questions = [{"q": "能贷款吗", "articles": [1]}, {"q": "Can I borrow?", "articles": [1]},
                 {"q": "今天下雨吗", "articles": []}]
    intents = {"能贷款吗": ["ask_loan", 0.9], "Can I borrow?": ["out_of_scope", 0.8], "今天下雨吗": ["nlu_fallback", 0.3]}
    searcher = FakeSearcher({"能贷款吗": 0.7, "Can I borrow?": 0.6, "今天下雨吗": 0.1})
    rows, labels, groups = collect_chat(searcher, questions, intents)
    column = {name: i for i, name in enumerate(CHAT_FEATURES)}
    assert groups.tolist() == [0, 0, 1, 2]  # only the question the NLU read twice
    assert rows[0, column["policy"]] == pytest.approx(0.9) and rows[1, column["policy"]] == 0.0
    assert rows[2, column["latin"]] == 1.0 and rows[2, column["out_of_scope"]] == 0.0  # English: NLU dropped
    assert labels.tolist() == [1.0, 1.0, 1.0, 0.0]


def test_the_rows_of_one_question_stay_in_one_cross_validation_fold():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2))
    y = (x[:, 0] > 0).astype(float)
    twice = np.repeat(np.arange(20), 2)
    # identical twin rows: a leak across folds would score them from a model that saw them
    scores = cross_validated(np.repeat(x[:20], 2, axis=0), np.repeat(y[:20], 2), l2=1.0, folds=5, groups=twice)
    assert np.allclose(scores[0::2], scores[1::2])
