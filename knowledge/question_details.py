"""Question-detail rules: does a question ask for an amount, duration, rate, documents, place or procedure,
and does a sentence state it? The rules are data (knowledge/lexicon/question_details.yaml): `asks` words
in the question, `evidence` patterns in the policy text, `explicit` patterns for a detail stated rather
than deferred to regulations (按规定). Used by answerability (detail_missing) and answer composition.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from .textnorm import normalize

DETAILS_FILE = Path(__file__).resolve().parent / "lexicon" / "question_details.yaml"


@functools.lru_cache(maxsize=2)
def _detail_rules(path: str) -> dict[str, tuple[tuple[str, ...], list[re.Pattern], list[re.Pattern]]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {name: (tuple(str(a).lower() for a in rule["asks"]),
                   [re.compile(e) for e in rule["evidence"]],
                   [re.compile(e) for e in rule.get("explicit", rule["evidence"])])
            for name, rule in data.items()}


@functools.lru_cache(maxsize=2)
def _not_asked(path: str) -> dict[str, re.Pattern]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {name: re.compile("|".join(rule["not_asks"])) for name, rule in data.items() if rule.get("not_asks")}


def asked_details(normalized: str) -> list[str]:
    """Details the question asks for: amount, duration, rate, documents, place, procedure — not a period the
    asker states about themselves ("卖菜十几年了")."""
    stated = _not_asked(str(DETAILS_FILE))
    return [name for name, (asks, _, _) in _detail_rules(str(DETAILS_FILE)).items()
            if any(a in (stated[name].sub(" ", normalized) if name in stated else normalized) for a in asks)]


def has_evidence(detail: str, sentences: list[str], explicit: bool = False) -> bool:
    """Some sentence answers the detail (or, with explicit=True, states it rather than deferring
    to regulations with 按规定)."""
    _, evidence, stated = _detail_rules(str(DETAILS_FILE))[detail]
    patterns = stated if explicit else evidence
    return any(p.search(normalize(sentence)) for p in patterns for sentence in sentences)


def detail_missing(normalized: str, sentences: list[str]) -> bool:
    """The question asks for a specific detail (amount, duration, rate, documents…) and none of the
    given sentences contains evidence of that kind."""
    return any(not has_evidence(detail, sentences) for detail in asked_details(normalized))
