"""Whether the chat answers: retrieval evidence weighed together with the NLU's intent and confidence.

The retrieval relevance (a calibrated probability that the best clause answers the question, see
knowledge.search) is the main evidence. The NLU's guess is extra evidence with a measured weight:

    logit(p) = bias + w_relevance · logit(relevance) + w_latin · (share of Latin letters)
               + w_out_of_scope · conf·[intent = out_of_scope] + w_policy · conf·[intent is a policy topic]

Two states carry no NLU evidence and must not be confused: the NLU is silent (nlu_fallback, no intent sent
to /api/answer) — then `bias + w_relevance · logit(relevance)` is retrieval's own decision — and the NLU
cannot read the message (it is trained on Chinese; its intent for English is arbitrary, so it is dropped
by `hint_for`) — then the `latin` term says how far retrieval's relevance is trusted for English. Without
the `latin` term the tuning set's English questions, nearly all in scope and all without NLU evidence,
raised the bias of every message without evidence ("今天宝鸡下雨吗" from /api/answer was answered).

Measured and left out (10-fold CV on the tuning set, knowledge.calibrate --chat): a social intent (greet,
chitchat: on 7 tuning questions, 6 of them policy questions — too few to weigh; a message that is only a
greeting is answered socially before the decision, knowledge.reply.social_kind) and retrieval's unknown-word
share once more (already in `relevance`; no gain).

The weights live in knowledge/retrieval.yaml (`chat_decision`), fitted by `python -m knowledge.calibrate
--chat` on the tuning set only. With the defaults (1 · logit(relevance), nothing else) the decision is
retrieval's alone, so an intent can never refuse a question by itself.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

POLICY_INTENTS = frozenset({"ask_policy", "ask_loan", "ask_subsidy", "ask_tax", "ask_registration",
                            "ask_eligibility", "ask_social_insurance", "ask_training", "ask_wages_rights",
                            "ask_venue", "inform", "check_entitlements"})
SOCIAL_INTENTS = frozenset({"greet", "thanks", "goodbye", "chitchat"})
# nlu_fallback is not evidence either way: it only says the classifier was unsure.
OUT_OF_SCOPE_INTENTS = frozenset({"out_of_scope"})
DEFAULT_DECISION = {"bias": 0.0, "relevance": 1.0, "latin": 0.0, "out_of_scope": 0.0, "policy": 0.0}


@dataclass(frozen=True)
class NluHint:
    intent: str = ""
    confidence: float = 0.0


_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def latin_share(text: str) -> float:
    """Latin letters among the message's letters (Chinese characters and Latin letters): 1.0 for English,
    0.0 for Chinese, in between for mixed text ("秦青优惠贷 how much")."""
    latin, chinese = len(_LATIN.findall(text or "")), len(_CJK.findall(text or ""))
    return latin / (latin + chinese) if latin + chinese else 0.0


def hint_for(text: str, nlu: NluHint) -> NluHint:
    """The NLU's hint is evidence only for Chinese text: it is trained on Chinese and files most English
    questions under out_of_scope (seen on the tuning set's English questions), so there it says nothing."""
    text = (text or "").strip()
    # A button's payload ("/greet") names its intent exactly: that hint always counts.
    return nlu if text.startswith("/") or _CJK.search(text) else NluHint()


def nlu_features(nlu: NluHint) -> dict[str, float]:
    confidence = max(0.0, min(1.0, float(nlu.confidence or 0.0)))
    return {
        "out_of_scope": confidence if nlu.intent in OUT_OF_SCOPE_INTENTS else 0.0,
        "policy": confidence if nlu.intent in POLICY_INTENTS else 0.0,
    }


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def decision_features(relevance: float, nlu: NluHint, text: str = "") -> dict[str, float]:
    """`text`: the (normalised) message — its script tells "the NLU cannot read it" from "the NLU is silent"."""
    latin = 0.0 if text.startswith("/") else latin_share(text)  # a button's payload is read exactly
    return {"relevance": logit(relevance), "latin": latin, **nlu_features(nlu)}


def answer_probability(relevance: float, nlu: NluHint, weights: dict | None = None, text: str = "") -> float:
    """Probability that the policy answers the message; the chat answers at ≥ 0.5."""
    weights = {**DEFAULT_DECISION, **(weights or {})}
    features = decision_features(relevance, nlu, text)
    z = weights["bias"] + sum(weights[name] * value for name, value in features.items())
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
