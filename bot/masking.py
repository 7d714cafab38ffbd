"""The one masking function for personal numbers: phone, 18-digit 身份证 and bank-card numbers.

Everything that stores what a user typed calls `mask` / `mask_tree` first: Rasa's tracker store
(bot.tracker_store), feedback (service/), handoff transcripts. The reply within the turn may still use the
original text; only what is written down is masked.

Shared by both runtimes: bot/ runs inside Rasa and may import nothing of the project outside bot/, while
service/ and actions/ may import bot/'s pure, dependency-free modules (this one and bot.ratelimit).
A masked number keeps its last four characters ("尾号 1234" is how staff and users refer to it).
"""
from __future__ import annotations

import re
from typing import Any

MASK = "*"
KEEP_LAST = 4
_DIGIT = "[0-9０-９]"
# A run of digits, optionally grouped by spaces or hyphens ("138 1234 5678", "6222-0200-…"), not glued
# to other digits or latin letters (so clause ids, URLs and hashes are left alone).
_NUMBER = re.compile(rf"(?<![0-9０-９A-Za-z]){_DIGIT}(?:[ \-]?{_DIGIT}){{10,22}}[XxＸｘ]?(?![0-9０-９A-Za-z])")
_LANDLINE = re.compile(rf"(?<![0-9０-９])0{_DIGIT}{{2,3}}[\-－]{_DIGIT}{{7,8}}(?![0-9０-９])")


_HALF_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def _kind(digits: str, has_check_letter: bool) -> str | None:
    digits = digits.translate(_HALF_WIDTH)
    count = len(digits)
    if has_check_letter:
        return "id" if count == 17 else None
    if count == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "phone"
    if count == 18:
        return "id"
    if 15 <= count <= 19:
        return "card"
    return None


def _mask_number(match: re.Match) -> str:
    text = match.group(0)
    compact = re.sub(r"[ \-]", "", text)
    check_letter = compact[-1] in "XxＸｘ"
    digits = compact[:-1] if check_letter else compact
    if _kind(digits, check_letter) is None:
        return text
    return MASK * (len(compact) - KEEP_LAST) + compact[-KEEP_LAST:]


def _mask_landline(match: re.Match) -> str:
    text = match.group(0)
    return MASK * (len(text) - KEEP_LAST) + text[-KEEP_LAST:]


def mask(text: str) -> str:
    """`text` with every phone, 身份证 and bank-card number replaced by stars and its last four characters."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _LANDLINE.sub(_mask_landline, _NUMBER.sub(_mask_number, text))


def mask_tree(value: Any) -> Any:
    """`mask` applied to every string inside nested dicts / lists (events, slots, JSON bodies)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: mask_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_tree(item) for item in value]
    return value
