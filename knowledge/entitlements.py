"""Entitlement engine: which supports of 宝政办发〔2020〕49号 apply to a person, how much, why, and where it is written.

Rules as code in the spirit of OpenFisca. The jobs are split by module:
    knowledge/entitlement_parameters.py   amounts, ages, months, dates (knowledge/parameters/*.yaml), schema-checked
    knowledge/entitlement_rules.py        who qualifies (knowledge/rules.yaml), cross-checked against the parameters
    knowledge/entitlement_request.py      the request body checked into Facts (RequestError → 400)
    knowledge/entitlement_format.py       Chinese wording of figures, dates and verdicts
    knowledge/entitlements.py (this)      evaluation with three-valued logic, and the engine
A fact the request lacks makes a condition unknown, and an entitlement whose other conditions hold is
then `eligible: null` with the fact in `missing`.

Entry point (contract of POST /api/entitlements, see docs/ARCHITECTURE.md):
    EntitlementEngine(parameters_dir, rules_path).evaluate(request, params=None) -> dict / .reload()
Bad requests raise RequestError(field, message); bad data files raise ParameterError.
No Rasa imports: the policy service and the agent console share this engine.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .entitlement_format import show_date, show_number, show_value, tidy, verdict_line
from .entitlement_parameters import INCLUSIVE_OPS, PARAMETERS_DIR, ParameterSet, load_parameters, satisfies
from .entitlement_request import Facts, parse_request
from .entitlement_rules import RULES_FILE, Rules, check_rules, load_rules


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
            return Check(None, verdict_line(None, label, f"未提供{what}"), (field,))
        matched = [vocabulary[name] for name in wanted if name in have]
        if matched:
            return Check(True, verdict_line(True, label, f"您是：{'、'.join(matched)}" if field == "groups"
                                     else f"您从事：{'、'.join(matched)}"))
        told = "、".join(vocabulary[name] for name in vocabulary if name in have)
        return Check(False, verdict_line(False, label, f"您填写的{what}：{told}" if told else f"您未填写所列{what}"))

    def _uncertain(self, check: Check, condition: dict) -> Check:
        """An activity that probably counts (a street stall is 个体经营) makes the condition 待确认, not 不符合."""
        matched = [self.rules.activities[name] for name in condition.get("uncertain", [])
                   if name in (self.facts.activities or ())]
        if not matched:
            return check
        detail = f"您从事：{'、'.join(matched)}；{condition['confirm']}"
        return Check(None, verdict_line(None, condition["label"], detail), confirm=condition["confirm"])

    def _compare(self, label, spec) -> Check:
        fact, parameter = spec["fact"], self.parameters[spec["param"]]
        meta = self.rules.facts[fact]
        unit = parameter.unit or meta.get("unit", "")
        op, bound = parameter.comparison()
        inclusive = ("含" if op in INCLUSIVE_OPS else "不含") + show_number(bound) + unit
        label = label.format(value=show_number(bound), unit=unit, op=op, inclusive=inclusive)
        value = getattr(self.facts, fact)
        if value is None:
            return Check(None, verdict_line(None, label, f"未提供{meta['label']}"), (fact,))
        result = satisfies(value, op, bound)
        return Check(result, verdict_line(result, label, f"您的{meta['label']}：{show_number(value)}{meta.get('unit', '')}"))

    def _fact_is(self, label, spec) -> Check:
        fact = spec["fact"]
        value = getattr(self.facts, fact)
        if value is None:
            return Check(None, verdict_line(None, label, f"未提供：{self.rules.facts[fact]['label']}"), (fact,))
        return Check(value == spec["value"], verdict_line(value == spec["value"], label))

    def _hires(self, label, groups) -> Check:
        hires = self.facts.hires
        if hires is None:
            return Check(None, verdict_line(None, label, "未提供新吸纳人员情况"), ("hires",))
        listed = [(index, hire) for index, hire in enumerate(hires) if hire.group in groups]
        done = [(hire.group, hire.count, hire.months) for _, hire in listed
                if hire.count is not None and hire.count >= 1 and hire.months is not None and hire.months > 0]
        if done:
            detail = "；".join(f"{self.rules.groups[group]}{count}人，以工代训{show_number(months)}个月"
                              for group, count, months in done)
            return Check(True, verdict_line(True, label, detail))
        unknown = [f"hires[{index}].{key}" for index, hire in listed
                   if hire.count != 0 and hire.months != 0
                   for key in ("count", "months") if getattr(hire, key) is None]
        if unknown:
            return Check(None, verdict_line(None, label, "新吸纳人数或以工代训月数未提供"), tuple(unknown))
        return Check(False, verdict_line(False, label, "所填新吸纳人员不在所列范围或未开展以工代训" if hires
                                  else "未新吸纳所列人员"))

    def period_check(self, name: str) -> tuple[str, Check]:
        period = self.parameters[name].dated
        status = period.status(self.facts.as_of)
        if status == "active":
            span = "至" + show_date(period.until) if period.until else "自" + show_date(period.first_day()) + "起"
            return status, Check(True, verdict_line(True, f"在政策期限内（{period.raw}，{span}）"))
        if status == "expired":
            return status, Check(False, verdict_line(False, f"政策期限已过（{period.raw}，已于{show_date(period.last_day())}截止）"))
        return status, Check(False, verdict_line(False, f"政策期限尚未开始（{period.raw}，自{show_date(period.first_day())}起）"))

    def max_total(self, rule: dict, amount: float | None) -> float | None:
        spec = rule.get("max_total")
        if not spec or amount is None:
            return None
        if "amount_once" in spec:
            return amount
        if "amount_times" in spec:
            return tidy(amount * self.parameters[spec["amount_times"]].number)
        return self._hire_total(spec["per_hire_month"], amount)

    def _hire_total(self, spec: dict, amount: float) -> float | None:
        """Sum over listed hires of count × months (capped by the parameter's op) × monthly amount."""
        listed = [hire for hire in self.facts.hires or () if hire.group in spec["groups"]]
        if not listed:
            return None
        op, cap = self.parameters[spec["cap"]].comparison()
        total = 0.0
        for hire in listed:
            if hire.count is None or hire.months is None:
                return None
            months = hire.months if satisfies(hire.months, op, cap) else cap
            total += hire.count * months * amount
        return tidy(total)

    def notes(self, rule: dict) -> list[str]:
        notes = []
        for note in rule.get("notes", []):
            if "while" not in note:
                notes.append(note["text"])
                continue
            period = self.parameters[note["while"]].dated
            status = period.status(self.facts.as_of)
            if status == "active":
                notes.append(f"{note['text']}（{period.raw}，至{show_date(period.last_day())}）")
            elif status == "expired":
                notes.append(f"已到期：{note['text']}（{period.raw}，已于{show_date(period.last_day())}结束）")
        return notes

    def benefit(self, template: str, amount: float | None, unit: str | None, max_total: float | None) -> str:
        """Fill {amount} {max_total} {param} {param.until}; drop a [part] whose value is unknown."""
        def value_of(name: str) -> str | None:
            if "*" in name:  # a derived figure: the product of parameters, in the first one's unit
                factors = [self.parameters[factor] for factor in name.split("*")]
                if any(factor.value is None for factor in factors):
                    return None
                return show_value(tidy(math.prod(factor.number for factor in factors)), factors[0].unit)
            if name == "amount":
                return None if amount is None else show_value(amount, unit)
            if name == "max_total":
                return None if max_total is None else show_value(max_total, unit)
            base, _, edge = name.rpartition(".")
            if edge in ("until", "from") and base in self.parameters:
                period = self.parameters[base].period
                day = None if period is None else period.until if edge == "until" else period.start
                return show_date(day) if day else None
            parameter = self.parameters[name]
            return None if parameter.value is None else show_value(parameter.value, parameter.unit)

        def fill(text: str) -> str | None:
            names = re.findall(r"\{([a-z0-9_.*]+)\}", text)
            values = {name: value for name in names if (value := value_of(name)) is not None}
            if len(values) < len(set(names)):
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
    _state: tuple[Rules, ParameterSet]

    def __init__(self, parameters_dir: str | Path = PARAMETERS_DIR, rules_path: str | Path = RULES_FILE):
        self.parameters_dir = Path(parameters_dir)
        self.rules_path = Path(rules_path)
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
