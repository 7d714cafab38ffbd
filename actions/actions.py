"""Dialogue actions. Thin: retrieval and answer composition happen in the policy service."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

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
NOT_COVERED_REPLY = "抱歉，{documents}没有涉及这个问题，我不想给您不准确的答复。需要为您转人工吗？"
KNOWN_DOCUMENTS_FALLBACK = "我收录的灵活就业政策文件"


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


class ActionAnswerPolicy(Action):
    """Answers any policy question by retrieving and quoting clauses; never a canned answer."""

    def name(self) -> Text:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        question = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        try:
            answer = await PolicyClient().answer(question, intent=intent, sender=tracker.sender_id)
        except PolicyServiceUnavailable as error:
            logger.warning("policy service unavailable: %s", error)
            dispatcher.utter_message(text=SERVICE_DOWN_REPLY, buttons=[HANDOFF_BUTTON])
            return []
        if not answer.get("answerable"):
            return [FollowupAction("action_out_of_scope")]
        for part in answer.get("parts") or []:
            dispatcher.utter_message(text=part)
        if answer.get("citations"):
            dispatcher.utter_message(json_message={"citations": answer["citations"]})
        if not tracker.active_loop_name:  # mid-screening the form asks its next question instead
            offer = [SCREENING_BUTTON] if answer.get("offer_screening") else []
            dispatcher.utter_message(text=FEEDBACK_PROMPT, buttons=FEEDBACK_BUTTONS + offer)
        return []


class ActionOutOfScope(Action):
    """Honest no-answer plus a handoff offer; the question is recorded for staff."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        documents = await known_documents()
        dispatcher.utter_message(text=NOT_COVERED_REPLY.format(documents=documents),
                                 buttons=[HANDOFF_BUTTON, NO_THANKS_BUTTON])
        await record_feedback("unanswered", tracker)
        return []


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


async def known_documents() -> str:
    """Names the documents the bot answers from, e.g. "《…实施意见》（宝政办发〔2020〕49号）"."""
    try:
        documents = await PolicyClient().documents()
    except PolicyServiceUnavailable:
        return KNOWN_DOCUMENTS_FALLBACK
    names = [f"《{doc['title']}》（{doc['number']}）" for doc in documents if doc.get("title") and doc.get("number")]
    return "、".join(names) or KNOWN_DOCUMENTS_FALLBACK


async def record_feedback(kind: str, tracker: Tracker) -> None:
    """Best effort: losing one feedback record must not break the conversation."""
    record = {"kind": kind, "question": latest_question(tracker) or "",
              "clause_ids": last_answer_citations(tracker), "sender": tracker.sender_id}
    try:
        await PolicyClient().feedback(record)
    except Exception as error:  # noqa: BLE001 - service down or rejected: log and carry on
        logger.warning("feedback not recorded: %s", error)
