"""Chinese wording of entitlement figures and verdicts: 5万元, 2021年12月31日, 符合：….

Pure formatting for the evaluator's `why` lines and benefit texts; no policy facts. No Rasa imports.
"""
from __future__ import annotations

import datetime
from typing import Any

from .entitlement_parameters import is_number

VERDICT = {True: "符合", False: "不符合", None: "待确认"}


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
    return show_number(value) if is_number(value) else str(value)


def verdict_line(result: bool | None, label: str, detail: str = "") -> str:
    return f"{VERDICT[result]}：{label}" + (f"（{detail}）" if detail else "")
