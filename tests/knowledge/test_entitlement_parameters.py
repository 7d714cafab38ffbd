"""Entitlement parameters (knowledge/entitlement_parameters.py): schema, exact quotes, dated values, the legal
number convention."""
from __future__ import annotations

import datetime

import pytest

from knowledge.entitlement_parameters import PARAMETERS_DIR, ParameterError, load_parameters, satisfies
from knowledge.entitlement_rules import load_rules


@pytest.mark.parametrize("value, op, bound, expected", [
    (45, "以下", 45, True), (46, "以下", 45, False), (45, "以内", 45, True), (45, "以上", 45, True),
    (3, "届满", 3, True), (2, "届满", 3, False), (45, "超过", 45, False), (46, "超过", 45, True),
    (45, "不满", 45, False), (44, "不满", 45, True), (45, "以外", 45, False), (46, "以外", 45, True),
])
def test_chinese_number_convention(value, op, bound, expected):
    assert satisfies(value, op, bound) is expected


def test_every_parameter_file_validates_and_cites_the_document_exactly(article_text):
    parameters = load_parameters(PARAMETERS_DIR)
    assert len(parameters) >= 10
    rules = load_rules(parameters=parameters)
    for parameter in parameters.values():
        reference = parameter.reference
        assert reference["document"] == "宝政办发〔2020〕49号"
        assert reference["clause_id"] == rules.articles[reference["article"]]["clause_id"]
        assert reference["quote"] in article_text(reference["article"]), parameter.name


def test_unknown_key_in_a_parameter_is_rejected(parameters_copy, edit):
    edit(parameters_copy / "startup_subsidy.yaml", "    unit: 元/人\n", "    unit: 元/人\n    currency: CNY\n")
    with pytest.raises(ParameterError, match="currency"):
        load_parameters(parameters_copy)


def test_unknown_top_level_key_is_rejected(parameters_copy):
    with (parameters_copy / "tax_relief.yaml").open("a", encoding="utf-8") as file:
        file.write("owner: 市税务局\n")
    with pytest.raises(ParameterError, match="owner"):
        load_parameters(parameters_copy)


def test_parameter_without_reference_is_rejected(parameters_copy):
    path = parameters_copy / "startup_subsidy.yaml"
    path.write_text(path.read_text(encoding="utf-8").split("    reference:")[0], encoding="utf-8")
    with pytest.raises(ParameterError, match="reference"):
        load_parameters(parameters_copy)


@pytest.mark.parametrize("old, new", [
    ('until: "2021-12-31"', 'until: "2021-13-31"'),   # no such date
    ("op: 以下", "op: 以下的"),                          # not a known operator
    ("value: 45", "value: 四十五"),                      # not a number
])
def test_invalid_values_are_rejected(parameters_copy, edit, old, new):
    target = "pension_deferral.yaml" if "until" in old else "qinqing_loan.yaml"
    edit(parameters_copy / target, old, new)
    with pytest.raises(ParameterError):
        load_parameters(parameters_copy)


def test_unquoted_yaml_dates_are_accepted(parameters_copy, edit):
    edit(parameters_copy / "pension_deferral.yaml", 'until: "2021-12-31"', "until: 2021-12-31")
    assert load_parameters(parameters_copy)["pension_deferral.back_payment"].period.until == datetime.date(2021, 12, 31)
