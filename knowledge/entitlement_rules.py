"""Entitlement rules: who qualifies for which support, as data in `knowledge/rules.yaml`.

The file is schema-checked (rules.schema.json) and cross-checked against the vocabulary (groups,
activities, facts), the articles and the parameters each entitlement names (check_rules).

    load_rules(path, parameters=None) -> Rules      rules_from_text(text, parameters=None) -> Rules
Bad data raises ParameterError. No Rasa imports.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .entitlement_parameters import (KNOWLEDGE_DIR, ParameterError, ParameterSet, dates_as_text, read_yaml,
                                     validate_schema)

RULES_FILE = KNOWLEDGE_DIR / "rules.yaml"
RULES_SCHEMA_FILE = KNOWLEDGE_DIR / "rules.schema.json"


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
    for name in rule.get("per_person", []):
        yield name, True
    for threshold in rule.get("thresholds", []):
        yield threshold["param"], True
    for key in ("rate", "cap"):
        if key in rule.get("per_unit", {}):
            yield rule["per_unit"][key], True
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
        data = dates_as_text(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise ParameterError(f"{where}: cannot read YAML: {error}") from error
    return _rules_from_data(data, parameters, Path(where))


def load_rules(path: str | Path = RULES_FILE, parameters: ParameterSet | None = None) -> Rules:
    path = Path(path)
    return _rules_from_data(read_yaml(path), parameters, path)


def _rules_from_data(data: Any, parameters: ParameterSet | None, path: Path) -> Rules:
    validate_schema(data, json.loads(RULES_SCHEMA_FILE.read_text(encoding="utf-8")), path)
    rules = Rules(data["document"], {int(number): article for number, article in data["articles"].items()},
                  data["groups"], data["activities"], data["facts"], data["entitlements"])
    if parameters is not None:
        check_rules(rules, parameters, path)
    return rules
