"""The held-out chat test set (knowledge/eval/chat_test.yaml) is well-formed, large enough and
independent of the tuning set (knowledge/eval/questions.yaml). Schema only: no scores."""
import collections
import difflib
from pathlib import Path

import pytest
import yaml

from tests.test_eval_set import _fingerprint

EVAL_DIR = Path(__file__).resolve().parents[1] / "knowledge" / "eval"
TEST_PATH, TUNING_PATH = EVAL_DIR / "chat_test.yaml", EVAL_DIR / "questions.yaml"

IN_SCOPE_KINDS = {"situation", "dialect", "typo", "traditional", "english", "agent", "two_part",
                  "derived", "personal", "expired"}
OUT_OF_SCOPE_KINDS = {"near_miss", "oos"}
OTHER_KINDS = {"greeting": "greeting", "clarify": "clarify"}  # kind → the only allowed expect
DIALOGUE_KINDS = {"followup", "personal", "correction", "topic_switch", "repeat", "greeting", "clarify"}
EXPECTS = {"answer", "refuse", "greeting", "clarify"}
QUESTION_KEYS = {"q", "articles", "kind", "facts", "expect", "note"}
TURN_KEYS = QUESTION_KEYS - {"kind"}
FIRST_ARTICLE, LAST_ARTICLE = 0, 16
MAX_SIMILARITY_TO_TUNING = 0.85
MIN_PER_KIND = {"situation": 10, "dialect": 8, "typo": 5, "traditional": 5, "english": 5, "agent": 5,
                "two_part": 3, "personal": 3, "expired": 3, "near_miss": 8, "oos": 8}


@pytest.fixture(scope="module")
def data():
    loaded = yaml.safe_load(TEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict) and set(loaded) <= {"shared", "questions", "dialogues"}
    assert isinstance(loaded.get("questions"), list) and isinstance(loaded.get("dialogues"), list)
    return loaded


@pytest.fixture(scope="module")
def questions(data):
    return data["questions"]


@pytest.fixture(scope="module")
def dialogues(data):
    return data["dialogues"]


def expect_of(item):
    return item.get("expect") or ("answer" if item["articles"] else "refuse")


def check_expectations(item):
    """articles, expect and facts agree with each other (shared by questions and dialogue turns)."""
    assert isinstance(item["q"], str) and item["q"].strip(), item
    articles = item["articles"]
    assert isinstance(articles, list) and all(type(a) is int for a in articles), item
    assert all(FIRST_ARTICLE <= a <= LAST_ARTICLE for a in articles) and len(set(articles)) == len(articles), item
    expect = expect_of(item)
    assert expect in EXPECTS, item
    assert bool(articles) == (expect == "answer"), item
    facts = item.get("facts", [])
    assert isinstance(facts, list), item
    for fact in facts:
        assert isinstance(fact, list) and fact, item
        assert all(isinstance(alt, str) and alt.strip() for alt in fact), item
    if expect in ("answer", "clarify"):
        assert facts, f"a reply that must answer or ask needs expected facts: {item}"
    else:
        assert not facts, item
    if "note" in item:
        assert isinstance(item["note"], str) and item["note"].strip(), item


def test_every_question_follows_the_schema(questions):
    for item in questions:
        assert isinstance(item, dict) and set(item) <= QUESTION_KEYS and {"q", "articles", "kind"} <= set(item), item
        check_expectations(item)


def test_kind_matches_expectation(questions):
    for item in questions:
        kind, expect = item["kind"], expect_of(item)
        assert kind in IN_SCOPE_KINDS | OUT_OF_SCOPE_KINDS | set(OTHER_KINDS), item
        if kind in IN_SCOPE_KINDS:
            assert expect == "answer", item
        elif kind in OUT_OF_SCOPE_KINDS:
            assert expect == "refuse", item
        else:
            assert expect == OTHER_KINDS[kind], item


def test_every_dialogue_follows_the_schema(dialogues):
    ids = [dialogue.get("id") for dialogue in dialogues]
    assert len(ids) == len(set(ids)) and all(isinstance(i, str) and i for i in ids)
    for dialogue in dialogues:
        assert set(dialogue) == {"id", "kind", "turns"}, dialogue
        assert dialogue["kind"] in DIALOGUE_KINDS, dialogue
        assert 3 <= len(dialogue["turns"]) <= 5, dialogue["id"]
        for turn in dialogue["turns"]:
            assert isinstance(turn, dict) and set(turn) <= TURN_KEYS and {"q", "articles"} <= set(turn), turn
            check_expectations(turn)


def test_set_is_large_enough(questions, dialogues):
    in_scope = [item for item in questions if item["kind"] in IN_SCOPE_KINDS]
    out_of_scope = [item for item in questions if item["kind"] in OUT_OF_SCOPE_KINDS]
    assert len(questions) >= 80 and len(in_scope) >= 60 and len(out_of_scope) >= 20
    assert len(dialogues) >= 20
    counts = collections.Counter(item["kind"] for item in questions)
    for kind, minimum in MIN_PER_KIND.items():
        assert counts[kind] >= minimum, (kind, counts[kind])


def test_dialogues_cover_the_conversation_skills(dialogues):
    kinds = collections.Counter(dialogue["kind"] for dialogue in dialogues)
    assert set(kinds) == DIALOGUE_KINDS, kinds
    texts = [[turn["q"] for turn in dialogue["turns"]] for dialogue in dialogues]
    assert any(len(set(turns)) < len(turns) for turns in texts), "the same question asked twice"
    assert any(turn.startswith("不对") for turns in texts for turn in turns), "a correction"
    expects = {expect_of(turn) for dialogue in dialogues for turn in dialogue["turns"]}
    assert expects == EXPECTS, expects
    assert any(turn["q"] == "有什么补贴？" and expect_of(turn) == "clarify"
               for dialogue in dialogues for turn in dialogue["turns"])


def test_every_article_with_a_subsidy_or_fee_is_asked(questions):
    best = collections.Counter(item["articles"][0] for item in questions if item["articles"])
    for article in (1, 2, 3, 7, 8, 11, 12, 13):
        assert best[article] >= 3, (article, best[article])


def test_no_duplicate_single_questions(questions):
    keys = collections.Counter(_fingerprint(item["q"]) for item in questions)
    assert [key for key, count in keys.items() if count > 1] == []


# ── the tuning set of the chat (knowledge/eval/chat_tuning.yaml): single questions with expected facts and
#    dialogues; answer composition, lexicons and the conversation context are fitted on it ──
TUNING_CHAT_PATH = EVAL_DIR / "chat_tuning.yaml"
MAX_BIGRAM_JACCARD = 0.6  # a tuning message sharing this much of a test message's character pairs is a near-copy
MIN_TUNING_PER_KIND = {"situation": 30, "dialect": 30, "english": 15, "agent": 15, "derived": 10, "expired": 8,
                       "typo": 3, "traditional": 3, "two_part": 3}


@pytest.fixture(scope="module")
def tuning_chat():
    loaded = yaml.safe_load(TUNING_CHAT_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict) and set(loaded) <= {"shared", "questions", "dialogues"}
    return loaded


@pytest.fixture(scope="module")
def tuning_dialogues(tuning_chat):
    return tuning_chat["dialogues"]


@pytest.fixture(scope="module")
def tuning_questions(tuning_chat):
    return tuning_chat.get("questions") or []


def test_tuning_dialogues_follow_the_schema_and_cover_the_skills(tuning_dialogues):
    test_every_dialogue_follows_the_schema(tuning_dialogues)
    assert len(tuning_dialogues) >= 20
    assert set(collections.Counter(dialogue["kind"] for dialogue in tuning_dialogues)) == DIALOGUE_KINDS
    turns = [turn for dialogue in tuning_dialogues for turn in dialogue["turns"]]
    assert {expect_of(turn) for turn in turns} == EXPECTS


def test_tuning_questions_follow_the_schema_and_cover_the_kinds(tuning_questions):
    test_every_question_follows_the_schema(tuning_questions)
    test_kind_matches_expectation(tuning_questions)
    test_no_duplicate_single_questions(tuning_questions)
    counts = collections.Counter(item["kind"] for item in tuning_questions)
    for kind, minimum in MIN_TUNING_PER_KIND.items():
        assert counts[kind] >= minimum, (kind, counts[kind])


def _bigrams(key: str) -> set[str]:
    return {key[i:i + 2] for i in range(len(key) - 1)} or {key}


def near_copy(key: str, other: str) -> bool:
    """Two fingerprinted messages are (nearly) the same: most characters in the same order, or most
    character pairs shared ("额娃毕业咧寻不下工作" and "娃毕业咧还寻不下工作咋办")."""
    if key == other:
        return True
    mine, theirs = _bigrams(key), _bigrams(other)
    if len(mine & theirs) / len(mine | theirs) >= MAX_BIGRAM_JACCARD:
        return True
    matcher = difflib.SequenceMatcher(None, other, key)
    return matcher.real_quick_ratio() >= MAX_SIMILARITY_TO_TUNING and matcher.ratio() >= MAX_SIMILARITY_TO_TUNING


def test_near_copy_catches_reworded_and_reordered_messages():
    assert near_copy(_fingerprint("创业担保贷款最多贷多少？"), _fingerprint("创业担保贷款最多能贷多少"))
    assert near_copy(_fingerprint("额娃毕业咧寻不下工作"), _fingerprint("娃毕业咧还寻不下工作"))
    assert near_copy(_fingerprint("社保补贴 适用对象"), _fingerprint("适用对象 社保补贴"))
    assert not near_copy(_fingerprint("创业担保贷款最多贷多少"), _fingerprint("秦青优惠贷年龄上限"))


def tuning_messages(tuning_questions, tuning_dialogues) -> list[str]:
    questions_yaml = yaml.safe_load(TUNING_PATH.read_text(encoding="utf-8"))["questions"]
    return [item["q"] for item in questions_yaml] + [item["q"] for item in tuning_questions] + \
        [turn["q"] for d in tuning_dialogues for turn in d["turns"]]


def test_tuning_and_test_sets_do_not_overlap(tuning_questions, tuning_dialogues, dialogues, questions):
    """No tuning message (questions.yaml, chat_tuning.yaml questions and dialogue turns) copies or nearly copies
    a test message, and no dialogue id is shared. The failure names the tuning message only, so that fixing it
    does not mean reading the held-out wording."""
    assert not {d["id"] for d in tuning_dialogues} & {d["id"] for d in dialogues}
    test_keys = {_fingerprint(turn["q"]) for d in dialogues for turn in d["turns"]} | \
        {_fingerprint(item["q"]) for item in questions}
    copies = [text for text in dict.fromkeys(tuning_messages(tuning_questions, tuning_dialogues))
              if any(near_copy(_fingerprint(text), other) for other in test_keys)]
    assert copies == [], f"tuning messages that copy a test message (reword or drop them): {copies}"
