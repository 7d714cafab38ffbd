"""Synonyms and search terms that staff add from the admin (insights → "加同义词 / 加词条").

They live in the knowledge store (table lexicon_entries), change only through a draft that is
published (so they show in the diff, run in the impact preview, and are rolled back like clause
text), and travel with the search index: build_index copies the published entries into the index's
meta, and the searcher reads them from the index it searches with. A publish therefore applies them
in every process at the moment that process swaps in the new index, never half-way, and a rollback
takes them out the same way. The files under knowledge/lexicon/ stay the curated, tuned base.

Two kinds:
- synonym: an everyday phrase → policy wording ("练摊" → "临时摊点 摊位"). Like lexicon/synonyms.txt,
  it only expands the BM25 query (at the reduced expansion weight).
- term: a word that is one search token wherever it occurs, in clauses and in questions ("社保补贴"),
  like a jieba user-dictionary word but without changing the shared tokenizer of the process.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .textnorm import normalize
from .tokenize import expand, tokenize

KINDS = ("synonym", "term")
MAX_KEY_CHARS, MAX_TERMS, MAX_TERM_CHARS = 20, 10, 20


class LexiconEntryError(ValueError):
    pass


def entry_target(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def clean_key(kind: str, key: str) -> str:
    """The entry's phrase, normalised the way queries are (so it matches them)."""
    if kind not in KINDS:
        raise LexiconEntryError(f"kind 须为 {' 或 '.join(KINDS)}（同义词 / 词条）")
    key = normalize(str(key or "")).strip().lower()
    if not key or len(key) > MAX_KEY_CHARS or any(ch.isspace() for ch in key):
        raise LexiconEntryError(f"词语须为 1–{MAX_KEY_CHARS} 个字、不含空格")
    return key


def clean_entry(kind: str, key: str, terms) -> dict:
    """A validated entry {kind, key, terms}."""
    key = clean_key(kind, key)
    if isinstance(terms, str):
        terms = terms.split()
    if not isinstance(terms, (list, tuple)) or not all(isinstance(t, str) for t in terms):
        raise LexiconEntryError("terms 须为政策用语列表（或用空格分开的文字）")
    terms = list(dict.fromkeys(normalize(t).strip() for t in terms if t.strip()))
    if kind == "term":
        if len(key) < 2:
            raise LexiconEntryError("词条至少 2 个字")
        return {"kind": kind, "key": key, "terms": []}
    if not terms or len(terms) > MAX_TERMS or any(len(t) > MAX_TERM_CHARS or " " in t for t in terms):
        raise LexiconEntryError(f"同义词须给出 1–{MAX_TERMS} 个政策用语（每个不超过 {MAX_TERM_CHARS} 字）")
    if key in terms:
        raise LexiconEntryError("同义词的政策用语不能与词语本身相同")
    return {"kind": kind, "key": key, "terms": terms}


@dataclass(frozen=True)
class StaffLexicon:
    """The published entries an index was built with: applied to that index's clauses and queries."""
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    terms: tuple[str, ...] = ()
    _pattern: re.Pattern | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, entries: dict[str, dict] | None) -> "StaffLexicon":
        listed = list((entries or {}).values())
        synonyms = tuple(sorted(((e["key"], tuple(e["terms"])) for e in listed if e["kind"] == "synonym"),
                                key=lambda s: (-len(s[0]), s[0])))
        terms = tuple(sorted({e["key"] for e in listed if e["kind"] == "term"}, key=lambda t: (-len(t), t)))
        phrases = sorted({key for key, _ in synonyms} | set(terms), key=lambda p: (-len(p), p))
        pattern = re.compile("(" + "|".join(map(re.escape, phrases)) + ")") if phrases else None
        return cls(synonyms, terms, pattern)

    def to_meta(self) -> dict:
        return {"synonyms": {key: list(terms) for key, terms in self.synonyms}, "terms": list(self.terms)}

    @classmethod
    def from_meta(cls, meta: dict | None) -> "StaffLexicon":
        meta = meta or {}
        entries = {f"synonym:{k}": {"kind": "synonym", "key": k, "terms": v}
                   for k, v in (meta.get("synonyms") or {}).items()}
        entries.update({f"term:{t}": {"kind": "term", "key": t, "terms": []} for t in meta.get("terms") or ()})
        return cls.of(entries)

    def __bool__(self) -> bool:
        return bool(self.synonyms or self.terms)

    def outside_words(self, text: str, change) -> str:
        """`change(piece)` applied to the text between staff phrases: the homophone corrector must not
        turn a staff phrase jieba does not know ("灵工") into a corpus word that sounds alike."""
        if not self._pattern:
            return change(text)
        pieces = self._pattern.split(text)  # with the group: odd items are the staff phrases
        return "".join(piece if i % 2 else (change(piece) if piece else piece) for i, piece in enumerate(pieces))

    def tokenize(self, normalized: str) -> list[str]:
        """tokenize() plus every staff term found in the text, each as one more token."""
        tokens = tokenize(normalized)
        return tokens + [term for term in self.terms if term in normalized] if self.terms else tokens

    def expand(self, normalized: str) -> tuple[list[str], str]:
        """tokenize.expand with the staff synonyms added to the file lexicon."""
        return expand(normalized, self.synonyms)
