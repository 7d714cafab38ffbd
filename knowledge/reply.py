"""The chat's answer decision: what to reply to one citizen message, in the context of the conversation.

    reply = respond(message, searcher, engine, nlu=NluHint("ask_loan", 0.91), context=Context(...))
    reply.kind  → "answer" | "clarify" | "social" | "no_answer"

Retrieval decides, the NLU advises: every free-text message reaches this one decision, whatever intent the
NLU picked. `social` (a greeting, thanks …) only when the message is that and nothing more; `clarify` when
a bare generic question ("有什么补贴？") has no topic to lean on; otherwise the message is searched — on
its own, or together with the previous question when it is a follow-up ("这个去哪办", "那我50岁呢") — and
answered when the evidence (`knowledge.decision`) says the policy covers it.

An answer opens with one sentence that answers the question as asked (knowledge.headline), personal when
the message or the conversation states facts (age, group, activity: the screening form's extractor
knowledge.profile_text), then the quote, the citation and the departments (knowledge.answer).
No Rasa imports: the action server reaches this through POST /api/answer.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

import yaml

from .answer import answer_block, no_answer_text, split_parts
from .decision import OUT_OF_SCOPE_INTENTS, SOCIAL_INTENTS, NluHint, answer_probability, hint_for
from .headline import (HeadlineContext, entitlement_answer, entitlement_overview, generic_words, headline,
                       preferred_hit, relevant_rules)
from .profile_text import ProfileUpdate, fact_spans, is_question, parse_profile
from .question_details import asked_details, has_evidence
from .search import Hit, PartResult, SearchResult, split_question
from .textnorm import normalize
from .tokenize import tokenize

DIALOGUE_FILE = Path(__file__).resolve().parent / "lexicon" / "dialogue.yaml"
SOCIAL_CONFIDENCE = 0.6  # a social intent answers socially only when retrieval has nothing and the NLU is this sure
SOCIAL_LEFTOVER_CHARS = 4  # … and at most this much is left beside the lexicon's social words ("你叫啥名字" → "名字")
ACK_INTENTS = frozenset({"affirm", "deny", "stop"})  # outside a flow: "好的" / "算了" → social "ack" (anything else?)
_PUNCT = re.compile(r"[\s,，.。!！?？;；:：、~～…\"'“”‘’()（）\[\]【】/]+")


@dataclass
class Context:
    """What the conversation already established (slots kept by the dialogue)."""
    topic_question: str = ""                 # the question the last answer answered
    topic_clauses: list[str] = field(default_factory=list)  # clause ids it cited
    facts: dict = field(default_factory=dict)  # age / groups / activities known so far (contract names)
    # earlier topics, latest first ({"question", "clauses"}), for a return to one: "回到刚才那个贷款…"
    history: list[dict] = field(default_factory=list)


@dataclass
class Reply:
    kind: str                                # answer | clarify | social | screening | no_answer
    parts: list[str] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    bubble: str = ""                         # the web chat's short form of `parts` (answer + citation lines), if any
    buttons: list[dict] = field(default_factory=list)
    social: str = ""                         # greet | thanks | goodbye | chitchat, for kind social
    facts: dict = field(default_factory=dict)  # the conversation's facts after this message, when it stated any
    topic_question: str = ""                 # what the next follow-up refers back to
    topic_clauses: list[str] = field(default_factory=list)
    topic_history: list[dict] = field(default_factory=list)  # the earlier topics after this message
    returned: bool = False                   # the message went back to an earlier topic ("回到刚才…")
    personal: bool = False                   # the answer used the person's facts
    offer_screening: bool = False
    follow_up: bool = False
    relevance: float = 0.0
    probability: float = 0.0                 # of "the policy answers this", NLU evidence included
    normalized: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind == "answer"


@functools.lru_cache(maxsize=2)
def dialogue_terms(path: str = str(DIALOGUE_FILE)) -> dict:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    # matched against text with spaces and punctuation removed: "which office" → "whichoffice"
    lower = lambda words: sorted({_PUNCT.sub("", normalize(str(w)).lower()) for w in words},  # noqa: E731
                                 key=len, reverse=True)
    data["social"] = {kind: lower(words) for kind, words in data["social"].items()}
    data["fillers"] = lower(data["fillers"])
    data["follow_up"]["markers"] = lower(data["follow_up"]["markers"])
    data["follow_up"]["detail_only"] = lower(data["follow_up"]["detail_only"])
    data["follow_up"]["openers"] = lower(data["follow_up"]["openers"])
    data["follow_up"]["returns"] = lower(data["follow_up"]["returns"])
    data["follow_up"]["how_words"] = lower(data["follow_up"]["how_words"])
    data["follow_up"]["pronouns"] = lower(data["follow_up"]["pronouns"])
    data["follow_up"]["soft_returns"] = lower(data["follow_up"]["soft_returns"])
    data["follow_up"]["pronoun_followers"] = lower(data["follow_up"]["pronoun_followers"])
    data["who"] = lower(data["who"])
    data["follow_up"]["topic_neutral"] = set(data["follow_up"]["markers"] + data["follow_up"]["detail_only"]
                                             + data["fillers"])
    data["clarify"]["generic"] = lower(data["clarify"]["generic"])
    data["clarify"]["question_words"] = lower(data["clarify"]["question_words"])
    data["screening_request"] = lower(data["screening_request"])
    return data


def _strip(text: str, words: list[str]) -> str:
    for word in words:  # longest first
        text = text.replace(word, "")
    return text


def social_kind(normalized: str, terms: dict | None = None) -> str:
    """"greet"/"thanks"/"goodbye"/"chitchat" when the message is only that, else ""."""
    found, rest = social_parts(normalized, terms)
    return found if found and not rest else ""


def social_parts(normalized: str, terms: dict | None = None) -> tuple[str, str]:
    """(the first social kind found, what is left once social phrases and fillers are removed)."""
    terms = terms or dialogue_terms()
    text = _PUNCT.sub("", normalized.lower())
    found = ""
    for kind, phrases in terms["social"].items():
        for phrase in phrases:
            if phrase and phrase in text:
                found = found or kind
                text = text.replace(phrase, "")
    return found, _strip(text, terms["fillers"])


def is_generic_question(normalized: str, terms: dict | None = None) -> bool:
    """"有什么补贴？", "有啥扶持政策" — a generic word and question words only."""
    terms = terms or dialogue_terms()
    text = _PUNCT.sub("", normalized.lower())
    if not any(word in text for word in terms["clarify"]["generic"]):
        return False
    rest = _strip(_strip(text, terms["clarify"]["generic"]), terms["clarify"]["question_words"])
    return not _strip(rest, terms["fillers"])


def follow_up_kind(normalized: str, context: Context, terms: dict | None = None) -> str:
    """How the message refers back to the topic under discussion:
    "bare" — it has no topic of its own: only a detail question, facts or markers ("这个去哪办", "那我50岁呢",
    "要不要担保"); "marked" — it starts with a marker (这个/那…) but names something itself ("那社保呢"),
    so retrieval decides whether the topic changed; "" — a new question."""
    if not context.topic_question:
        return ""
    terms = terms or dialogue_terms()
    spec = terms["follow_up"]
    text = _PUNCT.sub("", normalized.lower())
    marked = any(text.startswith(marker) for marker in spec["markers"]) or refers_back(text, context, terms)
    if fact_spans(text) and any(word in text for word in spec["how_words"]):
        return "marked" if marked else ""  # "怎么搞直播带货": how to do something of its own — retrieval decides
    # What is left once facts ("我50岁", "是农民工"), detail questions and fillers are removed is a topic of
    # its own: then the message is a new question, not a follow-up.
    rest = "".join(char if not any(start <= i < end for start, end in fact_spans(text)) else " "
                   for i, char in enumerate(text)).replace(" ", "")
    rest = _strip(_strip(rest, spec["detail_only"]), spec["markers"])
    rest = _strip(re.sub(r"\d+(?:\.\d+)?(?:周岁|岁|万块|万元|万|元|块钱|块)?", "", rest), terms["fillers"])
    # A lone character ("补", "归") names no topic, nor do Chinese words the topic's question already has ("现在
    # 还能缓吗" after "养老保险能缓缴吗"); latin letters say nothing alone, so English is left to retrieval.
    echoes_topic = not re.search(r"[a-z]", rest) \
        and set(rest) <= set(_PUNCT.sub("", normalize(context.topic_question).lower()))
    if (len(rest) <= 1 or echoes_topic) and len(text) <= spec["short_chars"] * 2:
        return "bare"
    # "那企业下岗的呢": another person's facts, same question — not "那网约车司机有啥扶持", a generic question of its own
    if marked and len(rest) <= 2 and fact_spans(text) and not any(word in rest for word in terms["clarify"]["generic"]):
        return "bare"
    return "marked" if marked else ""


def refers_back(text: str, context: Context, terms: dict) -> bool:
    """A pronoun inside the message stands for the topic under discussion: "学这个有补贴没", "平台收费这事哪个部门
    盯着" — it is followed by a detail question or nothing (not by a noun: "这个执照"), and what precedes it says
    nothing new ("零工市场这块谁管" is about 零工市场, which the pronoun resumes). `text` is folded (lower case,
    no punctuation)."""
    spec = terms["follow_up"]
    after_words = spec["pronoun_followers"] + spec["detail_only"] + terms["fillers"]
    echoed = set(_PUNCT.sub("", normalize(context.topic_question).lower()))
    for pronoun in spec["pronouns"]:
        start = text.find(pronoun)
        if start < 0:
            continue
        after = text[start + len(pronoun):]
        if after and not any(after.startswith(word) for word in after_words):
            continue
        before = _strip(_strip(_strip(text[:start], spec["detail_only"]), spec["markers"]), terms["fillers"])
        if len(set(before) - echoed) <= 1:
            return True
    return False


def without_opener(message: str, terms: dict | None = None) -> str:
    """The message without a leading discourse marker ("另外问一下，", "对了", "说回刚才的，", "by the way"):
    it announces a turn of the conversation, not what is asked. Returned normalised when one was removed."""
    terms = terms or dialogue_terms()
    normalized = normalize(message or "")
    folded = normalized.lower()
    for opener in terms["follow_up"]["openers"]:  # longest first
        end = _prefix_end(folded, opener)
        if end and _PUNCT.sub("", folded[end:]):
            return normalized[end:].lstrip(" ,，.。:：;；!！、~～…")
    return message or ""


def _prefix_end(text: str, phrase: str) -> int:
    """Where `phrase` ends if `text` starts with it (spaces and punctuation skipped), else 0."""
    i = 0
    for char in phrase:
        while i < len(text) and _PUNCT.fullmatch(text[i]):
            i += 1
        if i >= len(text) or text[i] != char:
            return 0
        i += 1
    return i


def same_question(a: str, b: str) -> bool:
    """The same words, whatever the punctuation, width or script."""
    key = lambda text: _PUNCT.sub("", normalize(text or "").lower())  # noqa: E731
    return bool(key(a)) and key(a) == key(b)


def is_follow_up(normalized: str, context: Context, terms: dict | None = None) -> bool:
    return follow_up_kind(normalized, context, terms) != ""


def message_facts(update: ProfileUpdate) -> dict:
    """The facts one message states, as contract names (what the screening slots hold)."""
    facts: dict[str, Any] = {}
    if update.age is not None:
        facts["age"] = update.age
    if update.groups:
        facts["groups"] = list(update.groups)
    if update.activities:
        facts["activities"] = list(update.activities)
    return facts


def merged_facts(known: dict, update: ProfileUpdate) -> dict:
    """The conversation's facts updated by this message ("不对，我是农民工" replaces the groups)."""
    facts = {key: value for key, value in (known or {}).items() if value is not None}
    if update.age is not None:
        facts["age"] = update.age
    for slot in ("groups", "activities"):
        named, denied = update.names(slot)
        if not named and not denied:
            continue
        base = [] if update.correction and named else list(facts.get(slot) or [])
        kept = [name for name in base if name not in denied]
        facts[slot] = kept + [name for name in named if name not in kept]
    return facts


# ---------------------------------------------------------------------------------------------------
def respond(message: str, searcher, engine=None, nlu: NluHint | None = None, context: Context | None = None,
            today: dt.date | None = None, decision: dict | None = None) -> Reply:
    context = context or Context()
    returned = returned_topic(message or "", context)
    opened = False
    if returned:  # "回到刚才那个贷款，…": read in the context of that earlier topic
        message, context, opened = returned
    # a return opens the message like "说回…": what it names itself ("再说回摆摊，占道经营要交钱吗") is judged on its own;
    # after "刚才那个" the words name the earlier topic itself ("刚才那个车间的事找谁"): a follow-up of it
    reply = _decide(message, searcher, engine, nlu, context, today or dt.date.today(), decision, opened)
    reply.topic_history, reply.returned = next_history(context, reply), bool(returned)
    return reply


MAX_HISTORY = 3  # earlier topics kept for a return to one


def returned_topic(message: str, context: Context, terms: dict | None = None) -> tuple[str, Context, bool] | None:
    """"回到刚才那个贷款，借12万要反担保吗", "说回刚才的问题，这个找谁": the conversation goes back to an earlier
    topic — the one whose question shares most words with the message, else the latest one before the
    current. Returns the message without its opener (nothing left: the earlier question, asked again), the
    context with that topic under discussion and the current one among the earlier ones, and whether the
    message opened a turn of its own (a hard return: what it names is judged on its own)."""
    if not context.history:
        return None
    terms = terms or dialogue_terms()
    normalized = normalize(message)
    end = max((_prefix_end(normalized.lower(), opener) for opener in terms["follow_up"]["returns"]), default=0)
    soft = 0 if end else max((_prefix_end(normalized.lower(), opener)
                              for opener in terms["follow_up"]["soft_returns"]), default=0)
    if not end and not soft:
        return None
    rest = normalized[(end or soft):].lstrip(" ,，.。:：;；!！、~～…")
    words = topic_words(rest, terms)
    shared = lambda question: len({word for word in words if word in normalize(question).lower()})  # noqa: E731
    chosen = max(range(len(context.history)),
                 key=lambda i: (len(words & topic_words(context.history[i]["question"], terms)), -i))
    if soft:  # "刚才那个执照的事…": only an earlier topic its words name better than the current one's
        chosen = max(range(len(context.history)), key=lambda i: (shared(context.history[i]["question"]), -i))
        if not shared(context.history[chosen]["question"]) \
                or shared(context.history[chosen]["question"]) < shared(context.topic_question):
            return None  # on a tie, "刚才说的家政那个…" means the earlier topic that named it
    earlier = context.history[chosen]
    current = [{"question": context.topic_question, "clauses": list(context.topic_clauses)}] \
        if context.topic_clauses else []
    others = current + [topic for i, topic in enumerate(context.history) if i != chosen]
    restored = Context(earlier["question"], list(earlier["clauses"]), context.facts, others[:MAX_HISTORY])
    return (rest if _PUNCT.sub("", rest) else earlier["question"]), restored, bool(end)


def topic_words(text: str, terms: dict) -> set[str]:
    """The words of a message that can name a topic (not 这个, 去哪办, 吗 …)."""
    return {word for word in tokenize(normalize(text).lower())
            if len(word) > 1 and word not in terms["follow_up"]["topic_neutral"] and not _PUNCT.fullmatch(word)}


def next_history(context: Context, reply: Reply) -> list[dict]:
    """The earlier topics after this reply, latest first: the topic under discussion joins them when the
    reply starts another one (a new question, or the clarifying question of one)."""
    if reply.kind not in ("answer", "clarify") or not context.topic_clauses \
            or same_question(reply.topic_question, context.topic_question):
        return list(context.history)
    current: dict = {"question": context.topic_question, "clauses": list(context.topic_clauses)}
    kept = [topic for topic in context.history if not same_question(topic["question"], current["question"])
            and not same_question(topic["question"], reply.topic_question)]
    return [current, *kept][:MAX_HISTORY]


def _decide(message: str, searcher, engine, nlu: NluHint | None, context: Context, today: dt.date,
            decision: dict | None, returned: bool = False) -> Reply:
    terms = dialogue_terms()
    asked = without_opener(message, terms)
    opened, message = returned or asked != (message or ""), asked
    normalized = normalize(message or "")
    nlu = hint_for(normalized, nlu or NluHint())
    update = parse_profile(message or "", today=today)
    # "退役军人…补助金有多少": a subject, not the asker — unless the asker described themselves already
    if not context.facts and not describes_asker(normalized, update, terms):
        update = ProfileUpdate()
    stated = message_facts(update)

    # a button's payload ("/greet") names its intent exactly; a social one is answered socially
    kind = social_kind(normalized, terms) or (nlu.intent if normalized.startswith("/") and nlu.intent in SOCIAL_INTENTS
                                              else "")
    if kind:
        return Reply("social", social=kind, normalized=normalized)
    if any(phrase in _PUNCT.sub("", normalized.lower()) for phrase in terms["screening_request"]):
        return Reply("screening", facts=merged_facts(context.facts, update) if stated else {},
                     normalized=normalized)

    follow_up = continues_topic(message, normalized, searcher, context, terms, engine, opened)
    # A clarifying question keeps the generic question as the topic, with no clause yet.
    clarified = bool(context.topic_question) and not context.topic_clauses
    if clarified and names_entitlement(message, engine):  # the option picked ("以工代训") is the question now
        follow_up = False
    if not follow_up and (clarified or not context.topic_question) and not stated \
            and is_generic_question(normalized, terms):
        spec = terms["clarify"]
        return Reply("clarify", parts=[spec["prompt"]], buttons=list(spec["options"]), normalized=normalized,
                     topic_question=message)

    topic = _PUNCT.sub(" ", context.topic_question).strip()
    # "我40岁，下岗了，想摆个摊，有啥扶持没" — and a correction of it ("不对，我50岁"), or the facts given in
    # answer to the clarifying question ("有什么补贴？" … "我是农民工，想开个早点铺"): what applies to this person.
    generic_topic = (follow_up or (clarified and not names_entitlement(message, engine))) \
        and is_generic_question(without_facts(normalize(context.topic_question)), terms)
    if (generic_topic and stated) or (not follow_up and (stated.get("age") or stated.get("groups"))
                                      and is_generic_question(without_facts(normalized), terms)):
        facts = merged_facts(context.facts, update)
        overview = _overview_reply(facts, today, engine, normalized,
                                   context.topic_question if generic_topic else message, live_clauses(searcher))
        if overview:
            return overview

    if follow_up:  # searched with the topic; the clause under discussion answers it
        # words of its own, even ones the topic has ("减房租这块归谁管" among the loan and the rent), pick the clause
        own = searcher.search(message, k=TOPIC_K) if len(own_words(message)) > 1 else None
        result = _on_topic(searcher.search(f"{topic} {_PUNCT.sub(' ', message).strip()}", k=TOPIC_K),
                           context.topic_clauses, own, message, context.topic_question)
    else:
        result = searcher.search(message, k=5)
        if result.answerable and nlu.intent in OUT_OF_SCOPE_INTENTS and context.topic_clauses \
                and follow_up_kind(normalized, context, terms):
            # "那摆摊的地方是谁给划的" after a policy answer: the NLU reads the message out of its conversation,
            # where an elliptical question looks off-topic; retrieval, which found the clause, decides alone
            nlu = NluHint()

    weights = decision or getattr(searcher.config, "chat_decision", None)
    probability = answer_probability(result.relevance, nlu, weights, normalized)
    on_topic = follow_up and bool(result.hits) and result.hits[0].clause_id in context.topic_clauses
    facts = merged_facts(context.facts, update)
    headline_context = HeadlineContext(engine=engine, facts=facts, stated=bool(stated), today=today,
                                       terms=terms, live=live_clauses(searcher))
    if not result.hits or not (probability >= 0.5 or on_topic or _covered_but_detail(searcher, result, nlu, weights)):
        # Someone who described themselves and asks about an entitlement ("我下岗了…能贷点款不") is answered by
        # the calculator's rules even when retrieval alone is unsure.
        personal_answer = entitlement_answer(message, headline_context) if stated else None
        if personal_answer:
            text, citations = personal_answer
            return Reply("answer", parts=split_parts(text), citations=citations, facts=facts, topic_question=message,
                         topic_clauses=list(dict.fromkeys(c["clause_id"] for c in citations)), personal=True,
                         offer_screening=True, relevance=result.relevance, probability=probability,
                         normalized=result.normalized)
        # the NLU's greeting for a greeting the lexicon lacks — not for a question that opens with one or that
        # the NLU misread ("晚上能在小区门口摆摊吗" → greet): a greeting only when the message is nothing more
        if nlu.intent in SOCIAL_INTENTS and nlu.confidence >= SOCIAL_CONFIDENCE \
                and len(social_parts(normalized, terms)[1]) <= SOCIAL_LEFTOVER_CHARS:
            return Reply("social", social=nlu.intent, normalized=normalized, probability=probability)
        if nlu.intent in ACK_INTENTS and nlu.confidence >= SOCIAL_CONFIDENCE and not follow_up:
            return Reply("social", social="ack", normalized=normalized, probability=probability)
        return Reply("no_answer", parts=split_parts(no_answer_text(result.hits)), relevance=result.relevance,
                     probability=probability, normalized=result.normalized)
    blocks, bubbles, citations, clauses, personal, offer = _answer_blocks(result, message, headline_context,
                                                                          topic if follow_up else "", stated)
    if not blocks:
        return Reply("no_answer", parts=split_parts(no_answer_text(result.hits)), relevance=result.relevance,
                     probability=probability, normalized=result.normalized)
    text, bubble = "\n\n".join(blocks), "\n\n".join(bubbles)
    switched = follow_up and bool(result.hits) and switches_entitlement(message, topic, result.hits[0],
                                                                         headline_context)
    topic_question, topic_clauses = next_topic(message, follow_up, context, clauses, engine, switched)
    return Reply("answer", parts=split_parts(text), citations=citations, bubble=bubble if bubble != text else "",
                 facts=facts if stated else {},
                 topic_question=topic_question, topic_clauses=topic_clauses,
                 personal=personal,
                 offer_screening=offer, follow_up=follow_up, relevance=result.relevance,
                 probability=probability, normalized=result.normalized)


def describes_asker(normalized: str, update: ProfileUpdate, terms: dict) -> bool:
    """The message states facts about the asker (or the asker's family): an age, or a group / activity with a
    word of self-reference (dialogue.yaml `self_reference`: 我, 额, 娃, my …). A group named without one is the
    subject of the question ("高校毕业生报到证怎么办理"), not a description of the person asking."""
    if update.age is not None or not message_facts(update):
        return True
    text = normalized.lower()
    words = set(re.findall(r"[a-z']+", text))
    return any(word in words if word.isascii() else word in text for word in terms.get("self_reference") or [])


def live_clauses(searcher) -> frozenset | None:
    """Clause ids the index serves now (retired clauses and documents are not in it)."""
    index = getattr(searcher, "index", None)
    clauses = getattr(index, "clauses", None)
    return None if clauses is None else frozenset(clause["clause_id"] for clause in clauses)


def without_facts(normalized: str) -> str:
    """The message with its facts (groups, activities, ages) taken out: "我40岁下岗了想摆个摊有啥扶持" → "有啥扶持"."""
    text = _PUNCT.sub("", normalized.lower())
    spans = fact_spans(text)
    kept = "".join(char for i, char in enumerate(text) if not any(start <= i < end for start, end in spans))
    return re.sub(r"\d+(?:\.\d+)?\s*(?:周岁|岁)?|今年|想|了|我是|我", "", kept)


def _overview_reply(facts: dict, today: dt.date, engine, normalized: str, message: str,
                    live: frozenset | None) -> Reply | None:
    overview = entitlement_overview(HeadlineContext(engine=engine, facts=facts, stated=True, today=today, live=live))
    if not overview:
        return None
    text, citations, _ = overview
    return Reply("answer", parts=split_parts(text), citations=citations, facts=facts, topic_question=message,
                 topic_clauses=list(dict.fromkeys(c["clause_id"] for c in citations)), personal=True,
                 offer_screening=True, relevance=1.0, probability=1.0, normalized=normalized)


def _covered_but_detail(searcher, result: SearchResult, nlu: NluHint, weights: dict | None) -> bool:
    """The policy covers the topic and only the asked-for detail (材料, 地点, 金额…) is missing from the text:
    answer — the reply then says the text does not state it and names the department."""
    features = result.features or {}
    if not features.get("detail_missing") or not hasattr(searcher, "relevance") or not result.hits:
        return False
    # Only where to go / what to bring / how to apply: a missing amount, period or rate (失业保险金领几个月,
    # 贷款利率) is a question the document does not answer, and stays an honest no-answer.
    top = result.hits[0].sentences[:1]
    if any(not has_evidence(detail, top) for detail in asked_details(result.normalized)
           if detail in ("amount", "duration", "rate")):
        return False
    relevance = searcher.relevance({**features, "detail_missing": 0.0})
    return answer_probability(relevance, nlu, weights, result.normalized) >= 0.5


TOPIC_K = 20            # a follow-up ranks this many clauses, so the topic's clause is among them
UNKNOWN_TOPIC = 0.75    # a message mostly made of words the policy never uses ("那医保报销咋弄": 1.0) is a new topic


def continues_topic(message: str, normalized: str, searcher, context: Context, terms: dict, engine=None,
                    opened: bool = False) -> bool:
    """A follow-up of the topic under discussion? A message with no topic of its own ("这个去哪办", "那我50岁呢")
    is, and so is one asking about a condition of the entitlement under discussion ("对年龄有要求吗"). A marked
    or short one ("那社保呢", "补几个月") is unless retrieval answers it with another clause on its own, or it
    is mostly about something the policy never mentions (then it is a new question). A message that opens
    with a turn of the conversation ("另外问一下，…") and says what it is about is a new question."""
    if same_question(message, context.topic_question):
        return False  # asked again: answered as the first time, not read as a detail of itself
    if context.topic_clauses and corrects_facts(message) and not names_entitlement(message, engine):
        return True  # "不对，我没开店，是在工地打零工": the topic is answered again for the corrected facts
    kind = follow_up_kind(normalized, context, terms)
    if kind == "bare":  # after an opener, an activity named ("说回摆摊，…") is the new topic, not a fact
        return not (opened and fact_spans(_PUNCT.sub("", normalized.lower())))
    short = len(_PUNCT.sub("", normalized)) <= terms["follow_up"]["short_chars"]
    if not context.topic_question or opened:
        return False
    if refers_back(_PUNCT.sub("", normalized.lower()), context, terms) and not names_entitlement(message, engine):
        return True  # "学这个有补贴没": about the topic, whichever of its clauses answers (knowledge.reply._on_topic)
    if kind != "marked" and not short:
        return asks_more_of_the_topic(message, searcher, context, engine)
    if kind != "marked" and asks_about_a_condition(normalized, context, engine, terms):
        return True
    if names_another_entitlement(message, context, engine):
        return False  # "养老保险断交了咋办" while 夜市摆摊 is under discussion: a new question, however short
    if topic_clause_has_its_words(message, searcher, context):
        return True  # "谁来组织" after 直播培训: the training clause says who organises, whatever else says 组织
    alone = searcher.search(message, k=5)
    if alone.answerable and alone.hits and alone.hits[0].clause_id not in context.topic_clauses:
        return False
    return (alone.features or {}).get("unknown", 0.0) < UNKNOWN_TOPIC


def names_another_entitlement(message: str, context: Context, engine) -> bool:
    """The message names an entitlement (rules.yaml `keywords`) and none of the clauses under discussion has it."""
    rules = getattr(engine, "rules", None)
    if rules is None or not context.topic_clauses:
        return False
    named = relevant_rules(normalize(message).lower(), None, rules, personal=False)[1]
    clauses = {rules.articles[rule["article"]]["clause_id"] for rule in rules.entitlements if rule["id"] in named}
    return bool(clauses) and not clauses & set(context.topic_clauses)


def topic_clause_has_its_words(message: str, searcher, context: Context) -> bool:
    """Every word the message names itself (detail questions and fillers aside: "谁来组织" → 组织) is in the text
    of a clause under discussion: retrieval alone may rank another clause that uses the word more, but the
    topic's clause answers it."""
    index = getattr(searcher, "index", None)
    texts = [normalize(clause.get("text") or "") for clause in getattr(index, "clauses", None) or []
             if clause.get("clause_id") in context.topic_clauses]
    words = [word for word in tokenize(own_words(message)) if len(word) > 1]
    return bool(words) and any(all(word in text for word in words) for text in texts)


def asks_more_of_the_topic(message: str, searcher, context: Context, engine) -> bool:
    """A longer question that names no entitlement and that the clause under discussion answers on its own
    ("招了3个退役军人，一共最多补多少" after 以工代训): it asks more about the topic's entitlement."""
    if not context.topic_clauses or names_entitlement(message, engine):
        return False
    alone = searcher.search(message, k=5)
    return alone.answerable and bool(alone.hits) and alone.hits[0].clause_id in context.topic_clauses


def corrects_facts(message: str) -> bool:
    """"不对，我是农民工", "说错了，我48岁": a correction that states facts and asks nothing new — not "不对，
    我问的是摆摊要不要办执照", a correction of the question."""
    update = parse_profile(message or "")
    return update.correction and bool(message_facts(update)) and not is_question(message) and "问" not in message


def topic_rules(context: Context, engine) -> list[dict]:
    """The entitlements of the clauses under discussion (rules.yaml), in the order of those clauses."""
    rules = getattr(engine, "rules", None)
    if rules is None:
        return []
    clause_of = {rule["id"]: rules.articles[rule["article"]]["clause_id"] for rule in rules.entitlements}
    return [rule for clause in context.topic_clauses for rule in rules.entitlements if clause_of[rule["id"]] == clause]


def asks_about_a_condition(normalized: str, context: Context, engine, terms: dict | None = None) -> bool:
    """"对年龄有要求吗" while an entitlement that compares the age is under discussion; "啥样的企业才给" (a
    who-question, dialogue.yaml `who`, with a word of a condition's label: "是中小微企业（用工方）") while 以工代训 is."""
    rules = getattr(engine, "rules", None)
    if rules is None:
        return False
    text = normalized.lower()
    who = any(word in text for word in (terms or {}).get("who") or [])
    words = {word for word in tokenize(text) if len(word) > 1} if who else set()
    for rule in topic_rules(context, engine):
        for condition in rule["conditions"]:
            fact = (condition.get("compare") or {}).get("fact")
            label = rules.facts.get(fact, {}).get("label", "") if fact else ""
            if label and label in text:
                return True
            if any(word in normalize(condition.get("label") or "").lower() for word in words):
                return True
    return False


def no_requirement_note(stated: dict, entitlement_ids: list[str], engine, said: str = "") -> str:
    """"创业担保贷款没有年龄要求" — a follow-up states a fact (an age) that an entitlement under discussion does
    not ask about (its conditions in rules.yaml compare no such fact): the new fact changes nothing for it.
    Entitlements `said` already says this of are left out."""
    rules = getattr(engine, "rules", None)
    if rules is None or stated.get("age") is None:
        return ""
    label = rules.facts.get("age", {}).get("label", "年龄")
    titles = [rule["title"] for rule in rules.entitlements if rule["id"] in entitlement_ids
              and not any((c.get("compare") or {}).get("fact") == "age" for c in rule["conditions"])
              and f"{rule['title']}没有{label}要求" not in said]
    return "、".join(titles) + f"没有{label}要求" if titles else ""


def _on_topic(result: SearchResult, topic_clauses: list[str], own: SearchResult | None = None,
              message: str = "", topic_question: str = "") -> SearchResult:
    """For a follow-up, the clause under discussion comes first: the message refers back to it. When several
    clauses are under discussion ("能贷多少？另外房租能减不"), the one the message's own words rank highest
    ("房租那个找谁" → the rent clause); with no words of its own ("这个去哪办"), the one answered last. A message
    with words of its own (`own`: its search alone) also picks the clause's sentences ("有人多收钱咋办" → the
    sentence on complaints, not the one the topic asked about).
    A clause beside the topic's can answer instead: when the message's own words do not point at the topic's
    clause at all, the clause that the topic and the message rank high together, and the message alone too,
    is what is asked about ("学这个有补贴没" after 家政培训 → the training clause's subsidies, not 家政)."""
    if not topic_clauses:
        return result
    neighbour = neighbour_clause(result, topic_clauses, own, topic_question)
    if neighbour:
        topic_clauses = [neighbour, *topic_clauses]
    ranked = [hit.clause_id for hit in own.hits] if own is not None and len(topic_clauses) > 1 else []
    order = sorted(topic_clauses, key=lambda c: (ranked.index(c) if c in ranked else len(ranked),
                                                 topic_clauses.index(c)))
    items: list[SearchResult | PartResult] = [result, *(result.by_part or [])]
    for item in items:
        on_topic = sorted((hit for hit in item.hits if hit.clause_id in topic_clauses),
                          key=lambda hit: order.index(hit.clause_id))
        if on_topic:
            chosen = _own_sentences(on_topic[0], own, message, topic_question)
            item.hits = [chosen] + [hit for hit in item.hits if hit is not on_topic[0]]
            item.answerable = True
    return result


def _own_sentences(hit: Hit, own: SearchResult | None, message: str, topic_question: str = "") -> Hit:
    """The topic's clause with its sentences in the order the message's own words rank them — when the sentence
    they rank first shares more of the message's new words than the one the topic ranked first ("要是额外收钱呢"
    → "不得额外设置条件变相收费"; "那城管会不会赶我" shares no word with either: the topic's order stays). Words
    the topic's question has already are not new: "啥样的基地才给" after "孵化基地能免费给块地方不" asks about
    the same 基地, not about another sentence that says 基地."""
    mine = next((other for other in (own.hits if own is not None else []) if other.clause_id == hit.clause_id), None)
    if mine is None or not mine.sentences or not hit.sentences or mine.sentences[0] == hit.sentences[0]:
        return hit
    own_chars = new_characters(message, topic_question)
    # characters, not words: "占了道要交钱不" and "占道经营" share 占 and 道 but no jieba word
    shared = lambda sentence: len(own_chars & set(normalize(sentence)))  # noqa: E731
    if shared(mine.sentences[0]) <= shared(hit.sentences[0]):
        return hit
    return dataclasses.replace(hit, sentences=mine.sentences, sentence_scores=mine.sentence_scores)


def own_words(message: str) -> str:
    """What the message names itself: without detail questions, markers and fillers (dialogue.yaml)."""
    terms = dialogue_terms()
    spec = terms["follow_up"]
    return _strip(_strip(_strip(_PUNCT.sub("", normalize(message).lower()), spec["detail_only"]), spec["markers"]),
                  terms["fillers"])


def new_characters(message: str, topic_question: str) -> set[str]:
    """The characters the message adds to what the topic's question says, markers and fillers aside — detail
    words included: "有人乱收费去哪投诉" is about the sentence on complaints (投诉举报)."""
    terms = dialogue_terms()
    text = _strip(_strip(_PUNCT.sub("", normalize(message).lower()), terms["follow_up"]["markers"]), terms["fillers"])
    return set(text) - set(_PUNCT.sub("", normalize(topic_question).lower()))


NEIGHBOUR_RANKS = 3        # a neighbour clause is among the first this many of both searches
NEIGHBOUR_SHARE = 0.8      # … scoring at least this share of the joint search's best clause


def neighbour_clause(joint: SearchResult, topic_clauses: list[str], own: SearchResult | None,
                     topic_question: str = "") -> str:
    """The clause a follow-up with words of its own is about when they do not point at the topic's clause: the
    first of the joint search (topic + message) that the message's own search also ranks among its first —
    "" when the own words do point at the topic's clause, or no clause fits both, or the message names nothing
    beyond the topic's question but a detail."""
    named = set(own_words(own.query)) - set(_PUNCT.sub("", normalize(topic_question).lower())) if own else set()
    if own is None or not own.hits or not joint.hits or len(named) <= 1 \
            or any(hit.clause_id in topic_clauses for hit in own.hits[:NEIGHBOUR_RANKS]):
        return ""  # a detail question ("这事归哪个部门管") or words that fit the topic's clause: no neighbour
    best = joint.hits[0].score
    own_first = {hit.clause_id for hit in own.hits[:NEIGHBOUR_RANKS]}
    return next((hit.clause_id for hit in joint.hits[:NEIGHBOUR_RANKS]
                 if hit.clause_id in own_first and hit.score >= NEIGHBOUR_SHARE * best), "")


MAX_TOPIC_CLAUSES = 4


def next_topic(message: str, follow_up: bool, context: Context, clauses: list[str],
               engine=None, switched: bool = False) -> tuple[str, list[str]]:
    """What the next follow-up refers back to. A new question is its own topic. A follow-up keeps the topic,
    and the clauses discussed so far with the one just answered first — unless it names an entitlement of
    its own ("那创业担保贷款呢", or `switched`: "那贷款呢" after the tax relief of the same clause): then that
    is the topic now ("我55了有影响没" is about the loan)."""
    if not follow_up:
        return message, clauses
    kept = list(dict.fromkeys(clauses + list(context.topic_clauses)))[:MAX_TOPIC_CLAUSES]
    return (message if switched or names_entitlement(message, engine) else context.topic_question), kept


def switches_entitlement(question: str, topic: str, hit: Hit, context: HeadlineContext) -> bool:
    """"那贷款呢", "要是问税呢" after the tax relief: the follow-up's own words name entitlements of the clause
    under discussion, none of which its topic named — it is about them now, not about the topic's ("那个贷款"
    after the 创业担保贷款 is still about it)."""
    rules = getattr(context.engine, "rules", None)
    if rules is None or not topic:
        return False
    generic = generic_words(context.terms)
    named = lambda text: {rule["id"] for rule in relevant_rules(normalize(text).lower(), hit, rules, False,  # noqa: E731
                                                                  generic)[0]}
    own = named(without_facts(normalize(question)))  # "那我50岁呢" states an age: it names no entitlement
    return bool(own) and not own & named(topic)


def names_entitlement(message: str, engine) -> bool:
    """The message names an entitlement itself ("创业担保贷款", "以工代训") — rules.yaml `keywords`."""
    rules = getattr(engine, "rules", None)
    return rules is not None and bool(relevant_rules(normalize(message).lower(), None, rules, personal=False)[1])


def _answer_blocks(result: SearchResult, question: str, context: HeadlineContext, topic: str,
                   stated: dict | None = None):
    """Each question's answer in full (`blocks`) and in the web chat's short form (`bubbles`), with the
    citations, the clauses answered, and whether the answer was personal / offers the screening."""
    parts = with_detail_parts_joined(result.by_part or [], context.engine)
    blocks, bubbles, citations, clauses, seen = [], [], [], [], set()
    covered: set[str] = set()  # entitlements a lead has answered
    personal = offer = False
    multi = len(parts) > 1 and not topic  # a follow-up is one question about the topic
    each: list[PartResult | None] = [*parts] or [None]
    for part in each:
        hits = part.hits if part else result.hits
        answerable = part.answerable if part else result.answerable
        text = part.text if part else result.normalized
        if multi and (not answerable or not hits):
            personal_answer = entitlement_answer(text, context)
            if personal_answer:
                blocks.append(personal_answer[0])
                citations.extend(personal_answer[1])
                personal = offer = True
            else:
                blocks.append(f"关于“{_short(text)}”，这份政策没有涉及。")
            bubbles.append(blocks[-1])
            continue
        hit = hits[0] if topic else preferred_hit(text if multi else question, hits, context)
        if hit.clause_id in seen and multi:
            # the clause is quoted already; a part asking about other entitlements in it still gets its answer
            lead = headline(text, hit, context, "")
            if lead and set(lead.entitlements) - covered:
                covered.update(lead.entitlements)
                blocks.append(lead.sentence)
                bubbles.append(lead.sentence)
                citations.extend(lead.citations)
                personal, offer = personal or lead.personal, True
            continue
        seen.add(hit.clause_id)
        clauses.append(hit.clause_id)
        # "那贷款呢" after the tax relief: the answer is about what the follow-up names, in the topic's clause
        lead_topic = "" if topic and switches_entitlement(question, topic, hit, context) else topic
        lead = headline(text if multi else question, hit, context, lead_topic)
        note = no_requirement_note(stated or {}, lead.entitlements, context.engine, lead.sentence) \
            if topic and lead else ""
        if note and lead:  # "我55了，有影响没" about a loan with no age limit
            lead.sentence = f"{note}。{lead.sentence}"
        block = answer_block(hit, text if multi else f"{lead_topic} {question}".strip(), context.today,
                             lead.sentence if lead else "")
        blocks.append(block.text)
        bubbles.append(block.bubble)
        citations.append(block.citation)
        citations.extend(lead.citations if lead else [])
        personal = personal or bool(lead and lead.personal)
        offer = offer or bool(lead and lead.entitlements)
        covered.update(lead.entitlements if lead else [])
    return blocks, bubbles, unique_citations(citations), clauses, personal, offer


def with_detail_parts_joined(parts: list[PartResult], engine=None) -> list[PartResult]:
    """"申请创业补贴要带啥，去哪达申请", "税费3年最多减免多少，平均每年多少": a part with no topic of its own asks
    a detail of the part before it — it joins that part (searched on its own, it finds some other clause, or none).
    A part naming an entitlement's topic ("能贷多少": 贷) is a question of its own."""
    joined: list[PartResult] = []
    for part in parts:
        text = normalize(part.text).lower()
        own_topic = engine is not None and bool(relevant_rules(text, None, engine.rules, personal=True)[0])
        if joined and not own_topic and follow_up_kind(text, Context(topic_question=joined[-1].text)) == "bare":
            joined[-1] = dataclasses.replace(joined[-1], text=f"{joined[-1].text} {part.text}")
        else:
            joined.append(part)
    return joined


def unique_citations(citations: list[dict]) -> list[dict]:
    """One card per clause and quote, in order of first mention."""
    seen, unique = set(), []
    for citation in citations:
        key = (citation.get("clause_id"), citation.get("quote"))
        if key not in seen:
            seen.add(key)
            unique.append(citation)
    return unique


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


__all__ = ["Context", "NluHint", "Reply", "respond", "social_kind", "is_generic_question", "is_follow_up",
           "merged_facts", "message_facts", "split_question", "Hit"]
