"""Answerability: does the top clause answer the question? Not the fused rank: a logistic model
(SearchConfig.answer_model, fitted by knowledge/calibrate.py) over real evidence of the top clause —
best dense cosine, cosine above the query's corpus baseline, lexical coverage, unknown words, the
asked-for detail missing, the asked-for thing or place missing, no Chinese at all.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .asked_object import object_missing, place_elsewhere
from .index import PolicyIndex
from .question_details import detail_missing
from .tokenize import synonym_entries, tokenize

if TYPE_CHECKING:
    from .search import Hit

CJK = re.compile(r"[\u3400-\u9fff]")
# object_missing reads the best clauses: the top one, and the runner-up when the ranking put a clause next to
# the question first (补社保 ranked （十三） above （二） 社会保险补贴)
NAMED_BY_HITS = 2


def answer_features(index: PolicyIndex, top: Hit, qvec: np.ndarray, normalized: str,
                    residual: str, runners_up: Sequence[Hit] = ()) -> dict[str, float]:
    """Evidence that the top clause answers the question, each roughly in [0, 1]:
    dense — best cosine of its chunks; gap — that minus the query's mean cosine to the whole
    corpus (a query-specific baseline); coverage — share of the query's IDF mass the clause
    contains; unknown — share of the query's IDF mass in words that neither the corpus nor the
    synonym lexicon explains (医保, 利率, 高铁; for English: words the glossary does not know);
    detail_missing — the question asks for an amount/duration/rate/documents that the best
    sentence does not state; object_missing, place_elsewhere — see asked_object_features;
    crosslingual — no Chinese at all."""
    chinese = bool(CJK.search(normalized))
    if chinese:
        unknown = _unknown_share(index, index.lexicon.tokenize(normalized), index.lexicon.tokenize(residual))
    else:
        words = [t for t in tokenize(normalized) if re.search("[a-z]", t)]
        left = [t for t in tokenize(residual) if re.search("[a-z]", t)]
        unknown = len(left) / len(words) if words else 1.0
    return {
        "dense": float(top.dense),
        "gap": float(top.dense - float(qvec @ index.centroid)),
        "coverage": float(top.coverage),
        "unknown": float(unknown),
        "detail_missing": float(detail_missing(normalized, top.sentences[:1])),
        "crosslingual": 0.0 if chinese else 1.0,
        **asked_object_features(index, [top, *runners_up][:NAMED_BY_HITS], normalized),
    }


def asked_object_features(index: PolicyIndex, hits: Sequence[Hit], normalized: str) -> dict[str, float]:
    """object_missing — the question asks for a benefit, fee or document (高龄补贴, 生育保险, 电工证) that the
    best clauses (`hits`) never name, nor the policy wording the synonym lexicon gives for it; place_elsewhere
    — it asks about another place's policy (西安的社保补贴). Both 0 for English (the glossary words are not
    segmented the same way). knowledge/asked_object.py, data in lexicon/asked_objects.yaml."""
    if not CJK.search(normalized):
        return {"object_missing": 0.0, "place_elsewhere": 0.0}
    clause_text = "\n".join(hit.title + hit.text for hit in hits)
    synonyms = synonym_entries(index.lexicon.synonyms)
    return {"object_missing": object_missing(normalized, clause_text, synonyms),
            "place_elsewhere": place_elsewhere(normalized)}


def relevance(model: dict[str, float], features: dict[str, float]) -> float:
    """The logistic answer model: P(the top clause answers) from the evidence features."""
    logit = model.get("bias", 0.0) + sum(model.get(name, 0.0) * value for name, value in features.items())
    return float(1.0 / (1.0 + np.exp(-logit)))


def lexical_coverage(index: PolicyIndex, query_tokens: list[str], doc_tokens: list[str]) -> float:
    """Share of the query's IDF mass present in doc_tokens (unknown query words weigh the most).
    A one-character word counts as present when a document word contains it (贷 in 贷款); numbers
    the corpus never uses (the 8 of "借8万") are parameters, not topic words, and are skipped."""
    unique = [t for t in set(query_tokens) if not _foreign_number(index, t)]
    if not unique:
        return 0.0
    present = set(doc_tokens)
    chars = set("".join(t for t in present if len(t) > 1)) if any(len(t) == 1 for t in unique) else set()
    total = sum(index.bm25.idf_of(t) for t in unique)
    found = sum(index.bm25.idf_of(t) for t in unique if t in present or (len(t) == 1 and t in chars))
    return found / total if total else 0.0


def _foreign_number(index: PolicyIndex, token: str) -> bool:
    return token.isdigit() and token not in index.bm25.vocab


def _unknown_share(index: PolicyIndex, tokens: list[str], unexplained: list[str]) -> float:
    """Share of the query's IDF mass carried by words that no clause contains and no synonym
    maps to policy wording (医保, 利率, 高铁 …). One-character words the corpus uses inside longer
    words, and numbers, are not counted as unknown."""
    unique = {t for t in set(tokens) | set(unexplained) if not _foreign_number(index, t)}
    total = sum(index.bm25.idf_of(t) for t in unique)
    unknown = sum(index.bm25.idf_of(t) for t in set(unexplained) & unique
                  if t not in index.bm25.vocab and not (len(t) == 1 and t in index.corpus_chars))
    return unknown / total if total else 1.0
