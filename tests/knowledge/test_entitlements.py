"""Entitlement engine: the YAML cases in tests/entitlements/, the parameter schema, reloads, citations."""
from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path

import pytest
import yaml

from knowledge import entitlements
from knowledge.entitlement_text import render_entitlements, utf8_len
from knowledge.entitlements import (EntitlementEngine, ParameterError, RequestError, evaluate, load_parameters,
                                    load_rules, satisfies)

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "entitlements"
PARAMETERS_DIR = ROOT / "knowledge" / "parameters"
DOCUMENT_FILE = ROOT / "knowledge" / "data" / "baoji-2020-49.txt"
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


@pytest.mark.parametrize("case", CASES)
def test_yaml_case(case):
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


def test_response_follows_the_contract():
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


def test_as_of_defaults_to_today():
    assert evaluate({})["as_of"] == datetime.date.today().isoformat()


def test_the_body_must_be_an_object():
    with pytest.raises(RequestError) as raised:
        evaluate(["age", 35])
    assert raised.value.field == "body"


def test_request_error_carries_field_and_message_for_the_service():
    with pytest.raises(RequestError) as raised:
        evaluate({"groups": ["astronaut"]})
    assert raised.value.field == "groups"
    assert "astronaut" in raised.value.message and "migrant_worker" in raised.value.message


@pytest.mark.parametrize("value, op, bound, expected", [
    (45, "以下", 45, True), (46, "以下", 45, False), (45, "以内", 45, True), (45, "以上", 45, True),
    (3, "届满", 3, True), (2, "届满", 3, False), (45, "超过", 45, False), (46, "超过", 45, True),
    (45, "不满", 45, False), (44, "不满", 45, True), (45, "以外", 45, False), (46, "以外", 45, True),
])
def test_chinese_number_convention(value, op, bound, expected):
    assert satisfies(value, op, bound) is expected


# --- parameters: schema, quotes, reload --------------------------------------------------------------------
def joined_document() -> str:
    return re.sub(r"\s*\n\s*", "", DOCUMENT_FILE.read_text(encoding="utf-8"))


def article_text(article: int) -> str:
    """The article's own text, from its （N） heading to the next one (both paren widths occur)."""
    numerals = "一二三四五六七八九十"
    def label(n):
        return numerals[n - 1] if n <= 10 else "十" + numerals[n - 11]
    text = joined_document()
    start = re.search(rf"[（(]{label(article)}[）)]", text).start()
    following = re.search(rf"[（(]{label(article + 1)}[）)]", text[start:])
    return text[start:start + following.start()] if following else text[start:]


def test_every_parameter_file_validates_and_cites_the_document_exactly():
    parameters = load_parameters(PARAMETERS_DIR)
    assert len(parameters) >= 10
    rules = load_rules(parameters=parameters)
    for parameter in parameters.values():
        reference = parameter.reference
        assert reference["document"] == "宝政办发〔2020〕49号"
        assert reference["clause_id"] == rules.articles[reference["article"]]["clause_id"]
        assert reference["quote"] in article_text(reference["article"]), parameter.name


def test_every_rule_quotes_a_sentence_of_its_article_and_names_its_departments():
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


def test_clause_ids_and_departments_agree_with_the_parser():
    parser = pytest.importorskip("knowledge.parser")
    document = parser.parse_document(DOCUMENT_FILE.read_text(encoding="utf-8"), "baoji-2020-49")
    clauses = {clause.clause_id: clause for clause in document.clauses}
    rules = load_rules()
    for number, article in rules.articles.items():
        clause = clauses[article["clause_id"]]
        assert clause.article == number
        assert clause.departments == article["departments"]
    squeeze = lambda text: re.sub(r"\s+", "", text)  # noqa: E731 - the parser may repair spacing
    for rule in rules.entitlements:
        assert squeeze(rule["quote"]) in squeeze(clauses[rules.articles[rule["article"]]["clause_id"]].text)


@pytest.fixture
def parameters_copy(tmp_path) -> Path:
    target = tmp_path / "parameters"
    shutil.copytree(PARAMETERS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_unknown_key_in_a_parameter_is_rejected(parameters_copy):
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
def test_invalid_values_are_rejected(parameters_copy, old, new):
    target = "pension_deferral.yaml" if "until" in old else "qinqing_loan.yaml"
    edit(parameters_copy / target, old, new)
    with pytest.raises(ParameterError):
        load_parameters(parameters_copy)


def test_unquoted_yaml_dates_are_accepted(parameters_copy):
    edit(parameters_copy / "pension_deferral.yaml", 'until: "2021-12-31"', "until: 2021-12-31")
    assert load_parameters(parameters_copy)["pension_deferral.back_payment"].period.until == datetime.date(2021, 12, 31)


def test_changing_a_value_changes_the_answer_after_reload(parameters_copy):
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


def test_changing_a_date_changes_the_status_after_reload(parameters_copy):
    engine = EntitlementEngine(parameters_copy)
    request = {"activities": ["flexible_insured"], "as_of": "2022-06-01"}
    assert engine.evaluate(request)["entitlements"][9]["status"] == "expired"
    edit(parameters_copy / "pension_deferral.yaml", 'until: "2021-12-31"', 'until: "2022-12-31"')
    engine.reload()
    assert engine.evaluate(request)["entitlements"][9]["status"] == "active"


def test_a_broken_edit_fails_the_reload_and_keeps_serving_the_old_values(parameters_copy):
    engine = EntitlementEngine(parameters_copy)
    edit(parameters_copy / "startup_subsidy.yaml", "value: 5000", "value: 6000\n    colour: red")
    with pytest.raises(ParameterError):
        engine.reload()
    assert engine.evaluate({"as_of": "2026-11-26"})["entitlements"][3]["amount"] == 5000


def test_rules_naming_an_unknown_parameter_are_rejected(parameters_copy):
    (parameters_copy / "startup_subsidy.yaml").unlink()
    with pytest.raises(ParameterError, match="startup_subsidy.amount"):
        EntitlementEngine(parameters_copy)


def test_what_if_overrides_leave_the_loaded_parameters_alone():
    request = {"groups": ["laid_off_worker"], "activities": ["self_employed"], "as_of": "2026-11-26"}
    changed = evaluate(request, {"startup_subsidy.amount": 8000})
    assert changed["entitlements"][3]["amount"] == 8000
    assert evaluate(request)["entitlements"][3]["amount"] == 5000


def test_module_level_reload_rereads_the_default_files():
    entitlements.reload()
    assert evaluate({"as_of": "2026-11-26"})["entitlements"][0]["amount"] == 200000


# --- wording of the result (knowledge/entitlement_text.py) ------------------------------------------------
def test_personal_list_for_a_35_year_old_migrant_worker_opening_a_snack_shop():
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    messages = render_entitlements(result)
    text = "\n".join(messages)
    assert all(utf8_len(message) <= 2048 for message in messages)
    for fragment in ("一次性创业补贴：每人5000元", "创业担保贷款：个人贷款最高20万元（10万元以下免除反担保）",
                     "秦青优惠贷：最高300万元", "依据：宝政办发〔2020〕49号 （一）优化贷款税收等政策支持个体经营发展",
                     "去哪儿办", "市人社局", "转人工"):
        assert fragment in text
    assert text.index("✅【符合】") < text.index("❓【待确认】") < text.index("📍【办理部门】")
    assert "如果：受疫情影响无法返岗复工；连续无收入来源满3个月（含3个月）" in text
    assert "税费减免" in text.split("📍")[1]  # listed among those that do not apply


def test_every_status_mark_comes_with_its_word():
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    text = "\n".join(render_entitlements(result))
    for mark, word in (("✅", "【符合】"), ("❓", "【待确认】"), ("📍", "【办理部门】")):
        assert text.count(mark) == text.count(mark + word) > 0


def test_the_count_of_other_items_equals_the_names_listed_even_when_a_name_contains_a_comma():
    result = evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": "2026-11-26"})
    other = [item["title"] for item in result["entitlements"] if item["eligible"] is False]
    assert any("、" in title for title in other)  # 养老保险暂缓缴费、补缴
    line = next(line for line in "\n".join(render_entitlements(result)).split("\n") if line.startswith("其余"))
    count, names = re.fullmatch(r"其余(\d+)项按您说的情况暂不符合：(.*)。", line).groups()
    listed = re.findall(r"「([^」]+)」", names)
    assert int(count) == len(listed) == len(other)
    assert [name.removesuffix("（已过期）") for name in listed] == other


def test_unknown_facts_are_worded_as_conditions_and_messages_stay_under_the_limit():
    result = evaluate({"groups": None, "activities": None, "hires": None, "as_of": "2020-06-01"})
    messages = render_entitlements(result)
    assert len(messages) >= 2 and all(utf8_len(message) <= 2048 for message in messages)
    text = "\n".join(messages)
    assert "暂时没有确定能享受的扶持" in text
    assert "如果：年龄在45岁以下（含45岁）；从事个体经营（创业）" in text


def test_oversized_results_are_split_at_line_boundaries():
    result = evaluate({"age": 30, "activities": ["self_employed"], "as_of": "2026-11-26"})
    for item in result["entitlements"]:
        item["amount_text"] = item["amount_text"] + "很长的说明" * 80
    messages = render_entitlements(result, max_bytes=600)
    assert all(utf8_len(message) <= 600 for message in messages)
    assert "".join(messages).count("✅【符合】") == 3
