"""Answerability (knowledge/answerability.py): the logistic answer model and its evidence features."""
import math
from dataclasses import replace

from knowledge.answerability import asked_object_features, lexical_coverage, relevance
from knowledge.tokenize import tokenize


def test_relevance_is_the_logistic_of_the_weighted_features():
    model = {"bias": -1.0, "dense": 2.0, "unknown": -3.0}
    assert relevance(model, {"dense": 1.0, "unknown": 0.0, "gap": 5.0}) == 1 / (1 + math.exp(-1.0))
    assert relevance({}, {"dense": 1.0}) == 0.5


def test_lexical_coverage_weighs_what_the_clause_contains(searcher):
    index = searcher.index
    query = tokenize("创业担保贷款")
    assert lexical_coverage(index, query, query) == 1.0
    assert lexical_coverage(index, query, []) == 0.0
    assert lexical_coverage(index, ["8"] + query, query) == 1.0  # a number the corpus never uses is skipped


def test_features_of_a_search_are_the_model_inputs(searcher):
    result = searcher.search("创业担保贷款最多能贷多少？", k=1)
    assert set(result.features) == {"dense", "gap", "coverage", "unknown", "detail_missing", "crosslingual",
                                    "object_missing", "place_elsewhere"}
    assert result.features["object_missing"] == 0.0 and result.features["place_elsewhere"] == 0.0
    assert result.features["crosslingual"] == 0.0 and result.features["detail_missing"] == 0.0
    assert result.relevance == round(searcher.relevance(result.features), 4)


def test_a_thing_the_top_clause_never_names_is_evidence_against_answering(searcher):
    """生育保险 shares 保险 and 灵活就业人员 with （十三）, which names 养老保险, 失业保险金 and 工伤保险 only."""
    result = searcher.search("灵活就业人员能交生育保险不", k=1)
    assert result.features["object_missing"] == 1.0
    assert searcher.search("西安的灵活就业人员社保补贴一个月多少", k=1).features["place_elsewhere"] == 1.0


def test_english_questions_carry_no_asked_thing_evidence(searcher):
    features = searcher.search("How much is the housing subsidy in Xi'an?", k=1).features
    assert features["object_missing"] == 0.0 and features["place_elsewhere"] == 0.0


def test_the_asked_thing_counts_as_named_when_the_runner_up_clause_names_it(searcher):
    """A misranked top clause must not refuse a question whose thing the next clause names."""
    result = searcher.search("灵活就业人员能交生育保险不", k=2)
    top, runner_up = result.hits[0], result.hits[1]
    named = replace(runner_up, title="生育保险", text="生育保险")
    features = asked_object_features(searcher.index, [top, named], result.normalized)
    assert features["object_missing"] == 0.0
    assert asked_object_features(searcher.index, [top], result.normalized)["object_missing"] == 1.0
