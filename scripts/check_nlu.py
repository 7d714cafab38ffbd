#!/usr/bin/env python
"""Fails when the trained NLU's intent accuracy on the held-out NLU messages falls below the floor.

`make test` runs `rasa test nlu --nlu tests/nlu_test.yml --out var/results/nlu` (after deleting the previous
report), then this script, which reads the intent_report.json Rasa wrote:

    python scripts/check_nlu.py var/results/nlu/intent_report.json tests/nlu_test.yml --min-accuracy 0.95

It also checks that the report covers every example of the test file, so a stale, partial or empty report
cannot pass. Plain Python + PyYAML: it runs in either virtualenv.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

SUMMARY_KEYS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def example_count(nlu_file: Path) -> int:
    data = yaml.safe_load(nlu_file.read_text(encoding="utf-8"))
    return sum(sum(1 for line in item["examples"].splitlines() if line.strip().startswith("- "))
               for item in data.get("nlu", []) if "intent" in item)


def check(report: dict, expected_examples: int, min_accuracy: float) -> list[str]:
    """The reasons the report fails the floor (empty when it passes)."""
    problems = []
    accuracy = report.get("accuracy")
    if not isinstance(accuracy, (int, float)):
        return ["the report has no accuracy figure"]
    scored = sum(int(figures.get("support", 0)) for name, figures in report.items()
                 if name not in SUMMARY_KEYS and isinstance(figures, dict))
    if scored != expected_examples:
        problems.append(f"the report scores {scored} examples, the test file has {expected_examples}")
    if accuracy < min_accuracy:
        misses = sorted((name, figures.get("confused_with", {})) for name, figures in report.items()
                        if name not in SUMMARY_KEYS and isinstance(figures, dict) and figures.get("recall", 1) < 1)
        problems.append(f"intent accuracy {accuracy:.3f} < {min_accuracy:.3f}; intents missed: "
                        + "; ".join(f"{name} (confused with {confused})" for name, confused in misses))
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="intent_report.json written by `rasa test nlu`")
    parser.add_argument("nlu_file", type=Path, help="the NLU test file the report was made from")
    parser.add_argument("--min-accuracy", type=float, required=True)
    args = parser.parse_args(argv)
    if not args.report.exists():
        print(f"no NLU report at {args.report}: did `rasa test nlu` run?", file=sys.stderr)
        return 1
    report = json.loads(args.report.read_text(encoding="utf-8"))
    problems = check(report, example_count(args.nlu_file), args.min_accuracy)
    for problem in problems:
        print("NLU regression: " + problem, file=sys.stderr)
    if not problems:
        print(f"NLU intent accuracy {report['accuracy']:.3f} on {args.nlu_file} (floor {args.min_accuracy:.3f})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
