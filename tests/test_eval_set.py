"""The evaluation question set (knowledge/eval/questions.yaml) is well-formed and large enough."""
import collections
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

QUESTIONS_PATH = Path(__file__).resolve().parents[1] / "knowledge" / "eval" / "questions.yaml"

IN_SCOPE_KINDS = {"colloquial", "typo", "traditional", "english", "agent", "two_part", "formal"}
OUT_OF_SCOPE_KINDS = {"oos", "near_miss"}
ALLOWED_KEYS = {"q", "articles", "kind", "note"}
FIRST_ARTICLE, LAST_ARTICLE = 0, 16
MIN_PER_KIND = {
    "colloquial": 60, "typo": 10, "traditional": 10, "english": 10,
    "agent": 15, "two_part": 8, "formal": 10, "near_miss": 15, "oos": 15,
}


@pytest.fixture(scope="module")
def questions():
    data = yaml.safe_load(QUESTIONS_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("questions"), list)
    return data["questions"]


def _in_scope(items):
    return [item for item in items if item["kind"] in IN_SCOPE_KINDS]


def test_every_item_follows_the_schema(questions):
    for item in questions:
        assert isinstance(item, dict), item
        assert set(item) <= ALLOWED_KEYS and {"q", "articles", "kind"} <= set(item), item
        assert isinstance(item["q"], str) and item["q"].strip(), item
        assert item["kind"] in IN_SCOPE_KINDS | OUT_OF_SCOPE_KINDS, item
        assert isinstance(item["articles"], list), item
        assert all(type(a) is int for a in item["articles"]), item
        if "note" in item:
            assert isinstance(item["note"], str) and item["note"].strip(), item


def test_articles_are_in_range_and_not_repeated(questions):
    for item in questions:
        articles = item["articles"]
        assert all(FIRST_ARTICLE <= a <= LAST_ARTICLE for a in articles), item
        assert len(articles) == len(set(articles)), item


def test_scope_matches_kind(questions):
    for item in questions:
        if item["kind"] in OUT_OF_SCOPE_KINDS:
            assert item["articles"] == [], item
        else:
            assert item["articles"], item


def test_two_part_questions_name_one_article_per_part(questions):
    for item in questions:
        if item["kind"] == "two_part":
            assert len(item["articles"]) == 2, item


def test_set_is_large_enough(questions):
    in_scope = _in_scope(questions)
    out_of_scope = [item for item in questions if item["kind"] in OUT_OF_SCOPE_KINDS]
    assert len(in_scope) >= 170
    assert len(out_of_scope) >= 40


def test_each_kind_has_its_minimum(questions):
    counts = collections.Counter(item["kind"] for item in questions)
    for kind, minimum in MIN_PER_KIND.items():
        assert counts[kind] >= minimum, (kind, counts[kind])


def test_every_article_is_covered_as_best_answer(questions):
    best = collections.Counter(item["articles"][0] for item in _in_scope(questions))
    for article in range(FIRST_ARTICLE, LAST_ARTICLE + 1):
        assert best[article] >= 3, (article, best[article])
    # the articles citizens ask about most get the most questions
    for busy in (1, 2, 7, 8, 13):
        assert best[busy] >= 15, (busy, best[busy])


def _fingerprint(text):
    """Question text with width, case, spaces and punctuation folded, to catch near-duplicates."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\W_]+", "", text)


def test_no_duplicate_questions(questions):
    seen = {}
    for item in questions:
        key = _fingerprint(item["q"])
        assert key not in seen, (item["q"], seen.get(key))
        seen[key] = item["q"]
