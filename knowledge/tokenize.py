"""Word tokens for BM25: jieba search-mode segmentation with the shared user dictionary.

knowledge/dict/ is also Rasa's JiebaTokenizer `dictionary_path` (Rasa loads *every* file in that
folder as a jieba dictionary), so it must only ever contain jieba dictionaries.
Search mode also emits the dictionary sub-words of long terms (创业担保贷款 → 创业, 担保, 贷款,
创业担保贷款) so a colloquial "担保贷款" still matches the full policy term.
"""
from __future__ import annotations

import functools
import os
import re
import threading
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DICT_DIR = PACKAGE_DIR / "dict"
STOPWORDS_FILE = PACKAGE_DIR / "lexicon" / "stopwords.txt"

_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")
_init_lock = threading.Lock()


def cache_dir() -> Path:
    """Project-local cache (jieba's prefix-dict cache would otherwise land in the shared /tmp)."""
    default = PACKAGE_DIR.parent / ".cache"
    path = Path(os.environ.get("KNOWLEDGE_CACHE_DIR", default)) / "jieba"
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.lru_cache(maxsize=1)
def _tokenizer():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _init_lock:
        tok = jieba.Tokenizer()
        tok.tmp_dir = str(cache_dir())
        tok.initialize()
        for path in sorted(DICT_DIR.glob("*")):
            if path.is_file():
                tok.load_userdict(str(path))
    return tok


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    words: set[str] = set()
    for line in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


def tokenize(text: str) -> list[str]:
    """Content tokens of already-normalised text (see textnorm.normalize), in order, duplicates kept."""
    stop = stopwords()
    # HMM off: jieba's new-word guessing glues unknown pairs into junk words (能贷, 支个) that match
    # nothing; without it they stay single characters, which the lexical features understand.
    return [tok for tok in _tokenizer().cut_for_search(text, HMM=False)
            if tok not in stop and _WORDLIKE.search(tok)]


SYNONYMS_FILE = PACKAGE_DIR / "lexicon" / "synonyms.txt"
ENGLISH_FILE = PACKAGE_DIR / "lexicon" / "en_zh.txt"


@functools.lru_cache(maxsize=4)
def _expansion_table(path: str) -> list[tuple[str, tuple[str, ...]]]:
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, terms = line.partition("\t")
        if terms.strip():
            entries.append((key.strip().lower(), tuple(terms.split())))
    return sorted(entries, key=lambda entry: -len(entry[0]))


def _inflected(key: str) -> str:
    """A glossary phrase with the regular inflections of its last word ("loan" → loans, "publicise" →
    publicised/publicising), so the glossary need not list every form. Words under four letters stay exact:
    "fee" + d is "feed", "ai" + d is "aid"."""
    phrase = re.escape(key)
    if len(key.split()[-1]) < 4 or not key[-1].isalpha():
        return phrase
    forms = [phrase + "(?:s|es|ed|ing)?"]
    if key.endswith("e"):
        forms += [phrase + "d", re.escape(key[:-1]) + "ing"]
    return "(?:" + "|".join(forms) + ")"


@functools.lru_cache(maxsize=1)
def _english_patterns() -> list[tuple[re.Pattern, tuple[str, ...]]]:
    return [(re.compile(rf"(?<![a-z]){_inflected(key)}(?![a-z])"), targets)
            for key, targets in _expansion_table(str(ENGLISH_FILE))]


def expand(normalized: str, extra: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> tuple[list[str], str]:
    """Policy-wording terms for colloquial Chinese (synonyms.txt, plus `extra` entries: the staff
    synonyms of the index searched, knowledge.staff_lexicon) and English (en_zh.txt) phrases in an
    already-normalised query, and the query text left after removing the matched phrases.
    Longest phrase first; a matched span is not matched again."""
    terms: list[str] = []
    text = normalized
    for pattern, targets in _english_patterns():
        if pattern.search(text):
            terms.extend(targets)
            text = pattern.sub(" ", text)
    table = _expansion_table(str(SYNONYMS_FILE))
    if extra:
        table = sorted([*table, *extra], key=lambda entry: -len(entry[0]))
    for key, targets in table:
        if key in text:
            terms.extend(targets)
            text = text.replace(key, " ")
    return terms, text


def synonym_entries(extra: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """The synonym lexicon (synonyms.txt plus `extra` staff entries) as (colloquial phrase, policy terms)."""
    return [*_expansion_table(str(SYNONYMS_FILE)), *extra]


def segment(text: str) -> list[str]:
    """Precise jieba segmentation without HMM: unknown fragments stay single characters."""
    return _tokenizer().lcut(text, HMM=False)


@functools.lru_cache(maxsize=1)
def user_terms() -> frozenset[str]:
    terms = set()
    for path in sorted(DICT_DIR.glob("*")):
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    terms.add(line.split()[0])
    return frozenset(terms)


def is_common_word(word: str, min_freq: int = 20) -> bool:
    """In jieba's general dictionary with some frequency (a real word, so not a typo)."""
    return _tokenizer().FREQ.get(word, 0) >= min_freq
