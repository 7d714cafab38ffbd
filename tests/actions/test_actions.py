import pytest
from rasa_sdk.events import FollowupAction

from actions import actions
from actions.policy_client import PolicyServiceUnavailable


class FakeClient:
    """Stands in for the policy service; records what the actions sent."""

    def __init__(self, answer=None, fail=False):
        self._answer, self.fail, self.sent = answer, fail, []

    async def answer(self, question, intent=None, sender=None):
        self.sent.append(("answer", question, intent))
        if self.fail:
            raise PolicyServiceUnavailable("connection refused")
        return self._answer

    async def documents(self):
        if self.fail:
            raise PolicyServiceUnavailable("connection refused")
        return [{"title": "宝鸡市人民政府办公室关于支持多渠道灵活就业的实施意见", "number": "宝政办发〔2020〕49号"}]

    async def feedback(self, record):
        self.sent.append(("feedback", record))
        if self.fail:
            raise PolicyServiceUnavailable("connection refused")
        return {"id": 1}


@pytest.fixture
def use_client(replace_policy_client):
    return lambda client: replace_policy_client(actions, client)


ANSWER = {
    "answerable": True,
    "parts": ["创业担保贷款个贷最高额度20万元。\n——宝政办发〔2020〕49号 （一）优化贷款税收等政策支持个体经营发展"],
    "citations": [{"clause_id": "baoji-2020-49:2.1", "article": 1}],
}


async def test_answer_quotes_parts_then_citations_then_feedback_prompt(tracker_from, dispatcher, use_client):
    client = use_client(FakeClient(answer=ANSWER))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert events == []
    assert client.sent == [("answer", "创业担保贷款最多能贷多少？", "ask_loan")]
    texts = [m.get("text") for m in dispatcher.messages]
    assert texts[0] == ANSWER["parts"][0]
    assert dispatcher.messages[1]["custom"] == {"citations": ANSWER["citations"]}
    assert [b["payload"] for b in dispatcher.messages[2]["buttons"]] == ["/feedback_positive", "/feedback_negative"]


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


async def test_unanswerable_question_goes_to_honest_no_answer(tracker_from, dispatcher, use_client):
    use_client(FakeClient(answer={"answerable": False, "parts": [], "citations": []}))
    events = await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert events == [FollowupAction("action_out_of_scope")]
    assert dispatcher.messages == []


async def test_service_down_degrades_politely_with_handoff(tracker_from, dispatcher, use_client):
    use_client(FakeClient(fail=True))
    await actions.ActionAnswerPolicy().run(dispatcher, tracker_from("loan_question"), {})
    assert "暂时连接不上" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/human_handoff"


async def test_out_of_scope_offers_handoff_and_records_question(tracker_from, dispatcher, use_client):
    client = use_client(FakeClient())
    await actions.ActionOutOfScope().run(dispatcher, tracker_from("loan_question"), {})
    assert "（宝政办发〔2020〕49号）没有涉及" in dispatcher.messages[0]["text"]
    assert {"title": "转人工", "payload": "/human_handoff"} in dispatcher.messages[0]["buttons"]
    assert client.sent[0][1]["kind"] == "unanswered"
    assert client.sent[0][1]["question"] == "创业担保贷款最多能贷多少？"


async def test_out_of_scope_still_honest_when_service_is_down(tracker_from, dispatcher, use_client):
    use_client(FakeClient(fail=True))
    await actions.ActionOutOfScope().run(dispatcher, tracker_from("loan_question"), {})
    assert "没有涉及" in dispatcher.messages[0]["text"]


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
