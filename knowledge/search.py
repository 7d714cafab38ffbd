"""Hybrid clause search: BM25 (jieba tokens) + dense (FAISS) fused at clause level.

    searcher = load_searcher("var/knowledge.db", "var/index")     # seeds store, builds/loads index
    result = searcher.search("借8万开店的话需要别人给我做反担保吗", k=5)
    result.answerable, result.relevance, result.hits[0].article, result.hits[0].sentences[0]

Query: normalize() (Traditional→Simplified, width, numerals, typo file) then pinyin homophone
correction against the corpus vocabulary; several questions in one message are searched apart.
Scores per clause: dense = best cosine over its sentence/title chunks blended with the whole-article
cosine; bm25 = Okapi BM25 over the clause's tokens, plus synonym / English-glossary expansion terms
at reduced weight. They are fused (weighted z-scores, or RRF — knowledge/retrieval.yaml) to rank.
`answerable` does not look at the fused rank: it thresholds `relevance`, a calibrated logistic
model over real evidence of the top clause (knowledge/answerability.py).

The jobs by module: knowledge/search_config.py (tuning values), knowledge/ranking.py (scores, fusion,
sentence order), knowledge/answerability.py (the answer model), knowledge/question_details.py (what
detail a question asks for), knowledge/index.py (loading and rebuilding the index); this module runs a
search over them and keeps the index fresh.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from . import answerability, ranking
from .encoders import Encoder, as_encoder
from .index import PolicyIndex, build_index, is_current, load_or_build_index
from .search_config import SearchConfig
from .store import ClauseSource, Store, seed_store
from .textnorm import normalize
from .tokenize import tokenize

logger = logging.getLogger(__name__)
# The store a Searcher reads: the service's Store, or a draft's StateView in the impact preview.
StoreT = TypeVar("StoreT", bound=ClauseSource)


@dataclass
class Hit:
    clause_id: str
    doc: str
    article: int
    title: str
    text: str
    score: float
    departments: list[str]
    sentences: list[str]                 # the clause's sentences, most relevant first
    sentence_scores: list[float] = field(default_factory=list)
    doc_number: str = ""
    doc_title: str = ""
    section: str = ""
    path: str = ""
    dense: float = 0.0                   # best cosine of the clause's chunks
    bm25: float = 0.0
    coverage: float = 0.0                # share of the query's IDF mass found in the clause
    time_limits: list[dict] = field(default_factory=list)
    amounts: list[dict] = field(default_factory=list)


@dataclass
class PartResult:
    """One question of a multi-question message, searched on its own."""
    text: str
    answerable: bool
    relevance: float
    hits: list[Hit]
    features: dict = field(default_factory=dict)


@dataclass
class SearchResult:
    query: str
    normalized: str
    answerable: bool
    hits: list[Hit]
    relevance: float = 0.0               # the score `answerable` thresholds (probability-like)
    threshold: float = 0.0
    features: dict = field(default_factory=dict)  # the evidence relevance was computed from
    parts: list[str] = field(default_factory=list)  # the questions found in the message
    by_part: list[PartResult] = field(default_factory=list)  # per question, in message order


class Searcher(Generic[StoreT]):
    def __init__(self, store: StoreT, index_dir: str | Path | None, encoder: Encoder,
                 index: PolicyIndex, config: SearchConfig | None = None):
        self.store = store
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.encoder = encoder
        self.index = index
        self.config = config or SearchConfig.load(encoder_name=encoder.name)
        self._refresh_lock = threading.Lock()
        self._checked_at = time.monotonic()

    @property
    def threshold(self) -> float:
        return self.config.threshold

    def describe(self) -> str:
        return self.index.describe()

    def warm_up(self) -> None:
        """Load the jieba dictionary, the typo corrector and the encoder's first call now, so the
        first citizen's question does not pay for them (≈1 s)."""
        self.search("创业担保贷款", k=1)

    # -- freshness ------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Rebuild the index if the store changed (staff edits); only changed chunks are re-encoded.
        Returns True if the index was rebuilt."""
        with self._refresh_lock:
            self._checked_at = time.monotonic()
            store_id, revision = self.store.state()
            if not force and self.index.meta.get("revision") == revision \
                    and self.index.meta.get("store_id") == store_id:
                return False
            if not force and is_current(self.index.meta, self.store):
                self.index.meta.update(revision=revision, store_id=store_id)
                return False
            self.index = build_index(self.store, self.index_dir, self.encoder, previous=self.index)
            return True

    def _maybe_refresh(self) -> None:
        interval = self.config.auto_refresh_seconds
        if interval >= 0 and time.monotonic() - self._checked_at >= interval:
            self.refresh()

    # -- search ---------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5) -> SearchResult:
        """Rank clauses for the query. A message with several questions ("要交登记费吗？能贷多少？")
        is searched part by part (one batched encoder call); hits are interleaved, answerable parts
        first, and the message is answerable if any part is."""
        self._maybe_refresh()
        index, config = self.index, self.config
        normalized = normalize(query or "")
        if index.clauses:
            normalized = index.lexicon.outside_words(normalized, index.corrector.correct)
        if not index.clauses or not _has_words(normalized):
            return SearchResult(query, normalized, False, [], 0.0, config.threshold)
        parts = [part[:config.max_part_chars] for part in split_question(normalized[:5 * config.max_part_chars])]
        vectors = self.encoder.encode_queries(parts)
        found = [self._search_part(index, part, vector, k) for part, vector in zip(parts, vectors)]
        by_part = [PartResult(part, rel >= config.threshold, round(rel, 4), hits, features)
                   for part, (hits, features, rel) in zip(parts, found)]
        if len(found) == 1:
            hits, features, relevance = found[0]
        else:
            hits = ranking.interleave([p.hits for p in sorted(by_part, key=lambda p: -p.relevance)], k)
            best = max(by_part, key=lambda p: p.relevance)
            features, relevance = best.features, best.relevance
        return SearchResult(query, normalized, relevance >= config.threshold, hits,
                            round(relevance, 4), config.threshold, features, parts, by_part)

    def _search_part(self, index: PolicyIndex, normalized: str, qvec: np.ndarray,
                     k: int) -> tuple[list[Hit], dict, float]:
        config, lexicon = self.config, index.lexicon  # staff synonyms / terms published with this index
        tokens = lexicon.tokenize(normalized)
        expansion, residual = lexicon.expand(normalized)
        extra_tokens = [t for term in expansion for t in tokenize(term)]
        scores = ranking.clause_scores(index, qvec, tokens, config,
                                       dict.fromkeys(extra_tokens, config.expansion_weight))
        fused = ranking.fuse(scores["dense"], scores["bm25"], config)
        order = np.argsort(-fused, kind="stable")[:max(1, k)]
        evidence_tokens = tokens if answerability.CJK.search(normalized) else extra_tokens
        # the policy's wording of a colloquial word ("招工信息" → 岗位信息) also picks the sentence to quote
        wording = list(dict.fromkeys(evidence_tokens + extra_tokens))
        hits = [self._hit(index, int(i), float(fused[i]), scores, qvec, evidence_tokens, wording) for i in order]
        features = answerability.answer_features(index, hits[0], qvec, normalized, residual, hits[1:])
        return hits, features, self.relevance(features)

    def relevance(self, features: dict[str, float]) -> float:
        return answerability.relevance(self.config.answer_model, features)

    # -- hits -----------------------------------------------------------------------------------
    def _hit(self, index: PolicyIndex, i: int, score: float, scores: dict, qvec: np.ndarray,
             tokens: list[str], wording: list[str] | None = None) -> Hit:
        clause = index.clauses[i]
        sentences, sentence_scores = ranking.rank_sentences(index, i, qvec, wording or tokens, self.config)
        return Hit(
            clause_id=clause["clause_id"], doc=clause["doc_id"], article=int(clause["article"]),
            title=clause["title"], text=clause["text"], score=round(score, 4),
            departments=list(clause["departments"]), sentences=sentences,
            sentence_scores=sentence_scores, doc_number=clause.get("doc_number", ""),
            doc_title=clause.get("doc_title", ""),
            section=clause.get("section", ""), path=clause.get("path", ""),
            dense=round(float(scores["best_chunk"][i]), 4), bm25=round(float(scores["bm25"][i]), 4),
            coverage=round(answerability.lexical_coverage(index, tokens, index.clause_tokens[i]), 4),
            time_limits=list(clause.get("time_limits", [])), amounts=list(clause.get("amounts", [])))


# normalize() turns "，" into ",": both forms of "，还有 / ，另外 / ，再问" start a new question.
_PART_SPLIT = re.compile(r"[?？!！。;；\n]+|,\s*and\s+|[，,]\s*(?:还有|另外|再问一下|再问|顺便问一下|顺便问)")


# "秦青优惠贷最多多少，家政培训有没有": a comma after a question word ends a question when another one follows.
# "一是拖欠工资咋处理，二是工伤保险咋参加": 怎么/如何 + a short verb ends a question too.
_ASKS_END = re.compile(r"(?:吗|么|呢|多少|有没有|没有|啥|什么|哪里|哪儿|多久|几年|几个月|[^不没][不没]"
                       r"|(?:怎么|如何|怎样)[\u4e00-\u9fff]{1,3})$")
_ASKS = re.compile(r"吗|么|呢|多少|有没有|没有|啥|什么|哪|多久|几|怎么|能不能|是否|[不没]$")


def _split_asks(piece: str) -> list[str]:
    """A piece cut after each comma-ended question that a question follows; a piece that asks nothing
    ("贷款能贷多少，我是农民工") stays with the question before it."""
    segments = re.split(r"\s*[,，]\s*", piece)
    questions, current = [], []
    for index, segment in enumerate(segments):
        current.append(segment)
        rest = ",".join(segments[index + 1:])
        if _ASKS_END.search(segment) and rest and _ASKS.search(rest) and _ASKS.search(",".join(current)):
            questions.append(",".join(current))
            current = []
    if current:
        questions.append(",".join(current))
    return questions


def split_question(normalized: str, max_parts: int = 3) -> list[str]:
    """Separate questions in one message; fragments without content words join their neighbour."""
    parts: list[str] = []
    for piece in (asked for chunk in _PART_SPLIT.split(normalized) for asked in _split_asks(chunk)):
        piece = piece.strip(" ,，、")
        if not piece:
            continue
        if parts and (len(piece) < 3 or not tokenize(piece)):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    if not parts:
        return [normalized]
    if len(parts) > max_parts:
        parts = parts[:max_parts - 1] + [" ".join(parts[max_parts - 1:])]
    return parts


def _has_words(text: str) -> bool:
    return bool(re.search(r"[0-9a-z\u3400-\u9fff]", text))


# ---------------------------------------------------------------------------------------------
def load_searcher(store_path: str | Path, index_dir: str | Path | None,
                  encoder: Encoder | str | None = None, seed: bool = True,
                  rebuild_on_mismatch: bool = False, config: SearchConfig | None = None) -> Searcher[Store]:
    """Open the store (seeding it from knowledge/data/*.txt if empty), then load the index from
    index_dir if it is current, else build it (re-using vectors of unchanged chunks) and save it.

    An index built with another encoder raises IndexEncoderMismatch unless rebuild_on_mismatch.
    """
    store = store_path if isinstance(store_path, Store) else Store(store_path)
    if seed and not store.documents():
        added = seed_store(store)
        logger.info("seeded knowledge store %s with %s", store.path, ", ".join(added) or "nothing")
    encoder = as_encoder(encoder)
    index = load_or_build_index(store, index_dir, encoder, rebuild_on_mismatch)
    searcher = Searcher(store, index_dir, encoder, index, config)
    searcher.warm_up()
    return searcher
