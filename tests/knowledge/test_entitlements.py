"""Entitlement engine (knowledge/entitlements.py): the YAML cases in tests/entitlements/, the response contract,
reloads and what-if overrides."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge.entitlement_parameters import ParameterError
from knowledge.entitlement_request import RequestError
from knowledge.entitlements import EntitlementEngine

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "entitlements"
IDS = ["guarantee_loan", "qinqing_loan", "tax_relief", "startup_subsidy", "social_insurance_subsidy",
       "training_subsidy", "registration_free", "licence_exempt", "road_fee_exempt", "pension_deferral",
       "temporary_relief"]
CONTRACT_KEYS = {"id", "title", "eligible", "amount", "unit", "max_total", "status", "article", "clause_id",
                 "reference", "quote", "why", "missing"}
CONTAINS_KEYS = {"why_contains": "why", "notes_contains": "notes", "amount_text_contains": "amount_text"}


def load_cases():
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield pytest.param(case, id=f"{path.stem}:{case['name']}")


CASES = list(load_cases())


def test_suite_has_at_least_40_cases_covering_every_entitlement():
    assert len(CASES) >= 40
    covered = {key for param in CASES for key in param.values[0].get("expect", {})}
    assert covered == set(IDS)


@pytest.fixture
def evaluate(entitlement_engine):
    return entitlement_engine.evaluate


@pytest.mark.parametrize("case", CASES)
def test_yaml_case(case, evaluate):
    if "error" in case:
        with pytest.raises(RequestError) as raised:
            evaluate(case["request"])
        assert raised.value.field == case["error"]
        for text in case.get("error_contains", []):
            assert text in raised.value.message
        return
    result = evaluate(case["request"])
    by_id = {item["id"]: item for item in result["entitlements"]}
    assert [item["id"] for item in result["entitlements"]] == IDS
    for entitlement_id, expected in case["expect"].items():
        item = by_id[entitlement_id]
        for key, value in expected.items():
            if key in CONTAINS_KEYS:
                shown = item[CONTAINS_KEYS[key]]
                text = "\n".join(shown) if isinstance(shown, list) else shown
                for fragment in value:
                    assert fragment in text, f"{entitlement_id}.{CONTAINS_KEYS[key]}: {fragment!r} not in {text!r}"
            else:
                assert item[key] == value, f"{entitlement_id}.{key}: {item[key]!r} != {value!r}\nwhy: {item['why']}"
    if "missing" in case:
        assert result["missing"] == case["missing"]


def test_response_follows_the_contract(evaluate):
    result = evaluate({"age": 44, "groups": ["poverty_registered", "migrant_worker"], "activities": ["self_employed"],
                       "covid_income_loss": True, "months_without_income": 3, "unemployment_insurance": False,
                       "dibao": False, "hires": [{"group": "graduate_2y", "count": 2, "months": 6}],
                       "as_of": "2026-11-26"})
    assert result["as_of"] == "2026-11-26"
    assert isinstance(result["missing"], list)
    for item in result["entitlements"]:
        assert CONTRACT_KEYS <= set(item)
        assert item["eligible"] in (True, False, None)
        assert item["status"] in ("active", "expired")
        assert item["reference"].startswith("宝政办发〔2020〕49号 （")
        assert item["why"] and all(re.match("^(符合|不符合|待确认)：", line) for line in item["why"])
        assert item["amount"] is None or isinstance(item["amount"], (int, float))
    assert {item["id"] for item in result["entitlements"] if item["eligible"]} == {
        "guarantee_loan", "qinqing_loan", "tax_relief", "startup_subsidy", "registration_free", "temporary_relief"}


def test_changing_a_value_changes_the_answer_after_reload(parameters_copy, edit):
    engine = EntitlementEngine(parameters_copy)
    request = {"age": 45, "groups": ["migrant_worker"], "activities": ["self_employed"], "as_of": "2026-11-26"}
    before = {item["id"]: item for item in engine.evaluate(request)["entitlements"]}
    assert before["startup_subsidy"]["amount"] == 5000 and before["qinqing_loan"]["eligible"] is True

    edit(parameters_copy / "startup_subsidy.yaml", "value: 5000", "value: 6000")
    edit(parameters_copy / "qinqing_loan.yaml", "value: 45", "value: 40")
    assert engine.evaluate(request)["entitlements"][3]["amount"] == 5000  # nothing changes until reload
    engine.reload()

    after = {item["id"]: item for item in engine.evaluate(request)["entitlements"]}
    assert after["startup_subsidy"]["amount"] == 6000
    assert "6000元" in after["startup_subsidy"]["amount_text"]
    assert after["qinqing_loan"]["eligible"] is False


def test_changing_a_date_changes_the_status_after_reload(parameters_copy, edit):
    engine = EntitlementEngine(parameters_copy)
    request = {"activities": ["flexible_insured"], "as_of": "2022-06-01"}
    assert engine.evaluate(request)["entitlements"][9]["status"] == "expired"
    edit(parameters_copy / "pension_deferral.yaml", 'until: "2021-12-31"', 'until: "2022-12-31"')
    engine.reload()
    assert engine.evaluate(request)["entitlements"][9]["status"] == "active"


def test_a_broken_edit_fails_the_reload_and_keeps_serving_the_old_values(parameters_copy, edit):
    engine = EntitlementEngine(parameters_copy)
    edit(parameters_copy / "startup_subsidy.yaml", "value: 5000", "value: 6000\n    colour: red")
    with pytest.raises(ParameterError):
        engine.reload()
    assert engine.evaluate({"as_of": "2026-11-26"})["entitlements"][3]["amount"] == 5000


def test_what_if_overrides_leave_the_loaded_parameters_alone(evaluate):
    request = {"groups": ["laid_off_worker"], "activities": ["self_employed"], "as_of": "2026-11-26"}
    changed = evaluate(request, {"startup_subsidy.amount": 8000})
    assert changed["entitlements"][3]["amount"] == 8000
    assert evaluate(request)["entitlements"][3]["amount"] == 5000
