"""Which NLU intents a message cannot mean (pure Python, no Rasa: bot.nlu.ControlIntentGuard applies it).

Intents that steer the conversation itself are said briefly ("好的", "不用了", "算了", "没帮助", "帮我算算"); a
longer message classified as one of them is almost always a question (seen on the tuning set:
"企业用工多了能不能共享给别的企业" → feedback_positive, "对需要办理行业准入许可的有何便利措施" → deny).

The NLU is trained on Chinese: its intent for an English sentence is arbitrary (tuning set: "What is the
on-the-job training subsidy per person per month?" → human_handoff, "How long can I receive unemployment
insurance benefits?" → check_entitlements). English control phrases are short ("yes", "no thanks", "talk to a
human"); a longer English message is a question, so neither a control intent nor a handoff request.

A handoff request names a person (`handoff_cues` in config.yml: 人工, 客服, 工作人员, human …); without one,
human_handoff is a question too: "用不用找人担保" asks about the loan's guarantee, not for an agent.

Likewise the screening form starts only when asked for (issue #8: "帮我算算", the button): check_entitlements
stands only for a message with a screening request (`screening_request` in knowledge/lexicon/dialogue.yaml,
the list the answer decision uses too). A short question is often filed there (tuning set: "村里修路，我能去干活
挣钱不" → 「您今年多大年龄？」); it is answered instead, and a generic one ("我能享受啥政策") gets the
clarifying question, whose buttons offer the screening.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from knowledge.textnorm import normalize

DIALOGUE_FILE = Path(__file__).resolve().parents[1] / "knowledge" / "lexicon" / "dialogue.yaml"
HANDOFF_INTENT = "human_handoff"
SCREENING_INTENT = "check_entitlements"
CONTROL_INTENTS = frozenset({"affirm", "deny", "stop", "thanks", "goodbye", "feedback_positive", "feedback_negative",
                             "check_entitlements"})
LATIN_GUARDED = CONTROL_INTENTS | {HANDOFF_INTENT}
# Said about an answer or to close, never asked: "政府能给啥帮扶" (a short question) is no feedback (帮扶 ~ 帮助).
NEVER_ASKED = frozenset({"feedback_positive", "feedback_negative", "thanks", "goodbye"})
# not 没啥用, 说的啥; "…呢" at the end asks ("那我要是离校3年了呢" was filed as goodbye)
_ASKS = re.compile(r"[?？]|(?<![没的])(?:啥|什么)(?![也都])|哪|多少|怎么|怎样|如何|几[个年月天岁]|[吗呢]$")
MAX_CHARS = 12        # Chinese: characters (a Latin word counts as one)
MAX_LATIN_WORDS = 5   # text with no Chinese: words

_WORDS = re.compile(r"[\u3400-\u9fff]|[a-z0-9]+")  # a Chinese character or a Latin word counts as one
_CJK = re.compile(r"[\u3400-\u9fff]")
_GAPS = re.compile(r"[\s,，.。!！?？;；:：、~～…\"'“”‘’()（）\[\]【】/]+")  # as knowledge.reply matches phrases


def compact(text: str) -> str:
    """Lower case without spaces and punctuation: "帮我 算算！" → "帮我算算"."""
    return _GAPS.sub("", (text or "").lower())


@functools.lru_cache(maxsize=2)
def screening_cues(path: str = str(DIALOGUE_FILE)) -> tuple[str, ...]:
    """The screening requests of the dialogue lexicon, normalised and compacted like the messages."""
    words = yaml.safe_load(Path(path).read_text(encoding="utf-8")).get("screening_request") or []
    return tuple(cue for cue in (compact(normalize(str(word))) for word in words) if cue)


def is_misfiled(intent: str | None, normalized: str, max_chars: int = MAX_CHARS,
                max_latin_words: int = MAX_LATIN_WORDS, handoff_cues: tuple[str, ...] = (),
                screening: tuple[str, ...] = ()) -> bool:
    """True when `intent` cannot be what the (normalised, lower-cased) message means: it is then a question
    for the answer decision (nlu_fallback). `screening`: the phrases that ask for the screening form."""
    if intent == HANDOFF_INTENT and handoff_cues and not any(cue in (normalized or "") for cue in handoff_cues):
        return True
    if intent == SCREENING_INTENT and screening:  # a request names the screening, whatever its length
        return not any(cue in compact(normalized) for cue in screening)
    words = len(_WORDS.findall(normalized or ""))
    if not _CJK.search(normalized or ""):
        return intent in LATIN_GUARDED and words > max_latin_words
    if intent in NEVER_ASKED and _ASKS.search(normalized or ""):
        return True
    return intent in CONTROL_INTENTS and words > max_chars
