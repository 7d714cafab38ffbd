"""Entitlement parameters: amounts, ages, months and dates of 宝政办发〔2020〕49号 as data.

Parameters live in `knowledge/parameters/*.yaml` (value, unit, period, reference with the exact quote),
OpenFisca-style: each file is schema-checked against schema.json (unknown keys are errors), a value may
change on later dates without rewriting the past, and a comparison operator follows the Chinese legal
convention for 以上/以下/超过/不满 (民法典 第1259条, see `satisfies`).

    load_parameters(directory) -> ParameterSet           validated parameters by "<file stem>.<key>"
    parameters_from_data({namespace: data}) -> ParameterSet   the same checks for data kept elsewhere
Bad data files raise ParameterError. No Rasa imports.
"""
from __future__ import annotations

import datetime
import json
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent
PARAMETERS_DIR = KNOWLEDGE_DIR / "parameters"
PARAMETER_SCHEMA_FILE = PARAMETERS_DIR / "schema.json"


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

    def first_day(self) -> datetime.date:
        """The start, for a period a rule reads it of (the rules check refuses a missing one)."""
        if self.start is None:
            raise ParameterError(f"period {self.raw!r} has no start date")
        return self.start

    def last_day(self) -> datetime.date:
        if self.until is None:
            raise ParameterError(f"period {self.raw!r} has no end date")
        return self.until


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

    @property
    def number(self) -> float:
        """The value of a parameter used as a figure (amounts, limits, factors)."""
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise ParameterError(f"{self.name} is used as a number but its value is {self.value!r}")
        return self.value

    def comparison(self) -> tuple[str, float]:
        """(op, bound) of a parameter a fact is compared with (age 以上, months 以内 …)."""
        if self.op is None:
            raise ParameterError(f"{self.name} is compared with but has no op")
        return self.op, self.number

    @property
    def dated(self) -> Period:
        if self.period is None:
            raise ParameterError(f"{self.name} is read as a period but has none")
        return self.period

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


def is_number(value: Any) -> bool:
    """A finite int or float (bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_yaml(path: Path) -> Any:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ParameterError(f"{path}: cannot read YAML: {error}") from error
    return dates_as_text(data)


def dates_as_text(data: Any) -> Any:
    """YAML reads 2021-12-31 as a date; the schema (JSON) speaks strings."""
    if isinstance(data, dict):
        return {key: dates_as_text(value) for key, value in data.items()}
    if isinstance(data, list):
        return [dates_as_text(value) for value in data]
    if isinstance(data, datetime.date):
        return data.isoformat()
    return data


def validate_schema(data: Any, schema: dict, path: Path) -> None:
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ParameterError(f"{path}: {where}: {error.message}")


def parse_date(text: str | None, path: Path, name: str) -> datetime.date | None:
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
        period = Period(parse_date(raw.get("from"), path, name), parse_date(raw.get("until"), path, name), raw["raw"])
        if period.start and period.until and period.start > period.until:
            raise ParameterError(f"{path}: {name}: period starts after it ends")
    if "op" in entry and not is_number(entry["value"]):
        raise ParameterError(f"{path}: {name}: a comparison operator needs a numeric value")
    values = []
    for dated in entry.get("values", []):
        start = parse_date(dated["from"], path, name)
        if type(dated["value"]) is not type(entry["value"]) and not (
                is_number(dated["value"]) and is_number(entry["value"])):
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
        _add_parameters(parameters, namespace, dates_as_text(data), schema, Path(f"{namespace}.yaml"))
    return ParameterSet(parameters)


def _add_parameters(into: dict, namespace: str, data: Any, schema: dict, where: Path) -> None:
    validate_schema(data, schema, where)
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
        _add_parameters(parameters, path.stem, read_yaml(path), schema, path)
    return ParameterSet(parameters, directory)
