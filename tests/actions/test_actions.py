import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions import actions
from actions.policy_client import PolicyServiceUnavailable


class FakeClient:
    """Stands in for the policy service; records what the actions sent."""

    def __init__(self, answer=None, fail=False):
        self._answer, self.fail, self.sent = answer, fail, []

    async def answer(self, question, intent=None, confidence=None, context=None, sender=None, channel=None):
        self.sent.append(("answer", question, intent, confidence, context))
        if self.fail:
            raise PolicyServiceUnavailable("connection refused")
        return self._answer

    async def feedback(self, record):
        self.sent.append(("feedback", record))
        if self.fail:
            raise PolicyServiceUnavailable("connection refused")
        return {"id": 1}


@pytest.fixture
def use_client(replace_policy_client):
    return lambda client: replace_policy_client(actions, client)


ANSWER = {
    "kind": "answer", "answerable": True,
    "parts": ["创业担保贷款：个人贷款最高20万元。\n依据宝政办发〔2020〕49号（一）优化贷款税收等政策支持个体经营发展"],
    "citations": [{"clause_id": "baoji-2020-49:2.1", "article": 1}],
    "topic_question": "创业担保贷款最多能贷多少？", "topic_clauses": ["baoji-2020-49:2.1"], "facts": {},
}


async def test_answer_sends_the_nlu_hint_and_context_then_quotes_parts_citations_feedback(
        tracker_from, dispatcher, use_client):
    client = use_client(FakeClient(answer=ANSWER))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    (_, question, intent, confidence, context), = client.sent
    assert (question, intent) == ("创业担保贷款最多能贷多少？", "ask_loan") and confidence > 0.5
    assert context == {"question": "", "clauses": [], "facts": {}, "history": []}
    texts = [m.get("text") for m in dispatcher.messages]
    assert texts[0] == ANSWER["parts"][0]
    assert dispatcher.messages[1]["custom"] == {"citations": ANSWER["citations"]}
    assert [b["payload"] for b in dispatcher.messages[2]["buttons"]] == ["/feedback_positive", "/feedback_negative"]
    assert SlotSet("topic_question", "创业担保贷款最多能贷多少？") in events
    assert SlotSet("topic_clauses", ["baoji-2020-49:2.1"]) in events


async def test_the_topic_history_goes_to_the_service_and_comes_back_into_its_slot(tracker_from, dispatcher,
                                                                                   use_client):
    earlier = [{"question": "以工代训补贴标准是多少？", "clauses": ["baoji-2020-49:2.2"]}]
    tracker = tracker_from("loan_question")
    tracker.slots["topic_history"] = earlier
    client = use_client(FakeClient(answer={**ANSWER, "topic_history": earlier + [{"question": "q", "clauses": []}]}))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker, {})
    assert client.sent[0][4]["history"] == earlier
    assert SlotSet("topic_history", earlier + [{"question": "q", "clauses": []}]) in events


async def test_the_web_bubble_goes_with_the_citations_and_the_full_text_stays(tracker_from, dispatcher, use_client):
    bubble = "创业担保贷款：个人贷款最高20万元。\n依据：宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展"
    use_client(FakeClient(answer={**ANSWER, "bubble": bubble}))
    await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert dispatcher.messages[0]["text"] == ANSWER["parts"][0]  # text-only channels (WeChat, REST) keep it
    assert dispatcher.messages[1]["custom"] == {"citations": ANSWER["citations"], "bubble": bubble}


async def test_facts_stated_in_a_question_are_kept_as_slots(tracker_from, dispatcher, use_client):
    facts = {"age": 48.0, "activities": ["self_employed"]}
    use_client(FakeClient(answer={**ANSWER, "facts": facts, "personal": True}))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert SlotSet("age", 48.0) in events and SlotSet("activities", ["self_employed"]) in events


async def test_screening_is_offered_after_an_answer_the_calculator_covers(tracker_from, dispatcher, use_client):
    use_client(FakeClient(answer={**ANSWER, "offer_screening": True}))
    await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert "/check_entitlements" in [b["payload"] for b in dispatcher.messages[-1]["buttons"]]


async def test_no_feedback_prompt_while_the_screening_form_is_active(tracker_from, dispatcher, use_client):
    use_client(FakeClient(answer=ANSWER))
    tracker = tracker_from("loan_question")
    tracker.active_loop = {"name": "entitlement_form"}
    await actions.ActionAnswerPolicy().run(dispatcher, tracker, {})
    assert not any(message.get("buttons") for message in dispatcher.messages)


NO_ANSWER = {"kind": "no_answer", "answerable": False, "citations": [],
             "parts": ["这份政策（宝政办发〔2020〕49号）没有涉及您问的这个问题，我没法根据政策原文给您准确答复。"]}


async def test_unanswerable_question_gets_the_honest_text_then_the_handoff_offer(tracker_from, dispatcher, use_client):
    client = use_client(FakeClient(answer=NO_ANSWER))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert events == [FollowupAction("utter_offer_handoff")]
    assert dispatcher.messages[0]["text"] == NO_ANSWER["parts"][0]
    assert len(client.sent) == 1  # one call: the service records the unanswered question itself


async def test_unanswerable_question_inside_the_form_lets_the_form_resume(tracker_from, dispatcher, use_client):
    use_client(FakeClient(answer=NO_ANSWER))
    tracker = tracker_from("loan_question")
    tracker.active_loop = {"name": "entitlement_form"}
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker, {})
    assert events == [] and dispatcher.messages[0]["buttons"][0]["payload"] == "/human_handoff"


@pytest.mark.parametrize("social, response", [("greet", "utter_greet"), ("thanks", "utter_you_are_welcome"),
                                              ("chitchat", "utter_chitchat")])
async def test_a_social_message_gets_the_domain_response(tracker_from, dispatcher, use_client, social, response):
    use_client(FakeClient(answer={"kind": "social", "social": social, "parts": []}))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert events == [] and dispatcher.messages[0]["response"] == response


async def test_an_ambiguous_question_gets_one_clarifying_question_with_buttons(tracker_from, dispatcher, use_client):
    buttons = [{"title": "创业补贴", "payload": "一次性创业补贴给谁，多少钱？"}]
    use_client(FakeClient(answer={"kind": "clarify", "parts": ["您想了解哪方面的补贴？"], "buttons": buttons}))
    await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert dispatcher.messages == [{**dispatcher.messages[0], "text": "您想了解哪方面的补贴？", "buttons": buttons}]


async def test_service_down_degrades_politely_with_handoff(tracker_from, dispatcher, use_client):
    use_client(FakeClient(fail=True))
    await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert "暂时连接不上" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/human_handoff"


async def test_negative_feedback_records_question_and_cited_clause(tracker_from, dispatcher, use_client):
    client = use_client(FakeClient())
    await actions.ActionStoreFeedback().run(dispatcher, tracker_from("feedback_after_answer"), {})
    record = client.sent[0][1]
    assert record["kind"] == "negative"
    assert record["question"] == "摆摊要交占道费吗"
    assert record["clause_ids"] == ["baoji-2020-49:3.7"]
    assert "反馈已记录" in dispatcher.messages[0]["text"]  # the domain offers the handoff next


async def test_feedback_survives_service_outage(tracker_from, dispatcher, use_client):
    use_client(FakeClient(fail=True))
    await actions.ActionStoreFeedback().run(dispatcher, tracker_from("feedback_after_answer"), {})
    assert dispatcher.messages  # the user is still answered


async def test_an_explicit_screening_request_starts_the_form_whatever_the_intent(tracker_from, dispatcher, use_client):
    use_client(FakeClient(answer={"kind": "screening", "parts": [], "facts": {}}))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert events == [FollowupAction("entitlement_form")] and dispatcher.messages == []
