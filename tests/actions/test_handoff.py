"""action_handoff files the conversation in the live queue and tells the citizen where they stand."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet

from actions import handoff
from actions.policy_client import PolicyServiceUnavailable


class FakeQueue:
    """Stands in for POST /api/handoff of the policy service."""

    def __init__(self, status=None, fail=False):
        self.status, self.fail, self.sent = status, fail, []

    async def handoff(self, record):
        self.sent.append(record)
        if self.fail:
            raise PolicyServiceUnavailable("connection refused")
        return self.status


@pytest.fixture
def use_queue(replace_policy_client):
    return lambda queue: replace_policy_client(handoff, queue)


def tracker(*steps, sender="web:abc"):
    """Events from ("user", text, intent) / ("action", name) steps, as Rasa's tracker has them."""
    events = []
    for step in steps:
        if step[0] == "user":
            events.append({"event": "user", "text": step[1], "parse_data": {"intent": {"name": step[2]}},
                           "input_channel": "rest"})
        else:
            events.append({"event": "action", "name": step[1]})
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(sender, {}, {"text": latest["text"], "intent": latest["parse_data"]["intent"]}, events, False,
                   None, {}, "action_listen")


ASKED = tracker(("action", "action_listen"), ("user", "摆摊要交占道费吗", "ask_venue"),
                ("action", "action_answer_policy"), ("action", "action_listen"), ("user", "转人工", "human_handoff"))


async def test_new_handoff_is_queued_with_place_and_marker(dispatcher, use_queue):
    queue = use_queue(FakeQueue({"id": 7, "created": True, "position": 2, "open_now": True}))
    await handoff.ActionHandoff().run(dispatcher, ASKED, {})
    assert queue.sent == [{"sender": "web:abc", "reason": "user_request", "question": "摆摊要交占道费吗",
                           "channel": "rest"}]
    message = dispatcher.messages[0]
    assert "前面还有2位" in message["text"]
    assert message["custom"]["handoff"] is True and message["custom"]["queued"] is True


async def test_asking_again_while_waiting_gets_the_honest_status(dispatcher, use_queue):
    use_queue(FakeQueue({"id": 7, "created": False, "position": 1, "open_now": True}))
    waiting = tracker(("action", "action_handoff"), ("action", "action_listen"),
                      ("user", "人呢？怎么还没人回我", "human_handoff"))
    await handoff.ActionHandoff().run(dispatcher, waiting, {})
    assert dispatcher.messages[0]["text"].startswith("您在排队，前面还有1位")
    assert "custom" not in dispatcher.messages[0] or not dispatcher.messages[0]["custom"]  # no second notice


async def test_out_of_hours_message_is_recorded(dispatcher, use_queue):
    use_queue(FakeQueue({"id": 7, "created": True, "position": 0, "open_now": False}))
    await handoff.ActionHandoff().run(dispatcher, ASKED, {})
    assert "留言已记录，工作日会有人回复" in dispatcher.messages[0]["text"]


async def test_accepting_the_offer_after_no_answer_gives_the_reason(dispatcher, use_queue):
    queue = use_queue(FakeQueue({"id": 8, "created": True, "position": 0, "open_now": True}))
    accepted = tracker(("user", "宝鸡明天下雨吗", "out_of_scope"), ("action", "action_answer_policy"),
                       ("action", "utter_offer_handoff"), ("action", "action_listen"), ("user", "/affirm", "affirm"))
    await handoff.ActionHandoff().run(dispatcher, accepted, {})
    assert queue.sent[0]["reason"] == "no_answer"
    assert queue.sent[0]["question"] == "宝鸡明天下雨吗"


async def test_accepting_the_offer_after_negative_feedback_gives_the_reason(dispatcher, use_queue):
    queue = use_queue(FakeQueue({"id": 9, "created": True, "position": 0, "open_now": True}))
    unhappy = tracker(("user", "摆摊要交占道费吗", "ask_venue"), ("action", "action_answer_policy"),
                      ("action", "action_listen"), ("user", "/feedback_negative", "feedback_negative"),
                      ("action", "action_store_feedback"), ("action", "utter_offer_handoff"),
                      ("action", "action_listen"), ("user", "/human_handoff", "human_handoff"))
    await handoff.ActionHandoff().run(dispatcher, unhappy, {})
    assert queue.sent[0]["reason"] == "negative_feedback" and queue.sent[0]["question"] == "摆摊要交占道费吗"


async def test_queue_unreachable_keeps_the_transfer_marker(dispatcher, use_queue):
    use_queue(FakeQueue(fail=True))
    await handoff.ActionHandoff().run(dispatcher, ASKED, {})
    message = dispatcher.messages[0]
    assert message["text"] and message["custom"]["handoff"] is True and "queued" not in message["custom"]


@pytest.mark.parametrize("paused", [True, False])
async def test_new_session_keeps_an_agents_pause_and_the_slots(dispatcher, paused):
    old = Tracker("web:abc", {"age": 34.0, "groups": None}, {}, [{"event": "pause"}] if paused else [], paused,
                  None, {}, "action_listen")
    events = await handoff.ActionSessionStart().run(
        dispatcher, old, {"session_config": {"carry_over_slots_to_new_session": True}})
    expected = [SessionStarted(), SlotSet("age", 34.0)] + ([ConversationPaused()] if paused else [])
    assert events == expected + [ActionExecuted("action_listen")]
