"""Search tuning values (knowledge/retrieval.yaml), per encoder."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

CONFIG_FILE = Path(__file__).resolve().parent / "retrieval.yaml"


@dataclass
class SearchConfig:
    """Tuning values; defaults are overridden by knowledge/retrieval.yaml (how each was measured is noted there)."""
    fusion: str = "weighted"          # "weighted" (z-score mix) | "rrf"
    dense_weight: float = 0.6         # share of dense in the fused score (1 - share for BM25)
    rrf_k: float = 60.0
    article_blend: float = 0.3        # dense clause score = (1-a)·best sentence/title + a·article
    chunk_candidates: int = 256       # FAISS neighbours fetched before aggregating to clauses
    threshold: float = 0.5            # answerable iff relevance (a probability) ≥ threshold
    # Logistic model of "the top clause answers the question" over the evidence features below;
    # weights fitted on knowledge/eval/questions.yaml (see retrieval.yaml for how).
    answer_model: dict = field(default_factory=lambda: {
        "bias": 0.0, "dense": 0.0, "gap": 0.0, "coverage": 0.0, "unknown": 0.0,
        "detail_missing": 0.0, "crosslingual": 0.0, "object_missing": 0.0, "place_elsewhere": 0.0})
    view_weight: float = 0.0          # dense clause score += w · (best question-view cosine − median clause's)
    view_bm25_weight: float = 0.0     # clause BM25 += w · BM25 of the query over the clause's question views
    sentence_lexical_weight: float = 0.05  # sentence order inside a hit: cosine + w · coverage
    expansion_weight: float = 0.5     # BM25 weight of synonym / English-glossary expansion terms
    auto_refresh_seconds: float = 2.0  # search() checks the store revision at most this often
    max_part_chars: int = 200         # a question longer than this is cut before encoding (cost grows with length)
    # The chat's answer decision (knowledge.decision): retrieval relevance weighed with the NLU's intent.
    chat_decision: dict = field(default_factory=lambda: {"bias": 0.0, "relevance": 1.0})

    @classmethod
    def load(cls, path: Path = CONFIG_FILE, encoder_name: str = "") -> "SearchConfig":
        """Values from the file's `default` section, overridden by the first `encoders` entry whose
        key is a prefix of the encoder name (cosine scales differ between encoders)."""
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        values = dict(data.get("default") or {})
        for prefix, overrides in (data.get("encoders") or {}).items():
            if encoder_name.startswith(prefix):
                values.update(overrides or {})
                break
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
