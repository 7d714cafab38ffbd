"""Free-text profile extraction for the entitlement screening dialogue.

"我是农民工，建档立卡户" → groups [migrant_worker, poverty_registered]; "三十五" / "35周岁" → age 35;
"开了个面馆" → activities [self_employed]; "都不是" → none; "不知道" / "跳过" → skip; "不对，我43岁" →
age 43 with `correction`. The words live in knowledge/profile_terms.yaml; this module only matches
them (on knowledge.textnorm.normalize'd text, longest match first, with simple negation: "不是农民工").
No Rasa imports: actions/entitlements.py and the agent console both use it.
"""
from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.entitlement_request import OPTIONAL_FACTS
from knowledge.textnorm import normalize

TERMS_FILE = Path(__file__).resolve().parent / "profile_terms.yaml"
_PUNCTUATION = re.compile(r"[\s,，.。!！?？;；:：、~～…\"'“”‘’()（）\[\]【】]+")


@dataclass
class ProfileUpdate:
    """What one message says. Lists hold contract names; `not_*` are names the user denied."""
    age: float | None = None
    groups: list[str] = field(default_factory=list)
    not_groups: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    not_activities: list[str] = field(default_factory=list)
    covid_income_loss: bool | None = None
    months_without_income: int | None = None
    unemployment_insurance: bool | None = None
    dibao: bool | None = None
    none: bool = False
    skip: bool = False
    stop: bool = False
    correction: bool = False

    def names(self, slot: str) -> tuple[list[str], list[str]]:
        """(named, denied) for the list slot "groups" or "activities"."""
        return getattr(self, slot), getattr(self, f"not_{slot}")

    def facts(self) -> dict:
        """The optional yes/no and number facts this message stated."""
        return {name: getattr(self, name) for name in OPTIONAL_FACTS if getattr(self, name) is not None}


class _Matcher:
    """Plain terms and `re:` patterns of one vocabulary, matched on normalised text."""

    def __init__(self, entries: list[str]):
        self.terms = sorted({normalize(entry).lower() for entry in entries if not entry.startswith("re:")},
                            key=len, reverse=True)
        self.patterns = [re.compile(entry[3:]) for entry in entries if entry.startswith("re:")]

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = [(match.start(), match.end()) for term in self.terms for match in re.finditer(re.escape(term), text)]
        found += [match.span() for pattern in self.patterns for match in pattern.finditer(text) if match.group()]
        return found

    def contains(self, text: str) -> bool:
        return bool(self.spans(text))


@dataclass(frozen=True)
class Terms:
    vocabularies: dict[str, dict[str, _Matcher]]  # "groups"/"activities" → name → matcher
    ignore: _Matcher
    negation: re.Pattern
    none: frozenset
    none_phrases: _Matcher
    skip: _Matcher
    stop: _Matcher
    correction: _Matcher
    reuse: tuple[_Matcher, _Matcher]  # (no, yes)
    particles: str
    question: _Matcher
    age_patterns: list[re.Pattern]
    birth_year_patterns: list[re.Pattern]
    not_age_followers: re.Pattern
    yes_no: dict[str, tuple[_Matcher, _Matcher]]  # fact → (no, yes)
    months_patterns: list[re.Pattern]
    denials: dict[str, dict[str, _Matcher]]  # "groups" → name → statements that rule it out
    year_denials: dict[str, dict[str, tuple[int, list[re.Pattern]]]]  # "groups" → name → (years, year patterns)


def known_names(kind: str) -> frozenset[str]:
    """The contract names the reader recognises, for "groups" or "activities" (profile_terms.yaml; a test
    keeps them equal to the names of knowledge/rules.yaml)."""
    return frozenset(load_terms().vocabularies[kind])


def _patterns(entries: list[str]) -> list[re.Pattern]:
    return [re.compile(entry[3:] if entry.startswith("re:") else re.escape(entry)) for entry in entries]


@functools.lru_cache(maxsize=4)
def load_terms(path: str | Path = TERMS_FILE) -> Terms:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    answers, negation, facts = data["answers"], data["negation"], data["facts"]
    prefixes = "|".join(re.escape(normalize(word)) for word in sorted(negation["prefixes"], key=len, reverse=True))
    fillers = "|".join(re.escape(word) for word in sorted(negation["fillers"], key=len, reverse=True))
    return Terms(
        vocabularies={kind: {name: _Matcher(entries) for name, entries in data[kind].items()}
                      for kind in ("groups", "activities")},
        ignore=_Matcher(data.get("ignore", [])),
        negation=re.compile(rf"(?:{prefixes})(?:{fillers})*$"),
        none=frozenset(normalize(word) for word in answers["none"]),
        none_phrases=_Matcher(answers["none_phrases"]),
        skip=_Matcher(answers["skip"]),
        stop=_Matcher(answers["stop"]),
        correction=_Matcher(answers["correction"]),
        reuse=(_Matcher(answers["reuse"]["no"]), _Matcher(answers["reuse"]["yes"])),
        particles="".join(answers["particles"]),
        question=_Matcher(data["question_markers"]),
        age_patterns=_patterns(data["age"]["patterns"]),
        birth_year_patterns=_patterns(data["age"]["birth_year"]),
        not_age_followers=_patterns([data["age"]["not_age_followers"]])[0],
        yes_no={fact: (_Matcher(spec["no"]), _Matcher(spec["yes"])) for fact, spec in facts.items() if "yes" in spec},
        months_patterns=_patterns(facts["months_without_income"]["patterns"]),
        denials={kind: {name: _Matcher(entries) for name, entries in names.items()}
                 for kind, names in (data.get("denials") or {}).items()},
        year_denials={kind: {name: (int(spec["years"]), _patterns(spec["patterns"])) for name, spec in names.items()}
                      for kind, names in (data.get("denials_by_year") or {}).items()},
    )


def denial_spans(text: str, terms: Terms | None = None,
                 today: datetime.date | None = None) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, name) of each statement in `text` that rules a group out: "毕业快3年" (`denials`), or a
    year of leaving school too long before `today` ("2019年大学毕业", `denials_by_year`)."""
    terms = terms or load_terms()
    found = [(start, end, kind, name) for kind, names in terms.denials.items()
             for name, matcher in names.items() for start, end in matcher.spans(text)]
    if today is None:
        return found
    for kind, names in terms.year_denials.items():
        for name, (years, patterns) in names.items():
            found += [(match.start(), match.end(), kind, name) for pattern in patterns for match in pattern.finditer(text)
                      if today.year - int(match.group(1)) > years]
    return found


def _find_names(text: str, terms: Terms, today: datetime.date | None = None
                ) -> tuple[dict[str, list[str]], dict[str, list[str]], list[tuple[int, int]]]:
    """Longest non-overlapping matches over both vocabularies; a match right after 不是/没有… is denied."""
    candidates = [(end - start, -start, start, end, "", "") for start, end in terms.ignore.spans(text)]
    for kind, names in terms.vocabularies.items():
        for name, matcher in names.items():
            candidates += [(end - start, -start, start, end, kind, name) for start, end in matcher.spans(text)]
    for start, end, kind, name in denial_spans(text, terms, today):  # "毕业快3年": rules the group out
        candidates.append((end - start, -start, start, end, "!" + kind, name))
    taken: list[tuple[int, int, str, str]] = []
    for _, _, start, end, kind, name in sorted(candidates, reverse=True):
        if not any(start < other_end and other_start < end for other_start, other_end, _, _ in taken):
            taken.append((start, end, kind, name))
    named: dict[str, list[str]] = {kind: [] for kind in terms.vocabularies}
    denied: dict[str, list[str]] = {kind: [] for kind in terms.vocabularies}
    for start, _, kind, name in sorted(taken):  # in the order the user said them
        target = denied if terms.negation.search(text[:start]) or kind.startswith("!") else named
        kind = kind.lstrip("!")
        if kind and name not in target[kind]:
            target[kind].append(name)
    for kind in named:  # a statement that rules a group out beats a word that suggests it
        named[kind] = [name for name in named[kind] if name not in denied[kind]]
    return named, denied, [(start, end) for start, end, _, _ in taken]


def denied_names(text: str, kind: str = "groups", today: datetime.date | None = None) -> list[str]:
    """The names of `kind` the text denies ("我没有建档立卡，也没办就业创业证", "2019年大学毕业的")."""
    terms = load_terms()
    return _find_names(normalize(text or "").lower(), terms, today)[1].get(kind, [])


def fact_spans(text: str, terms: Terms | None = None) -> list[tuple[int, int]]:
    """Where the normalised, lower-cased `text` names a group or an activity — not a policy name such as
    失业保险金 that merely contains one (those are what the question is about)."""
    terms = terms or load_terms()
    ignored = terms.ignore.spans(text)
    return [(start, end) for start, end in _find_names(text, terms)[2]
            if not any(start >= i_start and end <= i_end for i_start, i_end in ignored)]


def _age(text: str, expecting_age: bool, terms: Terms, today: datetime.date,
         taken: list[tuple[int, int]]) -> float | None:
    for pattern in terms.age_patterns:
        for match in pattern.finditer(text):
            if not terms.negation.search(text[:match.start()]):
                return float(match.group(1))
    for pattern in terms.birth_year_patterns:
        born = pattern.search(text)
        if born:
            year = int(born.group(1))
            if year < 100:
                year += 1900 if year > today.year % 100 else 2000
            return float(today.year - year)
    if expecting_age:
        numbers = [match for match in re.finditer(r"\d+(?:\.\d+)?", text)
                   if not terms.not_age_followers.match(text, match.end())
                   and not any(start <= match.start() < end for start, end in taken)]
        if len(numbers) == 1 and float(numbers[0].group()) < 1000:
            return float(numbers[0].group())
    return None


def _yes_no(text: str, matchers: tuple[_Matcher, _Matcher]) -> bool | None:
    no, yes = matchers
    if no.contains(text):
        return False
    return True if yes.contains(text) else None


def _months(text: str, terms: Terms) -> int | None:
    for pattern in terms.months_patterns:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


def _core(text: str, particles: str) -> str:
    """The answer without punctuation and leading/trailing particles: "我都不是啊。" → "都不是"."""
    return _PUNCTUATION.sub("", text).strip(particles)


def reuse_answer(text: str, terms: Terms | None = None) -> bool | None:
    """The answer to "接着用您刚才说的情况吗？": True ("用刚才的", "好"), False ("重新填", "不用"), None when it is
    neither. A message that states facts of its own ("我是农民工") starts afresh from them: False."""
    terms = terms or load_terms()
    update = parse_profile(text, terms=terms)
    if update.age is not None or update.groups or update.activities:
        return False
    return _yes_no(normalize(text or "").lower(), terms.reuse)


def is_question(text: str, terms: Terms | None = None) -> bool:
    terms = terms or load_terms()
    return terms.question.contains(normalize(text or ""))


def parse_profile(text: str, expecting: str | None = None, today: datetime.date | None = None,
                  terms: Terms | None = None) -> ProfileUpdate:
    """Read one message. `expecting` is the slot just asked for ("age", "groups", "activities"): a bare
    number then counts as an age, and "都不是" / "跳过" apply to it."""
    terms = terms or load_terms()
    normalized = normalize(text or "").lower()
    today = today or datetime.date.today()
    named, denied, taken = _find_names(normalized, terms, today)
    if terms.stop.contains(normalized) and not any(named.values()):
        return ProfileUpdate(stop=True)
    update = ProfileUpdate(
        groups=named["groups"], not_groups=denied["groups"],
        activities=named["activities"], not_activities=denied["activities"],
        age=_age(normalized, expecting == "age", terms, today, taken),
        months_without_income=_months(normalized, terms),
        correction=terms.correction.contains(normalized),
    )
    for fact, matchers in terms.yes_no.items():
        setattr(update, fact, _yes_no(normalized, matchers))
    said_something = bool(taken) or update.age is not None or bool(update.facts())
    if not said_something:
        core = _core(normalized, terms.particles)
        update.skip = terms.skip.contains(normalized)
        update.none = not update.skip and (core in terms.none or normalized in terms.none
                                           or terms.none_phrases.contains(normalized))
    return update


def updated_names(current: list[str] | None, update: ProfileUpdate, slot: str, answering: bool) -> list[str] | None:
    """The list slot after this message. Answering its question: the names given (or [] for "都不是").
    Otherwise names add up, "不对，…" replaces, and denied names are removed; unchanged if nothing applies."""
    named, denied = update.names(slot)
    if answering and update.none and not named:
        return []
    if not named and (not denied or (current is None and not answering)):
        return current
    base = [] if current is None or (update.correction and named) else list(current)
    kept = [name for name in base if name not in denied]
    return kept + [name for name in named if name not in kept]
