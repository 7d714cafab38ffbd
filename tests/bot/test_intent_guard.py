"""bot.intent_guard: intents a message cannot mean become nlu_fallback (the answer decision answers it)."""
import pytest

from bot.intent_guard import is_misfiled, screening_cues
from knowledge.textnorm import normalize


@pytest.mark.parametrize("intent, text", [
    ("affirm", "好的"), ("feedback_negative", "没帮助"), ("check_entitlements", "帮我算算"),
    ("human_handoff", "转人工"), ("human_handoff", "talk to a human"), ("affirm", "yes"), ("thanks", "thank you"),
    ("ask_loan", "how much can i borrow for a startup guarantee loan?"),
])
def test_short_control_phrases_and_policy_intents_are_kept(intent, text):
    assert not is_misfiled(intent, text)


@pytest.mark.parametrize("intent, text", [
    ("feedback_positive", "企业用工多了能不能共享给别的企业"),
    ("human_handoff", "what is the on-the-job training subsidy per person per month?"),
    ("check_entitlements", "how long can i receive unemployment insurance benefits?"),
])
def test_a_question_filed_under_a_control_intent_or_an_english_handoff_is_misfiled(intent, text):
    assert is_misfiled(intent, text)


def test_a_long_chinese_handoff_request_is_still_a_handoff():
    assert not is_misfiled("human_handoff", "你们这个回答不对，我要投诉，给我找个人工客服")


CUES = ("人工", "客服", "工作人员", "human")


@pytest.mark.parametrize("text", ["转人工", "找个客服", "talk to a human"])
def test_a_handoff_that_names_a_person_is_kept(text):
    assert not is_misfiled("human_handoff", text, handoff_cues=CUES)


def test_a_handoff_that_names_no_person_is_a_question():
    assert is_misfiled("human_handoff", "用不用找人担保", handoff_cues=CUES)
    assert not is_misfiled("human_handoff", "用不用找人担保")  # without configured cues, nothing is judged


@pytest.mark.parametrize("text", ["帮我算算", "帮我算算能拿多少补贴", "一键测算", "幫我算算", "政策匹配"])
def test_a_screening_request_starts_the_screening(text):
    assert not is_misfiled("check_entitlements", normalize(text).lower(), screening=screening_cues())


@pytest.mark.parametrize("text", ["村里修路，我能去干活挣钱不", "我能享受啥政策", "我能领哪些补贴"])
def test_a_question_filed_as_a_screening_request_goes_to_the_answer_decision(text):
    # the form starts only when asked for; a generic question is clarified, with the screening as a button
    assert is_misfiled("check_entitlements", normalize(text).lower(), screening=screening_cues())
    assert not is_misfiled("check_entitlements", normalize(text).lower())  # without cues, nothing is judged


def test_the_screening_cues_are_the_dialogue_lexicons(tmp_path):
    lexicon = tmp_path / "dialogue.yaml"
    lexicon.write_text("screening_request: [帮我 算算, 測一測]\n", encoding="utf-8")
    assert screening_cues(str(lexicon)) == ("帮我算算", "测一测")


def test_a_long_message_that_asks_for_the_screening_starts_it():
    text = normalize("我是退役军人，30岁，想开个小吃店，帮我算算能享受哪些").lower()
    assert not is_misfiled("check_entitlements", text, screening=screening_cues())
    assert is_misfiled("check_entitlements", text)  # without cues, the length rule still judges it


@pytest.mark.parametrize("intent, text", [
    ("feedback_positive", "政府能给啥帮扶"), ("feedback_negative", "没用的话找哪个部门"), ("thanks", "谢谢，社保补贴呢？"),
    ("goodbye", "再问个，去哪办"), ("goodbye", "那我要是离校3年了呢"),
])
def test_a_short_question_is_no_feedback_thanks_or_goodbye(intent, text):
    assert is_misfiled(intent, text)


@pytest.mark.parametrize("intent, text", [("feedback_positive", "有帮助"), ("feedback_negative", "看不懂"),
                                          ("thanks", "谢谢"), ("goodbye", "再见"), ("deny", "不用了吗")])
def test_feedback_and_closings_without_a_question_are_kept(intent, text):
    assert not is_misfiled(intent, text)
