"""Splits bot answers into parts that fit a byte limit (WeChat rejects text messages over 2048 bytes UTF-8).

Cuts at sentence ends first, then at clause marks (，、：…), and only cuts inside a clause when a single
clause is longer than the limit. A character is never cut in half. No text is lost or reordered.
"""
from __future__ import annotations

import re
from typing import Iterable, List

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


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _hard_cut(text: str, limit: int) -> List[str]:
    pieces, current, size = [], [], 0
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


def _pieces(text: str, limit: int, cuts: tuple) -> List[str]:
    """Natural pieces no longer than `limit`, each cut at the coarsest boundary that works."""
    if utf8_len(text) <= limit:
        return [text]
    if not cuts:
        return _hard_cut(text, limit)
    pieces: List[str] = []
    for piece in cuts[0].split(text):
        pieces.extend(_pieces(piece, limit, cuts[1:]) if piece else [])
    return pieces


def _pack(pieces: Iterable[str], limit: int, joiner: str = "") -> List[str]:
    """Greedily joins consecutive pieces while the result stays within `limit`."""
    parts: List[str] = []
    current = ""
    for piece in pieces:
        candidate = current + joiner + piece if current else piece
        if utf8_len(candidate.strip()) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def split_text(text: str, limit: int = WECHAT_TEXT_LIMIT) -> List[str]:
    """One text as few parts ≤ `limit` bytes as possible, cut at sentence boundaries where it can be."""
    if limit < 4:
        raise ValueError("limit must fit at least one UTF-8 character")
    return _pack(_pieces(text, limit, (_SENTENCE_CUT, _CLAUSE_CUT)), limit)


def pack_messages(messages: Iterable[str], limit: int = WECHAT_TEXT_LIMIT) -> List[str]:
    """Several bot messages as few parts as possible: short ones share a part, long ones are split."""
    pieces: List[str] = []
    for message in messages:
        message = message.strip()
        if message:
            pieces.extend(split_text(message, limit))
    return _pack(pieces, limit, MESSAGE_SEPARATOR)
