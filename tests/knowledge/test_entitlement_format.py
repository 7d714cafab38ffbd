"""Chinese wording of entitlement figures and verdicts (knowledge/entitlement_format.py)."""
from __future__ import annotations

import datetime

import pytest

from knowledge.entitlement_format import show_date, show_money, show_number, show_value, tidy, verdict_line


@pytest.mark.parametrize("value, text", [(5000, "5000元"), (200000, "20万元"), (3000000, "300万元"),
                                         (15000, "15000元"), (0.5, "0.5元")])
def test_money_in_wan_only_when_whole(value, text):
    assert show_money(value) == text


def test_numbers_dates_and_values():
    assert show_number(6.0) == "6" and show_number(1.5) == "1.5"
    assert tidy(43200.0) == 43200 and isinstance(tidy(43200.0), int) and tidy(2.5) == 2.5
    assert show_date(datetime.date(2021, 12, 31)) == "2021年12月31日"
    assert show_value(100000, "元/人") == "10万元" and show_value(45, "岁") == "45" and show_value(True, None) == "True"


def test_verdict_lines():
    assert verdict_line(True, "年龄在45岁以下") == "符合：年龄在45岁以下"
    assert verdict_line(None, "从事个体经营", "未提供活动") == "待确认：从事个体经营（未提供活动）"
    assert verdict_line(False, "在政策期限内") == "不符合：在政策期限内"
