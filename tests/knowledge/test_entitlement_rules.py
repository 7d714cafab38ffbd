"""Entitlement rules (knowledge/entitlement_rules.py): quotes and departments agree with the document and the
parser; rules naming an unknown parameter are rejected."""
from __future__ import annotations

import re

import pytest

from knowledge.entitlement_parameters import ParameterError, load_parameters
from knowledge.entitlement_rules import load_rules
from knowledge.parser import parse_document


def test_every_rule_quotes_a_sentence_of_its_article_and_names_its_departments(article_text):
    rules = load_rules()
    expected_paths = {1: "2.1", 2: "2.2", 7: "3.7", 13: "4.13"}
    for number, article in rules.articles.items():
        assert article["clause_id"] == f"baoji-2020-49:{expected_paths[number]}"
        text = article_text(number)
        departments = text[text.rindex("（"):]
        assert all(name in departments for name in article["departments"]), number
    for rule in rules.entitlements:
        text = article_text(rule["article"])
        assert rule["quote"] in text and rule["quote"].endswith("。"), rule["id"]
        assert set(rule["apply_to"]) <= set(rules.articles[rule["article"]]["departments"]), rule["id"]


def test_clause_ids_and_departments_agree_with_the_parser(policy_text):
    document = parse_document(policy_text, "baoji-2020-49")
    clauses = {clause.clause_id: clause for clause in document.clauses}
    rules = load_rules()
    for number, article in rules.articles.items():
        clause = clauses[article["clause_id"]]
        assert clause.article == number
        assert clause.departments == article["departments"]
    squeeze = lambda text: re.sub(r"\s+", "", text)  # noqa: E731 - the parser may repair spacing
    for rule in rules.entitlements:
        assert squeeze(rule["quote"]) in squeeze(clauses[rules.articles[rule["article"]]["clause_id"]].text)



def test_rules_naming_an_unknown_parameter_are_rejected(parameters_copy):
    (parameters_copy / "startup_subsidy.yaml").unlink()
    with pytest.raises(ParameterError, match="startup_subsidy.amount"):
        load_rules(parameters=load_parameters(parameters_copy))
