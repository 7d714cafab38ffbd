"""Question views (knowledge/lexicon/clause_questions.yaml, knowledge/question_views.py): the data is
well-formed and written independently of the evaluation sets; the index carries the views of active
clauses only and is rebuilt when they change; ranking uses them; hits and answers never show them."""
from pathlib import Path

import numpy as np
import pytest
import yaml

from knowledge import question_views
from knowledge.index import PolicyIndex, build_index, is_current, load_or_build_index, read_meta
from knowledge.parser import parse_document
from knowledge.ranking import view_bonus
from knowledge.search import Searcher
from knowledge.search_config import SearchConfig
from knowledge.store import DATA_DIR, Store, seed_store
from tests.test_chat_test_set import near_copy
from tests.test_eval_set import _fingerprint

from .conftest import DOC_ID

EVAL_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "eval"
EVAL_SETS = ("questions.yaml", "chat_tuning.yaml", "chat_test.yaml")
ARTICLE_1 = f"{DOC_ID}:2.1"


def _raw_views() -> dict:
    return yaml.safe_load(question_views.VIEWS_FILE.read_text(encoding="utf-8"))


def _eval_messages() -> list[str]:
    """Every question and dialogue turn of the evaluation sets (read only to compare, never shown)."""
    messages = []
    for name in EVAL_SETS:
        data = yaml.safe_load((EVAL_DIR / name).read_text(encoding="utf-8")) or {}
        messages += [item["q"] for item in data.get("questions") or []]
        messages += [turn["q"] for dialogue in data.get("dialogues") or [] for turn in dialogue["turns"]]
    return messages


# ── the data ──────────────────────────────────────────────────────────────────
def test_views_name_real_articles_of_real_documents():
    for doc_id, articles in _raw_views().items():
        path = DATA_DIR / f"{doc_id}.txt"
        assert path.is_file(), doc_id
        known = {c.article for c in parse_document(path.read_text(encoding="utf-8"), doc_id).clauses}
        for article, views in articles.items():
            assert type(article) is int and article in known, (doc_id, article)
            assert isinstance(views, list) and 1 <= len(views) <= 30, (doc_id, article)
            assert all(isinstance(v, str) and v.strip() for v in views), (doc_id, article)
            assert len({_fingerprint(v) for v in views}) == len(views), (doc_id, article)


def test_no_view_nearly_copies_an_evaluation_question():
    """Views are written from the policy text; copying an evaluation question would make its figures
    measure memory instead of generalisation. Only the view is reported, never the question it copies."""
    keys = [_fingerprint(q) for q in _eval_messages()]
    copies = [view for articles in _raw_views().values() for views in articles.values() for view in views
              if any(near_copy(_fingerprint(view), key) for key in keys)]
    assert copies == [], f"reword these views (they nearly copy an evaluation question): {copies}"


# ── the index ─────────────────────────────────────────────────────────────────
@pytest.fixture
def views_file(tmp_path, monkeypatch):
    """A small views file of our own, so the tests do not depend on the shipped wording."""
    path = tmp_path / "clause_questions.yaml"
    monkeypatch.setattr(question_views, "VIEWS_FILE", path)

    def write(views: dict) -> Path:
        path.write_text(yaml.safe_dump(views, allow_unicode=True), encoding="utf-8")
        return path
    write({DOC_ID: {0: ["这个文件是干啥的"], 1: ["想开个小店能贷款不", "小店贷款"], 14: ["谁来落实这个政策"]}})
    return write


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "knowledge.db")
    seed_store(store)
    return store


def test_index_carries_the_views_of_active_clauses_and_persists_them(store, tmp_path, views_file, hashing_encoder):
    index = build_index(store, tmp_path / "index", hashing_encoder)
    by_clause = {(index.clauses[no]["clause_id"], text) for no, text in zip(index.view_clause, index.view_texts)}
    # article 0 is two clauses (the preamble and 一、总体要求): both carry its views
    assert by_clause == {(f"{DOC_ID}:0", "这个文件是干啥的"), (f"{DOC_ID}:1", "这个文件是干啥的"),
                         (ARTICLE_1, "想开个小店能贷款不"), (ARTICLE_1, "小店贷款"),
                         (f"{DOC_ID}:5.14", "谁来落实这个政策")}
    assert index.view_vectors.shape == (5, hashing_encoder.dim) and index.meta["n_views"] == 5
    loaded = PolicyIndex.load(tmp_path / "index", hashing_encoder)
    assert loaded.view_texts == index.view_texts and np.array_equal(loaded.view_clause, index.view_clause)
    assert np.allclose(loaded.view_vectors, index.view_vectors)


def test_views_are_encoded_as_queries(store, views_file, hashing_encoder):
    index = build_index(store, None, hashing_encoder)
    row = index.view_texts.index("小店贷款")
    assert np.allclose(index.view_vectors[row], hashing_encoder.encode_queries(["小店贷款"])[0])


def test_changed_views_make_the_index_stale_and_only_new_views_are_encoded(store, tmp_path, views_file):
    from .conftest import HashingEncoder

    encoder = HashingEncoder()
    build_index(store, tmp_path / "index", encoder)
    assert is_current(read_meta(tmp_path / "index"), store)
    views_file({DOC_ID: {1: ["想开个小店能贷款不", "摆摊的能贷款不"]}})
    assert not is_current(read_meta(tmp_path / "index"), store)
    queries = []
    encoder.encode_queries = lambda texts, encode=encoder.encode_queries: queries.extend(texts) or encode(texts)
    index = load_or_build_index(store, tmp_path / "index", encoder)
    assert index.view_texts == ["想开个小店能贷款不", "摆摊的能贷款不"] and queries == ["摆摊的能贷款不"]
    assert is_current(read_meta(tmp_path / "index"), store)


def test_retired_clause_loses_its_views_and_a_new_document_has_none(store, tmp_path, views_file, hashing_encoder):
    store.retire_clause(ARTICLE_1, editor="staff", reason="test")
    index = build_index(store, None, hashing_encoder)
    assert "小店贷款" not in index.view_texts and len(index.view_texts) == 3
    text = (DATA_DIR / f"{DOC_ID}.txt").read_text(encoding="utf-8").replace("宝政办发〔2020〕49号", "宝政办发〔2021〕7号")
    store.add_document(parse_document(text, "baoji-2021-7"))
    index = build_index(store, None, hashing_encoder)
    assert {index.clauses[no]["doc_id"] for no in index.view_clause} == {DOC_ID}


# ── ranking and answers ───────────────────────────────────────────────────────
def test_view_bonus_is_relative_to_the_typical_clause_and_zero_without_views():
    bonus = view_bonus(np.array([0.9, np.nan, 0.7, 0.8], dtype=np.float32))
    assert np.allclose(bonus, [0.1, 0.0, -0.1, 0.0])
    assert np.array_equal(view_bonus(np.full(3, np.nan, dtype=np.float32)), np.zeros(3))


def _searcher(store, encoder, view_weight: float, view_bm25_weight: float = 0.0) -> Searcher:
    index = build_index(store, None, encoder)
    config = SearchConfig(view_weight=view_weight, view_bm25_weight=view_bm25_weight, auto_refresh_seconds=-1)
    return Searcher(store, None, encoder, index, config)


@pytest.mark.parametrize("view_weight, view_bm25_weight", [(5.0, 0.0), (0.0, 20.0)])  # dense views, BM25 views
def test_ranking_follows_the_views_with_their_weight_and_ignores_them_at_zero(
        store, views_file, hashing_encoder, view_weight, view_bm25_weight):
    question = "谁来落实这个政策"  # only article 14's (made-up) view says it this way
    views_file({DOC_ID: {14: [question], 1: ["想开个小店能贷款不"]}})
    without = _searcher(store, hashing_encoder, 0.0).search(question, k=3)
    with_views = _searcher(store, hashing_encoder, view_weight, view_bm25_weight).search(question, k=3)
    assert without.hits[0].article != 14 and with_views.hits[0].article == 14
    # the answerability evidence is the policy text's own: the views do not raise the top hit's cosine
    assert with_views.hits[0].dense < 0.99


def test_views_never_appear_in_hits_or_answers(store, views_file, hashing_encoder):
    import dataclasses
    import datetime as dt

    from knowledge.answer import compose_answer

    marker = "额这个小店能不能贷上款嘛"
    views_file({DOC_ID: {1: [marker]}})
    searcher = _searcher(store, hashing_encoder, 5.0, 5.0)
    result = searcher.search(marker, k=5)
    assert result.hits[0].clause_id == ARTICLE_1
    assert all(marker not in str(dataclasses.asdict(hit)) for hit in result.hits)
    answer = compose_answer(marker, searcher, today=dt.date(2026, 12, 1))
    assert marker not in " ".join(answer.parts) and marker not in str(answer.citations)
