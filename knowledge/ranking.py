"""Ranking: clause scores (dense over FAISS chunks, BM25 with expansion terms), their fusion, the order of
sentences inside a clause, and interleaving the rankings of several questions.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .answerability import lexical_coverage
from .index import KIND_ARTICLE, PolicyIndex
from .search_config import SearchConfig

if TYPE_CHECKING:
    from .search import Hit


def clause_scores(index: PolicyIndex, qvec: np.ndarray, tokens: list[str], config: SearchConfig,
                  extra: dict[str, float] | None = None) -> dict:
    """Per clause: dense (best sentence/title cosine blended with the article's), best_chunk, bm25."""
    n = len(index.clauses)
    k = min(config.chunk_candidates, index.faiss.ntotal)
    sims, rows = index.faiss.search(qvec[None, :].astype(np.float32), k)
    sims, rows = sims[0], rows[0]
    valid = rows >= 0
    sims, rows = sims[valid], rows[valid]
    floor = float(sims.min()) if len(sims) else 0.0  # clauses outside the candidates score as the weakest
    best_part = np.full(n, floor, dtype=np.float32)
    article = np.full(n, floor, dtype=np.float32)
    clause_of, kind_of = index.chunk_clause[rows], index.chunk_kind[rows]
    is_article = kind_of == KIND_ARTICLE
    np.maximum.at(best_part, clause_of[~is_article], sims[~is_article])
    np.maximum.at(article, clause_of[is_article], sims[is_article])
    a = config.article_blend
    dense = (1 - a) * best_part + a * article
    views = view_scores(index, qvec)
    if config.view_weight and len(index.view_texts):
        dense = dense + config.view_weight * view_bonus(views)
    # best_chunk (the answerability feature) stays the policy text's own evidence: views only rank
    bm25 = index.bm25.scores(tokens, extra)
    if config.view_bm25_weight and len(index.view_texts):
        bm25 = bm25 + config.view_bm25_weight * index.view_bm25.scores(tokens, extra)
    return {"dense": dense, "best_chunk": np.maximum(best_part, article), "views": views, "bm25": bm25}


def view_scores(index: PolicyIndex, qvec: np.ndarray) -> np.ndarray:
    """Per clause: the best cosine between the query and the clause's question views (NaN: it has none)."""
    best = np.full(len(index.clauses), np.nan, dtype=np.float32)
    if len(index.view_texts):
        sims = index.view_vectors @ qvec.astype(np.float32)
        np.fmax.at(best, index.view_clause, sims)
    return best


def view_bonus(views: np.ndarray) -> np.ndarray:
    """How much better the query matches a clause's views than the typical clause's (the median over
    clauses with views); clauses without views count as typical (0), so a document nobody wrote views
    for is neither favoured nor penalised by question-to-question cosines running higher than
    question-to-policy-text ones."""
    has_views = ~np.isnan(views)
    if not has_views.any():
        return np.zeros_like(views)
    return np.where(has_views, views - float(np.median(views[has_views])), 0.0).astype(np.float32)


def fuse(dense: np.ndarray, bm25: np.ndarray, config: SearchConfig) -> np.ndarray:
    """One score per clause: weighted z-scores, or reciprocal-rank fusion (retrieval.yaml `fusion`)."""
    w = config.dense_weight
    if config.fusion == "rrf":
        return w * rrf(dense, config.rrf_k) + (1 - w) * rrf(bm25, config.rrf_k)
    return w * zscore(dense) + (1 - w) * zscore(bm25)


def rank_sentences(index: PolicyIndex, i: int, qvec: np.ndarray, tokens: list[str],
                   config: SearchConfig) -> tuple[list[str], list[float]]:
    """The clause's sentences, most relevant first: cosine + a little lexical coverage."""
    sentences = index.clauses[i]["sentences"]
    if not sentences:  # a one-sentence item: its lead title is its only sentence
        title = index.clauses[i]["title"]
        return ([title], [1.0]) if title else ([], [])
    rows = [index.sentence_chunks[i].get(n) for n in range(len(sentences))]
    cosines = np.array([float(index.vectors[r] @ qvec) if r is not None else 0.0 for r in rows])
    coverage = np.array([lexical_coverage(index, tokens, toks) for toks in index.sentence_tokens[i]])
    combined = cosines + config.sentence_lexical_weight * coverage
    order = np.argsort(-combined, kind="stable")
    return [sentences[n] for n in order], [round(float(combined[n]), 4) for n in order]


def interleave(rankings: list[list["Hit"]], k: int) -> list["Hit"]:
    merged, seen = [], set()
    for rank in range(max(len(r) for r in rankings)):
        for ranking in rankings:
            if rank < len(ranking) and ranking[rank].clause_id not in seen:
                seen.add(ranking[rank].clause_id)
                merged.append(ranking[rank])
    return merged[:k]


def zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def rrf(values: np.ndarray, k: float) -> np.ndarray:
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(1, len(values) + 1)
    return 1.0 / (k + ranks)
