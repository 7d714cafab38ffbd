import json

import numpy as np
import pytest

from knowledge.index import BM25, IndexEncoderMismatch, PolicyIndex, build_index, is_current, read_meta
from knowledge.search import load_searcher
from knowledge.store import Store, seed_store

from .conftest import HashingEncoder

ARTICLE_1 = "baoji-2020-49:2.1"


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "knowledge.db")
    seed_store(store)
    return store


def test_bm25_ranks_documents_with_rare_query_terms_first():
    bm25 = BM25([["担保", "贷款", "额度"], ["培训", "补贴"], ["贷款", "补贴", "补贴"]])
    scores = bm25.scores(["担保", "贷款"])
    assert scores.argmax() == 0 and scores[1] == 0
    assert bm25.idf_of("担保") > bm25.idf_of("贷款")
    assert bm25.idf_of("高铁") == bm25.max_idf
    assert bm25.scores(["培训"], extra={"补贴": 0.5})[1] > bm25.scores(["培训"])[1]


def test_index_is_persisted_with_encoder_and_store_revision(store, tmp_path, hashing_encoder):
    build_index(store, tmp_path / "index", hashing_encoder)
    meta = read_meta(tmp_path / "index")
    assert meta["encoder"] == "test-hashing" and meta["dim"] == 64
    assert meta["revision"] == store.revision() and meta["content_hash"] == store.content_hash()
    assert meta["n_clauses"] == 18 and meta["n_chunks"] > 18 * 2
    loaded = PolicyIndex.load(tmp_path / "index", hashing_encoder)
    assert [c["clause_id"] for c in loaded.clauses][:3] == ["baoji-2020-49:0", "baoji-2020-49:1", ARTICLE_1]
    assert loaded.faiss.ntotal == meta["n_chunks"] and loaded.vectors.shape == (meta["n_chunks"], 64)
    assert is_current(loaded.meta, store)


def test_loading_with_another_encoder_is_refused(store, tmp_path, hashing_encoder):
    build_index(store, tmp_path / "index", hashing_encoder)
    other = HashingEncoder(name="other-model", dim=64)
    with pytest.raises(IndexEncoderMismatch, match="test-hashing"):
        PolicyIndex.load(tmp_path / "index", other)
    with pytest.raises(IndexEncoderMismatch):
        load_searcher(store, tmp_path / "index", encoder=other)
    with pytest.raises(IndexEncoderMismatch):
        PolicyIndex.load(tmp_path / "index", HashingEncoder(name="test-hashing", dim=32))
    rebuilt = load_searcher(store, tmp_path / "index", encoder=other, rebuild_on_mismatch=True)
    assert rebuilt.index.meta["encoder"] == "other-model"
    assert read_meta(tmp_path / "index")["encoder"] == "other-model"


def test_stale_index_is_updated_reencoding_only_changed_chunks(store, tmp_path):
    encoder = HashingEncoder()
    build_index(store, tmp_path / "index", encoder)
    first_pass = encoder.passages_encoded
    clause = store.clause(ARTICLE_1)
    store.update_clause(ARTICLE_1, clause.text.replace("20万元", "30万元"), editor="staff")
    assert not is_current(read_meta(tmp_path / "index"), store)
    searcher = load_searcher(store, tmp_path / "index", encoder=encoder)
    assert searcher.index.meta["revision"] == store.revision()
    assert 0 < encoder.passages_encoded - first_pass < 5  # the changed sentence and its article chunk
    assert any("30万元" in s for s in searcher.index.clauses[2]["sentences"])


def test_staff_edits_take_effect_without_restart(store, tmp_path):
    encoder = HashingEncoder()
    searcher = load_searcher(store, tmp_path / "index", encoder=encoder)
    assert searcher.refresh() is False
    store.retire_clause(ARTICLE_1, editor="staff", reason="test")
    assert searcher.refresh() is True
    assert ARTICLE_1 not in {h.clause_id for h in searcher.search("创业担保贷款", k=18).hits}
    store.restore_clause(ARTICLE_1, editor="staff")
    searcher.config.auto_refresh_seconds = 0  # search() itself notices the new revision
    assert ARTICLE_1 in {h.clause_id for h in searcher.search("创业担保贷款", k=18).hits}


def test_a_fresh_index_is_loaded_not_rebuilt(store, tmp_path):
    encoder = HashingEncoder()
    load_searcher(store, tmp_path / "index", encoder=encoder)
    built = encoder.passages_encoded
    meta_before = json.loads((tmp_path / "index" / "meta.json").read_text())
    load_searcher(store, tmp_path / "index", encoder=encoder)
    assert encoder.passages_encoded == built
    assert json.loads((tmp_path / "index" / "meta.json").read_text()) == meta_before


def test_sentence_transformer_encoder_builds_a_working_index(store, tmp_path, minilm_dir):
    searcher = load_searcher(store, tmp_path / "index", encoder=f"st:{minilm_dir}")
    result = searcher.search("创业担保贷款最多能贷多少", k=3)
    assert read_meta(tmp_path / "index")["encoder"].startswith("st:model@")
    assert len(result.hits) == 3 and np.isfinite(result.relevance)
