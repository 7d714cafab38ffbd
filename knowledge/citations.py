"""Citation cards: the one shape in which every answer and every screening result cites a clause.

citation_card(...) → {
  "clause_id": "baoji-2020-49:2.1", "doc": "baoji-2020-49",
  "doc_number": "宝政办发〔2020〕49号", "doc_title": "宝鸡市人民政府办公室关于支持多渠道灵活就业的实施意见",
  "section": "二、积极拓宽渠道，开发更多灵活就业岗位", "section_label": "二、",
  "article": 1, "article_mark": "（一）", "title": "优化贷款税收等政策支持个体经营发展",
  "article_label": "（一）优化贷款税收等政策支持个体经营发展",
  "heading": "二、（一）优化贷款税收等政策支持个体经营发展",
  "quote": "…", "quotes": ["…"], "expired": false, "expiry_notes": [],
  "departments": ["市财政局", …], "context_url": "/api/clauses/baoji-2020-49:2.1"}

The article text itself is not embedded (chat messages stay small); a client fetches `context_url` to
show the quote in context. Cards for the same clause are merged by merge_cards.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterable

from .parser import extract_time_limits

_CN = "零一二三四五六七八九"
_SECTION_LABEL = re.compile(r"^[一二三四五六七八九十]+、")


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 16 → 十六, 23 → 二十三 (article numbers)."""
    if n < 10:
        return _CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


def article_label(clause) -> str:
    """（一）优化贷款税收等政策支持个体经营发展 / 一、总体要求 / 前言 (any object with article, title, section)."""
    if clause.article > 0:
        return f"（{chinese_number(clause.article)}）{clause.title}"
    if clause.section:
        return clause.section
    return clause.title or "前言"


def citation_heading(clause) -> str:
    """二、（一）优化贷款… for an article (its section makes the citation unambiguous on its own), else the label."""
    label = article_label(clause)
    return section_label(clause.section) + label if clause.article > 0 else label


def section_label(section: str) -> str:
    """二、积极拓宽渠道… → 二、"""
    match = _SECTION_LABEL.match(section or "")
    return match.group(0) if match else ""


def citation_line(card: dict) -> str:
    """依据：宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展 — the short citation a web chat bubble
    carries; the card beneath it shows the quote."""
    return f"依据：{card.get('doc_number') or card.get('doc', '')} {card['heading']}"


def expiry_notes(sentence: str, today: dt.date) -> list[str]:
    """One note per expired time limit in the sentence, quoting the time-limited phrase."""
    notes = []
    for limit in extract_time_limits(sentence):
        if limit.expired(today):
            phrase = _phrase_containing(sentence, limit.raw)
            notes.append(f"注意：“{phrase}”是有时限的规定，已于{limit.until.year}年{limit.until.month}月"
                         f"{limit.until.day}日到期，现在已不再适用。")
    return notes


def _phrase_containing(sentence: str, raw: str) -> str:
    compact = raw.replace(" ", "")
    for phrase in re.split(r"[，,；;。]", sentence):
        if compact in phrase.replace(" ", ""):
            return phrase.strip()
    return raw


def in_clause_words(text: str, quote: str) -> str:
    """The passage of `text` that `quote` cites, as the clause writes it: a quote kept elsewhere (e.g. in
    rules.yaml, "20 万元") may differ from the stored text ("20万元") in spacing only. Unchanged if absent."""
    positions = [i for i, char in enumerate(text) if not char.isspace()]
    compact_text = "".join(text[i] for i in positions)
    compact_quote = "".join(quote.split())
    start = compact_text.find(compact_quote) if compact_quote else -1
    if start < 0:
        return quote
    return text[positions[start]:positions[start + len(compact_quote) - 1] + 1]


# ---------------------------------------------------------------------------------------------
def citation_card(clause, doc_number: str, doc_title: str, quotes: list[str], today: dt.date) -> dict:
    """The complete card for `quotes` (sentences of `clause`); `clause` is a Hit or a stored Clause."""
    doc = getattr(clause, "doc", None) or getattr(clause, "doc_id", "")
    label = article_label(clause)
    quotes = [in_clause_words(clause.text, quote) for quote in quotes]
    section_mark = section_label(clause.section)
    notes = list(dict.fromkeys(note for sentence in quotes for note in expiry_notes(sentence, today)))
    return {
        "clause_id": clause.clause_id, "doc": doc, "doc_number": doc_number, "doc_title": doc_title,
        "section": clause.section, "section_label": section_mark,
        "article": clause.article, "article_mark": f"（{chinese_number(clause.article)}）" if clause.article > 0 else "",
        "title": clause.title, "article_label": label,
        "heading": citation_heading(clause),
        "quote": "".join(quotes), "quotes": list(quotes),
        "expired": bool(notes), "expiry_notes": notes,
        "departments": list(clause.departments),
        "context_url": f"/api/clauses/{clause.clause_id}",
    }


def citation_from_hit(hit, quotes: list[str], today: dt.date) -> dict:
    """A card for an answer: the hit carries its document's number and title from the index."""
    return citation_card(hit, hit.doc_number, getattr(hit, "doc_title", ""), quotes, today)


def merge_cards(cards: Iterable[dict]) -> list[dict]:
    """One card per clause, in first-seen order: quotes, expiry notes and entitlements are united."""
    merged: dict[str, dict] = {}
    for card in cards:
        first = merged.get(card["clause_id"])
        if first is None:
            merged[card["clause_id"]] = {**card, "quotes": list(card["quotes"]),
                                         "expiry_notes": list(card["expiry_notes"])}
            continue
        first["quotes"] = list(dict.fromkeys(first["quotes"] + card["quotes"]))
        first["quote"] = "".join(first["quotes"])
        first["expiry_notes"] = list(dict.fromkeys(first["expiry_notes"] + card["expiry_notes"]))
        first["expired"] = bool(first["expiry_notes"])
        if "entitlements" in card:
            first["entitlements"] = list(dict.fromkeys(first.get("entitlements", []) + card["entitlements"]))
    return list(merged.values())


def complete_cards(citations: Iterable[dict], clause_of: Callable, document_of: Callable,
                   today: dt.date) -> list[dict]:
    """Every citation in the complete shape, one card per clause. A citation that only names its clause and
    quote(s) (e.g. an entitlement quoted from another clause than the one retrieved) is built from the stored
    clause; its entitlement ids are kept. One whose clause the store does not have is left out: a card
    without its document is worse than none, and the text still cites the article."""
    cards, documents = [], {}
    for citation in citations:
        if "heading" not in citation:
            clause = clause_of(citation["clause_id"])
            if clause is None:
                continue
            if clause.doc_id not in documents:
                documents[clause.doc_id] = document_of(clause.doc_id) or {}
            document = documents[clause.doc_id]
            quotes = [quote for quote in citation.get("quotes") or [citation.get("quote", "")] if quote]
            card = citation_card(clause, document.get("number", ""), document.get("title", ""), quotes, today)
            ids = citation.get("entitlements") or ([citation["entitlement"]] if citation.get("entitlement") else [])
            citation = {**card, "entitlement": ids[0], "entitlements": ids} if ids else card
        cards.append(citation)
    return merge_cards(cards)


def entitlement_citations(result: dict, clause_of: Callable, document_of: Callable, today: dt.date) -> list[dict]:
    """Cards for the entitlements a screening result shows (eligible or to confirm), merged per clause.

    `clause_of(clause_id)` returns the stored clause (or None), `document_of(doc_id)` the document dict.
    Each entitlement's rule quotes the sentence it rests on; the card keeps the entitlement ids."""
    references = [{"clause_id": item["clause_id"], "quotes": [item["quote"]], "entitlement": item["id"]}
                  for item in result.get("entitlements", []) if item.get("eligible") is not False]
    return complete_cards(references, clause_of, document_of, today)
