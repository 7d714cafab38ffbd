"""The first sentence of a chat answer: it answers the question as asked, before the quote proves it.

In order of preference:
1. entitlements the question is about (their `keywords`/`topics` in knowledge/rules.yaml): the benefit
   with derived totals from the calculator's dated parameters ("每户每年14400元限额，3年内合计最多43200元
   （14400元×3年）"); with known facts, a personal verdict from the entitlement engine ("秦青优惠贷要求年龄在
   45岁以下（含45岁），您的年龄：48岁，不符合；创业担保贷款没有年龄要求：个人贷款最高20万元…");
2. where to go / what to bring / how to apply: the responsible departments, and that the text names no
   place, documents or procedure when it does not;
3. an amount, a period or who qualifies: the phrase of the quoted sentence that states it;
4. yes/no: a cue in the quoted sentence (允许, 免征, 不收取 … knowledge/lexicon/dialogue.yaml) answers it.
Nothing here is invented: every figure comes from the engine's parameters or from the quoted text.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field

from .answer import choose_sentences, departments_text
from .citations import chinese_number
from .entitlement_parameters import satisfies
from .entitlement_format import show_money, show_number, show_value, tidy
from .entitlements import EntitlementEngine
from .profile_text import denial_spans, denied_names, load_terms
from .question_details import asked_details, has_evidence
from .search import Hit
from .textnorm import normalize, squeeze_spaces
from .tokenize import tokenize

_PHRASES = re.compile(r"[^，,；;。：:]+")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*万?元")
_PERIOD = re.compile(r"(?<!离校|毕业)\d+\s*(?:个月|年|天)|(?<!离校\d|毕业\d)年内|年底前|期限")  # 离校2年内: who, not how long
_MISSING_WORDS = {"place": "具体办理地点", "documents": "需要的材料", "procedure": "具体办理流程",
                  "amount": "具体金额或标准", "duration": "具体期限", "rate": "利率或利息"}
# "关了好几个月", "干了几年了": a period the asker states, not one asked for
_NOT_ASKED_PERIOD = re.compile(r"好几(?:个月|年|天)|几(?:个月|年|天)(?:前|了|来|都)")
_VERDICT_LINE = re.compile(r"^(符合|不符合|待确认)：(.*?)(?:（([^（）]*)）)?$")


@dataclass
class HeadlineContext:
    engine: EntitlementEngine | None = None  # None: no entitlement lines
    facts: dict = field(default_factory=dict)  # age / groups / activities known in the conversation
    stated: bool = False           # this message itself stated facts
    today: dt.date = field(default_factory=dt.date.today)
    terms: dict = field(default_factory=dict)  # knowledge/lexicon/dialogue.yaml
    live: frozenset | None = None  # clause ids in the index: an entitlement of a retired clause is not offered


@dataclass
class Lead:
    sentence: str
    citations: list[dict] = field(default_factory=list)  # entitlements quoted from other clauses
    personal: bool = False
    entitlements: list[str] = field(default_factory=list)


def headline(question: str, hit: Hit, context: HeadlineContext, topic: str = "") -> Lead | None:
    """`topic`: the question a follow-up refers back to ("创业担保贷款能贷多少" for "这个去哪办") — it names
    the entitlements; the details asked (where, documents, amount) are read from `question` alone."""
    q = normalize(question or "").lower()
    quotes = choose_sentences(hit, f"{topic} {question}".strip())
    details = asked_details(q)
    lead = _entitlement_lead(normalize(f"{topic} {question}").lower(), hit, context)
    where = _where_line(details, hit, quotes, lead, context)
    if where:
        personal = lead.sentence if lead and context.stated else ""
        return Lead(where + personal, lead.citations if lead else [], bool(personal),
                    lead.entitlements if lead else [])
    gap = _unstated_line(q, quotes, hit, lead)
    if lead:
        return Lead(gap + lead.sentence, lead.citations, lead.personal, lead.entitlements) if gap else lead
    if gap:
        return Lead(gap)
    for sentence in (_amount_line(details, quotes, hit), _period_line(details, quotes),
                     _yes_no_line(question, q, quotes, context.terms), _who_line(q, quotes, context)):
        if sentence:
            return Lead(sentence)
    return None


# --- entitlements ---------------------------------------------------------------------------------------
def _clause_of(rules, rule: dict) -> str:
    return rules.articles[rule["article"]]["clause_id"]


def _mentions(q: str, words: list[str] | None) -> bool:
    return any(_names(q, normalize(word).lower()) for word in words or [])


def _names(q: str, word: str) -> bool:
    """`word` occurs in the question as a word, not as a piece of a longer one: a one-character word (证, 税,
    贷) counts on its own or in a two-character word (办证, 交税, 能贷) — in a longer word it names something
    else (报到证, 健康证, 个人所得税), which must not pull in the entitlement this word stands for. An
    occurrence the asker negates as their own past ("之前没交社保", "没贷过款") is a fact, not what is asked."""
    if not any(not _negated(q, match.start()) for match in re.finditer(re.escape(word), q)):
        return False
    if len(word) != 1:
        return True
    return any(word in token and len(token) <= 2 for token in _words(q))


# "没交社保", "从来没贷过款", "也没有办": 没/未 with an optional verb of having done it — not 不 ("是不是不用反担保"
# asks about the counter-guarantee) nor 有没有 (a question)
_NEGATED_BEFORE = re.compile(r"(?<!有)(?:没有|没|未|从没|从来没)(?:交|缴|缴纳|交过|缴过|买|买过|上|上过|参加|参加过|办|办过|贷|贷过|"
                             r"领|领过|拿|拿过|申请|申请过|享受|享受过|有|有过|用|用过)?(?:过)?$")


def _negated(q: str, start: int) -> bool:
    before = q[max(0, start - 8):start]
    match = _NEGATED_BEFORE.search(before)
    if not match:
        return False
    at = match.start()  # "领没领过", "交没交": 没 between the same verb twice asks, it does not deny
    return not (0 < at < len(before) - 1 and before[at - 1] == before[at + 1])


@functools.lru_cache(maxsize=256)
def _words(q: str) -> tuple[str, ...]:
    return tuple(tokenize(q))


_STATED_MONEY = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万)?")


def _states_amount(q: str, rule: dict, parameters) -> bool:
    """The question quotes the entitlement's own amount ("每年能减14400", "每月600"): it names that entitlement."""
    name = rule.get("amount")
    value = parameters[name].value if name else None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 100:
        return False
    return any(float(m.group(1)) * (10_000 if m.group(2) else 1) == value for m in _STATED_MONEY.finditer(q))


def relevant_rules(q: str, hit: Hit | None, rules, personal: bool,
                   generic: frozenset = frozenset(), parameters=None) -> tuple[list[dict], set[str]]:
    """(rules the question is about, ids named specifically). A specific name wins anywhere; a topic word
    counts for the clause retrieval found, or — for a personal question — for any clause. A generic word
    (`generic`: 补贴, 扶持 …) alone names no entitlement unless the person described themselves: "娃上幼儿园
    给补贴不" is not about the 一次性创业补贴 of the clause retrieval happened to find."""
    specific = [rule for rule in rules.entitlements if _mentions(q, rule.get("keywords"))
                or (parameters is not None and _states_amount(q, rule, parameters))]
    if specific:
        return specific, {rule["id"] for rule in specific}
    topical = [rule for rule in rules.entitlements
               if _mentions(topic_text(q), _topics(rule, frozenset() if personal else generic))
               and (personal or (hit is not None and _clause_of(rules, rule) == hit.clause_id))]
    return topical, set()


def topic_text(q: str) -> str:
    """The question without the phrases in which a topic word means something else (profile_terms.yaml `ignore`:
    the 招工 of "招工信息" is what a job seeker reads, not an employer hiring)."""
    spans = load_terms().ignore.spans(q)
    return "".join(" " if any(start <= i < end for start, end in spans) else char for i, char in enumerate(q))


def _topics(rule: dict, generic: frozenset) -> list[str]:
    return [word for word in rule.get("topics") or [] if normalize(word).lower() not in generic]


def generic_words(terms: dict | None) -> frozenset:
    """The words that name no particular benefit (dialogue.yaml clarify.generic)."""
    return frozenset(((terms or {}).get("clarify") or {}).get("generic") or [])


def preferred_hit(question: str, hits: list[Hit], context: HeadlineContext) -> Hit:
    """The best hit, unless the question names an entitlement ("占道费", "登记要钱不") whose clause retrieval
    ranked just below: then that clause — it states what was asked."""
    if context.engine is None or not hits:
        return hits[0]
    rules = context.engine.rules
    if hits[0].doc != rules.document["id"]:  # another document ranked first: its own words answer
        return hits[0]
    q = normalize(question or "").lower()
    specific = {_clause_of(rules, rule) for rule in rules.entitlements if _mentions(q, rule.get("keywords"))}
    # A generic word (补贴, 扶持: the clarify list of dialogue.yaml) names no clause: "家政服务有啥扶持" stays with
    # the clause retrieval found; a topic such as 登记 or 占道 does.
    generic = generic_words(context.terms)
    topical = {_clause_of(rules, rule) for rule in rules.entitlements if _mentions(topic_text(q), _topics(rule, generic))}
    if topical and not specific and only_in_top(q, hits):
        topical = set()  # "以工代赈项目会优先招人": the question names what only the best clause is about
    for wanted, depth in ((specific, 5), (topical, 3)):
        if wanted and hits[0].clause_id not in wanted:
            better = next((hit for hit in hits[:depth] if hit.clause_id in wanted), None)
            if better is not None:
                return better
        if wanted:
            break
    return hits[0]


def only_in_top(q: str, hits: list[Hit], depth: int = 5, shortest: int = 4) -> list[str]:
    """Terms of the question (`shortest` characters or more: 以工代赈, not 司机) that the best clause contains and none of the next
    `depth - 1` clauses retrieved does ("以工代赈", "电商"): the question names that clause's own subject."""
    texts = [normalize(hit.text).lower() for hit in hits[:depth]]
    return [word for word in dict.fromkeys(tokenize(q)) if len(word) >= shortest and word in texts[0]
            and not any(word in text for text in texts[1:])]


def _entitlement_lead(q: str, hit: Hit | None, context: HeadlineContext, anywhere: bool = False) -> Lead | None:
    engine = context.engine
    if engine is None:
        return None
    rules = engine.rules
    facts = {k: v for k, v in (context.facts or {}).items() if k in ("age", "groups", "activities") and v}
    # Someone who described themselves (age, group) is told about any entitlement of the topic; an activity
    # alone ("摆摊") is usually the topic of the question, so then only the retrieved clause's entitlements count
    # (`anywhere`: unless the activity is the situation and an amount of the topic is asked).
    described = bool(facts.get("age") or facts.get("groups")) or anywhere
    chosen, specific = relevant_rules(q, hit, rules, personal=described, generic=generic_words(context.terms),
                                      parameters=engine.parameters)
    if context.live is not None:
        chosen = [rule for rule in chosen if _clause_of(rules, rule) in context.live]
    if not chosen:
        return None
    request = {"as_of": context.today.isoformat(), **_request_facts(facts)}
    items = {item["id"]: item for item in engine.evaluate(request)["entitlements"]}
    denied = denied_group_verdicts(q, chosen, items, rules, context.today)
    items.update(denied)
    if facts or denied:
        lines, shown = _personal_lines(chosen, specific, items, rules)
    else:
        shown = [rule["id"] for rule in chosen][:3]
        asks_who = bool(_contains_any(q, (context.terms or {}).get("who") or []))
        lines = [_conditions_line(items[name]) if asks_who else _benefit_line(items[name]) for name in shown]
    if not lines:
        return None
    parameters = engine.parameters.at(context.today)  # the values in force today
    lines += [line for line in (derived_total(q, rule, parameters, context.terms)
                                for rule in chosen if rule["id"] in shown) if line]
    lines += [line for line in (amount_checks(q, rule, parameters) for rule in chosen if rule["id"] in shown) if line]
    lines += denial_lines(q, [rule for rule in chosen if rule["id"] in shown], rules, context.today)
    citations = [_entitlement_citation(items[name], rules) for name in shown
                 if hit is None or items[name]["clause_id"] != hit.clause_id]
    return Lead("；".join(lines) + "。", citations, personal=bool(facts), entitlements=shown)


_ASKED_MONEY = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万|w)?\s*(?:元|块)?")


def amount_checks(q: str, rule: dict, parameters) -> str:
    """"创业担保贷款：您说的15万元超过10万元，不能免除反担保；未超过20万元…": an amount of money the asker states,
    against the entitlement's dated limits (rules.yaml `thresholds`; 以下 includes the number)."""
    limits = rule.get("thresholds") or []
    stated = [float(m.group(1)) * (10_000 if m.group(2) else 1) for m in _ASKED_MONEY.finditer(q)
              if m.group(2) or re.match(r"\s*(?:元|块)", q[m.end(1):])]
    stated = [value for value in stated if value >= 1000]
    if not limits or len(stated) != 1:
        return ""
    amount, parts = stated[0], []
    for limit in limits:
        parameter = parameters[limit["param"]]
        bound = parameter.value
        if not isinstance(bound, (int, float)) or isinstance(bound, bool):
            continue
        within = satisfies(amount, parameter.op or "以内", bound)  # 以下/以内 include the bound (民法典 第1259条)
        relation = "未超过" if within else "超过"
        parts.append(f"{relation}{show_money(bound)}，{limit['within'] if within else limit['beyond']}")
    return f"{rule['title']}：您说的{show_money(tidy(amount))}" + "；".join(parts) if parts else ""


def denied_group_verdicts(q: str, chosen: list[dict], items: dict, rules, today: dt.date) -> dict:
    """Items of entitlements whose every qualifying group the asker denied ("我没有建档立卡，也没办就业创业证" for the
    税费减免): 不符合 — not 待确认, which the unknown groups alone would give."""
    denied = set(denied_names(q, "groups", today))
    changed = {}
    for rule in chosen:
        item = items[rule["id"]]
        for condition in rule["conditions"]:
            groups = condition.get("any_group") or []
            if groups and set(groups) <= denied and item["eligible"] is not False:
                said = "、".join(rules.groups[name] for name in groups)
                changed[rule["id"]] = {**item, "eligible": False,
                                       "why": [f"不符合：{condition['label']}（您说的情况不属于{said}）"]}
    return changed


def denial_lines(q: str, shown: list[dict], rules, today: dt.date | None = None) -> list[str]:
    """"您说的“毕业快3年”超过了“离校2年内（未就业）高校毕业生”的期限": a statement that rules out a group the
    shown entitlements name (profile_terms.yaml `denials`, `denials_by_year`), said in the person's own words."""
    lines, said = [], set()
    for start, end, kind, name in denial_spans(q, today=today):
        vocabulary = getattr(rules, kind, {})
        named = any(name in condition.get("any_group", []) + condition.get("hires_any", [])
                    for rule in shown for condition in rule["conditions"])
        if named and name in vocabulary and name not in said:
            said.add(name)
            lines.append(f"您说的“{q[start:end]}”超过了“{vocabulary[name]}”的期限，按这一身份不符合")
    return lines


def headcount(q: str, terms: dict) -> int:
    """The number of people a question about a total or an amount names ("招了3个贫困劳动力，一共最多补多少",
    "新招5名贫困劳动力，最多补多少钱" → 3, 5; "2个退役军人和1个贫困劳动力" → 3), else 0."""
    spec = (terms or {}).get("totals") or {}
    if not asks_total(q, terms):
        return 0
    for entry in spec.get("headcount", []):
        matches = list(re.finditer(entry[3:] if entry.startswith("re:") else re.escape(entry), q))
        if matches:
            return sum(int(match.group(1)) for match in _joined(q, matches))
    return 0


def asks_total(q: str, terms: dict) -> bool:
    """The question asks for an amount or a total ("一共", "合计", "能补多少")."""
    spec = (terms or {}).get("totals") or {}
    return any(word in q for word in spec.get("words", [])) or "amount" in asked_details(q)


_AND = re.compile(r"^[^，,。？?]{0,3}?(?:和|跟|加上|还有|以及|、)")


def _joined(q: str, matches: list[re.Match]) -> list[re.Match]:
    """The first count and those added to it ("2个退役军人和1个贫困劳动力"); not a part of it ("3个人，其中2个…")."""
    kept = matches[:1]
    for previous, match in zip(matches, matches[1:]):
        if not _AND.match(q[previous.end():match.start()]):
            break
        kept.append(match)
    return kept


# "干了4个月", "干满1年", "3年半", "半年": a period the asker states (not "2020年", not "离校2年")
_STATED_PERIOD = re.compile(r"(?<![\d.])(?<!离校|毕业)(\d+(?:\.\d+)?|半)\s*(个月|年)(半)?")


def stated_period(q: str, unit: str) -> float | None:
    """The period the question states, in `unit` ("个月" or "年"): "1年" → 12 个月, "半年" → 6 个月, "2年" → 2 年.
    A yearly limit is not pro-rated below a year: "一个月交多少" against 每户每年14400元 states no period."""
    for match in _STATED_PERIOD.finditer(q):
        number = 0.5 if match.group(1) == "半" else float(match.group(1))
        if number >= 1900:  # a calendar year
            continue
        number += 0.5 if match.group(3) else 0
        months = number * 12 if match.group(2) == "年" else number
        if unit == "年" and months < 12:
            continue
        return months if unit == "个月" else months / 12
    return None


def _unit_count(q: str, unit: str, terms: dict) -> int:
    if unit == "人":
        return headcount(q, terms)
    match = re.search(rf"(\d+)\s*{re.escape(unit)}", q)
    return int(match.group(1)) if match and asks_total(q, terms) else 0


def derived_total(q: str, rule: dict, parameters, terms: dict) -> str:
    """The total for what the question states — households or people (rules.yaml `per_unit`) and a period
    — from the dated parameters, with the arithmetic: "以工代训补贴按您说的4个月：600元×4个月=2400元";
    "税费减免2户×3年：14400元×3年×2户=86400元"; a period beyond the cap is counted at the cap."""
    spec = rule.get("per_unit")
    if not spec:
        return headcount_total(q, rule, parameters, terms)
    count = _unit_count(q, spec["unit"], terms)
    rate, cap = parameters[spec["rate"]], parameters[spec["cap"]]
    if not all(isinstance(p.value, (int, float)) and not isinstance(p.value, bool) for p in (rate, cap)):
        return ""
    period = stated_period(q, cap.unit) if asks_total(q, terms) else None
    if count < 2 and (period is None or period == cap.value):  # the full period is the benefit line already
        return ""
    periods = tidy(min(period, cap.value)) if period is not None else cap.value
    units = max(count, 1)
    total = tidy(rate.value * periods * units)
    money = rate.unit.split("/")[0]

    def span(value) -> str:
        return f"{show_number(value)}{cap.unit}"
    factors = f"{show_value(rate.value, money)}×{span(periods)}" + (f"×{units}{spec['unit']}" if units > 1 else "")
    said = []
    if period is not None:
        said.append(f"您说的{span(tidy(period))}" + (
            f"（最长{span(cap.value)}，按{span(cap.value)}算）" if period > cap.value else ""))
    if units > 1:
        said.append(f"{units}{spec['unit']}")
    return f"{rule['title']}按{'、'.join(said)}合计最多{show_value(total, money)}（{factors}）"


def headcount_total(q: str, rule: dict, parameters, terms: dict) -> str:
    """"3人合计最多10800元（每人最多3600元×3人）" for an entitlement with a per-person maximum (rules.yaml
    `per_person`, a product of dated parameters), when the question asks the total for several people."""
    count = headcount(q, terms)
    names = rule.get("per_person") or []
    if count < 2 or not names:
        return ""
    values = [parameters[name].value for name in names]
    if any(not isinstance(value, (int, float)) or isinstance(value, bool) for value in values):
        return ""
    unit = parameters[names[0]].unit
    per = tidy(math.prod(values))
    return (f"{rule['title']}{count}人合计最多{show_value(tidy(per * count), unit)}"
            f"（每人最多{show_value(per, unit)}×{count}人）")


def entitlement_answer(question: str, context: HeadlineContext) -> tuple[str, list[dict]] | None:
    """For a part of a message that retrieval alone does not answer but that names an entitlement's topic for
    someone who described themselves ("我下岗了想摆个小吃摊，能贷款不", or an activity and an amount asked:
    "我在夜市卖小吃，想开个门面，能贷多少"): the personal verdicts, each with the quote it rests on. None when
    there is no such entitlement."""
    facts = context.facts or {}
    q = normalize(question).lower()
    # "我在夜市卖了两年小吃…想开个门面，能贷多少": an activity as the situation, and an amount asked
    situation = bool(facts.get("activities")) and "amount" in asked_details(q)
    if context.engine is None or not (facts.get("age") or facts.get("groups") or situation):
        return None
    lead = _entitlement_lead(q, None, context, anywhere=situation)
    if not lead:
        return None
    rules = context.engine.rules
    items = {rule["id"]: rule for rule in rules.entitlements}
    lines = [entitlement_where(asked_details(q), [items[name] for name in lead.entitlements]) + lead.sentence]
    citations = []
    for name in lead.entitlements:
        article = rules.articles[items[name]["article"]]
        quote = squeeze_spaces(items[name]["quote"], keep_word_gaps=False)
        lines.append(f"依据{rules.document['number']} {entitlement_heading(items[name]['article'], rules)}：“{quote}”")
        citations.append({**_entitlement_citation({"id": name, "article": items[name]["article"],
                                                   "clause_id": article["clause_id"], "quote": items[name]["quote"]},
                                                  rules)})
    return "\n".join(lines), citations


OVERVIEW_LIMIT = 5


def entitlement_overview(context: HeadlineContext) -> tuple[str, list[dict], list[str]] | None:
    """"我40岁，下岗了，想摆个摊，有啥扶持没": what applies to this person (符合 first, then 待确认), each with
    its quote; the full screening is offered beside it. None when nothing applies yet."""
    if context.engine is None:
        return None
    rules = context.engine.rules
    request = {"as_of": context.today.isoformat(), **_request_facts(context.facts or {})}
    items = [item for item in context.engine.evaluate(request)["entitlements"] if item["eligible"] is not False
             and (context.live is None or item["clause_id"] in context.live)]
    items.sort(key=lambda item: item["eligible"] is not True)
    if not items:
        return None
    shown = items[:OVERVIEW_LIMIT]
    lines = [f"按您说的情况（{facts_echo(context.facts or {}, rules)}），{rules.document['number']}里这"
             f"{len(shown)}项扶持与您有关："]
    lines += [f"{index}. {_verdict_line(item)}" for index, item in enumerate(shown, start=1)]
    if len(items) > len(shown):
        lines.append(f"另有{len(items) - len(shown)}项要看更多情况，点“算算我能享受哪些”逐项核对。")
    for item in shown:
        quote = squeeze_spaces(item["quote"], keep_word_gaps=False)
        lines.append(f"依据{rules.document['number']} {entitlement_heading(item['article'], rules)}：“{quote}”")
    citations = [_entitlement_citation(item, rules) for item in shown]
    return "\n".join(lines), citations, [item["id"] for item in shown]


def facts_echo(facts: dict, rules) -> str:
    """"50岁；农民工；个体经营/创业" — how the facts were understood, so a misreading can be corrected."""
    parts = []
    if facts.get("age") is not None:
        age = facts["age"]
        parts.append(f"{int(age) if float(age).is_integer() else age}岁")
    for slot, vocabulary in (("groups", rules.groups), ("activities", rules.activities)):
        names = [vocabulary.get(name, name) for name in facts.get(slot) or []]
        if names:
            parts.append("、".join(names))
    return "；".join(parts)


def _request_facts(facts: dict) -> dict:
    """Known facts; an absent list is unknown (null), never "none of them"."""
    return {"age": facts.get("age"), "groups": facts.get("groups") or None,
            "activities": facts.get("activities") or None,
            "hires": None}  # the chat does not ask whom an employer hired: unknown, never "nobody"


def _conditions_line(item: dict) -> str:
    """"以工代训补贴要求是中小微企业（用工方），且新吸纳…；每人每月600元…" — who qualifies, for a who-question
    ("啥样的企业才给", "哪些人能领") from someone who stated no facts: the conditions, then what it gives."""
    labels = [match.group(2) for match in map(_VERDICT_LINE.match, item.get("why") or []) if match]
    benefit = _benefit_line(item)
    if not labels:
        return benefit
    return f"{item['title']}要求{'，且'.join(labels)}；{benefit.removeprefix(item['title'] + '：')}"


def _benefit_line(item: dict) -> str:
    text = item.get("amount_text") or "按规定"
    line = text if item["title"] in text else f"{item['title']}：{text}"
    if item.get("status") == "expired":
        ended = next((w for w in item.get("why", []) if "已于" in w), "")
        when = re.search(r"已于([^）)]*)截止", ended)
        line += f"——这是有时限的规定，已于{when.group(1) if when else '期限届满时'}到期，现在已不再适用"
    return line


def _personal_lines(chosen: list[dict], specific: set[str], items: dict, rules) -> tuple[list[str], list[str]]:
    order = {True: 0, None: 1, False: 2}
    ranked = sorted(chosen, key=lambda rule: order[items[rule["id"]]["eligible"]])
    # A generic topic ("能贷款吗") lists what fits; a named entitlement is answered even when it does not.
    shown = [rule for rule in ranked if rule["id"] in specific or items[rule["id"]]["eligible"] is not False]
    if not shown:
        shown = ranked[:1]
    lines, confirmed = [], set()
    for rule in shown[:3]:
        item = items[rule["id"]]
        reason = (item.get("to_confirm") or [""])[0].split("，请向")[0]
        if reason and reason in confirmed:  # the same reason twice: say it once
            benefit = _benefit_line(item).removeprefix(item["title"] + "：")
            lines.append(f"{item['title']}：同样待确认（{item['to_confirm'][0].split('，')[-1]}）；{benefit}")
            continue
        confirmed.add(reason)
        lines.append(_verdict_line(item, rule))
    failed = [rule for rule in shown if items[rule["id"]]["eligible"] is False]
    names = {rule["id"] for rule in shown}
    if failed and len(failed) == len(shown[:3]):  # nothing asked about applies: what the same article offers
        articles = {rule["article"] for rule in failed}
        offer = [rule for rule in rules.entitlements if rule["article"] in articles and rule["id"] not in names
                 and items[rule["id"]]["eligible"] is True and not rule.get("family")][:2]
        for rule in offer:
            names.add(rule["id"])
            lines.append("按您说的情况可以享受" + _verdict_line(items[rule["id"]]).replace("：按您说的情况符合，", "："))
    for rule in failed:  # name the alternatives of the same family ("创业担保贷款没有年龄要求")
        for other in rules.entitlements:
            if other.get("family") and other.get("family") == rule.get("family") and other["id"] not in names \
                    and items[other["id"]]["eligible"] is not False:
                names.add(other["id"])
                lines.append(_alternative_line(items[other["id"]], other, _failed_facts(rule, items[rule["id"]]),
                                               rules))
    return lines, [name for name in names if name in items]


def _verdict_line(item: dict, rule: dict | None = None) -> str:
    title, benefit = item["title"], _benefit_line(item)
    benefit = benefit.split("：", 1)[1] if benefit.startswith(title + "：") else benefit
    if item["eligible"] is True:
        met = _met_limits(rule, item)
        if met:  # "刚好45岁": say the limit includes the number, with the person's own figure
            return f"{title}要求{met}，符合，{benefit}"
        return f"{title}：按您说的情况符合，{benefit}"
    if item["eligible"] is False:
        for line in item.get("why", []):
            match = _VERDICT_LINE.match(line)
            if match and match.group(1) == "不符合":
                label, detail = match.group(2), match.group(3)
                return f"{title}要求{label}" + (f"，{detail}" if detail else "") + "，不符合"
        return f"{title}：按您说的情况不符合"
    confirm = item.get("to_confirm") or []
    if confirm:
        return f"{title}：待确认——{confirm[0]}；{benefit}"
    pending = []
    for line in item.get("why", []):
        match = _VERDICT_LINE.match(line)
        if match and match.group(1) == "待确认":
            pending.append(match.group(2))
    need = "、".join(pending) if pending else "其他条件"
    return f"{title}：待确认，还要看是否{need}；{benefit}"


def _met_limits(rule: dict | None, item: dict) -> str:
    """"年龄在45岁以下（含45岁），您的年龄：45岁": the compared limits the person meets, from the `why` lines
    (they follow the conditions' order)."""
    met = []
    for condition, line in zip((rule or {}).get("conditions", []), item.get("why", [])):
        match = _VERDICT_LINE.match(line)
        if "compare" in condition and match and match.group(1) == "符合":
            met.append(match.group(2) + (f"，{match.group(3)}" if match.group(3) else ""))
    return "；".join(met)


def _failed_facts(rule: dict, item: dict) -> set[str]:
    """Facts compared by the conditions that failed (the `why` lines follow the conditions' order)."""
    failed = set()
    for condition, line in zip(rule["conditions"], item.get("why", [])):
        if line.startswith("不符合") and "compare" in condition:
            failed.add(condition["compare"]["fact"])
    return failed


def _alternative_line(item: dict, rule: dict, failed_facts: set[str], rules) -> str:
    compared = {c["compare"]["fact"] for c in rule["conditions"] if "compare" in c}
    free = [rules.facts[fact]["label"] for fact in sorted(failed_facts - compared) if fact in rules.facts]
    verdict = _verdict_line(item)
    if free:
        prefix = f"{item['title']}没有{'、'.join(free)}要求"
        return prefix + verdict[len(item["title"]):] if verdict.startswith(item["title"]) else f"{prefix}：{verdict}"
    return verdict


def entitlement_heading(article_number: int, rules) -> str:
    """二、（一）优化贷款… for an article rules.yaml describes: its section is the first step of the clause's
    path (clause_id "baoji-2020-49:2.1"), as the answers' and the cards' citations name it."""
    article = rules.articles[article_number]
    section = article["clause_id"].rsplit(":", 1)[-1].split(".")[0]
    return (f"{chinese_number(int(section))}、" if section.isdigit() and int(section) > 0 else "") + article["heading"]


def _entitlement_citation(item: dict, rules) -> dict:
    """A citation for an entitlement quoted from another clause than the retrieved one."""
    article = rules.articles[item["article"]]
    quote = squeeze_spaces(item["quote"], keep_word_gaps=False)
    return {"clause_id": item["clause_id"], "doc": rules.document["id"], "doc_number": rules.document["number"],
            "article": item["article"], "article_label": article["heading"], "title": article["heading"],
            "heading": entitlement_heading(item["article"], rules), "section": "", "departments": list(article["departments"]), "quote": quote, "quotes": [quote],
            "expired": item.get("status") == "expired", "expiry_notes": [],
            "entitlement": item["id"]}


# --- details ---------------------------------------------------------------------------------------------
def _where_line(details: list[str], hit: Hit, quotes: list[str], lead: Lead | None,
                context: HeadlineContext) -> str:
    """Where to go: the departments that handle the entitlement asked about (rules.yaml `apply_to`), else
    those the article names; and that the text gives no place, documents or procedure when it does not."""
    asked = [d for d in ("place", "procedure", "documents") if d in details]
    if not asked:
        return ""
    named = [rule for rule in context.engine.rules.entitlements
             if rule["id"] in lead.entitlements] if context.engine and lead else []
    subject = "、".join(rule["title"] for rule in named) or "这项政策"
    departments = list(dict.fromkeys(d for rule in named for d in rule["apply_to"])) or hit.departments
    contact = departments_text(departments)
    if not contact:
        return ""
    missing = [d for d in asked if not has_evidence(d, quotes, explicit=True)]
    line = f"{subject}由{contact}负责办理"
    if missing:
        line += f"；政策原文没有写明{'、'.join(_MISSING_WORDS[d] for d in missing)}，请直接向他们咨询"
    return line + "。"


def entitlement_where(details: list[str], named: list[dict]) -> str:
    """Where to go for entitlements answered from their own rules (no retrieved clause): their departments
    (rules.yaml `apply_to`), and that the text names no place, documents or procedure — their quotes never do."""
    asked = [d for d in ("place", "procedure", "documents") if d in details]
    departments = list(dict.fromkeys(d for rule in named for d in rule["apply_to"]))
    if not asked or not departments:
        return ""
    missing = [d for d in asked if not has_evidence(d, [rule["quote"] for rule in named], explicit=True)]
    line = f"{'、'.join(rule['title'] for rule in named)}由{departments_text(departments)}负责办理"
    if missing:
        line += f"；政策原文没有写明{'、'.join(_MISSING_WORDS[d] for d in missing)}，请直接向他们咨询"
    return line + "。"


def _unstated_line(q: str, quotes: list[str], hit: Hit, lead: Lead | None) -> str:
    """A rate or a period asked for that neither the quote nor the entitlement's wording states ("贷款利息多少",
    "失业金能领几个月"): say so first, so the quote that follows is not mistaken for the answer."""
    stated = quotes + ([lead.sentence] if lead else [])
    asked = asked_details(_NOT_ASKED_PERIOD.sub("", q))
    missing = [d for d in ("rate", "duration") if d in asked and not has_evidence(d, stated, explicit=True)]
    if not missing:
        return ""
    contact = departments_text(hit.departments)
    return (f"政策原文没有写明{'、'.join(_MISSING_WORDS[d] for d in missing)}"
            + (f"，请咨询{contact}。" if contact else "。"))


def _phrase_with(pattern: re.Pattern, quotes: list[str]) -> str:
    for sentence in quotes:
        for phrase in _PHRASES.findall(sentence):
            if pattern.search(phrase):
                return phrase.strip()
    return ""


def _amount_line(details: list[str], quotes: list[str], hit: Hit) -> str:
    if "amount" not in details:
        return ""
    phrase = _phrase_with(_AMOUNT, quotes)
    if phrase:
        return f"标准是：{phrase}。"
    contact = departments_text(hit.departments)
    return "政策原文没有写明具体金额或标准，按规定执行" + (f"，请咨询{contact}。" if contact else "。")


def _period_line(details: list[str], quotes: list[str]) -> str:
    if "duration" not in details:
        return ""
    phrase = _phrase_with(_PERIOD, quotes)
    return f"期限是：{phrase}。" if phrase else ""


def _contains_any(text: str, words: list[str]) -> str:
    return next((word for word in words if word in text), "")


def _yes_no_line(question: str, q: str, quotes: list[str], terms: dict) -> str:
    spec = (terms or {}).get("yes_no")
    q = f"{(question or '').lower()} {q}"  # normalize() folds "会不会" into "会": read both forms
    if not spec or not _contains_any(q, spec["question"]):
        return ""
    joined = "".join(quotes)
    need = _contains_any(q, spec["need_verbs"])
    exempt = _contains_any(joined, spec["exempt_cues"])
    if need and exempt:
        return f"不用。{_cue_phrase(exempt, quotes)}。"
    allow = _contains_any(joined, spec["allow_cues"])
    if not allow:
        return ""
    phrase = _cue_phrase(allow, quotes)
    if "会不会" in q or "会" in q and "赶" in q:
        return f"政策写明：{phrase}。"
    if _contains_any(q, spec["have_verbs"]):
        return f"有。{phrase}。"
    if _contains_any(q, spec["can_verbs"]):
        return f"可以。{phrase}。"
    return ""


def _cue_phrase(cue: str, quotes: list[str]) -> str:
    for sentence in quotes:
        phrases = [p.strip() for p in _PHRASES.findall(sentence)]
        for index, phrase in enumerate(phrases):
            if cue in phrase:
                # a short phrase ("允许…") reads better with the condition before it
                before = phrases[index - 1] if index and len(phrase) < 12 else ""
                return f"{before}，{phrase}" if before else phrase
    return cue


def _who_line(q: str, quotes: list[str], context: HeadlineContext) -> str:
    words = (context.terms or {}).get("who") or []
    if not _contains_any(q, words) or context.engine is None:
        return ""
    groups = list(context.engine.rules.groups.values())
    for sentence in quotes:
        normalized = normalize(sentence)
        named = [g for g in groups if normalize(g) in normalized]
        if named:
            phrase = _phrase_with(re.compile("|".join(re.escape(normalize(g)) for g in named)),
                                  [normalized])
            return f"适用对象：{phrase or '、'.join(named)}。"
    return ""
