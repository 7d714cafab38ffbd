"""Ranking (knowledge/ranking.py): fusion of dense and BM25 scores, sentence order, interleaving."""
from dataclasses import dataclass

import numpy as np

from knowledge.ranking import fuse, interleave, rank_sentences, rrf, zscore
from knowledge.search_config import SearchConfig


def test_zscore_and_rrf():
    assert np.allclose(zscore(np.array([1.0, 2.0, 3.0])), [-1.2247449, 0.0, 1.2247449])
    assert np.all(zscore(np.array([2.0, 2.0])) == 0)  # no spread: no preference
    assert np.allclose(rrf(np.array([0.1, 0.9, 0.5]), 60), [1 / 63, 1 / 61, 1 / 62])


def test_fusion_weights_dense_against_bm25():
    dense, bm25 = np.array([1.0, 0.0, 0.5]), np.array([0.0, 1.0, 0.5])
    assert np.argmax(fuse(dense, bm25, SearchConfig(dense_weight=0.6))) == 0
    assert np.argmax(fuse(dense, bm25, SearchConfig(dense_weight=0.4))) == 1
    assert np.argmax(fuse(dense, bm25, SearchConfig(fusion="rrf", dense_weight=0.6))) == 0


@dataclass
class Ranked:
    clause_id: str


def test_interleave_takes_turns_and_drops_repeats():
    first, second = [Ranked("a"), Ranked("b")], [Ranked("a"), Ranked("c"), Ranked("d")]
    assert [hit.clause_id for hit in interleave([first, second], 3)] == ["a", "b", "c"]


def test_sentences_of_a_clause_are_ordered_by_relevance(searcher):
    index = searcher.index
    i = next(n for n, clause in enumerate(index.clauses) if len(clause["sentences"]) > 1)
    row = index.sentence_chunks[i][1]  # the query is the second sentence's own vector
    sentences, scores = rank_sentences(index, i, index.vectors[row], [], searcher.config)
    assert sentences[0] == index.clauses[i]["sentences"][1]
    assert scores == sorted(scores, reverse=True)
