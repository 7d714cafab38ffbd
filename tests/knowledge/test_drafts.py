"""Drafts → publish → rollback over the knowledge store, with parameters tied to clause quotes."""
import datetime as dt

import pytest

from knowledge.drafts import DraftError, Drafts, PublishRefused, StaleEdit, text_diff
from knowledge.parameters_store import (PublishedEntitlementEngine, export_yaml, published_quote_problems,
                                        seed_parameters)
from knowledge.store import Store

ARTICLE_1 = "baoji-2020-49:2.1"
STARTUP = "startup_subsidy.amount"
REQUEST = {"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"]}


@pytest.fixture
def store(tmp_path, document):
    store = Store(tmp_path / "knowledge.db")
    store.add_document(document)
    seed_parameters(store)
    return store


@pytest.fixture
def drafts(store):
    return Drafts(store)


@pytest.fixture
def engine(store):
    return PublishedEntitlementEngine(store, follow_seconds=0)


def startup_amount(engine, as_of="2026-12-01"):
    result = engine.evaluate({**REQUEST, "as_of": as_of})
    return next(e for e in result["entitlements"] if e["id"] == "startup_subsidy")["amount"]


def edit_5000_to_6000(drafts, store, draft_id, account="alice"):
    clause = store.clause(ARTICLE_1)
    return drafts.edit_clause(draft_id, ARTICLE_1, account, clause.version,
                              text=clause.text.replace("5000元", "6000元"))


def test_seeded_parameters_quote_their_clauses(store):
    assert published_quote_problems(store) == []


def test_clause_edit_shows_the_parameter_it_breaks_and_publish_is_refused(drafts, store):
    draft = drafts.create("alice", "创业补贴提高到6000元")
    edit_5000_to_6000(drafts, store, draft["id"])
    (change,) = drafts.diff(draft["id"])
    assert ["delete", "5"] in change["text"] and ["insert", "6"] in change["text"]
    assert {"name": STARTUP, "quote_ok": False} in change["parameters"]
    problems = drafts.problems(draft["id"])
    broken = next(p for p in problems if p.get("parameter") == STARTUP)
    assert "6000" in broken["suggested_quote"]
    with pytest.raises(PublishRefused) as refused:
        drafts.publish(draft["id"], "alice")
    assert STARTUP in {p.get("parameter") for p in refused.value.problems}
    assert "5000" in store.clause(ARTICLE_1).text  # nothing was applied


def test_publish_changes_clause_and_calculator_together_and_rollback_restores_both(drafts, store, engine):
    first_release = drafts.current_release()["id"]
    draft = drafts.create("alice", "6000")
    edit_5000_to_6000(drafts, store, draft["id"])
    applied = drafts.apply_suggestions(draft["id"], "alice")
    assert {p.get("parameter") or p.get("rule") for p in applied} == {STARTUP, "startup_subsidy"}
    (value_problem,) = drafts.problems(draft["id"])  # the quote now says 6000, the value is still 5000
    assert value_problem["parameter"] == STARTUP and "5000" in value_problem["reason"]
    version = next(c for c in drafts.get(draft["id"])["changes"] if c["target"] == STARTUP)["version"]
    drafts.set_parameter(draft["id"], STARTUP, "alice", version, {"value": 6000})
    assert drafts.problems(draft["id"]) == []
    revision = store.revision()
    release = drafts.publish(draft["id"], "alice", "创业补贴 6000")
    assert store.revision() == revision + 1 and release["revision"] == revision + 1
    assert "6000元" in store.clause(ARTICLE_1).text
    assert startup_amount(engine) == 6000
    assert published_quote_problems(store) == []

    drafts.rollback(first_release, "bob")
    assert "5000元" in store.clause(ARTICLE_1).text
    assert startup_amount(engine) == 5000
    assert [r["author"] for r in drafts.releases()][:2] == ["bob", "alice"]
    actions = [(row["account"], row["action"]) for row in drafts.audit_log()["items"]]
    assert ("alice", "publish") in actions and ("bob", "publish") in actions


def test_a_dated_value_keeps_the_old_value_for_earlier_dates(drafts, store, engine):
    draft = drafts.create("alice")
    drafts.set_parameter(draft["id"], STARTUP, "alice", 1, {"value": 6000, "from": "2027-01-01"})
    problem = drafts.problems(draft["id"])
    assert problem == [] or all(p.get("parameter") != STARTUP for p in problem)
    drafts.publish(draft["id"], "alice")
    assert startup_amount(engine, "2026-12-31") == 5000
    assert startup_amount(engine, "2027-01-01") == 6000


def test_a_stale_edit_is_refused_never_overwritten(drafts, store):
    draft = drafts.create("alice")
    version = store.clause(ARTICLE_1).version
    drafts.edit_clause(draft["id"], ARTICLE_1, "alice", version, text=store.clause(ARTICLE_1).text + "甲")
    with pytest.raises(StaleEdit) as stale:
        drafts.edit_clause(draft["id"], ARTICLE_1, "bob", version, text=store.clause(ARTICLE_1).text + "乙")
    assert stale.value.status == 409 and stale.value.conflicts[0]["current"] == version + 1
    (change,) = drafts.get(draft["id"])["changes"]
    assert change["payload"]["text"].endswith("甲")


def test_publishing_a_draft_based_on_an_older_version_is_409(drafts, store):
    older, newer = drafts.create("alice"), drafts.create("bob")
    version = store.clause(ARTICLE_1).version
    text = store.clause(ARTICLE_1).text
    drafts.edit_clause(older["id"], ARTICLE_1, "alice", version, text=text.replace("创业", "创 业", 1))
    drafts.edit_clause(newer["id"], ARTICLE_1, "bob", version, text=text + "（修订）")
    drafts.publish(newer["id"], "bob")
    with pytest.raises(StaleEdit):
        drafts.publish(older["id"], "alice")
    assert store.clause(ARTICLE_1).text.endswith("（修订）")


def test_document_added_and_retired_through_drafts(drafts, store, policy_text):
    other = policy_text.replace("宝政办发〔2020〕49号", "宝政办发〔2021〕7号")
    draft = drafts.create("alice")
    drafts.add_document(draft["id"], "baoji-2021-7", other, "alice")
    drafts.publish(draft["id"], "alice")
    assert store.document("baoji-2021-7")["clause_count"] == 18
    retire = drafts.create("alice")
    drafts.set_document_active(retire["id"], "baoji-2021-7", False, "alice")
    (change,) = drafts.diff(retire["id"])
    assert change["summary"].startswith("废止文件")
    drafts.publish(retire["id"], "alice")
    assert store.document("baoji-2021-7")["active"] is False
    assert store.clauses(doc_id="baoji-2021-7") == []
    assert store.document("baoji-2020-49")["clause_count"] == 18


def test_bad_changes_are_refused_with_a_reason(drafts, store):
    draft = drafts.create("alice")
    with pytest.raises(DraftError, match="未知字段"):
        drafts.set_parameter(draft["id"], STARTUP, "alice", 1, {"colour": "red"})
    with pytest.raises(DraftError, match="无效"):
        drafts.set_parameter(draft["id"], STARTUP, "alice", 1, {"value": "很多"})
    with pytest.raises(DraftError) as missing:
        drafts.edit_clause(draft["id"], "baoji-2020-49:9.9", "alice", 1, text="x")
    assert missing.value.status == 404
    drafts.discard(draft["id"], "alice")
    with pytest.raises(DraftError) as closed:
        drafts.edit_clause(draft["id"], ARTICLE_1, "alice", 1, text="x。")
    assert closed.value.status == 409


def test_rules_edit_is_validated_and_diffed(drafts, store):
    from knowledge.parameters_store import rules_text

    draft = drafts.create("alice")
    with pytest.raises(DraftError, match="规则无效"):
        drafts.set_rules(draft["id"], "document: 1\n", "alice", 1)
    text = rules_text(store).replace("title: 一次性创业补贴", "title: 一次性创业补贴（农民工等）", 1)
    drafts.set_rules(draft["id"], text, "alice", 1)
    (change,) = drafts.diff(draft["id"])
    assert any(line.startswith("+") and "农民工等" in line for line in change["lines"])


def test_export_writes_the_git_format(store, tmp_path):
    from knowledge.entitlement_parameters import load_parameters
    from knowledge.entitlement_rules import load_rules

    written = export_yaml(store, tmp_path / "export")
    assert (tmp_path / "export" / "parameters" / "startup_subsidy.yaml") in written
    parameters = load_parameters(tmp_path / "export" / "parameters")
    assert parameters[STARTUP].value == 5000
    load_rules(tmp_path / "export" / "rules.yaml", parameters)


def test_text_diff_runs_rebuild_both_texts():
    runs = text_diff("每人5000元补贴", "每人6000元一次性补贴")
    assert "".join(t for op, t in runs if op != "insert") == "每人5000元补贴"
    assert "".join(t for op, t in runs if op != "delete") == "每人6000元一次性补贴"


def test_engine_follows_a_publish_from_another_process(store, drafts, tmp_path):
    other_process = PublishedEntitlementEngine(Store(store.path), follow_seconds=0)
    draft = drafts.create("alice")
    drafts.set_parameter(draft["id"], STARTUP, "alice", 1, {"value": 6000, "from": dt.date.today().isoformat()})
    drafts.publish(draft["id"], "alice")
    assert startup_amount(other_process, dt.date.today().isoformat()) == 6000


def test_impact_preview_lists_changed_answers_and_entitlements(drafts, store, hashing_encoder):
    from knowledge.impact import ImpactPreview, load_cases
    from knowledge.index import build_index

    live = build_index(store, None, hashing_encoder)
    questions = [{"q": "企业失业人员创业补贴每人多少钱", "kind": "colloquial"},
                 {"q": "家政服务业有什么支持", "kind": "colloquial"}]
    preview = ImpactPreview(drafts, hashing_encoder, questions=questions, cases=load_cases())
    draft = drafts.create("alice")
    edit_5000_to_6000(drafts, store, draft["id"])
    drafts.apply_suggestions(draft["id"], "alice")
    drafts.set_parameter(draft["id"], STARTUP, "alice", 2, {"value": 6000})
    result = preview.run(draft["id"], live, today=dt.date(2026, 12, 1))
    (changed,) = result["changed_answers"]
    assert changed["q"] == questions[0]["q"]
    assert "5000" in changed["before"]["text"] and "6000" in changed["after"]["text"]
    amounts = [(c["entitlement"], f["before"], f["after"]) for c in result["entitlements"]["changed"]
               for f in c["fields"] if f["field"] == "amount"]
    assert ("startup_subsidy", 5000, 6000) in amounts
    assert result["unanswered"] == []


def test_impact_preview_lists_questions_that_become_unanswered(drafts, store, hashing_encoder):
    from knowledge.impact import ImpactPreview
    from knowledge.index import build_index

    live = build_index(store, None, hashing_encoder)
    question = "企业失业人员创业补贴每人多少钱"
    preview = ImpactPreview(drafts, hashing_encoder, questions=[{"q": question, "kind": "x"}], cases=[])
    before = preview.run(drafts.create("bob")["id"], live)
    assert before["changed_answers"] == [] and before["unanswered"] == []
    draft = drafts.create("alice")
    drafts.set_document_active(draft["id"], "baoji-2020-49", False, "alice")
    result = preview.run(draft["id"], live)
    assert [row["q"] for row in result["unanswered"]] == [question]


def test_rollback_retires_a_document_added_since_and_restores_retired_clauses(drafts, store, policy_text):
    first = drafts.current_release()["id"]
    retire = drafts.create("alice")
    drafts.edit_clause(retire["id"], "baoji-2020-49:3.8", "alice", store.clause("baoji-2020-49:3.8").version,
                       active=False)
    drafts.publish(retire["id"], "alice")
    add = drafts.create("alice")
    drafts.add_document(add["id"], "baoji-2021-7", policy_text.replace("宝政办发〔2020〕49号", "宝政办发〔2021〕7号"),
                        "alice")
    drafts.publish(add["id"], "alice")
    assert store.document("baoji-2021-7")["active"] and not store.clause("baoji-2020-49:3.8").active

    drafts.rollback(first, "bob")
    assert store.document("baoji-2021-7")["active"] is False and store.clauses(doc_id="baoji-2021-7") == []
    assert store.clause("baoji-2020-49:3.8").active
    assert len(store.clauses(doc_id="baoji-2020-49")) == 18


def test_review_step_needs_a_second_staff_member_and_a_fresh_approval(store):
    drafts = Drafts(store, review_required=True)
    draft = drafts.create("alice")
    clause = store.clause("baoji-2020-49:4.9")
    drafts.edit_clause(draft["id"], clause.clause_id, "alice", clause.version, text=clause.text + "（修订）")
    with pytest.raises(DraftError, match="审核"):
        drafts.publish(draft["id"], "alice")
    with pytest.raises(DraftError, match="另一位"):
        drafts.approve(draft["id"], "alice")
    drafts.approve(draft["id"], "bob")
    drafts.edit_clause(draft["id"], clause.clause_id, "alice", clause.version + 1, text=clause.text + "（再修订）")
    with pytest.raises(DraftError, match="审核"):  # a change after the approval withdraws it
        drafts.publish(draft["id"], "alice")
    drafts.approve(draft["id"], "bob")
    drafts.publish(draft["id"], "alice")
    assert store.clause(clause.clause_id).text.endswith("（再修订）")


def test_a_staff_synonym_publishes_with_its_index_and_rolls_back(drafts, store, hashing_encoder):
    from knowledge.index import build_index

    first = drafts.current_release()["id"]
    before = build_index(store, None, hashing_encoder)
    draft = drafts.create("alice", "练摊")
    change = drafts.set_lexicon(draft["id"], "synonym", " 练摊 ", "临时摊点  摊位", "alice", None)
    assert change["target"] == "synonym:练摊" and change["payload"]["entry"]["terms"] == ["临时摊点", "摊位"]
    drafts.set_lexicon(draft["id"], "term", "摊位登记", [], "alice", None)
    with pytest.raises(StaleEdit):
        drafts.set_lexicon(draft["id"], "synonym", "练摊", ["摊位"], "bob", 0)
    with pytest.raises(DraftError):
        drafts.set_lexicon(draft["id"], "synonym", "练摊", [], "alice", None)  # a synonym needs policy terms
    (synonym, term) = drafts.diff(draft["id"])
    assert synonym["summary"] == "新增同义词“练摊” → 临时摊点 摊位" and term["fields"][0]["after"] == "摊位登记"
    assert store.lexicon() == {}  # nothing live before the publish

    drafts.publish(draft["id"], "alice")
    assert set(store.lexicon()) == {"synonym:练摊", "term:摊位登记"}
    index = build_index(store, None, hashing_encoder, previous=before)
    assert index.meta["staff_lexicon"] == {"synonyms": {"练摊": ["临时摊点", "摊位"]}, "terms": ["摊位登记"]}
    # the query side: the synonym expands, the term is one more token (in clauses as in questions)
    assert index.lexicon.expand("练摊要办证吗")[0][-2:] == ["临时摊点", "摊位"]  # after 办证 → 办理 许可 (file)
    assert "摊位登记" in index.lexicon.tokenize("夜市摊位登记要钱吗")
    assert index.meta["content_hash"] != before.meta["content_hash"]  # other processes see the change

    drafts.rollback(first, "bob")
    assert store.lexicon() == {}
    restored = build_index(store, None, hashing_encoder, previous=index)
    assert "staff_lexicon" not in restored.meta and not restored.lexicon
    assert restored.meta["content_hash"] == before.meta["content_hash"]


def test_a_staff_phrase_is_not_corrected_as_a_homophone(store, hashing_encoder):
    from knowledge.index import build_index
    from knowledge.staff_lexicon import StaffLexicon

    index = build_index(store, None, hashing_encoder)
    lexicon = StaffLexicon.of({"synonym:灵工": {"kind": "synonym", "key": "灵工", "terms": ["灵活就业"]}})
    assert index.corrector.correct("灵工能贷款吗").startswith("零工")  # what the corrector does by itself
    assert lexicon.outside_words("灵工能贷款吗", index.corrector.correct).startswith("灵工")
    assert lexicon.outside_words("灵工能贷款吗", lambda piece: piece.upper()) == "灵工能贷款吗"
