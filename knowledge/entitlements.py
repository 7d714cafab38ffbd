"""Entitlement engine: which supports of 宝政办发〔2020〕49号 apply to a person, how much, why, and where it is written.

Rules as code in the spirit of OpenFisca: amounts, ages, months and dates are parameters in
`knowledge/parameters/*.yaml` (value, unit, period, reference with the exact quote; schema-checked, unknown
keys are errors); who qualifies is data in `knowledge/rules.yaml`. This module only knows how to read
them and how to evaluate conditions with three-valued logic (a fact the request lacks makes a condition
unknown, and an entitlement whose other conditions hold is then `eligible: null` with the fact in `missing`).

Entry points (contract of POST /api/entitlements, see docs/ARCHITECTURE.md):
    evaluate(request, params=None) -> dict      module-level, uses the shared default engine
    reload()                                    re-read parameters and rules (after staff edits)
    EntitlementEngine(parameters_dir, rules_path).evaluate(...) / .reload()
    load_parameters(directory) -> ParameterSet  schema-validated parameters
Bad requests raise RequestError(field, message); bad data files raise ParameterError.
No Rasa imports: the policy service and the agent console share this engine.
"""
from __future__ import annotations

import datetime
import json
import math
import operator
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent
PARAMETERS_DIR = KNOWLEDGE_DIR / "parameters"
PARAMETER_SCHEMA_FILE = PARAMETERS_DIR / "schema.json"
RULES_FILE = KNOWLEDGE_DIR / "rules.yaml"
RULES_SCHEMA_FILE = KNOWLEDGE_DIR / "rules.schema.json"

REQUEST_FIELDS = ("age", "groups", "activities", "covid_income_loss", "months_without_income",
                  "unemployment_insurance", "dibao", "hires", "as_of")
NUMBER_FIELDS = {"age": (0, 150), "months_without_income": (0, 1200)}
BOOLEAN_FIELDS = ("covid_income_loss", "unemployment_insurance", "dibao")
HIRE_FIELDS = ("group", "count", "months")

VERDICT = {True: "符合", False: "不符合", None: "待确认"}


class RequestError(ValueError):
    """The request is malformed; `field` names the offending field (the service answers 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ParameterError(ValueError):
    """A parameter or rules file is invalid (schema violation, unknown reference, bad date)."""


# --- Chinese legal number convention (民法典 第1259条) ---------------------------------------------
_OPERATORS = {"以上": operator.ge, "届满": operator.ge, "以下": operator.le, "以内": operator.le,
              "超过": operator.gt, "以外": operator.gt, "不满": operator.lt}
INCLUSIVE_OPS = frozenset({"以上", "以下", "以内", "届满"})


def satisfies(value: float, op: str, bound: float) -> bool:
    """`value` meets "`bound` `op`": 以上/以下/以内/届满 include the bound itself, 超过/不满/以外 exclude it."""
    return _OPERATORS[op](value, bound)


# --- parameters --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    start: datetime.date | None
    until: datetime.date | None
    raw: str

    def status(self, as_of: datetime.date) -> str:
        if self.until is not None and as_of > self.until:
            return "expired"
        if self.start is not None and as_of < self.start:
            return "pending"
        return "active"


@dataclass(frozen=True)
class Parameter:
    name: str  # "<file stem>.<key>", e.g. "qinqing_loan.max_age"
    description: str
    value: float | bool | None
    unit: str | None
    op: str | None
    period: Period | None
    reference: dict
    # Later dated values, OpenFisca-style: ((start date, value), …) ascending. `value` holds before the
    # first of them; each holds from its date until the next, so a new value never rewrites the past.
    values: tuple = ()

    def value_at(self, day: datetime.date) -> Any:
        value = self.value
        for start, later in self.values:
            if start <= day:
                value = later
        return value


class ParameterSet(Mapping):
    """Read-only mapping of parameter name → Parameter, as loaded (and validated) from one directory."""

    def __init__(self, parameters: Mapping[str, Parameter], source: Path | None = None):
        self._parameters = dict(parameters)
        self.source = source

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise KeyError(f"unknown parameter {name!r}") from None

    def __iter__(self):
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def with_values(self, changes: Mapping[str, Any]) -> "ParameterSet":
        """A copy with some values replaced (what-if calculations); names must exist."""
        updated = dict(self._parameters)
        for name, value in changes.items():
            if name not in updated:
                raise ParameterError(f"unknown parameter {name!r}")
            updated[name] = replace(updated[name], value=value)
        return ParameterSet(updated, self.source)

    def at(self, day: datetime.date) -> "ParameterSet":
        """The values in force on `day` (dated values resolved; the result has no further dates)."""
        if not any(p.values for p in self._parameters.values()):
            return self
        return ParameterSet({name: replace(p, value=p.value_at(day), values=())
                             for name, p in self._parameters.items()}, self.source)


def _read_yaml(path: Path) -> Any:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ParameterError(f"{path}: cannot read YAML: {error}") from error
    return _dates_as_text(data)


def _dates_as_text(data: Any) -> Any:
    """YAML reads 2021-12-31 as a date; the schema (JSON) speaks strings."""
    if isinstance(data, dict):
        return {key: _dates_as_text(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_dates_as_text(value) for value in data]
    if isinstance(data, datetime.date):
        return data.isoformat()
    return data


def _validate(data: Any, schema: dict, path: Path) -> None:
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ParameterError(f"{path}: {where}: {error.message}")


def _date(text: str | None, path: Path, name: str) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise ParameterError(f"{path}: {name}: invalid date {text!r}") from error


def _parameter(namespace: str, key: str, entry: dict, path: Path) -> Parameter:
    name = f"{namespace}.{key}"
    period = None
    if "period" in entry:
        raw = entry["period"]
        period = Period(_date(raw.get("from"), path, name), _date(raw.get("until"), path, name), raw["raw"])
        if period.start and period.until and period.start > period.until:
            raise ParameterError(f"{path}: {name}: period starts after it ends")
    if "op" in entry and not _is_number(entry["value"]):
        raise ParameterError(f"{path}: {name}: a comparison operator needs a numeric value")
    values = []
    for dated in entry.get("values", []):
        start = _date(dated["from"], path, name)
        if type(dated["value"]) is not type(entry["value"]) and not (
                _is_number(dated["value"]) and _is_number(entry["value"])):
            raise ParameterError(f"{path}: {name}: value from {start} has another type than the base value")
        values.append((start, dated["value"]))
    if len({start for start, _ in values}) != len(values):
        raise ParameterError(f"{path}: {name}: two values start on the same date")
    return Parameter(name, entry["description"], entry["value"], entry["unit"], entry.get("op"), period,
                     dict(entry["reference"]), tuple(sorted(values)))


def parameters_from_data(files: Mapping[str, Any], schema: dict | None = None) -> ParameterSet:
    """Validate parameter file contents ({namespace: data as in a YAML file}) and return them by name;
    the same checks as load_parameters, for parameters kept elsewhere than in files (the knowledge store)."""
    schema = schema or json.loads(PARAMETER_SCHEMA_FILE.read_text(encoding="utf-8"))
    parameters: dict[str, Parameter] = {}
    for namespace, data in files.items():
        _add_parameters(parameters, namespace, _dates_as_text(data), schema, Path(f"{namespace}.yaml"))
    return ParameterSet(parameters)


def _add_parameters(into: dict, namespace: str, data: Any, schema: dict, where: Path) -> None:
    _validate(data, schema, where)
    for key, entry in data["parameters"].items():
        parameter = _parameter(namespace, key, entry, where)
        into[parameter.name] = parameter


def load_parameters(directory: str | Path = PARAMETERS_DIR, schema_path: str | Path | None = None) -> ParameterSet:
    """Read every *.yaml in `directory`, validate each against schema.json, and return them by name."""
    directory = Path(directory)
    schema_file = Path(schema_path) if schema_path else directory / "schema.json"
    if not schema_file.exists():
        schema_file = PARAMETER_SCHEMA_FILE
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ParameterError(f"{directory}: no parameter files (*.yaml)")
    parameters: dict[str, Parameter] = {}
    for path in files:
        _add_parameters(parameters, path.stem, _read_yaml(path), schema, path)
    return ParameterSet(parameters, directory)


# --- rules ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rules:
    document: dict
    articles: dict[int, dict]
    groups: dict[str, str]
    activities: dict[str, str]
    facts: dict[str, dict]
    entitlements: list[dict]


def _referenced_parameters(rule: dict) -> Iterable[tuple[str, bool]]:
    """(parameter name, must be numeric) for every parameter an entitlement uses."""
    if "amount" in rule:
        yield rule["amount"], True
    for condition in rule["conditions"]:
        if "compare" in condition:
            yield condition["compare"]["param"], True
    total = rule.get("max_total", {})
    if "amount_times" in total:
        yield total["amount_times"], True
    if "per_hire_month" in total:
        yield total["per_hire_month"]["cap"], True
    if "period" in rule:
        yield rule["period"], False
    for note in rule.get("notes", []):
        if "while" in note:
            yield note["while"], False
    for placeholder in re.findall(r"\{([a-z0-9_.*]+)\}", rule["benefit"]):
        factors = placeholder.split("*")
        for name in factors:
            if "." in name:
                yield re.sub(r"\.(?:until|from)$", "", name), len(factors) > 1


def check_rules(rules: Rules, parameters: ParameterSet, path: Path = RULES_FILE) -> None:
    """Cross-check rules against the vocabulary, the articles and the parameters they name."""
    seen: set[str] = set()
    for rule in rules.entitlements:
        where = f"{path}: {rule['id']}"
        if rule["id"] in seen:
            raise ParameterError(f"{where}: duplicate entitlement id")
        seen.add(rule["id"])
        if rule["article"] not in rules.articles:
            raise ParameterError(f"{where}: article {rule['article']} is not described under `articles`")
        for name, numeric in _referenced_parameters(rule):
            if name not in parameters:
                raise ParameterError(f"{where}: unknown parameter {name!r}")
            value = parameters[name].value
            if numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ParameterError(f"{where}: parameter {name!r} must have a numeric value")
        for condition in rule["conditions"]:
            _check_condition_names(condition, rules, parameters, where)
        for name in rule.get("max_total", {}).get("per_hire_month", {}).get("groups", []):
            if name not in rules.groups:
                raise ParameterError(f"{where}: unknown group {name!r}")
        if "period" in rule and parameters[rule["period"]].period is None:
            raise ParameterError(f"{where}: parameter {rule['period']!r} has no period")


def _check_condition_names(condition: dict, rules: Rules, parameters: ParameterSet, where: str) -> None:
    for kind, vocabulary in (("any_group", rules.groups), ("hires_any", rules.groups),
                             ("any_activity", rules.activities), ("uncertain", rules.activities)):
        for name in condition.get(kind, []):
            if name not in vocabulary:
                raise ParameterError(f"{where}: unknown {kind.split('_')[-1]} {name!r}")
    for kind in ("compare", "fact_is"):
        if kind in condition and condition[kind]["fact"] not in rules.facts:
            raise ParameterError(f"{where}: unknown fact {condition[kind]['fact']!r}")
    if "compare" in condition and parameters[condition["compare"]["param"]].op is None:
        raise ParameterError(f"{where}: parameter {condition['compare']['param']!r} has no `op`")


def rules_from_text(text: str, parameters: ParameterSet | None = None, where: str = "rules.yaml") -> Rules:
    """Rules from YAML text (as kept in the knowledge store), with the checks of load_rules."""
    try:
        data = _dates_as_text(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise ParameterError(f"{where}: cannot read YAML: {error}") from error
    return _rules_from_data(data, parameters, Path(where))


def load_rules(path: str | Path = RULES_FILE, parameters: ParameterSet | None = None) -> Rules:
    path = Path(path)
    return _rules_from_data(_read_yaml(path), parameters, path)


def _rules_from_data(data: Any, parameters: ParameterSet | None, path: Path) -> Rules:
    _validate(data, json.loads(RULES_SCHEMA_FILE.read_text(encoding="utf-8")), path)
    rules = Rules(data["document"], {int(number): article for number, article in data["articles"].items()},
                  data["groups"], data["activities"], data["facts"], data["entitlements"])
    if parameters is not None:
        check_rules(rules, parameters, path)
    return rules


# --- requests ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hire:
    group: str
    count: int | None
    months: float | None


@dataclass(frozen=True)
class Facts:
    """The request, checked. None means unknown; a list that is present is complete."""
    as_of: datetime.date
    age: float | None = None
    groups: frozenset | None = frozenset()
    activities: frozenset | None = frozenset()
    covid_income_loss: bool | None = None
    months_without_income: float | None = None
    unemployment_insurance: bool | None = None
    dibao: bool | None = None
    hires: tuple[Hire, ...] | None = ()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(field: str, value: Any, low: float, high: float) -> float:
    if not _is_number(value):
        raise RequestError(field, f"“{field}”必须是数字")
    if not low <= value <= high:
        raise RequestError(field, f"“{field}”必须在 {low} 到 {high} 之间")
    return value


def _names(field: str, value: Any, vocabulary: Mapping[str, str], kind: str) -> frozenset:
    if not isinstance(value, list):
        raise RequestError(field, f"“{field}”必须是{kind}名称的列表")
    for item in value:
        if not isinstance(item, str) or item not in vocabulary:
            raise RequestError(field, f"未知的{kind}“{item}”，可选：{', '.join(vocabulary)}")
    return frozenset(value)


def _hires(value: Any, groups: Mapping[str, str]) -> tuple[Hire, ...]:
    if not isinstance(value, list):
        raise RequestError("hires", "“hires”必须是列表，如 [{\"group\": \"graduate_2y\", \"count\": 2, \"months\": 6}]")
    hires = []
    for index, item in enumerate(value):
        where = f"hires[{index}]"
        if not isinstance(item, dict):
            raise RequestError(where, f"“{where}”必须是对象 {{group, count, months}}")
        for key in item:
            if key not in HIRE_FIELDS:
                raise RequestError(f"{where}.{key}", f"未知字段“{key}”，可用：{', '.join(HIRE_FIELDS)}")
        group = item.get("group")
        if not isinstance(group, str) or group not in groups:
            raise RequestError(f"{where}.group", f"未知的人群“{group}”，可选：{', '.join(groups)}")
        count = item.get("count")
        if count is not None:
            count = _number(f"{where}.count", count, 0, 1_000_000)
            if count != int(count):
                raise RequestError(f"{where}.count", f"“{where}.count”必须是整数")
            count = int(count)
        months = item.get("months")
        if months is not None:
            months = _number(f"{where}.months", months, 0, 1200)
        hires.append(Hire(group, count, months))
    return tuple(hires)


def _as_of(value: Any) -> datetime.date:
    if value is None:
        return datetime.date.today()
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise RequestError("as_of", "“as_of”必须是 YYYY-MM-DD 格式的日期")


def parse_request(request: Any, rules: Rules) -> Facts:
    """Check types and names; null means unknown, an absent list means none (the contract)."""
    if not isinstance(request, Mapping):
        raise RequestError("body", "请求体必须是 JSON 对象")
    for field in request:
        if field not in REQUEST_FIELDS:
            raise RequestError(str(field), f"未知字段“{field}”，可用字段：{', '.join(REQUEST_FIELDS)}")
    values: dict[str, Any] = {"as_of": _as_of(request.get("as_of"))}
    for field, (low, high) in NUMBER_FIELDS.items():
        if request.get(field) is not None:
            values[field] = _number(field, request[field], low, high)
    for field in BOOLEAN_FIELDS:
        if request.get(field) is not None:
            if not isinstance(request[field], bool):
                raise RequestError(field, f"“{field}”必须是 true 或 false")
            values[field] = request[field]
    for field, vocabulary, kind in (("groups", rules.groups, "人群"), ("activities", rules.activities, "活动")):
        if field in request:
            values[field] = None if request[field] is None else _names(field, request[field], vocabulary, kind)
    if "hires" in request:
        values["hires"] = None if request["hires"] is None else _hires(request["hires"], rules.groups)
    return Facts(**values)


# --- evaluation ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    result: bool | None
    line: str
    missing: tuple[str, ...] = ()
    confirm: str = ""  # what to confirm when the facts are known but their reading is uncertain


def all_of(results: Iterable[bool | None]) -> bool | None:
    """Kleene AND: any false → false; otherwise any unknown → unknown."""
    results = list(results)
    if False in results:
        return False
    return None if None in results else True


def tidy(value: float) -> float | int:
    """Whole numbers as int, so JSON shows 43200 rather than 43200.0."""
    return int(value) if float(value).is_integer() else value


def show_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def show_money(value: float) -> str:
    if value >= 10_000 and value % 10_000 == 0:
        return f"{show_number(value / 10_000)}万元"
    return f"{show_number(value)}元"


def show_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def show_value(value: Any, unit: str | None) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (unit or "").startswith("元"):
        return show_money(value)
    return show_number(value) if _is_number(value) else str(value)


def _line(result: bool | None, label: str, detail: str = "") -> str:
    return f"{VERDICT[result]}：{label}" + (f"（{detail}）" if detail else "")


class Evaluator:
    """Evaluates one request against one (rules, parameters) pair."""

    def __init__(self, rules: Rules, parameters: ParameterSet, facts: Facts):
        self.rules, self.parameters, self.facts = rules, parameters, facts

    def check(self, condition: dict) -> Check:
        label = condition["label"]
        if "any_group" in condition:
            return self._membership(label, self.facts.groups, condition["any_group"], self.rules.groups, "groups",
                                    "人群")
        if "any_activity" in condition:
            check = self._membership(label, self.facts.activities, condition["any_activity"], self.rules.activities,
                                     "activities", "活动")
            return self._uncertain(check, condition) if check.result is False else check
        if "compare" in condition:
            return self._compare(label, condition["compare"])
        if "fact_is" in condition:
            return self._fact_is(label, condition["fact_is"])
        return self._hires(label, condition["hires_any"])

    def _membership(self, label, have, wanted, vocabulary, field, what) -> Check:
        if have is None:
            return Check(None, _line(None, label, f"未提供{what}"), (field,))
        matched = [vocabulary[name] for name in wanted if name in have]
        if matched:
            return Check(True, _line(True, label, f"您是：{'、'.join(matched)}" if field == "groups"
                                     else f"您从事：{'、'.join(matched)}"))
        told = "、".join(vocabulary[name] for name in vocabulary if name in have)
        return Check(False, _line(False, label, f"您填写的{what}：{told}" if told else f"您未填写所列{what}"))

    def _uncertain(self, check: Check, condition: dict) -> Check:
        """An activity that probably counts (a street stall is 个体经营) makes the condition 待确认, not 不符合."""
        matched = [self.rules.activities[name] for name in condition.get("uncertain", [])
                   if name in (self.facts.activities or ())]
        if not matched:
            return check
        detail = f"您从事：{'、'.join(matched)}；{condition['confirm']}"
        return Check(None, _line(None, condition["label"], detail), confirm=condition["confirm"])

    def _compare(self, label, spec) -> Check:
        fact, parameter = spec["fact"], self.parameters[spec["param"]]
        meta = self.rules.facts[fact]
        unit = parameter.unit or meta.get("unit", "")
        inclusive = ("含" if parameter.op in INCLUSIVE_OPS else "不含") + show_number(parameter.value) + unit
        label = label.format(value=show_number(parameter.value), unit=unit, op=parameter.op, inclusive=inclusive)
        value = getattr(self.facts, fact)
        if value is None:
            return Check(None, _line(None, label, f"未提供{meta['label']}"), (fact,))
        result = satisfies(value, parameter.op, parameter.value)
        return Check(result, _line(result, label, f"您的{meta['label']}：{show_number(value)}{meta.get('unit', '')}"))

    def _fact_is(self, label, spec) -> Check:
        fact = spec["fact"]
        value = getattr(self.facts, fact)
        if value is None:
            return Check(None, _line(None, label, f"未提供：{self.rules.facts[fact]['label']}"), (fact,))
        return Check(value == spec["value"], _line(value == spec["value"], label))

    def _hires(self, label, groups) -> Check:
        hires = self.facts.hires
        if hires is None:
            return Check(None, _line(None, label, "未提供新吸纳人员情况"), ("hires",))
        listed = [(index, hire) for index, hire in enumerate(hires) if hire.group in groups]
        done = [hire for _, hire in listed if (hire.count or 0) >= 1 and (hire.months or 0) > 0]
        if done:
            detail = "；".join(f"{self.rules.groups[h.group]}{h.count}人，以工代训{show_number(h.months)}个月"
                              for h in done)
            return Check(True, _line(True, label, detail))
        unknown = [f"hires[{index}].{key}" for index, hire in listed
                   if hire.count != 0 and hire.months != 0
                   for key in ("count", "months") if getattr(hire, key) is None]
        if unknown:
            return Check(None, _line(None, label, "新吸纳人数或以工代训月数未提供"), tuple(unknown))
        return Check(False, _line(False, label, "所填新吸纳人员不在所列范围或未开展以工代训" if hires
                                  else "未新吸纳所列人员"))

    def period_check(self, name: str) -> tuple[str, Check]:
        period = self.parameters[name].period
        status = period.status(self.facts.as_of)
        span = "至" + show_date(period.until) if period.until else "自" + show_date(period.start) + "起"
        if status == "active":
            return status, Check(True, _line(True, f"在政策期限内（{period.raw}，{span}）"))
        if status == "expired":
            return status, Check(False, _line(False, f"政策期限已过（{period.raw}，已于{show_date(period.until)}截止）"))
        return status, Check(False, _line(False, f"政策期限尚未开始（{period.raw}，自{show_date(period.start)}起）"))

    def max_total(self, rule: dict, amount: float | None) -> float | None:
        spec = rule.get("max_total")
        if not spec or amount is None:
            return None
        if "amount_once" in spec:
            return amount
        if "amount_times" in spec:
            return tidy(amount * self.parameters[spec["amount_times"]].value)
        return self._hire_total(spec["per_hire_month"], amount)

    def _hire_total(self, spec: dict, amount: float) -> float | None:
        """Sum over listed hires of count × months (capped by the parameter's op) × monthly amount."""
        listed = [hire for hire in self.facts.hires or () if hire.group in spec["groups"]]
        if not listed:
            return None
        cap = self.parameters[spec["cap"]]
        total = 0.0
        for hire in listed:
            if hire.count is None or hire.months is None:
                return None
            months = hire.months if satisfies(hire.months, cap.op, cap.value) else cap.value
            total += hire.count * months * amount
        return tidy(total)

    def notes(self, rule: dict) -> list[str]:
        notes = []
        for note in rule.get("notes", []):
            if "while" not in note:
                notes.append(note["text"])
                continue
            period = self.parameters[note["while"]].period
            status = period.status(self.facts.as_of)
            if status == "active":
                notes.append(f"{note['text']}（{period.raw}，至{show_date(period.until)}）")
            elif status == "expired":
                notes.append(f"已到期：{note['text']}（{period.raw}，已于{show_date(period.until)}结束）")
        return notes

    def benefit(self, template: str, amount: float | None, unit: str | None, max_total: float | None) -> str:
        """Fill {amount} {max_total} {param} {param.until}; drop a [part] whose value is unknown."""
        def value_of(name: str) -> str | None:
            if "*" in name:  # a derived figure: the product of parameters, in the first one's unit
                factors = [self.parameters[factor] for factor in name.split("*")]
                if any(factor.value is None for factor in factors):
                    return None
                return show_value(tidy(math.prod(factor.value for factor in factors)), factors[0].unit)
            if name == "amount":
                return None if amount is None else show_value(amount, unit)
            if name == "max_total":
                return None if max_total is None else show_value(max_total, unit)
            base, _, edge = name.rpartition(".")
            if edge in ("until", "from") and base in self.parameters:
                period = self.parameters[base].period
                day = period.until if edge == "until" else period.start
                return show_date(day) if period and day else None
            parameter = self.parameters[name]
            return None if parameter.value is None else show_value(parameter.value, parameter.unit)

        def fill(text: str) -> str | None:
            values = {name: value_of(name) for name in re.findall(r"\{([a-z0-9_.*]+)\}", text)}
            if None in values.values():
                return None
            return re.sub(r"\{([a-z0-9_.*]+)\}", lambda match: values[match.group(1)], text)

        parts = re.split(r"(\[[^\]]*\])", template)
        filled = [fill(part[1:-1] if part.startswith("[") else part) for part in parts]
        return "".join(text for text in filled if text)

    def entitlement(self, rule: dict) -> dict:
        checks = [self.check(condition) for condition in rule["conditions"]]
        status = "active"
        if "period" in rule:
            status, period_check = self.period_check(rule["period"])
            checks.append(period_check)
        eligible = all_of(check.result for check in checks)
        amount_parameter = self.parameters[rule["amount"]] if "amount" in rule else None
        amount = amount_parameter.value if amount_parameter else None
        unit = amount_parameter.unit if amount_parameter else None
        max_total = self.max_total(rule, amount)
        article = self.rules.articles[rule["article"]]
        missing = [] if eligible is not None else list(dict.fromkeys(
            field for check in checks if check.result is None for field in check.missing))
        return {
            "id": rule["id"],
            "title": rule["title"],
            "eligible": eligible,
            "amount": amount,
            "unit": unit,
            "max_total": max_total,
            "status": status,
            "article": rule["article"],
            "clause_id": article["clause_id"],
            "reference": f"{self.rules.document['number']} {article['heading']}",
            "quote": rule["quote"],
            "why": [check.line for check in checks],
            "missing": missing,
            "to_confirm": [check.confirm for check in checks if check.result is None and check.confirm],
            "amount_text": self.benefit(rule["benefit"], amount, unit, max_total),
            "notes": self.notes(rule),
            "departments": list(rule["apply_to"]),
        }


# --- engine ------------------------------------------------------------------------------------------------
class EntitlementEngine:
    """Rules + parameters loaded from files; `reload()` re-reads them (the swap is a single assignment,
    so a concurrent evaluate sees either the old or the new set, never a mix)."""

    def __init__(self, parameters_dir: str | Path = PARAMETERS_DIR, rules_path: str | Path = RULES_FILE):
        self.parameters_dir = Path(parameters_dir)
        self.rules_path = Path(rules_path)
        self._state: tuple[Rules, ParameterSet] | None = None
        self.reload()

    @classmethod
    def of(cls, rules: Rules, parameters: ParameterSet) -> "EntitlementEngine":
        """An engine over rules and parameters already loaded (a draft's, for the impact preview)."""
        check_rules(rules, parameters)
        engine = cls.__new__(cls)
        engine.parameters_dir, engine.rules_path = PARAMETERS_DIR, RULES_FILE
        engine._state = (rules, parameters)
        return engine

    def reload(self) -> None:
        parameters = load_parameters(self.parameters_dir)
        rules = load_rules(self.rules_path, parameters)
        self._state = (rules, parameters)

    @property
    def rules(self) -> Rules:
        return self._state[0]

    @property
    def parameters(self) -> ParameterSet:
        return self._state[1]

    def evaluate(self, request: Any, params: ParameterSet | Mapping[str, Any] | None = None) -> dict:
        """Every entitlement for the request; `params` replaces the parameters (a ParameterSet) or
        overrides some values ({"qinqing_loan.max_age": 40}) for what-if calculations."""
        rules, parameters = self._state
        if params is not None:
            parameters = params if isinstance(params, ParameterSet) else parameters.with_values(params)
            check_rules(rules, parameters, self.rules_path)
        facts = parse_request(request, rules)
        evaluator = Evaluator(rules, parameters.at(facts.as_of), facts)
        entitlements = [evaluator.entitlement(rule) for rule in rules.entitlements]
        missing = list(dict.fromkeys(field for item in entitlements for field in item["missing"]))
        return {
            "as_of": facts.as_of.isoformat(),
            "document": dict(rules.document),
            "entitlements": entitlements,
            "missing": missing,
        }


_default_engine: EntitlementEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> EntitlementEngine:
    global _default_engine
    with _default_lock:
        if _default_engine is None:
            _default_engine = EntitlementEngine()
        return _default_engine


def evaluate(request: Any, params: ParameterSet | Mapping[str, Any] | None = None) -> dict:
    """POST /api/entitlements: evaluate `request` (the F3 contract) with the shared engine."""
    return default_engine().evaluate(request, params)


def reload() -> None:
    """Re-read knowledge/parameters/*.yaml and knowledge/rules.yaml into the shared engine."""
    default_engine().reload()
