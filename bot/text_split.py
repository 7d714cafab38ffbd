"""The one text splitter for the channel limit (WeChat rejects text messages over 2048 bytes UTF-8).

A text longer than the limit is cut at the coarsest boundary that works: each cut level splits an
oversized piece into finer pieces, down to cutting between characters when a piece has no boundary
left. A character is never cut in half; no text is lost or reordered. The pieces are then packed
greedily into as few parts as fit.

Cut levels, per caller (the wording each channel has always had):
    SENTENCE_CUTS   sentence ends, then clause marks (，、：…)          — WeChat parts (split_text, pack_messages)
    PARAGRAPH_CUTS  paragraphs, then sentences, then clauses            — cited answers (knowledge.answer)
    LINE_CUTS       lines of a block                                    — entitlement lists (knowledge.entitlement_text)
Pure standard library, no project imports: knowledge/ uses it too.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, List, Tuple

WECHAT_TEXT_LIMIT = 2048
MESSAGE_SEPARATOR = "\n\n"

_CLOSERS = "”’」』）)】》\"'"
_SENTENCE_ENDS = "。！？!?；;…\n"
_CLAUSE_MARKS = "，,、：: 　"
_E, _C = f"[{re.escape(_SENTENCE_ENDS)}]", f"[{re.escape(_CLOSERS)}]"
# A cut goes after an end mark and the closing quotes/brackets that follow it (。” / 。”）), never before them.
_SENTENCE_CUT = re.compile(f"(?:(?<={_E})|(?<={_E}{_C})|(?<={_E}{_C}{_C}))(?![{re.escape(_SENTENCE_ENDS + _CLOSERS)}])")
_CLAUSE_CUT = re.compile(
    f"(?<=[{re.escape(_CLAUSE_MARKS + _CLOSERS)}])(?![{re.escape(_CLAUSE_MARKS + _SENTENCE_ENDS + _CLOSERS)}])"
)

Cut = Callable[[str], List[str]]  # pieces whose concatenation is the text (a dropped "\n" joins them back)
SENTENCE_CUTS: Tuple[Cut, ...] = (_SENTENCE_CUT.split, _CLAUSE_CUT.split)
# A paragraph/line keeps its newlines; a sentence ends at 。！？!?；; and the closing quotes after it.
PARAGRAPH_CUTS: Tuple[Cut, ...] = (re.compile(r"[^\n]*\n*").findall,
                                   re.compile(r"[^。！？!?；;]*[。！？!?；;”」]*\n*").findall,
                                   re.compile(r"[^，,、]*[，,、]*").findall)
LINE_CUTS: Tuple[Cut, ...] = (lambda text: text.split("\n"),)  # the packer joins lines back with "\n"


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _hard_cut(text: str, limit: int) -> List[str]:
    pieces: List[str] = []
    current: List[str] = []
    size = 0
    for char in text:
        char_size = utf8_len(char)
        if size + char_size > limit and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += char_size
    if current:
        pieces.append("".join(current))
    return pieces


def pieces(text: str, limit: int, cuts: Tuple[Cut, ...] = SENTENCE_CUTS) -> List[str]:
    """Natural pieces no longer than `limit`, each cut at the coarsest boundary that works."""
    if utf8_len(text) <= limit:
        return [text]
    if not cuts:
        return _hard_cut(text, limit)
    found: List[str] = []
    for piece in cuts[0](text):
        found.extend(pieces(piece, limit, cuts[1:]) if piece else [])
    return found


def pack(pieces: Iterable[str], limit: int, joiner: str = "", strip: bool = True) -> List[str]:
    """Greedily joins consecutive pieces with `joiner` while the result stays within `limit`. With `strip`,
    whitespace at the ends of a part neither counts nor stays, and blank parts are dropped."""
    parts: List[str] = []
    current = ""
    for piece in pieces:
        candidate = current + joiner + piece if current else piece
        if utf8_len(candidate.strip() if strip else candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return [part.strip() for part in parts if part.strip()] if strip else parts


def split_text(text: str, limit: int = WECHAT_TEXT_LIMIT, cuts: Tuple[Cut, ...] = SENTENCE_CUTS) -> List[str]:
    """One text as few parts ≤ `limit` bytes as possible, cut at the coarsest boundaries of `cuts`."""
    if limit < 4:
        raise ValueError("limit must fit at least one UTF-8 character")
    return pack(pieces(text, limit, cuts), limit)


def pack_messages(messages: Iterable[str], limit: int = WECHAT_TEXT_LIMIT) -> List[str]:
    """Several bot messages as few parts as possible: short ones share a part, long ones are split."""
    found: List[str] = []
    for message in messages:
        message = message.strip()
        if message:
            found.extend(split_text(message, limit))
    return pack(found, limit, MESSAGE_SEPARATOR)
