"""action_handoff: files the conversation in the agents' live queue and tells the citizen where they stand.

The queue lives in the policy service (POST /api/handoff, idempotent per sender), so asking again —
「人呢？怎么还没人回我」 is a human_handoff too — gets the honest place in the queue, not a policy quote.
When an agent claims the conversation the service pauses it in Rasa; this action then no longer runs.
If the queue cannot be reached, the old marker remains: channels may transfer the user their own way
(WeChat: transfer_customer_service).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.policy_client import PolicyClient, PolicyRequestRejected, PolicyServiceUnavailable

logger = logging.getLogger(__name__)

QUEUED_REPLY = "好的，已为您转接人工客服。{place}工作人员接入后会在这里直接回复您。"
WAITING_REPLY = "{place}请稍候，工作人员接入后会在这里直接回复您。"
OUT_OF_HOURS_REPLY = "现在是非工作时间，留言已记录，工作日会有人回复。您也可以继续问我政策问题。"
UNQUEUED_REPLY = "好的，已为您转接人工客服，请稍候，工作人员会尽快回复您。"
# the bot offers a person after it could not answer (and after negative feedback, see handoff_reason)
OFFER_ACTIONS = {"utter_offer_handoff", "action_out_of_scope"}
# messages that are about the conversation, not the citizen's question
NOT_A_QUESTION = {"human_handoff", "affirm", "deny", "stop", "greet", "goodbye", "thanks",
                  "feedback_positive", "feedback_negative"}


def open_question(tracker: Tracker) -> str:
    """The citizen's last real question (not 转人工, 好的, a button or feedback): the queue shows it."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        text = event.get("text") or ""
        if intent not in NOT_A_QUESTION and not text.startswith("/"):
            return text
    return ""


def place_in_queue(position: int) -> str:
    return "您在排队，前面还有{}位。".format(position) if position else "您在排队，下一位就是您。"


def handoff_reason(tracker: Tracker) -> str:
    """What the bot did in the turn before the citizen asked for a person: accepting its offer after an
    honest no-answer is no_answer, after negative feedback negative_feedback; else user_request."""
    previous_turn, seen_user = [], False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                break
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            previous_turn.append(event.get("name"))
    if "action_store_feedback" in previous_turn:
        return "negative_feedback"
    if OFFER_ACTIONS & set(previous_turn):
        return "no_answer"
    return "user_request"


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        reason, question = handoff_reason(tracker), open_question(tracker)
        marker = {"handoff": True, "reason": reason, "last_question": question}
        try:
            status = await PolicyClient().handoff({
                "sender": tracker.sender_id, "reason": reason, "question": question,
                "channel": tracker.get_latest_input_channel()})
        except (PolicyServiceUnavailable, PolicyRequestRejected) as error:
            logger.warning("handoff queue unreachable: %s", error)
            dispatcher.utter_message(text=UNQUEUED_REPLY, json_message=marker)
            return []
        place = place_in_queue(int(status.get("position") or 0))
        if not status.get("open_now", True):
            text = OUT_OF_HOURS_REPLY
        elif status.get("created"):
            text = QUEUED_REPLY.format(place=place)
        else:  # asked again while waiting: only the status, no second handoff notice
            dispatcher.utter_message(text=WAITING_REPLY.format(place=place))
            return []
        dispatcher.utter_message(text=text, json_message={**marker, "queued": True, "handoff_id": status.get("id")})
        return []


class ActionSessionStart(Action):
    """Rasa's session start, except that a conversation an agent holds stays paused in the new session
    (Rasa's SessionStarted resets the pause, so after an idle hour the bot would talk over the agent)."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        if (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True):
            events += [SlotSet(name, value) for name, value in tracker.slots.items() if value is not None]
        if tracker.is_paused():
            events.append(ConversationPaused())
        return events + [ActionExecuted("action_listen")]
