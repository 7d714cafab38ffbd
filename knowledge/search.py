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
model over real evidence of the top clause (best dense cosine, cosine above the query's corpus
baseline, lexical coverage, unknown words, asked-for detail missing) — see answer_features().
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import yaml

from .encoders import Encoder, make_encoder
from .index import (KIND_ARTICLE, IndexCorrupt, IndexEncoderMismatch,
                    IndexMissing, PolicyIndex, build_index, is_current, read_meta)
from .store import Store, seed_store
from .textnorm import normalize
from .tokenize import tokenize

logger = logging.getLogger(__name__)

CONFIG_FILE = Path(__file__).resolve().parent / "retrieval.yaml"
_CJK = re.compile(r"[\u3400-\u9fff]")
DETAILS_FILE = Path(__file__).resolve().parent / "lexicon" / "question_details.yaml"


@dataclass
class SearchConfig:
    """Tuning values; defaults are overridden by knowledge/retrieval.yaml (how each was measured is noted there)."""
    fusion: str = "weighted"          # "weighted" (z-score mix) | "rrf"
    dense_weight: float = 0.6         # share of dense in the fused score (1 - share for BM25)
    rrf_k: float = 60.0
    article_blend: float = 0.3        # dense clause score = (1-a)·best sentence/title + a·article
    chunk_candidates: int = 256       # FAISS neighbours fetched before aggregating to clauses
    threshold: float = 0.5            # answerable iff relevance (a probability) ≥ threshold
    # Logistic model of "the top clause answers the question" over the evidence features below;
    # weights fitted on knowledge/eval/questions.yaml (see retrieval.yaml for how).
    answer_model: dict = field(default_factory=lambda: {
        "bias": 0.0, "dense": 0.0, "gap": 0.0, "coverage": 0.0, "unknown": 0.0,
        "detail_missing": 0.0, "crosslingual": 0.0})
    sentence_lexical_weight: float = 0.05  # sentence order inside a hit: cosine + w · coverage
    expansion_weight: float = 0.5     # BM25 weight of synonym / English-glossary expansion terms
    auto_refresh_seconds: float = 2.0  # search() checks the store revision at most this often
    max_part_chars: int = 200         # a question longer than this is cut before encoding (cost grows with length)
    # The chat's answer decision (knowledge.decision): retrieval relevance weighed with the NLU's intent.
    chat_decision: dict = field(default_factory=lambda: {"bias": 0.0, "relevance": 1.0})

    @classmethod
    def load(cls, path: Path = CONFIG_FILE, encoder_name: str = "") -> "SearchConfig":
        """Values from the file's `default` section, overridden by the first `encoders` entry whose
        key is a prefix of the encoder name (cosine scales differ between encoders)."""
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        values = dict(data.get("default") or {})
        for prefix, overrides in (data.get("encoders") or {}).items():
            if encoder_name.startswith(prefix):
                values.update(overrides or {})
                break
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


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


class Searcher:
    def __init__(self, store: Store, index_dir: str | Path | None, encoder: Encoder,
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
            hits = _interleave([p.hits for p in sorted(by_part, key=lambda p: -p.relevance)], k)
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
        scores = self.clause_scores(index, qvec, tokens, dict.fromkeys(extra_tokens, config.expansion_weight))
        fused = self.fuse(scores["dense"], scores["bm25"])
        order = np.argsort(-fused, kind="stable")[:max(1, k)]
        evidence_tokens = tokens if _CJK.search(normalized) else extra_tokens
        hits = [self._hit(index, int(i), float(fused[i]), scores, qvec, evidence_tokens) for i in order]
        features = self.answer_features(index, hits[0], qvec, normalized, residual)
        return hits, features, self.relevance(features)

    def answer_features(self, index: PolicyIndex, top: Hit, qvec: np.ndarray, normalized: str,
                        residual: str) -> dict[str, float]:
        """Evidence that the top clause answers the question, each roughly in [0, 1]:
        dense — best cosine of its chunks; gap — that minus the query's mean cosine to the whole
        corpus (a query-specific baseline); coverage — share of the query's IDF mass the clause
        contains; unknown — share of the query's IDF mass in words that neither the corpus nor the
        synonym lexicon explains (医保, 利率, 高铁; for English: words the glossary does not know);
        detail_missing — the question asks for an amount/duration/rate/documents that the best
        sentence does not state; crosslingual — no Chinese at all."""
        chinese = bool(_CJK.search(normalized))
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
        }

    def relevance(self, features: dict[str, float]) -> float:
        model = self.config.answer_model
        logit = model.get("bias", 0.0) + sum(model.get(name, 0.0) * value for name, value in features.items())
        return float(1.0 / (1.0 + np.exp(-logit)))

    def clause_scores(self, index: PolicyIndex, qvec: np.ndarray, tokens: list[str],
                      extra: dict[str, float] | None = None) -> dict:
        n = len(index.clauses)
        k = min(self.config.chunk_candidates, index.faiss.ntotal)
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
        a = self.config.article_blend
        dense = (1 - a) * best_part + a * article
        return {"dense": dense, "best_chunk": np.maximum(best_part, article),
                "bm25": index.bm25.scores(tokens, extra)}

    def fuse(self, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        w = self.config.dense_weight
        if self.config.fusion == "rrf":
            return w * _rrf(dense, self.config.rrf_k) + (1 - w) * _rrf(bm25, self.config.rrf_k)
        return w * _zscore(dense) + (1 - w) * _zscore(bm25)

    # -- hits -----------------------------------------------------------------------------------
    def _hit(self, index: PolicyIndex, i: int, score: float, scores: dict, qvec: np.ndarray,
             tokens: list[str]) -> Hit:
        clause = index.clauses[i]
        sentences, sentence_scores = self._rank_sentences(index, i, qvec, tokens)
        return Hit(
            clause_id=clause["clause_id"], doc=clause["doc_id"], article=int(clause["article"]),
            title=clause["title"], text=clause["text"], score=round(score, 4),
            departments=list(clause["departments"]), sentences=sentences,
            sentence_scores=sentence_scores, doc_number=clause.get("doc_number", ""),
            doc_title=clause.get("doc_title", ""),
            section=clause.get("section", ""), path=clause.get("path", ""),
            dense=round(float(scores["best_chunk"][i]), 4), bm25=round(float(scores["bm25"][i]), 4),
            coverage=round(lexical_coverage(index, tokens, index.clause_tokens[i]), 4),
            time_limits=list(clause.get("time_limits", [])), amounts=list(clause.get("amounts", [])))

    def _rank_sentences(self, index: PolicyIndex, i: int, qvec: np.ndarray,
                        tokens: list[str]) -> tuple[list[str], list[float]]:
        sentences = index.clauses[i]["sentences"]
        if not sentences:  # a one-sentence item: its lead title is its only sentence
            title = index.clauses[i]["title"]
            return ([title], [1.0]) if title else ([], [])
        rows = [index.sentence_chunks[i].get(n) for n in range(len(sentences))]
        cosines = np.array([float(index.vectors[r] @ qvec) if r is not None else 0.0 for r in rows])
        coverage = np.array([lexical_coverage(index, tokens, toks) for toks in index.sentence_tokens[i]])
        combined = cosines + self.config.sentence_lexical_weight * coverage
        order = np.argsort(-combined, kind="stable")
        return [sentences[n] for n in order], [round(float(combined[n]), 4) for n in order]


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


# normalize() turns "，" into ",": both forms of "，还有 / ，另外 / ，再问" start a new question.
_PART_SPLIT = re.compile(r"[?？!！。;；\n]+|,\s*and\s+|[，,]\s*(?:还有|另外|再问一下|再问|顺便问一下|顺便问)")


def split_question(normalized: str, max_parts: int = 3) -> list[str]:
    """Separate questions in one message; fragments without content words join their neighbour."""
    parts: list[str] = []
    for piece in _PART_SPLIT.split(normalized):
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


def _interleave(rankings: list[list["Hit"]], k: int) -> list["Hit"]:
    merged, seen = [], set()
    for rank in range(max(len(r) for r in rankings)):
        for ranking in rankings:
            if rank < len(ranking) and ranking[rank].clause_id not in seen:
                seen.add(ranking[rank].clause_id)
                merged.append(ranking[rank])
    return merged[:k]


@functools.lru_cache(maxsize=2)
def _detail_rules(path: str) -> dict[str, tuple[tuple[str, ...], list[re.Pattern], list[re.Pattern]]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {name: (tuple(str(a).lower() for a in rule["asks"]),
                   [re.compile(e) for e in rule["evidence"]],
                   [re.compile(e) for e in rule.get("explicit", rule["evidence"])])
            for name, rule in data.items()}


def asked_details(normalized: str) -> list[str]:
    """Details the question asks for: amount, duration, rate, documents, place, procedure."""
    return [name for name, (asks, _, _) in _detail_rules(str(DETAILS_FILE)).items()
            if any(a in normalized for a in asks)]


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


def _has_words(text: str) -> bool:
    return bool(re.search(r"[0-9a-z\u3400-\u9fff]", text))


def _zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def _rrf(values: np.ndarray, k: float) -> np.ndarray:
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(1, len(values) + 1)
    return 1.0 / (k + ranks)


# ---------------------------------------------------------------------------------------------
def load_searcher(store_path: str | Path, index_dir: str | Path | None,
                  encoder: Encoder | str | None = None, seed: bool = True,
                  rebuild_on_mismatch: bool = False, config: SearchConfig | None = None) -> Searcher:
    """Open the store (seeding it from knowledge/data/*.txt if empty), then load the index from
    index_dir if it is current, else build it (re-using vectors of unchanged chunks) and save it.

    An index built with another encoder raises IndexEncoderMismatch unless rebuild_on_mismatch.
    """
    store = store_path if isinstance(store_path, Store) else Store(store_path)
    if seed and not store.documents():
        added = seed_store(store)
        logger.info("seeded knowledge store %s with %s", store.path, ", ".join(added) or "nothing")
    encoder = encoder if hasattr(encoder, "encode_queries") else make_encoder(encoder)
    index = _load_or_build(store, index_dir, encoder, rebuild_on_mismatch)
    searcher = Searcher(store, index_dir, encoder, index, config)
    searcher.warm_up()
    return searcher


def _load_or_build(store: Store, index_dir, encoder: Encoder, rebuild_on_mismatch: bool) -> PolicyIndex:
    if index_dir is None:
        return build_index(store, None, encoder)
    try:
        meta = read_meta(index_dir)
    except IndexMissing:
        return build_index(store, index_dir, encoder)
    try:
        index = PolicyIndex.load(index_dir, encoder)
    except IndexEncoderMismatch:
        if not rebuild_on_mismatch:
            raise
        logger.warning("index at %s was built with %s; rebuilding for %s", index_dir,
                       meta.get("encoder"), encoder.name)
        return build_index(store, index_dir, encoder)
    except (IndexCorrupt, OSError, ValueError, KeyError) as error:
        logger.warning("index at %s unreadable (%s); rebuilding", index_dir, error)
        return build_index(store, index_dir, encoder)
    if is_current(index.meta, store):
        return index
    logger.info("index at %s is stale (revision %s, store %s); updating", index_dir,
                meta.get("revision"), store.revision())
    return build_index(store, index_dir, encoder, previous=index)
