"""Parser for Chinese government policy documents (GB/T 9704 layout).

Numbering levels: 一、 / （一） / 1. / （1）; any level may be skipped; brackets may be half or
full width. Produces document metadata and one Clause per numbered item that has text:

* path: numbering values per level joined by "." ("0" = preamble, "2.1" = 二、（一）,
  a skipped level is written as 0: 一、 → 1. gives "1.0.1"); clause_id = "<doc_id>:<path>".
* article: the （n） number (0 for the preamble and level-1 sections with their own text).

Source artifacts repaired: page breaks inside sentences (paragraphs are re-joined unless the
previous one ends a sentence), stray spaces inside numbers, a responsible-departments
parenthesis moved to its own paragraph, and the signature / 抄送 / 印发 / 共印 block (dropped).
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .textnorm import convert_numerals, squeeze_spaces, to_halfwidth

CN_DIGITS = "零〇一二两三四五六七八九十"
_LEVEL_PATTERNS = (
    re.compile(rf"^([{CN_DIGITS}]+)、\s*(.*)$"),                 # 一、
    re.compile(rf"^[（(]([{CN_DIGITS}]+)[）)]\s*(.*)$"),       # （一） / (一)
    re.compile(r"^(\d+)[.．、](?!\d)\s*(.*)$"),                # 1. / 1．/ 1、
    re.compile(r"^[（(](\d+)[）)]\s*(.*)$"),                   # （1） / (1)
)
_DOC_NUMBER = re.compile(r"^\S{1,20}[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号$")
_DATE_ONLY = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_TAIL_START = re.compile(r"^(抄送|主送|印发|共印|（此件|\(此件)|印发$")
_SENTENCE_END = "。！？!?；;"
_CLOSERS = "”’」』》）)】"
_PARAGRAPH_END = set(_SENTENCE_END + "：:…" + _CLOSERS)
_SENTENCE = re.compile(rf"[^{_SENTENCE_END}]+(?:[{_SENTENCE_END}]+[{_CLOSERS}]*)?")
_DEPARTMENTS_PAREN = re.compile(r"[（(]([^（）()]*(?:负责|牵头|配合)[^（）()]*)[）)]\s*$")
_DEPARTMENT_SPLIT = re.compile(r"[、，,；;]|和(?=各)|及(?=各)")
_DEPARTMENT_TRAILERS = re.compile(r"(等)?(按职责分工负责|按职责负责|分工负责|负责|牵头|配合)$")

_AMOUNT = re.compile(
    r"(\d+(?:\.\d+)?)(万元|亿元|元|个月|%|周岁|岁|年(?=内|以内|以上|以下|的|后|起)|年)")
_AMOUNT_SCALE = {"万元": (10_000, "元"), "亿元": (100_000_000, "元"), "元": (1, "元"),
                 "个月": (1, "个月"), "%": (1, "%"), "周岁": (1, "岁"), "岁": (1, "岁"), "年": (1, "年")}
_TIME_PATTERNS = (  # most specific first; matched spans are masked so later patterns skip them
    ("period", re.compile(r"\d{4}年\d{1,2}月\d{1,2}日(?:起)?至(\d{4})年(\d{1,2})月(\d{1,2})日")),
    ("deadline", re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日(?:前|之前|以前|止)")),
    ("deadline", re.compile(r"(\d{4})年(\d{1,2})月(?:底|末)(?:前|之前|以前)?")),
    ("deadline", re.compile(r"(\d{4})年(?:底|末|年底|年末)(?:前|之前|以前)?")),
    ("within_year", re.compile(r"(\d{4})年(?:内|以内|度内)")),
    ("year", re.compile(r"(\d{4})年(?!\d{1,2}月)")),
)


@dataclass
class Amount:
    value: float
    unit: str
    raw: str


@dataclass
class TimeLimit:
    raw: str
    until: dt.date
    kind: str  # within_year | deadline | period | year

    def expired(self, today: dt.date) -> bool:
        return self.until < today


@dataclass
class Clause:
    clause_id: str
    doc_id: str
    path: str
    section: str
    article: int
    title: str
    text: str
    sentences: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    amounts: list[Amount] = field(default_factory=list)
    time_limits: list[TimeLimit] = field(default_factory=list)

    @property
    def has_lead_title(self) -> bool:
        """True when the title is the first sentence of text (（一）优化…。) rather than a heading line."""
        return bool(self.title) and self.text.startswith(self.title)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["time_limits"] = [dict(t, until=t["until"].isoformat()) for t in data["time_limits"]]
        return data


@dataclass
class Document:
    doc_id: str
    number: str
    issuer: str
    date: dt.date | None
    title: str
    clauses: list[Clause] = field(default_factory=list)

    def to_dict(self, with_clauses: bool = True) -> dict:
        data: dict[str, Any] = {"doc_id": self.doc_id, "number": self.number, "issuer": self.issuer,
                "date": self.date.isoformat() if self.date else None, "title": self.title}
        if with_clauses:
            data["clauses"] = [c.to_dict() for c in self.clauses]
        return data


# ---------------------------------------------------------------------------------------------
# Clause-level analysis (also used by the store when staff edit a clause's text)

def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def split_departments(text: str) -> tuple[str, list[str]]:
    """(text without the trailing responsible-departments parenthesis, departments)."""
    match = _DEPARTMENTS_PAREN.search(text)
    if not match:
        return text, []
    departments = []
    for part in _DEPARTMENT_SPLIT.split(match.group(1)):
        name = _DEPARTMENT_TRAILERS.sub("", part.strip()).strip()
        name = re.sub(r"等$", "", name)
        if name and name not in departments:
            departments.append(name)
    return text[:match.start()].rstrip(), departments


def extract_amounts(text: str) -> list[Amount]:
    found: list[Amount] = []
    for match in _AMOUNT.finditer(_scan_form(text)):
        number, unit_raw = match.groups()
        value = float(number)
        if unit_raw == "年" and value >= 100:
            continue  # a calendar year, handled as a time limit
        scale, unit = _AMOUNT_SCALE[unit_raw]
        amount = Amount(value=value * scale, unit=unit, raw=match.group(0))
        if amount not in found:
            found.append(amount)
    return found


def extract_time_limits(text: str) -> list[TimeLimit]:
    scan = _scan_form(text)
    found: list[tuple[int, TimeLimit]] = []
    for kind, pattern in _TIME_PATTERNS:
        for match in pattern.finditer(scan):
            until = _limit_date(kind, match.groups())
            if until is None:
                continue
            found.append((match.start(), TimeLimit(raw=match.group(0), until=until, kind=kind)))
            scan = scan[:match.start()] + "#" * (match.end() - match.start()) + scan[match.end():]
    return [limit for _, limit in sorted(found, key=lambda item: item[0])]


def analyze_clause_text(text: str, lead_title: bool) -> dict:
    """Derived fields of a clause text: title (if lead_title), sentences, departments, amounts, limits."""
    text = repair_text(text)
    body, departments = split_departments(text)
    sentences = split_sentences(body)
    title = ""
    if lead_title and sentences:
        title = sentences[0].rstrip(_SENTENCE_END)
        sentences = sentences[1:]
    return {"text": text, "title": title, "sentences": sentences, "departments": departments,
            "amounts": extract_amounts(body), "time_limits": extract_time_limits(body)}


def repair_text(text: str) -> str:
    """Join lines and drop the spaces PDF extraction leaves inside Chinese text and numbers."""
    return squeeze_spaces("".join(line.strip() for line in text.splitlines()), keep_word_gaps=False)


def _scan_form(text: str) -> str:
    return convert_numerals(to_halfwidth(squeeze_spaces(text, keep_word_gaps=False)))


def _limit_date(kind: str, groups: tuple[str, ...]) -> dt.date | None:
    try:
        year = int(groups[0])
        if kind in ("within_year", "year") or len(groups) == 1:
            return dt.date(year, 12, 31)
        month = int(groups[1])
        if len(groups) == 2 or groups[2] is None:
            return dt.date(year, month, calendar.monthrange(year, month)[1])
        return dt.date(year, month, int(groups[2]))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Document structure

def chinese_ordinal(numeral: str) -> int:
    """一 → 1, 十 → 10, 十六 → 16, 二十三 → 23 (heading numbers only go this far)."""
    digits = {ch: i for i, ch in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    if "十" not in numeral:
        return int("".join(str(digits[ch]) for ch in numeral))
    tens, _, ones = numeral.partition("十")
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


def heading_level(paragraph: str) -> tuple[int, int, str] | None:
    """(level 1..4, number, rest) when the paragraph starts with a numbering marker."""
    for level, pattern in enumerate(_LEVEL_PATTERNS, start=1):
        match = pattern.match(paragraph)
        if match:
            number = match.group(1)
            value = int(number) if number.isdigit() else chinese_ordinal(number)
            return level, value, match.group(2).strip()
    return None


def _is_bare_heading(paragraph: str) -> bool:
    return heading_level(paragraph) is not None and not any(ch in paragraph for ch in "。！？；")


def join_page_breaks(paragraphs: list[str]) -> list[str]:
    """Re-join a paragraph that stops mid-sentence with the next one ("创业补贴范" + "围，按规定…")."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and joined[-1][-1] not in _PARAGRAPH_END and not _is_bare_heading(joined[-1]):
            joined[-1] += paragraph
        else:
            joined.append(paragraph)
    return joined


def _split_front_matter(lines: list[str]) -> tuple[dict, list[str]]:
    meta = {"number": "", "issuer": "", "title": ""}
    number_at = next((i for i, line in enumerate(lines[:15]) if _DOC_NUMBER.match(line)), None)
    if number_at is None:
        meta["title"] = lines[0] if lines else ""
        return meta, lines[1:]
    meta["number"] = re.sub(r"\s+", "", lines[number_at])
    header = "".join(lines[:number_at])
    meta["issuer"] = re.sub(r"(文件|文件\s*)$", "", header)
    addressee_at = next((i for i in range(number_at + 1, min(len(lines), number_at + 8))
                         if lines[i].endswith(("：", ":")) and len(lines[i]) < 120), None)
    if addressee_at is None:
        meta["title"] = lines[number_at + 1] if len(lines) > number_at + 1 else ""
        return meta, lines[number_at + 2:]
    meta["title"] = "".join(lines[number_at + 1:addressee_at])
    return meta, lines[addressee_at + 1:]


def _split_tail(lines: list[str]) -> tuple[list[str], dict]:
    """Cut the signature, date, 抄送 and 印发 lines off the body; return the signature facts."""
    tail: dict[str, Any] = {"issuer": "", "date": None}
    for i, line in enumerate(lines):
        date_match = _DATE_ONLY.match(convert_numerals(line))
        if date_match or _TAIL_START.search(line):
            cut = i
            if date_match:
                tail["date"] = dt.date(*map(int, date_match.groups()))
                previous = lines[i - 1] if i else ""
                if previous and len(previous) <= 40 and previous[-1] not in _PARAGRAPH_END \
                        and heading_level(previous) is None:
                    tail["issuer"], cut = previous, i - 1
            return lines[:cut], tail
    return lines, tail


class _Builder:
    """Walks body paragraphs and opens a clause at every numbering marker."""

    def __init__(self, doc_id: str):
        self.doc_id = doc_id
        self.numbers: list[int | None] = [None, None, None, None]
        self.section = ""
        self.article = 0
        self.open: list[dict] = []  # clauses in document order: path, level, section, article, parts

    def start(self, level: int, number: int, rest: str, paragraph: str) -> None:
        self.numbers[level - 1] = number
        for deeper in range(level, 4):
            self.numbers[deeper] = None
        last = max(i for i, n in enumerate(self.numbers) if n is not None)
        path = ".".join(str(n or 0) for n in self.numbers[:last + 1])
        if level == 1:
            self.section, self.article = paragraph, 0
            title, _, body = rest.partition("。")
            self.open.append(self._clause(path, level, heading_title=title, parts=[body] if body else []))
            return
        if level == 2:
            self.article = number
        self.open.append(self._clause(path, level, heading_title="", parts=[rest]))

    def add(self, paragraph: str) -> None:
        if not self.open:
            self.open.append(self._clause("0", 0, heading_title="", parts=[]))
        self.open[-1]["parts"].append(paragraph)

    def _clause(self, path: str, level: int, heading_title: str, parts: list[str]) -> dict:
        return {"path": path, "level": level, "section": self.section, "article": self.article,
                "heading_title": heading_title, "parts": parts}

    def clauses(self) -> list[Clause]:
        built = []
        for item in self.open:
            text = "".join(item["parts"])
            if not text:
                continue  # a bare section heading: kept as `section` on its children
            lead_title = item["level"] >= 2
            fields = analyze_clause_text(text, lead_title=lead_title)
            title = fields.pop("title") if lead_title else item["heading_title"]
            fields.pop("title", None)
            built.append(Clause(clause_id=f"{self.doc_id}:{item['path']}", doc_id=self.doc_id,
                                path=item["path"], section=item["section"], article=item["article"],
                                title=title, **fields))
        _share_departments(built)
        return built


def _share_departments(clauses: list[Clause]) -> None:
    """Sub-items (1. / （1）) of an article share the departments named once at the article's end."""
    by_path = {c.path: c for c in clauses}
    for clause in clauses:
        parent = by_path.get(".".join(clause.path.split(".")[:2]))
        if parent is None or parent is clause or parent.article != clause.article:
            continue
        if clause.departments and not parent.departments:
            parent.departments = list(clause.departments)
    for clause in clauses:
        parent = by_path.get(".".join(clause.path.split(".")[:2]))
        if parent is not None and not clause.departments:
            clause.departments = list(parent.departments)


def parse_document(text: str, doc_id: str) -> Document:
    lines = [squeeze_spaces(line, keep_word_gaps=False) for line in text.splitlines()]
    lines = [line for line in lines if line]
    meta, body = _split_front_matter(lines)
    body, tail = _split_tail(body)
    builder = _Builder(doc_id)
    for paragraph in join_page_breaks(body):
        heading = heading_level(paragraph)
        if heading:
            builder.start(*heading, paragraph=paragraph)
        else:
            builder.add(paragraph)
    return Document(doc_id=doc_id, number=meta["number"], issuer=tail["issuer"] or meta["issuer"],
                    date=tail["date"], title=meta["title"], clauses=builder.clauses())


def parse_file(path: str | Path) -> Document:
    path = Path(path)
    return parse_document(path.read_text(encoding="utf-8"), doc_id=path.stem)
