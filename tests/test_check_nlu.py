"""scripts/check_nlu.py: the NLU floor `make test` applies to `rasa test nlu`'s intent report."""
from pathlib import Path

import pytest

from scripts.check_nlu import check, example_count, main

NLU_TEST = Path(__file__).resolve().parent / "nlu_test.yml"


def report(accuracy, supports, misses=()):
    intents = {name: {"support": n, "recall": 0.5 if name in misses else 1.0,
                      "confused_with": {"affirm": 1} if name in misses else {}} for name, n in supports.items()}
    return {**intents, "accuracy": accuracy, "macro avg": {"support": sum(supports.values())},
            "weighted avg": {"support": sum(supports.values())}}


def test_the_test_file_is_counted_example_by_example(tmp_path):
    nlu = tmp_path / "nlu.yml"
    nlu.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n    - 在吗\n'
                   '- intent: inform\n  examples: |\n    - 想开个小卖部\n- synonym: 贷款\n  examples: |\n    - 借钱\n',
                   encoding="utf-8")
    assert example_count(nlu) == 3
    assert example_count(NLU_TEST) >= 60


def test_a_report_at_or_above_the_floor_passes():
    assert check(report(0.96, {"greet": 30, "inform": 20}), 50, 0.95) == []


def test_a_report_below_the_floor_fails_naming_the_missed_intents():
    problems = check(report(0.90, {"greet": 30, "inform": 20}, misses=["inform"]), 50, 0.95)
    assert len(problems) == 1 and "0.900 < 0.950" in problems[0] and "inform" in problems[0]


@pytest.mark.parametrize("bad, reason", [
    (report(1.0, {"greet": 3}), "scores 3 examples, the test file has 50"),
    ({"greet": {"support": 50}}, "no accuracy"),
])
def test_a_partial_or_broken_report_fails(bad, reason):
    assert reason in " ".join(check(bad, 50, 0.95))


def test_a_missing_report_fails(tmp_path):
    assert main([str(tmp_path / "intent_report.json"), str(NLU_TEST), "--min-accuracy", "0.95"]) == 1
