"""scripts/bench_admin.py asks every search as a question not asked before in the run."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_admin import distinct_questions, questions  # noqa: E402


def test_the_load_is_distinct_questions_covering_every_tuning_question():
    asked = distinct_questions()
    assert len(asked) == len(set(asked)) >= 40 * len(questions())  # ≥ 13,000: 20/s for over ten minutes
    first_round = asked[:len(questions())]
    assert [text.rstrip("？?") for text in first_round] == [text.rstrip("？?") for text in questions()]
