"""Entitlement requests: the body of POST /api/entitlements, checked into Facts.

Types and names are checked against the rules' vocabulary; null means unknown, an absent list means
none (the contract in docs/ARCHITECTURE.md). A bad request raises RequestError(field, message), which
the service answers with 400. No Rasa imports.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .entitlement_parameters import is_number
from .entitlement_rules import Rules


@dataclass(frozen=True)
class ScreeningFact:
    kind: str                 # "number" | "boolean" | "names" (contract names from rules.yaml groups/activities)
    low: int = 0              # the accepted range of a number
    high: int = 0
    asked: bool = False       # asked by the screening form; the others are taken whenever a message states them


# The screening facts, declared once, in the contract's order. REQUEST_FIELDS, NUMBER_FIELDS, BOOLEAN_FIELDS,
# LIST_FIELDS, FORM_FACTS and OPTIONAL_FACTS are derived from it; knowledge.profile_text and actions/entitlements.py
# use those. Facts below, ProfileUpdate and domain.yml's slots are checked against it by tests.
SCREENING_FACTS: dict[str, ScreeningFact] = {
    "age": ScreeningFact("number", 0, 150, asked=True),
    "groups": ScreeningFact("names", asked=True),
    "activities": ScreeningFact("names", asked=True),
    "covid_income_loss": ScreeningFact("boolean"),
    "months_without_income": ScreeningFact("number", 0, 1200),
    "unemployment_insurance": ScreeningFact("boolean"),
    "dibao": ScreeningFact("boolean"),
}
REQUEST_FIELDS = (*SCREENING_FACTS, "hires", "as_of")
NUMBER_FIELDS = {name: (fact.low, fact.high) for name, fact in SCREENING_FACTS.items() if fact.kind == "number"}
BOOLEAN_FIELDS = tuple(name for name, fact in SCREENING_FACTS.items() if fact.kind == "boolean")
LIST_FIELDS = tuple(name for name, fact in SCREENING_FACTS.items() if fact.kind == "names")
FORM_FACTS = tuple(name for name, fact in SCREENING_FACTS.items() if fact.asked)
OPTIONAL_FACTS = tuple(name for name, fact in SCREENING_FACTS.items() if not fact.asked)
HIRE_FIELDS = ("group", "count", "months")


class RequestError(ValueError):
    """The request is malformed; `field` names the offending field (the service answers 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message



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



def _number(field: str, value: Any, low: float, high: float) -> float:
    if not is_number(value):
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
