"""Derived search index: BM25 over jieba tokens + FAISS inner-product index over dense chunks.

Built from the Store (the source of truth) and persisted to a directory:

    meta.json      format, encoder name + dim, store id / revision / content hash, lexicon hash
    clauses.json   snapshot of the active clauses (search answers without touching SQLite)
    chunks.json    chunk → clause / kind / sentence, the text hash of every embedded chunk
    tokens.json    BM25 tokens per clause and per sentence (jieba is slow on big corpora)
    vectors.npy    float32 (n_chunks, dim), L2-normalised
    views.json     question views (knowledge/question_views.py): clause number and text of each
    view_vectors.npy  float32 (n_views, dim): the views encoded as queries, for ranking only

Chunks per clause: the lead title, every sentence (embedded with its title as context) and the
whole article. Re-building after a staff edit re-encodes only chunks whose text changed.
Question views live beside the chunks, not among them: they never reach a hit, a quote or the
answerability features (best chunk cosine, corpus centroid).
Loading with a different encoder than the one that built the index raises IndexEncoderMismatch.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from .encoders import Encoder, as_encoder
from .question_views import clause_views, load_views, views_hash
from .staff_lexicon import StaffLexicon
from .store import ClauseSource, Store
from .textnorm import DIALECT_FILE, TYPOS_FILE, HomophoneCorrector, normalize
from .tokenize import DICT_DIR, STOPWORDS_FILE, is_common_word, segment, stopwords, user_terms

logger = logging.getLogger(__name__)

FORMAT_VERSION = 4  # 4: question views
KIND_TITLE, KIND_SENTENCE, KIND_ARTICLE = 0, 1, 2
MAX_ARTICLE_CHARS = 480  # e5-small reads 512 tokens; a Chinese character is about one token


class IndexEncoderMismatch(RuntimeError):
    """The index on disk was built by another encoder (vectors are not comparable)."""


class IndexMissing(FileNotFoundError):
    pass


class IndexCorrupt(ValueError):
    pass


def lexicon_hash() -> str:
    """Tokenisation depends on these files: a change makes persisted tokens stale."""
    digest = hashlib.sha1(str(FORMAT_VERSION).encode())
    for path in sorted(DICT_DIR.glob("*")) + [STOPWORDS_FILE, TYPOS_FILE, DIALECT_FILE]:
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def _view_hash(text: str) -> str:
    """Cache key of a view: encoded as a query, its vector differs from the same text as a passage."""
    return "q:" + _text_hash(text)


# ---------------------------------------------------------------------------------------------
class BM25:
    """Okapi BM25 with precomputed term weights in a sparse matrix: a query is one column sum.

    Written with numpy/scipy instead of rank-bm25: with the same tokens over 5,000 clauses and the
    294 questions of questions.yaml, 0.03 ms per query here vs 7.4 ms for rank-bm25 0.2.2 (which
    loops over every document in Python per query term); build time is the same (≈0.09 s).
    """

    def __init__(self, documents: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(len(documents), dtype=np.float32)
        for row, tokens in enumerate(documents):
            lengths[row] = len(tokens)
            counts: dict[int, int] = {}
            for token in tokens:
                col = self.vocab.setdefault(token, len(self.vocab))
                counts[col] = counts.get(col, 0) + 1
            rows.extend([row] * len(counts))
            cols.extend(counts.keys())
            tfs.extend(counts.values())
        n_docs = max(len(documents), 1)
        shape = (len(documents), max(len(self.vocab), 1))
        tf = np.asarray(tfs, dtype=np.float32)
        rows_arr = np.asarray(rows, dtype=np.int64)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1]).astype(np.float32)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.max_idf = float(np.log1p((n_docs + 0.5) / 0.5))  # idf of a term no document has
        avgdl = float(lengths.mean()) if len(documents) else 1.0
        norm = k1 * (1 - b + b * lengths[rows_arr] / max(avgdl, 1e-9)) if len(tf) else tf
        weights = self.idf[np.asarray(cols, dtype=np.int64)] * tf * (k1 + 1) / (tf + norm) if len(tf) else tf
        self.matrix = sparse.csc_matrix((weights, (rows_arr, np.asarray(cols, dtype=np.int64))),
                                        shape=shape, dtype=np.float32)
        self.n_docs = len(documents)

    def scores(self, tokens: list[str], extra: dict[str, float] | None = None) -> np.ndarray:
        """BM25 of every document for the query tokens (each occurrence counts once) plus optional
        extra weighted terms (query expansion)."""
        weights: dict[int, float] = {}
        for token in tokens:
            col = self.vocab.get(token)
            if col is not None:
                weights[col] = weights.get(col, 0.0) + 1.0
        for token, weight in (extra or {}).items():
            col = self.vocab.get(token)
            if col is not None and col not in weights:
                weights[col] = weight
        if not weights:
            return np.zeros(self.n_docs, dtype=np.float32)
        cols = np.fromiter(weights.keys(), dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float32, count=len(weights))
        return np.asarray(self.matrix[:, cols] @ values).ravel()

    def idf_of(self, token: str) -> float:
        col = self.vocab.get(token)
        return self.max_idf if col is None else float(self.idf[col])


# ---------------------------------------------------------------------------------------------
@dataclass
class Chunk:
    clause: int      # index into PolicyIndex.clauses
    kind: int        # KIND_TITLE | KIND_SENTENCE | KIND_ARTICLE
    sentence: int    # sentence index for KIND_SENTENCE, else -1
    text: str        # the text that was embedded


def clause_chunks(clause_no: int, clause: dict) -> list[Chunk]:
    title, sentences = clause["title"], clause["sentences"]
    chunks = []
    if title:
        chunks.append(Chunk(clause_no, KIND_TITLE, -1, title))
    for number, sentence in enumerate(sentences):
        # The title gives a bare sentence ("按规定给予每人5000元…") the topic it belongs to
        # (questions.yaml: R@1 0.975 with the title prefix, 0.971 without).
        text = f"{title}：{sentence}" if title else sentence
        chunks.append(Chunk(clause_no, KIND_SENTENCE, number, text))
    body = "".join(sentences)
    if body:  # a title-only clause (one-sentence sub-item) is fully covered by its title chunk
        article = f"{title}。{body}" if title else body
        chunks.append(Chunk(clause_no, KIND_ARTICLE, -1, article[:MAX_ARTICLE_CHARS]))
    return chunks


def _clause_snapshot(clause, documents: dict[str, dict]) -> dict:
    doc = documents.get(clause.doc_id, {})
    return {
        "clause_id": clause.clause_id, "doc_id": clause.doc_id, "doc_number": doc.get("number", ""),
        "doc_title": doc.get("title", ""), "path": clause.path, "section": clause.section,
        "article": clause.article, "title": clause.title, "text": clause.text,
        "sentences": list(clause.sentences), "departments": list(clause.departments),
        "amounts": [{"value": a.value, "unit": a.unit, "raw": a.raw} for a in clause.amounts],
        "time_limits": [{"raw": t.raw, "until": t.until.isoformat(), "kind": t.kind}
                        for t in clause.time_limits],
        "version": getattr(clause, "version", 1),
    }


class PolicyIndex:
    def __init__(self, meta: dict, clauses: list[dict], chunks: list[Chunk], vectors: np.ndarray,
                 clause_tokens: list[list[str]], sentence_tokens: list[list[list[str]]],
                 views: list[tuple[int, str]] | None = None, view_vectors: np.ndarray | None = None):
        import faiss

        self.meta = meta
        # question views (ranking evidence only): the clause each belongs to, its text and query vector
        self.view_texts = [text for _, text in views or []]
        self.view_clause = np.fromiter((no for no, _ in views or []), dtype=np.int64, count=len(views or []))
        self.view_vectors = (np.ascontiguousarray(view_vectors, dtype=np.float32) if view_vectors is not None
                             else np.zeros((0, int(meta["dim"])), dtype=np.float32))
        self.clauses = clauses
        self.chunks = chunks
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.clause_tokens = clause_tokens
        self.sentence_tokens = sentence_tokens
        self.chunk_clause = np.fromiter((c.clause for c in chunks), dtype=np.int64, count=len(chunks))
        self.chunk_kind = np.fromiter((c.kind for c in chunks), dtype=np.int8, count=len(chunks))
        self.sentence_chunks: list[dict[int, int]] = [{} for _ in clauses]  # clause → {sentence no: chunk row}
        for row, chunk in enumerate(chunks):
            if chunk.kind == KIND_SENTENCE:
                self.sentence_chunks[chunk.clause][chunk.sentence] = row
        # q · centroid = the query's mean cosine to all chunks: a per-query similarity baseline.
        self.centroid = (self.vectors.mean(axis=0) if len(self.vectors)
                         else np.zeros(int(meta["dim"]), dtype=np.float32)).astype(np.float32)
        self.faiss = faiss.IndexFlatIP(int(meta["dim"]))
        if len(self.vectors):
            self.faiss.add(self.vectors)
        self.bm25 = BM25(clause_tokens)
        # staff synonyms / terms published with this index's revision (knowledge.staff_lexicon)
        self.lexicon = StaffLexicon.from_meta(meta.get("staff_lexicon"))

    @functools.cached_property
    def view_bm25(self) -> BM25:
        """BM25 over each clause's question views taken together (a clause without views is empty)."""
        documents: list[list[str]] = [[] for _ in self.clauses]
        for clause_no, text in zip(self.view_clause, self.view_texts):
            documents[int(clause_no)] += self.lexicon.tokenize(text)
        return BM25(documents)

    @functools.cached_property
    def corpus_chars(self) -> frozenset[str]:
        return frozenset("".join(self.bm25.vocab))

    @functools.cached_property
    def corrector(self) -> HomophoneCorrector:
        """Homophone-typo corrector whose target terms are this corpus's words and the user dictionary."""
        vocab = set(self.bm25.vocab) | user_terms()
        terms = {t for t in vocab if len(t) >= 2}
        return HomophoneCorrector(terms, known=_KnownWords(vocab), segment=segment, ignore=stopwords())

    @property
    def encoder_name(self) -> str:
        return self.meta["encoder"]

    def describe(self) -> str:
        m = self.meta
        return (f"{m['n_clauses']} clauses, {m['n_chunks']} chunks, encoder {m['encoder']} (dim {m['dim']}), "
                f"store revision {m['revision']}")

    # -- persistence ----------------------------------------------------------------------------
    def save(self, index_dir: str | Path) -> None:
        index_dir = Path(index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        chunks = {"clause": [c.clause for c in self.chunks], "kind": [c.kind for c in self.chunks],
                  "sentence": [c.sentence for c in self.chunks],
                  "hash": [_text_hash(c.text) for c in self.chunks]}
        _atomic_write(index_dir / "clauses.json", json.dumps(self.clauses, ensure_ascii=False))
        _atomic_write(index_dir / "chunks.json", json.dumps(chunks))
        _atomic_write(index_dir / "tokens.json", json.dumps(
            {"clauses": self.clause_tokens, "sentences": self.sentence_tokens}, ensure_ascii=False))
        tmp = index_dir / f".vectors.{os.getpid()}.npy"
        np.save(tmp, self.vectors)
        os.replace(tmp, index_dir / "vectors.npy")
        _atomic_write(index_dir / "views.json", json.dumps(
            {"clause": self.view_clause.tolist(), "text": self.view_texts}, ensure_ascii=False))
        tmp = index_dir / f".view_vectors.{os.getpid()}.npy"
        np.save(tmp, self.view_vectors)
        os.replace(tmp, index_dir / "view_vectors.npy")
        _atomic_write(index_dir / "meta.json", json.dumps(self.meta, ensure_ascii=False, indent=1))  # last

    @classmethod
    def load(cls, index_dir: str | Path, encoder: Encoder) -> "PolicyIndex":
        index_dir = Path(index_dir)
        meta = read_meta(index_dir)
        check_encoder(meta, encoder, index_dir)
        clauses = json.loads((index_dir / "clauses.json").read_text(encoding="utf-8"))
        raw = json.loads((index_dir / "chunks.json").read_text(encoding="utf-8"))
        tokens = json.loads((index_dir / "tokens.json").read_text(encoding="utf-8"))
        vectors = np.load(index_dir / "vectors.npy")
        # Chunk texts are derived from the clause snapshot; the stored hashes prove they still match.
        chunks = [chunk for no, clause in enumerate(clauses) for chunk in clause_chunks(no, clause)]
        if [_text_hash(c.text) for c in chunks] != raw["hash"] or len(chunks) != len(vectors):
            raise IndexCorrupt(f"index at {index_dir} does not match its own clause snapshot")
        stored_views = json.loads((index_dir / "views.json").read_text(encoding="utf-8"))
        views = list(zip(stored_views["clause"], stored_views["text"]))
        view_vectors = np.load(index_dir / "view_vectors.npy")
        if len(views) != len(view_vectors) or any(not 0 <= no < len(clauses) for no, _ in views):
            raise IndexCorrupt(f"index at {index_dir}: question views do not match the clauses")
        return cls(meta, clauses, chunks, vectors, tokens["clauses"], tokens["sentences"], views, view_vectors)


class _KnownWords:
    """Words that are never "corrected": the corpus vocabulary and common dictionary words."""

    def __init__(self, vocab: set[str]):
        self.vocab = vocab

    def __contains__(self, word: str) -> bool:
        return word in self.vocab or is_common_word(word)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_meta(index_dir: str | Path) -> dict:
    path = Path(index_dir) / "meta.json"
    if not path.exists():
        raise IndexMissing(f"no index at {index_dir}")
    return json.loads(path.read_text(encoding="utf-8"))


def check_encoder(meta: dict, encoder: Encoder, index_dir: str | Path = "") -> None:
    if meta.get("encoder") != encoder.name or int(meta.get("dim", -1)) != int(encoder.dim):
        raise IndexEncoderMismatch(
            f"index at {index_dir} was built with encoder {meta.get('encoder')!r} (dim {meta.get('dim')}), "
            f"but the configured encoder is {encoder.name!r} (dim {encoder.dim}). Vectors of different "
            "encoders are not comparable: rebuild the index (python -m service.build_index after "
            "removing the directory, or knowledge.index.build_index) or set KNOWLEDGE_ENCODER back.")


# ---------------------------------------------------------------------------------------------
def _open_store(store: ClauseSource | str | Path) -> ClauseSource:
    return Store(store) if isinstance(store, (str, Path)) else store


def _vector_cache(index_dir: Path | None, encoder: Encoder, previous: PolicyIndex | None) -> dict[str, np.ndarray]:
    """text hash → vector from the previous index (same encoder), so unchanged chunks are not re-encoded."""
    source = previous
    if source is None and index_dir is not None:
        try:
            source = PolicyIndex.load(index_dir, encoder)
        except (IndexMissing, IndexEncoderMismatch, IndexCorrupt, OSError, ValueError, KeyError):
            source = None
    if source is None or source.encoder_name != encoder.name:
        return {}
    cache = {_text_hash(c.text): source.vectors[i] for i, c in enumerate(source.chunks)}
    cache.update((_view_hash(text), source.view_vectors[i]) for i, text in enumerate(source.view_texts))
    return cache


def build_index(store: ClauseSource | str | Path, index_dir: str | Path | None = None,
                encoder: Encoder | str | None = None,
                previous: PolicyIndex | None = None, batch_size: int = 64) -> PolicyIndex:
    """Build the index from the store's active clauses (and save it to index_dir if given).

    `store` is a Store or a path to its SQLite file; `encoder` an Encoder, a spec or None (default).
    """
    started = time.perf_counter()
    store = _open_store(store)
    encoder = as_encoder(encoder)
    index_dir = Path(index_dir) if index_dir is not None else None
    revision, store_id = store.revision(), store.store_id()
    documents = {d["doc_id"]: d for d in store.documents()}
    clauses = [_clause_snapshot(c, documents) for c in store.clauses(active_only=True)]
    chunks = [chunk for no, clause in enumerate(clauses) for chunk in clause_chunks(no, clause)]

    cache = _vector_cache(index_dir, encoder, previous)
    hashes = [_text_hash(c.text) for c in chunks]
    missing = list(dict.fromkeys(h for h in hashes if h not in cache))  # each new text encoded once
    text_of = {h: c.text for h, c in zip(hashes, chunks)}
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        cache.update(zip(batch, encoder.encode_passages([text_of[h] for h in batch])))
    vectors = np.zeros((len(chunks), encoder.dim), dtype=np.float32)
    for i, text_hash in enumerate(hashes):
        vectors[i] = cache[text_hash]
    views, view_vectors, views_encoded = _encode_views(clauses, encoder, cache, batch_size)

    staff = store.lexicon()
    lexicon = StaffLexicon.of(staff)
    sentence_tokens = [[lexicon.tokenize(normalize(s)) for s in clause["sentences"]] for clause in clauses]
    clause_tokens = [lexicon.tokenize(normalize(clause["title"])) + [t for s in sents for t in s]
                     for clause, sents in zip(clauses, sentence_tokens)]
    meta = {
        "format": FORMAT_VERSION, "encoder": encoder.name, "dim": int(encoder.dim),
        "store_id": store_id, "revision": revision, "content_hash": store.content_hash(),
        "lexicon_hash": lexicon_hash(), "views_hash": views_hash(), "n_views": len(views),
        "encoded_views": views_encoded, "n_clauses": len(clauses), "n_chunks": len(chunks),
        "encoded_chunks": len(missing), "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": 0.0,
    }
    if lexicon:
        meta["staff_lexicon"] = lexicon.to_meta()
    index = PolicyIndex(meta, clauses, chunks, vectors, clause_tokens, sentence_tokens, views, view_vectors)
    meta["build_seconds"] = round(time.perf_counter() - started, 3)
    if index_dir is not None:
        index.save(index_dir)
    logger.info("built index: %s (%d chunks encoded, %.1fs)", index.describe(), len(missing),
                meta["build_seconds"])
    return index


def _encode_views(clauses: list[dict], encoder: Encoder, cache: dict[str, np.ndarray],
                  batch_size: int) -> tuple[list[tuple[int, str]], np.ndarray, int]:
    """The active clauses' question views and their query vectors (cached ones re-used); also how many
    distinct views had to be encoded."""
    views = clause_views(clauses, load_views())
    missing = list(dict.fromkeys(text for _, text in views if _view_hash(text) not in cache))
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        cache.update(zip(map(_view_hash, batch), encoder.encode_queries(batch)))
    vectors = np.zeros((len(views), encoder.dim), dtype=np.float32)
    for i, (_, text) in enumerate(views):
        vectors[i] = cache[_view_hash(text)]
    return views, vectors, len(missing)


def is_current(meta: dict, store: ClauseSource) -> bool:
    """The index reflects the store: same store, same revision (or same content), same lexicon and views."""
    if meta.get("format") != FORMAT_VERSION or meta.get("lexicon_hash") != lexicon_hash():
        return False
    if meta.get("views_hash") != views_hash():
        return False
    if meta.get("store_id") != store.store_id():
        return meta.get("content_hash") == store.content_hash()
    return meta.get("revision") == store.revision() or meta.get("content_hash") == store.content_hash()


def load_or_build_index(store: ClauseSource, index_dir: str | Path | None, encoder: Encoder,
                        rebuild_on_mismatch: bool = False) -> PolicyIndex:
    """The index at index_dir if it is current; else built (re-using vectors of unchanged chunks) and saved.
    An index built with another encoder raises IndexEncoderMismatch unless rebuild_on_mismatch."""
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
