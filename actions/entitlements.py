"""Personal screening (F3): the entitlement_form's slot extraction/validation and the personal list.

Extraction reads every message with knowledge.profile_text (words in knowledge/profile_terms.yaml),
so facts can be given in any order, several at once ("我是农民工，44岁，想开个面馆") and corrected at any
point ("不对，我43岁"). "跳过"/"不知道" skips the slot being asked; "算了" fills nothing, so the form
rejects and the domain's `stop` rule ends it. The list itself is computed by the policy service
(POST /api/entitlements) and worded by knowledge.entitlement_text, the same as in the agent console.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.policy_client import PolicyClient, PolicyRequestRejected, PolicyServiceUnavailable
from knowledge.entitlement_format import show_number
from knowledge.entitlement_request import FORM_FACTS, LIST_FIELDS, OPTIONAL_FACTS
from knowledge.entitlement_text import render_entitlements
from knowledge.profile_text import (ProfileUpdate, is_question, known_names, parse_profile, reuse_answer,
                                    updated_names)

logger = logging.getLogger(__name__)

FORM_NAME = "entitlement_form"
# The slots follow the screening facts (knowledge.entitlement_request.SCREENING_FACTS): the form asks PROFILE_SLOTS;
# optional facts are extracted whenever mentioned, if the domain declares a slot of that name.
LIST_SLOTS = LIST_FIELDS
PROFILE_SLOTS = FORM_FACTS
FACT_SLOTS = OPTIONAL_FACTS
MIN_AGE, MAX_AGE = 16, 100
# A question with one of these intents is answered by the policy rules instead of read as an answer.
POLICY_QUESTION_INTENTS = {"ask_policy", "ask_loan", "ask_subsidy", "ask_tax", "ask_registration",
                           "ask_eligibility", "ask_social_insurance", "ask_training", "ask_wages_rights",
                           "ask_venue", "out_of_scope", "human_handoff"}

HANDOFF_BUTTON = {"title": "转人工", "payload": "/human_handoff"}
AGE_OUT_OF_RANGE = ("年龄要在{low}到{high}岁之间，您说的是{age}岁。请再告诉我一次您的周岁年龄，比如“35岁”；"
                    "不想说可以回复“跳过”。")
CALCULATOR_DOWN = ("抱歉，政策计算器现在暂时用不了，没法为您逐项测算。您可以稍后再试，"
                   "或者回复“转人工”，由工作人员帮您查询。")
# An answer ("inform") in which nothing was recognised: say what works, then the form asks again.
NOT_UNDERSTOOD = {
    "age": "没看出您的年龄😅 直接回复数字就行，比如“35”或“35岁”；不想说可以回复“跳过”。",
    "groups": ("这个我没对上号😅 可以说：农民工、建档立卡贫困户、高校毕业生、退役军人、失业人员、就业困难人员、"
               "持《就业创业证》……都不是就回复“都不是”，不清楚可以回复“跳过”。"),
    "activities": ("这个我没对上号😅 可以说：开店/个体经营、打零工/钟点工、跑外卖/网约车/直播、摆摊、"
                   "在早市夜市卖菜、修鞋配钥匙等便民服务……都不是就回复“都不是”，不清楚可以回复“跳过”。"),
}
ANSWER_INTENTS = {"inform"}
SET_ASIDE_SLOT, REUSE_SLOT = "set_aside_facts", "reuse_facts"
REUSE_BUTTON_INTENTS = {"affirm": True, "deny": False}  # the reuse question's buttons send /affirm and /deny
REQUEST_REJECTED = "抱歉，您提供的信息里有一项没法计算（{reason}）。可以直接更正，比如“不对，我43岁”，或回复“转人工”。"


def latest_update(tracker: Tracker) -> Optional[ProfileUpdate]:
    """The latest message read as an answer; None when it is a policy question to be answered instead."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    requested = tracker.get_slot(REQUESTED_SLOT)
    intent = (message.get("intent") or {}).get("name")
    if requested and intent in POLICY_QUESTION_INTENTS and is_question(text):
        return None
    return parse_profile(text, expecting=requested)


def value_before_latest_message(tracker: Tracker, slot: Text) -> Any:
    """The slot's value before the latest user message (extraction has already overwritten tracker.slots)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user" and not seen_user:
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
        elif seen_user and event.get("event") == "restart":
            break
    return None


def skipped_slots(tracker: Tracker) -> set:
    """Slots the user answered with "跳过"/"不知道" since the form was (last) activated, still empty."""
    if (tracker.active_loop or {}).get("name") != FORM_NAME:
        return set()
    events = tracker.events
    start = max((index for index, event in enumerate(events)
                 if event.get("event") == "active_loop" and event.get("name") == FORM_NAME), default=-1)
    requested, skipped = None, set()
    for event in events[start + 1:]:
        kind, name = event.get("event"), event.get("name")
        if kind == "slot" and name == REQUESTED_SLOT:
            requested = event.get("value")
        elif kind == "slot" and name in PROFILE_SLOTS and event.get("value") is not None:
            skipped.discard(name)
        elif kind == "user" and requested in PROFILE_SLOTS:
            if parse_profile(event.get("text") or "", expecting=requested).skip:
                skipped.add(requested)
    return skipped


EMPTY_ECHO = {"groups": "不属于所列人员", "activities": "暂未从事所列活动"}


Wording = Optional[Dict[Text, Dict[Text, Text]]]


def _echo(changes: Dict[Text, Any], correction: bool, wording: Wording) -> Text:
    """One line confirming how the message was understood, so a misreading can be corrected at once."""
    shown = described(changes, wording)
    opening = "好的，已更正" if correction else "好的，记下了"
    return f"{opening}：{shown}。" if shown else f"{opening}。"


def described(facts: Dict[Text, Any], wording: Wording) -> Text:
    """"48岁；农民工；个体经营/创业" — the age and list facts among `facts`. `wording`: the document's names of
    groups and activities (policy service); None when it is down, then only the age is shown: a contract name
    is no wording for a citizen."""
    parts = [f"{show_number(facts['age'])}岁"] if facts.get("age") is not None else []
    for slot in LIST_SLOTS:
        if facts.get(slot) is not None and wording is not None:
            names = wording.get(slot, {})
            parts.append("、".join(names.get(name, name) for name in facts[slot]) or EMPTY_ECHO[slot])
    return "；".join(parts)


async def current_wording() -> Optional[Dict[Text, Dict[Text, Text]]]:
    try:
        return await PolicyClient().wording()
    except (PolicyServiceUnavailable, PolicyRequestRejected) as error:
        logger.warning("policy service: no wording for the screening echo: %s", error)
        return None


class ValidateEntitlementForm(FormValidationAction):
    """Extracts age / groups / activities from free text; re-asks with a hint when a value is invalid."""

    def name(self) -> Text:
        return "validate_entitlement_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        before = {slot: tracker.get_slot(slot) for slot in PROFILE_SLOTS}
        requested = tracker.get_slot(REQUESTED_SLOT)
        update = latest_update(tracker)
        events = await super().run(dispatcher, tracker, domain)
        events += self._fact_events(update, tracker, domain)
        changes = {event["name"]: event["value"] for event in events
                   if event.get("event") == "slot" and event.get("name") in PROFILE_SLOTS
                   and event.get("value") is not None and event.get("value") != before[event["name"]]}
        if changes:
            dispatcher.utter_message(text=_echo(changes, bool(update and update.correction), await current_wording()))
        elif requested in NOT_UNDERSTOOD and self._unrecognised_answer(tracker, update, events):
            dispatcher.utter_message(text=NOT_UNDERSTOOD[requested])
            events.append(SlotSet(requested, None))  # an answer after all: the form asks again, no rejection
        return events

    @staticmethod
    def _unrecognised_answer(tracker: Tracker, update: Optional[ProfileUpdate], events: List[EventType]) -> bool:
        """An answer-like message (intent inform) that filled nothing; other intents go to their rules."""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        filled = any(event.get("event") == "slot" and event.get("name") != REQUESTED_SLOT for event in events)
        return intent in ANSWER_INTENTS and update is not None and not update.stop and not filled

    @staticmethod
    def _fact_events(update: Optional[ProfileUpdate], tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if update is None:
            return []
        declared = domain.get("slots", {})
        return [SlotSet(fact, value) for fact, value in update.facts().items()
                if fact in declared and tracker.get_slot(fact) != value]

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        """A screening restarted after "算了" first asks whether to reuse the facts it set aside."""
        return ([REUSE_SLOT] if reuse_offered(tracker) else []) + domain_slots

    async def next_requested_slot(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Optional[EventType]:
        """The first empty slot that was not skipped; None ends the form."""
        skipped = skipped_slots(tracker)
        for slot in await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain):
            if tracker.slots.get(slot) is None and slot not in skipped:
                return SlotSet(REQUESTED_SLOT, slot)
        return SlotSet(REQUESTED_SLOT, None)

    # --- reusing the facts set aside by "算了" ---------------------------------------------------------
    async def extract_reuse_facts(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != REUSE_SLOT:
            return {}
        message = tracker.latest_message or {}
        text, intent = message.get("text") or "", (message.get("intent") or {}).get("name")
        choice = REUSE_BUTTON_INTENTS.get(intent) if text.startswith("/") else reuse_answer(text)
        return {} if choice is None else {REUSE_SLOT: choice}

    async def validate_reuse_facts(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """Yes: the facts set aside fill the slots the new message did not fill. Either way they are used up."""
        if value is None:
            return {}
        set_aside = tracker.get_slot(SET_ASIDE_SLOT) or {}
        declared = domain.get("slots", {})
        restored = {slot: set_aside[slot] for slot in PROFILE_SLOTS + FACT_SLOTS
                    if value and slot in set_aside and slot in declared and tracker.get_slot(slot) is None}
        return {REUSE_SLOT: bool(value), SET_ASIDE_SLOT: None, **restored}

    # --- extraction -----------------------------------------------------------------------------------
    async def extract_age(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> Dict[Text, Any]:
        update = latest_update(tracker)
        if update is None:
            return {}
        if update.skip and tracker.get_slot(REQUESTED_SLOT) == "age":
            return {"age": None}
        return {} if update.age is None else {"age": update.age}

    async def extract_groups(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        return self._extract_list("groups", tracker)

    async def extract_activities(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        return self._extract_list("activities", tracker)

    @staticmethod
    def _extract_list(slot: Text, tracker: Tracker) -> Dict[Text, Any]:
        update = latest_update(tracker)
        if update is None:
            return {}
        answering = tracker.get_slot(REQUESTED_SLOT) == slot
        if update.skip and answering:
            return {slot: None}
        current = tracker.get_slot(slot)
        value = updated_names(current, update, slot, answering)
        return {} if value is None or value == current else {slot: value}

    # --- validation ---------------------------------------------------------------------------------
    async def validate_age(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[Text, Any]:
        if value is None:
            return {"age": None}
        try:
            age = float(value)
        except (TypeError, ValueError):
            return {"age": value_before_latest_message(tracker, "age")}
        if not MIN_AGE <= age <= MAX_AGE:
            dispatcher.utter_message(text=AGE_OUT_OF_RANGE.format(low=MIN_AGE, high=MAX_AGE, age=show_number(age)))
            return {"age": value_before_latest_message(tracker, "age")}
        return {"age": age}

    async def validate_groups(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        return {"groups": self._names(value, "groups")}

    async def validate_activities(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        return {"activities": self._names(value, "activities")}

    @staticmethod
    def _names(value: Any, slot: Text) -> Optional[List[Text]]:
        """Known contract names only (a list slot may also arrive as a bare string)."""
        if value is None:
            return None
        values = value if isinstance(value, list) else [value]
        return [name for name in values if name in known_names(slot)]


def profile_from_slots(tracker: Tracker) -> Dict[Text, Any]:
    """The POST /api/entitlements request. An unanswered (skipped) slot is sent as null = unknown."""
    age = tracker.get_slot("age")
    profile: Dict[Text, Any] = {}
    if age is not None:
        profile["age"] = int(age) if float(age).is_integer() else float(age)
    for slot in LIST_SLOTS:
        value = tracker.get_slot(slot)
        profile[slot] = None if value is None else list(value)
    for fact in FACT_SLOTS:
        if tracker.slots.get(fact) is not None:
            profile[fact] = tracker.slots[fact]
    profile["hires"] = tracker.slots.get("hires")  # not asked in chat: unknown unless a slot holds it
    return profile


class ActionShowEntitlements(Action):
    """The personal list: eligible items with amounts and citations, then "might apply if …", then where."""

    def name(self) -> Text:
        return "action_show_entitlements"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        profile = profile_from_slots(tracker)
        try:
            result = await PolicyClient().entitlements(profile)
        except PolicyServiceUnavailable as error:
            logger.warning("policy service unavailable: %s", error)
            dispatcher.utter_message(text=CALCULATOR_DOWN, buttons=[HANDOFF_BUTTON])
            return []
        except PolicyRequestRejected as error:
            logger.warning("entitlement request rejected: %s (%s)", error.message, profile)
            dispatcher.utter_message(text=REQUEST_REJECTED.format(reason=error.message), buttons=[HANDOFF_BUTTON])
            return []
        for part in render_entitlements(result):
            dispatcher.utter_message(text=part)
        citations = result.get("citations") or []  # complete cards, one per clause (knowledge.citations)
        if citations:
            dispatcher.utter_message(json_message={"citations": citations})
        return []


SCREENING_STOPPED = "好的，不算了。还有什么想了解的吗？直接问我就行。"
SCREENING_SET_ASIDE = ("好的，不算了。您刚才说的情况（{facts}）我先放一边，下次再算时会先问您还用不用。"
                       "还有什么想了解的吗？直接问我就行。")
REUSE_PROMPT = "上次您说的情况是：{facts}。接着用这些，还是重新填？"
REUSE_BUTTONS = [{"title": "用刚才的情况", "payload": "/affirm"}, {"title": "重新填", "payload": "/deny"}]


class ActionResetScreening(Action):
    """"算了" during the screening: its facts are cleared, so the chat and a restart start clean — and set
    aside, so a restarted screening can offer to reuse them (action_ask_reuse_facts)."""

    def name(self) -> Text:
        return "action_reset_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        declared = [slot for slot in PROFILE_SLOTS + FACT_SLOTS if slot in domain.get("slots", {})]
        known = {slot: tracker.get_slot(slot) for slot in declared if tracker.get_slot(slot) is not None}
        set_aside = {**(tracker.get_slot(SET_ASIDE_SLOT) or {}), **known}
        shown = described(set_aside, await current_wording())
        dispatcher.utter_message(text=SCREENING_SET_ASIDE.format(facts=shown) if shown else SCREENING_STOPPED)
        return [SlotSet(slot, None) for slot in declared] + [SlotSet(SET_ASIDE_SLOT, set_aside or None),
                                                             SlotSet(REUSE_SLOT, None)]


class ActionAskReuseFacts(Action):
    """The screening's question while facts are set aside: reuse them (buttons: yes / start afresh)?"""

    def name(self) -> Text:
        return "action_ask_reuse_facts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        shown = described(tracker.get_slot(SET_ASIDE_SLOT) or {}, await current_wording()) or "（没有记下具体情况）"
        dispatcher.utter_message(text=REUSE_PROMPT.format(facts=shown), buttons=REUSE_BUTTONS)
        return []


def reuse_offered(tracker: Tracker) -> bool:
    """Facts are set aside: the restarted screening asks whether to reuse them (answering uses them up)."""
    return bool(tracker.get_slot(SET_ASIDE_SLOT))
