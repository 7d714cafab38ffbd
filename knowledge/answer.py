"""Compose a cited chat answer from search results.

compose_answer(question, searcher, today) → Answer(parts, citations, answerable):
* quotes the one or two most relevant sentences of the best clause (not the whole article),
  for every question in the message ("要交登记费吗？能贷多少？" → two quotes);
* cites the document number, section and article ("宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展")
  and the departments to contact;
* flags time-limited provisions whose date has passed relative to `today` — they are quoted as
  expired, never as current;
* when the question asks for an amount/duration the text does not state, says "按规定" and names
  the departments;
* splits the reply into parts of at most 2048 UTF-8 bytes (WeChat's text limit) at sentence ends.
When the policy does not answer, `answerable` is False and the single part says so honestly
(the caller adds the hand-off offer).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot import text_split
from bot.text_split import PARAGRAPH_CUTS, WECHAT_TEXT_LIMIT

from .citations import citation_from_hit, citation_heading, citation_line, expiry_notes
from .parser import extract_time_limits
from .question_details import asked_details, has_evidence
from .search import Hit
from .textnorm import normalize
from .tokenize import tokenize

MAX_PART_BYTES = WECHAT_TEXT_LIMIT
SECOND_SENTENCE_MARGIN = 0.015  # quote a second sentence only if it scores nearly as well as the first
GENERIC_DEPARTMENTS = ("各县区人民政府", "高新区管委会", "各有关部门")
_DETAIL_WORDS = {"amount": "具体金额或标准", "duration": "具体期限", "rate": "利率或费率",
                 "documents": "需要的材料", "place": "具体办理地点", "procedure": "具体办理流程"}


@dataclass
class Block:
    """One question's answer in two forms: `text` in full (lead, quote, expiry notes, departments) for
    text-only channels; `bubble` — the lead and one citation line — for the web chat, whose card shows the rest."""
    text: str
    bubble: str
    citation: dict


@dataclass
class Answer:
    answerable: bool
    parts: list[str]
    citations: list[dict] = field(default_factory=list)
    relevance: float = 0.0
    normalized: str = ""


def document_reference(hit: Hit) -> str:
    return hit.doc_number or hit.doc


# ---------------------------------------------------------------------------------------------
def compose_answer(question: str, searcher, today: dt.date | None = None) -> Answer:
    today = today or dt.date.today()
    result = searcher.search(question, k=5)
    parts = result.by_part or []
    if not result.answerable or not result.hits:
        return Answer(False, split_parts(no_answer_text(result.hits)), [], result.relevance, result.normalized)

    blocks, citations, seen = [], [], set()
    for part in parts or [None]:
        hits = part.hits if part else result.hits
        answerable = part.answerable if part else result.answerable
        text = part.text if part else result.normalized
        if not answerable or not hits:
            blocks.append(f"关于“{_short(text)}”，这份政策没有涉及。")
            continue
        hit = hits[0]
        if hit.clause_id in seen and len(parts) > 1:
            continue  # both questions are answered by the same clause already quoted
        seen.add(hit.clause_id)
        block = answer_block(hit, text, today)
        blocks.append(block.text)
        citations.append(block.citation)
    return Answer(True, split_parts("\n\n".join(blocks)), citations, result.relevance, result.normalized)


def answer_block(hit: Hit, question: str, today: dt.date, lead: str = "") -> Block:
    """The answer to one question: the `lead` sentence that answers it (knowledge.headline), then the quote
    as proof with the document and article, expiry notes, and the departments to contact. Without a lead the
    quote is the answer, so the bubble keeps the full text."""
    quotes = choose_sentences(hit, question)
    expired_notes = [note for sentence in quotes for note in expiry_notes(sentence, today)]
    source = f"{document_reference(hit)} {citation_heading(hit)}"
    lines = [lead, f"依据{source}："] if lead else [f"根据{source}："]
    for sentence in quotes:
        marker = "（已过期）" if is_fully_expired(sentence, today) else ""
        lines.append(f"“{sentence}”{marker}")
    lines.extend(expired_notes)
    missing = [d for d in asked_details(question)
               if d in ("amount", "duration") and not has_evidence(d, quotes, explicit=True)]
    contact = departments_text(hit.departments)
    unstated = ""
    if missing and "没有写明" not in lead:
        what = "、".join(_DETAIL_WORDS[d] for d in missing)
        unstated = f"政策原文没有写明{what}，按规定执行" + (f"，请咨询{contact}。" if contact else "。")
        lines.append(unstated)
    elif contact:
        lines.append(f"负责部门：{contact}。")
    citation = citation_from_hit(hit, quotes, today)
    text = "\n".join(lines)
    bubble = "\n".join(line for line in (lead, citation_line(citation), unstated) if line) if lead else text
    return Block(text, bubble, citation)


def choose_sentences(hit: Hit, question: str = "") -> list[str]:
    """The best sentence, plus the runner-up when it scores almost as well and matches a word of
    the question that the best one does not (at most two)."""
    if not hit.sentences:
        return [hit.title] if hit.title else [hit.text]
    chosen = [hit.sentences[0]]
    scores = hit.sentence_scores
    if len(hit.sentences) > 1 and len(scores) > 1 and scores[1] >= scores[0] - SECOND_SENTENCE_MARGIN:
        asked = set(tokenize(normalize(question)))
        first, second = (set(tokenize(normalize(s))) & asked for s in hit.sentences[:2])
        if second - first:
            chosen.append(hit.sentences[1])
    return chosen


def is_fully_expired(sentence: str, today: dt.date) -> bool:
    """Every phrase of the sentence is governed by an expired limit (e.g. 2020年…允许2021年底前补缴)."""
    limits = extract_time_limits(sentence)
    if not limits or not all(limit.expired(today) for limit in limits):
        return False
    phrases = [p for p in re.split(r"[，,；;]", sentence) if p.strip()]
    return len(phrases) <= len(limits) + 1


def departments_text(departments: list[str]) -> str:
    specific = [d for d in departments if d not in GENERIC_DEPARTMENTS]
    generic = [d for d in departments if d in GENERIC_DEPARTMENTS]
    if specific and generic:
        return "、".join(specific) + "，以及" + "、".join(generic)
    return "、".join(specific or generic)


def no_answer_text(hits: list[Hit]) -> str:
    reference = document_reference(hits[0]) if hits else ""
    policy = f"这份政策（{reference}）" if reference else "现有的政策文件"
    return f"{policy}没有涉及您问的这个问题，我没法根据政策原文给您准确答复。"


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------------------------------------
def split_parts(text: str, limit: int = MAX_PART_BYTES) -> list[str]:
    """Split into parts of at most `limit` UTF-8 bytes, breaking between paragraphs, then between
    sentences, then between clauses; a single overlong clause is cut on a character boundary."""
    packed = text_split.pack(text_split.pieces(text, limit, PARAGRAPH_CUTS), limit, strip=False)
    return [part.strip() for part in packed if part.strip()] or [""]
