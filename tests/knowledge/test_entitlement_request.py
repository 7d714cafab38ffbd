"""Entitlement requests (knowledge/entitlement_request.py): the body of POST /api/entitlements checked into Facts."""
from __future__ import annotations

import dataclasses
import datetime

import pytest

from knowledge.entitlement_request import (BOOLEAN_FIELDS, NUMBER_FIELDS, REQUEST_FIELDS, SCREENING_FACTS, Facts, Hire,
                                          RequestError, parse_request)
from knowledge.entitlement_rules import load_rules


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def test_as_of_defaults_to_today(rules):
    assert parse_request({}, rules).as_of == datetime.date.today()


def test_null_is_unknown_and_an_absent_list_is_none(rules):
    facts = parse_request({"groups": None, "as_of": "2026-11-26"}, rules)
    assert facts.groups is None and facts.activities == frozenset() and facts.hires == ()
    assert facts.as_of == datetime.date(2026, 11, 26)


def test_hires_are_checked_into_whole_counts(rules):
    facts = parse_request({"hires": [{"group": "graduate_2y", "count": 2.0, "months": 6}]}, rules)
    assert facts.hires == (Hire("graduate_2y", 2, 6),)
    with pytest.raises(RequestError) as raised:
        parse_request({"hires": [{"group": "graduate_2y", "count": 1.5}]}, rules)
    assert raised.value.field == "hires[0].count"


def test_the_body_must_be_an_object(rules):
    with pytest.raises(RequestError) as raised:
        parse_request(["age", 35], rules)
    assert raised.value.field == "body"


@pytest.mark.parametrize("request_body, field", [
    ({"colour": "red"}, "colour"), ({"age": 151}, "age"), ({"age": True}, "age"), ({"dibao": "yes"}, "dibao"),
    ({"as_of": "2026-13-01"}, "as_of"), ({"hires": {}}, "hires"),
])
def test_bad_fields_are_named(rules, request_body, field):
    with pytest.raises(RequestError) as raised:
        parse_request(request_body, rules)
    assert raised.value.field == field


def test_request_error_carries_field_and_message_for_the_service(rules):
    with pytest.raises(RequestError) as raised:
        parse_request({"groups": ["astronaut"]}, rules)
    assert raised.value.field == "groups"
    assert "astronaut" in raised.value.message and "migrant_worker" in raised.value.message


def test_the_contract_follows_the_screening_facts(rules):
    assert REQUEST_FIELDS == ("age", "groups", "activities", "covid_income_loss", "months_without_income",
                              "unemployment_insurance", "dibao", "hires", "as_of")
    assert NUMBER_FIELDS == {"age": (0, 150), "months_without_income": (0, 1200)}
    assert BOOLEAN_FIELDS == ("covid_income_loss", "unemployment_insurance", "dibao")
    assert {field.name for field in dataclasses.fields(Facts)} == set(REQUEST_FIELDS)
    # every fact a rule compares or tests is one the request can carry
    assert set(rules.facts) <= set(SCREENING_FACTS) | {"hires"}
