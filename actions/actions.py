"""Dialogue actions. Thin: retrieval and answer composition happen in the policy service."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.entitlements import PROFILE_SLOTS
from actions.policy_client import PolicyClient, PolicyServiceUnavailable

logger = logging.getLogger(__name__)

FEEDBACK_INTENTS = {"feedback_positive", "feedback_negative"}
HANDOFF_BUTTON = {"title": "转人工", "payload": "/human_handoff"}
NO_THANKS_BUTTON = {"title": "不用了", "payload": "/deny"}
FEEDBACK_PROMPT = "这个回答对您有帮助吗？"
FEEDBACK_BUTTONS = [
    {"title": "有帮助", "payload": "/feedback_positive"},
    {"title": "没帮助", "payload": "/feedback_negative"},
]
SCREENING_BUTTON = {"title": "算算我能享受哪些", "payload": "/check_entitlements"}
SERVICE_DOWN_REPLY = "抱歉，政策知识库暂时连接不上，请稍后再问，或者转人工由工作人员为您解答。"


def latest_question(tracker: Tracker) -> Optional[Text]:
    """The last user message that was a question (not a feedback click)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        text = event.get("text") or ""
        if intent not in FEEDBACK_INTENTS and not text.startswith("/"):
            return text
    return None


def last_answer_citations(tracker: Tracker) -> List[str]:
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            citations = ((event.get("data") or {}).get("custom") or {}).get("citations")
            if citations:
                return [citation.get("clause_id", "") for citation in citations]
    return []


SOCIAL_RESPONSES = {"greet": "utter_greet", "thanks": "utter_you_are_welcome", "goodbye": "utter_goodbye",
                    "chitchat": "utter_chitchat", "ack": "utter_anything_else"}


def conversation_context(tracker: Tracker) -> Dict[Text, Any]:
    """What follow-ups resolve against: the last answered question, its clauses, the earlier topics (for
    "回到刚才…") and the known facts."""
    facts = {slot: tracker.get_slot(slot) for slot in PROFILE_SLOTS if tracker.get_slot(slot) is not None}
    return {"question": tracker.get_slot("topic_question") or "", "clauses": tracker.get_slot("topic_clauses") or [],
            "facts": facts, "history": tracker.get_slot("topic_history") or []}


class ActionAnswerPolicy(Action):
    """Every free-text message: the policy service decides (knowledge.reply) — answer, clarify, social reply or
    honest no-answer; the NLU's intent is passed along as evidence, never as the decision."""

    def name(self) -> Text:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        message = tracker.latest_message or {}
        intent = message.get("intent") or {}
        try:
            reply = await PolicyClient().answer(
                message.get("text") or "", intent=intent.get("name"), confidence=intent.get("confidence"),
                context=conversation_context(tracker), sender=tracker.sender_id,
                channel=message.get("input_channel") or tracker.get_latest_input_channel())
        except PolicyServiceUnavailable as error:
            logger.warning("policy service unavailable: %s", error)
            dispatcher.utter_message(text=SERVICE_DOWN_REPLY, buttons=[HANDOFF_BUTTON])
            return []
        in_form = bool(tracker.active_loop_name)
        kind = reply.get("kind")
        if kind == "social":
            dispatcher.utter_message(response=SOCIAL_RESPONSES.get(reply.get("social"), "utter_greet"))
            return []
        if kind == "screening":  # "帮我算算": the screening form, whatever intent the NLU picked
            return [] if in_form else [FollowupAction("entitlement_form")]
        if kind == "clarify":  # the generic question stays the topic: the answer to the clarification uses it
            dispatcher.utter_message(text="\n".join(reply.get("parts") or []), buttons=reply.get("buttons") or [])
            return [] if in_form else topic_events(reply)
        if kind != "answer":
            for part in reply.get("parts") or []:
                dispatcher.utter_message(text=part, buttons=[HANDOFF_BUTTON] if in_form else [])
            # mid-screening the form asks its next question instead of a yes/no handoff offer
            return [] if in_form else [FollowupAction("utter_offer_handoff")]
        for part in reply.get("parts") or []:
            dispatcher.utter_message(text=part)
        if reply.get("citations"):  # the web chat shows `bubble` (answer + citation line) instead of the parts
            bubble = {"bubble": reply["bubble"]} if reply.get("bubble") else {}
            dispatcher.utter_message(json_message={"citations": reply["citations"], **bubble})
        if not in_form:
            offer = [SCREENING_BUTTON] if reply.get("offer_screening") else []
            dispatcher.utter_message(text=FEEDBACK_PROMPT, buttons=FEEDBACK_BUTTONS + offer)
        return topic_events(reply)


def topic_events(reply: Dict[Text, Any]) -> List[EventType]:
    """Keep the topic for follow-ups and the stated facts for a later screening (which then skips them)."""
    events: List[EventType] = [SlotSet("topic_question", reply.get("topic_question") or None),
                               SlotSet("topic_clauses", reply.get("topic_clauses") or None),
                               SlotSet("topic_history", reply.get("topic_history") or None)]
    facts = reply.get("facts") or {}
    events += [SlotSet(slot, facts[slot]) for slot in PROFILE_SLOTS if slot in facts]
    return events


class ActionStoreFeedback(Action):
    def name(self) -> Text:
        return "action_store_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        positive = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_positive"
        await record_feedback("positive" if positive else "negative", tracker)
        if positive:
            dispatcher.utter_message(text="谢谢您的反馈！还有其他问题可以继续问我。")
        else:  # the domain follows up with utter_offer_handoff
            dispatcher.utter_message(text="抱歉没能帮上忙，您的反馈已记录，工作人员会据此改进。")
        return []


async def record_feedback(kind: str, tracker: Tracker) -> None:
    """Best effort: losing one feedback record must not break the conversation."""
    record = {"kind": kind, "question": latest_question(tracker) or "",
              "clause_ids": last_answer_citations(tracker), "sender": tracker.sender_id}
    try:
        await PolicyClient().feedback(record)
    except Exception as error:  # noqa: BLE001 - service down or rejected: log and carry on
        logger.warning("feedback not recorded: %s", error)
