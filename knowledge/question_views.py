"""Question views ("doc2query"): example questions and everyday paraphrases of each article, written by
people as data (knowledge/lexicon/clause_questions.yaml: document id → article number → questions).

The index encodes them (as queries: a citizen's question is compared with a question, not with policy
prose) and ranking adds how well the query matches an article's views to that article's dense score
(best view cosine) and BM25 score (BM25 over the article's views taken together).
They are ranking evidence only: never quoted, never part of a Hit, never an answerability feature.
Views are keyed by article, so every active clause of the article shares them; a retired clause has
none (only active clauses are indexed) and a document nobody wrote views for simply has none.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from .textnorm import LEXICON_DIR, normalize

VIEWS_FILE = LEXICON_DIR / "clause_questions.yaml"


def views_file() -> Path:
    """The views file in force (read at call time, so tests can point VIEWS_FILE elsewhere)."""
    return VIEWS_FILE


def load_views(path: Path | None = None) -> dict[tuple[str, int], list[str]]:
    """(document id, article number) → its views, normalised as queries are. A missing file means no views."""
    path = path or views_file()
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    views: dict[tuple[str, int], list[str]] = {}
    for doc_id, articles in data.items():
        for article, questions in (articles or {}).items():
            texts = [normalize(str(q)).strip() for q in questions or []]
            views[(str(doc_id), int(article))] = list(dict.fromkeys(t for t in texts if t))
    return views


def views_hash(path: Path | None = None) -> str:
    """Changes whenever the views file does: an index built with other views is stale."""
    path = path or views_file()
    content = path.read_bytes() if path.is_file() else b""
    return hashlib.sha1(content).hexdigest()[:16]


def clause_views(clauses: list[dict], views: dict[tuple[str, int], list[str]]) -> list[tuple[int, str]]:
    """(clause number, view text) for every indexed clause whose article has views."""
    return [(number, text) for number, clause in enumerate(clauses)
            for text in views.get((clause["doc_id"], int(clause["article"])), [])]
