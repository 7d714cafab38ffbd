import dataclasses

import pytest

from knowledge.parser import parse_document
from knowledge.store import ClauseNotFound, Store, seed_store

ARTICLE_1 = "baoji-2020-49:2.1"


@pytest.fixture
def store(tmp_path, document):
    store = Store(tmp_path / "knowledge.db")
    store.add_document(document)
    return store


def test_loading_the_same_text_twice_is_idempotent(store, document, policy_text):
    revision, content = store.revision(), store.content_hash()
    assert store.add_document(parse_document(policy_text, "baoji-2020-49")) is False
    assert store.revision() == revision and store.content_hash() == content
    assert len(store.clauses()) == 18
    assert all(len(store.history(c.clause_id)) == 1 for c in store.clauses())


def test_documents_and_clauses_round_trip(store):
    (doc,) = store.documents()
    assert doc["number"] == "宝政办发〔2020〕49号" and doc["date"] == "2020-12-15" and doc["clause_count"] == 18
    clause = store.clause(ARTICLE_1)
    assert clause.article == 1 and clause.title == "优化贷款税收等政策支持个体经营发展"
    assert clause.departments[:2] == ["市财政局", "市人社局"]
    assert clause.amounts[0].value == 200000 and clause.time_limits[0].until.year == 2020
    assert clause.active and clause.version == 1
    assert store.clause("baoji-2020-49:9.9") is None


def test_edit_creates_a_version_and_reparses_derived_fields(store):
    before = store.revision()
    old = store.clause(ARTICLE_1)
    new_text = old.text.replace("最高额度20万元", "最高额度30万元").replace("团市委等", "团市委、市妇联等")
    edited = store.update_clause(ARTICLE_1, new_text, editor="staff:li", note="2024 调整额度")
    assert store.revision() == before + 1
    assert edited.version == 2 and edited.title == old.title
    assert 300000 in [a.value for a in edited.amounts] and 200000 not in [a.value for a in edited.amounts]
    assert "市妇联" in edited.departments
    history = store.history(ARTICLE_1)
    assert [(v.version, v.action, v.editor) for v in history] == [(1, "create", "loader"), (2, "update", "staff:li")]
    assert history[1].note == "2024 调整额度" and history[0].text == old.text and history[1].created_at


def test_retire_and_restore(store):
    store.retire_clause(ARTICLE_1, editor="staff:wang", reason="superseded")
    assert ARTICLE_1 not in {c.clause_id for c in store.clauses()}
    assert ARTICLE_1 in {c.clause_id for c in store.clauses(active_only=False)}
    assert store.clause(ARTICLE_1).active is False
    restored = store.restore_clause(ARTICLE_1, editor="staff:wang")
    assert restored.active and restored.version == 3
    assert [v.action for v in store.history(ARTICLE_1)] == ["create", "retire", "restore"]


def test_revision_is_monotonic_and_content_hash_tracks_changes(store):
    revisions, hashes = [store.revision()], [store.content_hash()]
    store.retire_clause(ARTICLE_1, editor="a")
    revisions.append(store.revision())
    hashes.append(store.content_hash())
    store.restore_clause(ARTICLE_1, editor="a")
    revisions.append(store.revision())
    assert revisions == sorted(revisions) and len(set(revisions)) == 3
    assert hashes[0] != hashes[1]


def test_unknown_clause_edits_raise(store):
    with pytest.raises(ClauseNotFound):
        store.update_clause("baoji-2020-49:9.9", "x", editor="a")
    with pytest.raises(ClauseNotFound):
        store.retire_clause("baoji-2020-49:9.9", editor="a")


def test_reloading_a_changed_source_versions_and_retires(store, document):
    changed = dataclasses.replace(document, clauses=[
        dataclasses.replace(c, text=c.text + "新增一句。") if c.article == 2 else c
        for c in document.clauses if c.article != 16])
    assert store.add_document(changed, editor="loader") is True
    assert store.clause("baoji-2020-49:2.2").version == 2
    assert store.clause("baoji-2020-49:5.16").active is False
    assert store.clause(ARTICLE_1).version == 1


def test_seed_store_only_adds_missing_documents(tmp_path):
    store = Store(tmp_path / "seeded.db")
    assert seed_store(store) == ["baoji-2020-49"]
    revision = store.revision()
    assert seed_store(store) == []
    assert store.revision() == revision


def test_feedback_is_kept(store):
    feedback_id = store.add_feedback("negative", question="能贷多少", clause_ids=[ARTICLE_1], comment="没说清楚")
    (item,) = store.feedback()
    assert item["id"] == feedback_id and item["clause_ids"] == [ARTICLE_1] and item["rating"] == "negative"
