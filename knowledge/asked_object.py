"""What a question asks about, and whether the matched clause names it.

A near-miss question shares most of its words with a clause but asks for a thing the clause never names:
"灵活就业人员能交生育保险不" matches （十三）(养老保险, 失业保险金, 工伤保险) on every word except the one
that matters. Two pieces of evidence for answerability (knowledge/answerability.py), both from data
(knowledge/lexicon/asked_objects.yaml):

object_missing — the question names a benefit, fee, document or other thing asked for (a word ending in
    one of the data file's heads: 高龄补贴, 工本费, 电工证, 公租房) that the clause does not contain, neither
    as written nor in the policy wording the synonym lexicon gives for it (社保补贴 → 社会保险补贴).
place_elsewhere — the question asks about another place's policy (西安的社保补贴): this document is 宝鸡's.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from .tokenize import _tokenizer, stopwords

OBJECTS_FILE = Path(__file__).resolve().parent / "lexicon" / "asked_objects.yaml"
# jieba part-of-speech tags of a compound that names a thing (电工证, 养老保险, 个人所得税; not 免费, 收费); "x" is
# a word of the project's dictionary (its words carry no tag), "l" a fixed phrase.
_NOUN_TAGS = frozenset({"n", "nz", "j", "x", "l", "nr", "ns", "nt", "ng", "b"})
# numerals, measure words, pronouns, adverbs, prepositions, conjunctions, particles: they never name a benefit
_NOT_NAMING_TAGS = frozenset("mqrdpcuyeo")
# a "word" ending in a modal verb is a fragment (顶多能 补贴), not a modifier
_MODAL = frozenset("能要会想得可该")
_CJK_WORD = re.compile(r"^[\u3400-\u9fff]+$")
# 西安的…, 咸阳那边…: the place owns what follows (its policy); 在深圳打工, 从西安回来 only say where the asker is
_OWNER_MARKS = frozenset({"的", "那边", "那里", "那儿", "这边", "当地", "本地", "地区"})


@dataclass(frozen=True)
class AskedObject:
    term: str                    # as the question writes it: 高龄补贴
    parts: tuple[str, ...]       # the words it is made of: (高龄, 补贴)


@dataclass(frozen=True)
class _Lexicon:
    heads: tuple[str, ...]
    events: tuple[str, ...]
    not_modifiers: frozenset[str]
    local_places: tuple[str, ...]
    other_places: tuple[str, ...]


@functools.lru_cache(maxsize=2)
def _lexicon(path: str) -> _Lexicon:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    words = lambda key: tuple(map(str, data.get(key) or ()))  # noqa: E731
    return _Lexicon(tuple(sorted(words("heads"), key=len, reverse=True)), words("events"),
                    frozenset(words("not_modifiers")),
                    words("local_places"), words("other_places"))


@functools.lru_cache(maxsize=1)
def _tagger():
    import jieba.posseg as posseg

    return posseg.POSTokenizer(_tokenizer())


@functools.lru_cache(maxsize=2048)
def tagged_words(normalized: str) -> tuple[tuple[str, str], ...]:
    """(word, part-of-speech tag) of the normalised text, jieba's dictionary segmentation (no HMM guessing)."""
    return tuple((pair.word, pair.flag) for pair in _tagger().lcut(normalized, HMM=False))


def asked_objects(normalized: str) -> list[AskedObject]:
    """The things the question asks for: nouns ending in a head of the data file (电工证, 养老保险), a head
    standing alone together with the word before it (高龄 补贴 → 高龄补贴; 占 道 费 → 占道费), and the events
    of the data file it names (注销, 逾期)."""
    lexicon = _lexicon(str(OBJECTS_FILE))
    words = tagged_words(normalized)
    found = [AskedObject(event, (event,)) for event in lexicon.events if event in normalized]
    for position, (word, tag) in enumerate(words):
        head = next((h for h in lexicon.heads if word.endswith(h)), "")
        if not head or not _CJK_WORD.match(word):
            continue
        if word != head:  # a compound noun: 养老保险 (免费, 收费 are verbs: nothing asked for)
            if tag in _NOUN_TAGS:
                if len(word) == 2 and position:
                    word = _cut_off_front(words[position - 1], lexicon.not_modifiers) + word
                found.append(AskedObject(word, (word[:-len(head)], head)))
            continue
        modifier = _modifier(words[:position], lexicon.not_modifiers)
        if modifier:
            found.append(AskedObject(modifier + head, (modifier, head)))
        elif len(head) > 1:
            found.append(AskedObject(head, (head,)))
    return found


def _cut_off_front(previous: tuple[str, str], not_modifiers: frozenset[str]) -> str:
    """A single noun character jieba cut off the front of a noun (公 租房 → 公租房; not 1 年 税费), else ""."""
    word, tag = previous
    content = len(word) == 1 and _CJK_WORD.match(word) and tag in _NOUN_TAGS
    return word if content and word not in stopwords() and word not in not_modifiers else ""


def _modifier(before: tuple[tuple[str, str], ...], not_modifiers: frozenset[str]) -> str:
    """The word naming which benefit a lone head is: the content word right before it; two single
    characters that jieba split (占 道) are joined. A word that only says what is done with the benefit
    (领取, 交), how much of it (一堆) or which one in general (那个), a function word or a fragment ending in
    a modal verb (顶多能) names nothing."""
    stop = stopwords()
    last, tag = before[-1] if before else ("", "")
    if not _CJK_WORD.match(last) or last in stop or last in not_modifiers or last[-1] in _MODAL:
        return ""
    if len(last) == 1:  # jieba's tags of split characters mean little (占/v 道/q): join them whatever they are
        previous = before[-2][0] if len(before) > 1 else ""
        joinable = len(previous) == 1 and _CJK_WORD.match(previous) and previous not in stop
        return previous + last if joinable else ""
    return "" if tag[:1] in _NOT_NAMING_TAGS else last


Synonyms = Iterable[tuple[str, Iterable[str]]]


def policy_wording(term: str, synonyms: Synonyms) -> list[str]:
    """The policy's wording for a colloquial term: the targets of every synonym entry whose phrase contains
    the term or is contained in it (社保 → 社会保险; 罚 in 乱罚款 → 违规收费)."""
    return [target for key, targets in synonyms if key in term or term in key for target in targets]


def _named(term: str, clause_text: str, synonyms: Synonyms) -> bool:
    return term in clause_text or any(alias in clause_text for alias in policy_wording(term, synonyms))


def object_missing(normalized: str, clause_text: str, synonyms: Synonyms) -> float:
    """1.0 when a thing the question asks for is not named by the clause: neither the whole term nor, for a
    term of two words, both of its words appear in its text, as written or in the policy wording the
    synonym entries (key, policy terms) give for them."""
    synonyms = list(synonyms)
    for asked in asked_objects(normalized):
        if _named(asked.term, clause_text, synonyms):
            continue
        if len(asked.parts) > 1 and all(_named(part, clause_text, synonyms) for part in asked.parts):
            continue
        return 1.0
    return 0.0


def place_elsewhere(normalized: str) -> float:
    """1.0 when the question asks about another place's policy — the place opens the question or owns what
    follows (铜川有没有…, 西安的社保补贴, 咸阳那边…) — and names no place of 宝鸡. Where the asker works or comes
    from (在深圳打工, 从西安回来) is not whose policy is asked about."""
    lexicon = _lexicon(str(OBJECTS_FILE))
    words = [word for word, _ in tagged_words(normalized) if _CJK_WORD.match(word)]
    if any(word.startswith(lexicon.local_places) for word in words):
        return 0.0
    for position, word in enumerate(words):
        following = words[position + 1] if position + 1 < len(words) else ""
        if word.startswith(lexicon.other_places) and (position == 0 or following in _OWNER_MARKS):
            return 1.0
    return 0.0
