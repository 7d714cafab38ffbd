"""F3 actions: validate_entitlement_form (free-text extraction, skip, correction, stop) and
action_show_entitlements (personal list via a mocked policy client)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker

from actions import entitlements as actions
from actions.policy_client import PolicyRequestRejected, PolicyServiceUnavailable
from bot.text_split import utf8_len
from knowledge.entitlement_request import FORM_FACTS, SCREENING_FACTS
from knowledge.entitlements import EntitlementEngine

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain.yml"
DOMAIN = {
    "slots": {"age": {"type": "float", "mappings": [{"type": "custom"}]},
              "groups": {"type": "list", "mappings": [{"type": "custom"}]},
              "activities": {"type": "list", "mappings": [{"type": "custom"}]}},
    "forms": {"entitlement_form": {"required_slots": ["age", "groups", "activities"]}},
}


@pytest.fixture(autouse=True)
def policy_service(replace_policy_client):
    """The actions here talk to a stand-in policy service over the real engine (a test may install another)."""
    return replace_policy_client(actions, FakeClient())


def slot_events(events):
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


async def validate(tracker, dispatcher, domain=DOMAIN):
    return await actions.ValidateEntitlementForm().run(dispatcher, tracker, domain)


def texts(dispatcher):
    return [message.get("text") or "" for message in dispatcher.messages]


async def test_activation_message_fills_every_slot_and_ends_the_form(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_activation"), dispatcher)
    slots = slot_events(events)
    assert slots["age"] == 44
    assert sorted(slots["groups"]) == ["migrant_worker", "poverty_registered"]
    assert slots["activities"] == ["self_employed"]
    assert slots["requested_slot"] is None  # nothing left to ask: the form completes
    assert texts(dispatcher) == ["好的，记下了：44岁；农民工、建档立卡贫困人口；个体经营/创业。"]


async def test_chinese_numeral_answers_the_age_question(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_answer_age"), dispatcher)
    assert slot_events(events) == {"age": 35.0, "requested_slot": "groups"}


async def test_out_of_range_age_is_rejected_with_a_helpful_hint(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_age_out_of_range"), dispatcher)
    assert slot_events(events) == {"age": None, "requested_slot": "age"}
    assert "16到100岁之间" in texts(dispatcher)[0] and "跳过" in texts(dispatcher)[0]


async def test_out_of_range_correction_keeps_the_previous_age(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_correct_age_out_of_range"), dispatcher)
    assert slot_events(events)["age"] == 35.0
    assert "16到100岁之间" in texts(dispatcher)[0]


async def test_skip_leaves_the_age_unknown_and_moves_on(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_skip_age"), dispatcher)
    assert slot_events(events) == {"age": None, "requested_slot": "groups"}
    assert dispatcher.messages == []


async def test_a_skipped_slot_is_not_asked_again(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_after_skip"), dispatcher)
    assert slot_events(events) == {"activities": ["self_employed"], "requested_slot": None}


async def test_none_of_them_is_an_empty_list(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_groups_none"), dispatcher)
    assert slot_events(events) == {"groups": [], "requested_slot": "activities"}
    assert texts(dispatcher) == ["好的，记下了：不属于所列人员。"]


async def test_the_echo_words_names_as_the_rules_in_force_do(tracker_from, dispatcher, use_client):
    client = use_client(FakeClient())
    rules = client.engine.rules
    rules.groups["migrant_worker"] = "进城务工人员"  # as after staff published a new wording: no restart
    await validate(tracker_from("entitlement_activation"), dispatcher)
    assert texts(dispatcher) == ["好的，记下了：44岁；进城务工人员、建档立卡贫困人口；个体经营/创业。"]


async def test_with_the_policy_service_down_the_echo_confirms_the_age_only(tracker_from, dispatcher, use_client):
    use_client(FakeClient(failure=PolicyServiceUnavailable("refused")))
    events = await validate(tracker_from("entitlement_activation"), dispatcher)
    assert sorted(slot_events(events)["groups"]) == ["migrant_worker", "poverty_registered"]
    assert texts(dispatcher) == ["好的，记下了：44岁。"]


async def test_correction_at_any_point(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_correct_age"), dispatcher)
    assert slot_events(events) == {"age": 43.0, "requested_slot": "activities"}
    assert texts(dispatcher) == ["好的，已更正：43岁。"]


async def test_stop_fills_nothing_so_the_form_rejects_and_the_stop_rule_runs(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_stop"), dispatcher)
    assert slot_events(events) == {"requested_slot": "groups"}
    assert dispatcher.messages == []


async def test_policy_question_during_the_form_is_left_to_the_answer_rule(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_policy_question"), dispatcher)
    assert slot_events(events) == {"requested_slot": "activities"}


async def test_optional_facts_are_kept_only_when_the_domain_declares_them(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_facts_mentioned"), dispatcher)
    assert slot_events(events) == {"groups": ["migrant_worker"], "requested_slot": "activities"}

    domain = {**DOMAIN, "slots": {**DOMAIN["slots"], "covid_income_loss": {"type": "bool"},
                                  "months_without_income": {"type": "float"},
                                  "unemployment_insurance": {"type": "bool"}}}
    events = await validate(tracker_from("entitlement_facts_mentioned"), dispatcher, domain)
    assert {"covid_income_loss": True, "months_without_income": 3,
            "unemployment_insurance": False}.items() <= slot_events(events).items()


def test_the_domain_declares_what_the_actions_need():
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    assert domain["forms"]["entitlement_form"]["required_slots"] == ["age", "groups", "activities"]
    assert {"validate_entitlement_form", "action_show_entitlements"} <= set(domain["actions"])


def test_the_domain_slots_follow_the_screening_facts():
    """domain.yml is written by hand; every screening fact has a custom-filled slot of its kind, and the
    form asks exactly the facts declared as asked."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    slot_type = {"number": "float", "boolean": "bool", "names": "list"}
    for name, fact in SCREENING_FACTS.items():
        assert domain["slots"][name]["type"] == slot_type[fact.kind], name
        assert domain["slots"][name]["mappings"] == [{"type": "custom"}], name
    assert tuple(domain["forms"]["entitlement_form"]["required_slots"]) == FORM_FACTS == actions.PROFILE_SLOTS


# --- action_show_entitlements ----------------------------------------------------------------------------
class FakeClient:
    """Stands in for the policy service: evaluates with the real engine, or fails."""

    def __init__(self, failure=None):
        self.failure, self.sent = failure, []
        self.engine = EntitlementEngine()

    async def wording(self):
        if self.failure:
            raise self.failure
        rules = self.engine.rules
        return {"groups": dict(rules.groups), "activities": dict(rules.activities)}

    async def entitlements(self, profile):
        self.sent.append(profile)
        if self.failure:
            raise self.failure
        result = self.engine.evaluate({**profile, "as_of": "2026-11-26"})
        return {**result, "citations": [CARD]}


# what the service sends for article （一）, trimmed to what the chat text uses (knowledge/citations.py)
CARD = {"clause_id": "baoji-2020-49:2.1", "doc_number": "宝政办发〔2020〕49号",
        "heading": "二、（一）优化贷款税收等政策支持个体经营发展", "entitlements": ["startup_subsidy"]}


@pytest.fixture
def use_client(replace_policy_client):
    return lambda client: replace_policy_client(actions, client)


async def test_personal_list_for_the_snack_shop_owner(tracker_from, dispatcher, use_client):
    client = use_client(FakeClient())
    events = await actions.ActionShowEntitlements().run(dispatcher, tracker_from("entitlement_complete"), DOMAIN)
    assert events == []
    assert client.sent == [{"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"], "hires": None}]
    text = "\n".join(texts(dispatcher))
    assert "一次性创业补贴：每人5000元" in text
    assert "创业担保贷款：个人贷款最高20万元（10万元以下免除反担保）" in text
    assert "秦青优惠贷：最高300万元" in text
    assert "以上3项依据：宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展" in text  # the card's heading
    assert "依据：宝政办发〔2020〕49号 （七）实施服务管理零收费" in text  # no card sent: the rule's reference
    assert text.index("✅【符合】") < text.index("❓【待确认】") < text.index("📍【办理部门】")
    assert all(utf8_len(message) <= 2048 for message in texts(dispatcher))
    # the service's complete cards are passed on as they are
    assert dispatcher.messages[-1]["custom"] == {"citations": [CARD]}


async def test_skipped_slots_are_sent_as_unknown_and_shown_as_conditions(tracker_from, dispatcher, use_client):
    client = use_client(FakeClient())
    await actions.ActionShowEntitlements().run(dispatcher, tracker_from("entitlement_complete_with_skips"), DOMAIN)
    assert client.sent == [{"groups": ["migrant_worker"], "activities": None, "hires": None}]
    text = "\n".join(texts(dispatcher))
    assert "❓【待确认】一次性创业补贴" in text and "如果：创业（从事个体经营）" in text


async def test_calculator_down_replies_politely_and_offers_a_human(tracker_from, dispatcher, use_client):
    use_client(FakeClient(PolicyServiceUnavailable("connection refused")))
    await actions.ActionShowEntitlements().run(dispatcher, tracker_from("entitlement_complete"), DOMAIN)
    assert len(dispatcher.messages) == 1
    assert "暂时用不了" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"] == [{"title": "转人工", "payload": "/human_handoff"}]


async def test_rejected_request_says_why(tracker_from, dispatcher, use_client):
    use_client(FakeClient(PolicyRequestRejected("“age”必须是数字")))
    await actions.ActionShowEntitlements().run(dispatcher, tracker_from("entitlement_complete"), DOMAIN)
    assert "“age”必须是数字" in dispatcher.messages[0]["text"]


def test_action_names():
    assert actions.ValidateEntitlementForm().name() == "validate_entitlement_form"
    assert actions.ActionShowEntitlements().name() == "action_show_entitlements"
    assert actions.ActionAskReuseFacts().name() == "action_ask_reuse_facts"



async def test_unrecognised_answer_gets_examples_and_the_question_again(tracker_from, dispatcher):
    events = await validate(tracker_from("entitlement_unrecognised_answer"), dispatcher)
    assert slot_events(events) == {"requested_slot": "activities", "activities": None}
    assert "开店/个体经营" in texts(dispatcher)[0] and "都不是" in texts(dispatcher)[0]


REUSE_DOMAIN = {**DOMAIN, "slots": {**DOMAIN["slots"], "set_aside_facts": {"type": "any"}, "reuse_facts": {"type": "any"}}}
SET_ASIDE = {"age": 48.0, "activities": ["self_employed"]}


def screening_tracker(text: str, intent: str, requested, **slots) -> Tracker:
    """The screening form's tracker as the latest message `text` arrives while `requested` is asked."""
    parse = {"intent": {"name": intent, "confidence": 0.95}, "entities": []}
    return Tracker.from_dict({
        "sender_id": "citizen-reuse", "active_loop": {"name": "entitlement_form"},
        "slots": {"age": None, "groups": None, "activities": None, "set_aside_facts": None, "reuse_facts": None,
                  "requested_slot": requested, **slots},
        "latest_message": {"text": text, **parse},
        "events": [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": parse}]})


async def test_stopping_the_screening_sets_its_facts_aside_and_clears_them(tracker_from, dispatcher):
    tracker = tracker_from("entitlement_complete")
    events = await actions.ActionResetScreening().run(dispatcher, tracker, REUSE_DOMAIN)
    slots = slot_events(events)
    assert {slots[name] for name in ("age", "groups", "activities", "reuse_facts")} == {None}
    assert slots["set_aside_facts"] == {name: tracker.get_slot(name) for name in ("age", "groups", "activities")}
    assert "先放一边" in dispatcher.messages[0]["text"] and "下次再算时会先问您" in dispatcher.messages[0]["text"]


async def test_stopping_with_nothing_said_sets_nothing_aside(dispatcher):
    events = await actions.ActionResetScreening().run(dispatcher, screening_tracker("算了", "stop", "age"),
                                                      REUSE_DOMAIN)
    assert slot_events(events)["set_aside_facts"] is None
    assert dispatcher.messages[0]["text"] == actions.SCREENING_STOPPED


async def test_a_restarted_screening_first_asks_whether_to_reuse_the_facts_set_aside(dispatcher):
    events = await validate(screening_tracker("帮我算算", "check_entitlements", None, set_aside_facts=SET_ASIDE),
                            dispatcher, REUSE_DOMAIN)
    assert slot_events(events) == {"requested_slot": "reuse_facts"}
    await actions.ActionAskReuseFacts().run(dispatcher, screening_tracker("帮我算算", "check_entitlements",
                                                                          "reuse_facts", set_aside_facts=SET_ASIDE),
                                            REUSE_DOMAIN)
    assert "48岁；个体经营/创业" in dispatcher.messages[0]["text"]
    assert [button["payload"] for button in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]


async def test_reusing_fills_the_slots_from_the_facts_set_aside(dispatcher):
    events = await validate(screening_tracker("/affirm", "affirm", "reuse_facts", set_aside_facts=SET_ASIDE),
                            dispatcher, REUSE_DOMAIN)
    assert slot_events(events) == {"reuse_facts": True, "set_aside_facts": None, "age": 48.0,
                                   "activities": ["self_employed"], "requested_slot": "groups"}
    assert texts(dispatcher) == ["好的，记下了：48岁；个体经营/创业。"]


@pytest.mark.parametrize("answer, intent, groups", [("重新填", "deny", None), ("我是农民工", "inform", ["migrant_worker"])])
async def test_starting_afresh_drops_the_facts_set_aside(dispatcher, answer, intent, groups):
    events = await validate(screening_tracker(answer, intent, "reuse_facts", set_aside_facts=SET_ASIDE),
                            dispatcher, REUSE_DOMAIN)
    slots = slot_events(events)
    assert slots["reuse_facts"] is False and slots["set_aside_facts"] is None and "age" not in slots
    assert slots.get("groups") == groups and slots["requested_slot"] == "age"
