import numpy as np

from service.caching import QueryVectorCache


class CountingEncoder:
    name, dim = "fake", 3

    def __init__(self):
        self.encoded = []

    def encode_queries(self, texts):
        self.encoded.extend(texts)
        return np.array([[len(text), 1.0, 0.0] for text in texts], dtype=np.float32)

    def encode_passages(self, texts):
        return self.encode_queries(texts)


def test_each_query_text_is_encoded_once():
    encoder = CountingEncoder()
    cached = QueryVectorCache(encoder)
    first = cached.encode_queries(["贷款", "补贴"])
    again = cached.encode_queries(["补贴", "贷款", "新问题"])
    assert encoder.encoded == ["贷款", "补贴", "新问题"]
    assert np.array_equal(first[0], again[1]) and again.shape == (3, 3)
    again[0, 0] = 99  # callers get their own array
    assert cached.encode_queries(["补贴"])[0, 0] == 2


def test_passages_are_never_cached():
    encoder = CountingEncoder()
    cached = QueryVectorCache(encoder)
    cached.encode_passages(["条款"])
    cached.encode_passages(["条款"])
    assert encoder.encoded == ["条款", "条款"]
