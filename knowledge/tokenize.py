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
    return [tok for tok in _tokenizer().cut_for_search(text)
            if tok not in stop and _WORDLIKE.search(tok)]


def warm_up() -> None:
    """Load the jieba dictionary now (≈1 s) instead of on the first query."""
    _tokenizer()
