"""Text normalisation shared by queries and indexed passages.

normalize(text) applies, in order: Traditional→Simplified (OpenCC t2s), full→half width,
whitespace repair (drop spaces inside Chinese text such as "20 万元"), Chinese numerals to
Arabic (二十万 → 20万, 三十五 → 35) and domain typo correction from lexicon/typos.txt.
The same function runs over document sentences before BM25 tokenisation so both sides agree.
"""
from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
TYPOS_FILE = LEXICON_DIR / "typos.txt"

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_NUMERAL_RUN = re.compile("[零〇一二两三四五六七八九十百千万亿]+")
# A numeral directly followed by one of these is a quantity, not part of a word (一次性, 统一).
_QUANTITY_FOLLOWERS = re.compile(
    r"(?:元|块|岁|周岁|个月|个|月|年|周|天|日|号|人|户|家|倍|成|项|条|份|批次|次(?!性)|小时|分钟|%|％|以上|以下|多)")
_CJK_OR_FULLWIDTH = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_SPACE_NEAR_CJK = re.compile(rf"(?<={_CJK_OR_FULLWIDTH})\s+|\s+(?={_CJK_OR_FULLWIDTH})")
_CJK_PUNCT_OR_FULLWIDTH = r"[\u3000-\u303f\uff00-\uffef]"
_SPACE_NEAR_DIGIT_OR_PUNCT = re.compile(
    rf"(?<={_CJK_PUNCT_OR_FULLWIDTH})\s+|\s+(?={_CJK_PUNCT_OR_FULLWIDTH})"
    rf"|(?<=\d)\s+(?={_CJK_OR_FULLWIDTH})|(?<={_CJK_OR_FULLWIDTH})\s+(?=\d)"
    r"|(?<=[,;:!?])\s+(?=[\u3400-\u9fff])")
_SPACE_NEAR_DIGIT = re.compile(r"(?<=\d)\s+(?=[%％])")

# "A不A" questions (管不管, 让不让, 算不算) mean the same as A; the pair only splits badly in jieba.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff]{1,2})不\1")

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # opencc-python-reimplemented: pure python, no download
    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    with _lock:  # the reimplemented OpenCC keeps per-call state on the converter object
        return _t2s().convert(text)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII forms (ＡＢＣ１２３（），？) → half width; ideographic space → space."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def squeeze_spaces(text: str, keep_word_gaps: bool = True) -> str:
    """Remove whitespace that PDF/OCR extraction leaves inside Chinese text ("20 万元", "管理， 在").

    With keep_word_gaps, a space between two Chinese characters survives as one space: in a query
    ("担保贷 免反担保 条件") it separates keywords. The parser passes False to join everything.
    """
    if keep_word_gaps:
        text = _SPACE_NEAR_DIGIT_OR_PUNCT.sub("", text)
    else:
        text = _SPACE_NEAR_CJK.sub("", text)
    text = _SPACE_NEAR_DIGIT.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def chinese_numeral_value(numeral: str) -> int | None:
    """Value of a Chinese numeral (一万四千四百 → 14400, 三十五 → 35, 一万四 → 14000), or None."""
    if not numeral or numeral[0] in "百千万亿":
        return None  # numbers start with a digit or 十; 千万/万一 are words
    if not any(ch in _SMALL_UNITS or ch in _BIG_UNITS for ch in numeral):
        return None  # bare digit strings are handled digit by digit
    total, section, digit, last_unit = 0, 0, None, None
    for ch in numeral:
        if ch in _DIGITS:
            if digit is not None and digit != 0 and _DIGITS[ch] != 0:
                return None  # "三四" is a range/approximation, not a number
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:
            unit = _BIG_UNITS[ch]
            section += digit or 0
            total += section * unit
            section, digit, last_unit = 0, None, unit
    if digit is not None:
        # Colloquial abbreviation: 一万四 = 14000, 两千五 = 2500 (trailing digit scales the last unit down).
        section += digit * (last_unit // 10 if last_unit and last_unit >= 100 and numeral[-2] in "万千百亿" else 1)
    return total + section


def _replace_numeral(match: re.Match) -> str:
    run = match.group(0)
    following = match.string[match.end():match.end() + 3]
    preceding = match.string[max(0, match.start() - 1):match.start()]
    is_quantity = bool(_QUANTITY_FOLLOWERS.match(following)) or preceding == "第"
    has_units = any(ch in _SMALL_UNITS or ch in _BIG_UNITS for ch in run)
    if not has_units:
        if len(run) >= 2 and following.startswith("年"):
            return "".join(str(_DIGITS[ch]) for ch in run)  # 二〇二〇年
        if len(run) == 1 and is_quantity and run not in "零〇":
            return str(_DIGITS[run])
        return run
    if len(run) == 1 and not is_quantity:
        return run  # 十分, 百姓, 千方百计
    if run[-1] in _BIG_UNITS and len(run) >= 2:
        body = run[:-1]
        value = _DIGITS[body] if body in _DIGITS else chinese_numeral_value(body)
        return run if value is None else f"{value}{run[-1]}"  # 二十万 → 20万 (the text writes "20 万元")
    value = chinese_numeral_value(run)
    return run if value is None else str(value)


def convert_numerals(text: str) -> str:
    return _NUMERAL_RUN.sub(_replace_numeral, text)


@functools.lru_cache(maxsize=4)
def _typo_table(path: str) -> tuple[re.Pattern | None, dict[str, str]]:
    pairs: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) == 2:
            pairs[parts[0]] = parts[1]
    if not pairs:
        return None, pairs
    alternation = "|".join(re.escape(w) for w in sorted(pairs, key=len, reverse=True))
    return re.compile(alternation), pairs


def fix_typos(text: str, typos_file: Path = TYPOS_FILE) -> str:
    pattern, pairs = _typo_table(str(typos_file))
    if pattern is None:
        return text
    return pattern.sub(lambda m: pairs[m.group(0)], text)


def normalize(text: str) -> str:
    """Canonical form for matching: simplified, half width, no stray spaces, Arabic numerals, typos fixed."""
    if not text:
        return ""
    text = squeeze_spaces(to_simplified(text))
    text = to_halfwidth(text)
    text = convert_numerals(text)
    text = fix_typos(text)
    text = _A_NOT_A.sub(r"\1", text)
    return text.lower()


# ---------------------------------------------------------------------------------------------
# IME homophone typos (担宝 → 担保, 以工代镇 → 以工代赈, 底保 → 低保): a query fragment that is not a
# known word but sounds exactly like a domain term is replaced by that term.

PINYIN_FILE = LEXICON_DIR / "pinyin.txt"  # regenerated by scripts/make_pinyin.py (pypinyin)
_MAX_READINGS = 16  # reading combinations tried per fragment (polyphonic characters multiply)


@functools.lru_cache(maxsize=1)
def pinyin_table() -> dict[str, tuple[str, ...]]:
    table = {}
    for line in PINYIN_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            char, _, readings = line.partition("\t")
            table[char] = tuple(readings.split(","))
    return table


def _reading_keys(word: str, table: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = [()]
    for char in word:
        readings = table.get(char)
        if not readings:
            return []
        keys = [key + (r,) for key in keys for r in readings][:_MAX_READINGS]
    return keys


class HomophoneCorrector:
    """Replace fragments that sound like a domain term but are not words themselves.

    Candidates are runs of consecutive jieba tokens (segmented without HMM, so an unknown
    fragment falls apart into single characters); only characters that stand alone as tokens
    and are not function words may change. terms: the domain vocabulary (corpus tokens, user
    dictionary); known: words never rewritten; segment: text → tokens; ignore: function words.
    """

    def __init__(self, terms, known, segment, ignore=frozenset(), min_len: int = 2, max_len: int = 6):
        self.table = pinyin_table()
        self.known, self.segment, self.ignore = known, segment, ignore
        self.min_len, self.max_len = min_len, max_len
        self.by_sound: dict[tuple[str, ...], str] = {}
        for term in sorted(set(terms), key=len):
            if min_len <= len(term) <= max_len and all(ch in self.table for ch in term):
                for key in _reading_keys(term, self.table):
                    self.by_sound.setdefault(key, term)

    def correct(self, text: str) -> str:
        tokens = self.segment(text)
        out, i = [], 0
        while i < len(tokens):
            replacement, used = self._match_at(tokens, i)
            out.append(replacement)
            i += used
        return "".join(out)

    def _match_at(self, tokens: list[str], start: int) -> tuple[str, int]:
        for end in range(min(len(tokens), start + self.max_len), start, -1):
            span = tokens[start:end]
            fragment = "".join(span)
            if not self.min_len <= len(fragment) <= self.max_len or fragment in self.known:
                continue
            if all(len(tok) > 1 for tok in span) or not all(ch in self.table for ch in fragment):
                continue
            for key in _reading_keys(fragment, self.table):
                term = self.by_sound.get(key)
                if term and self._plausible(span, term):
                    return term, end - start
        return tokens[start], 1

    def _plausible(self, span: list[str], term: str) -> bool:
        """A typo changes few characters (one in a 2–3 character term, at most two in longer ones),
        and only characters that jieba could not attach to a word and that are not function words."""
        changed, position = 0, 0
        for tok in span:
            for ch in tok:
                if ch != term[position]:
                    if len(tok) > 1 or tok in self.ignore:
                        return False
                    changed += 1
                position += 1
        return 0 < changed <= (1 if len(term) <= 3 else 2)
