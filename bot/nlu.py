"""NLU tokenizer that reads the same normalised text as retrieval.

Rasa's JiebaTokenizer sees the raw message; retrieval sees knowledge.textnorm.normalize(message) —
Traditional→Simplified, full→half width, Chinese numerals → digits, domain typos (担宝 → 担保). This
subclass tokenizes the normalised text, so the intent classifier and the retriever read the same words
("創業擔保貸款" and "创业担宝贷款" reach DIET as 创业担保贷款). It imports the one normaliser of the
knowledge library (pure Python, no index or model) rather than keeping a copy in the Rasa runtime.
"""
from __future__ import annotations

from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from knowledge.textnorm import normalize


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer over knowledge.textnorm.normalize(text) for the user's text (intents stay as they are)."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        if attribute != TEXT:
            return super().tokenize(message, attribute)
        import jieba

        text = normalize(message.get(attribute) or "")
        tokens = [Token(word, start) for (word, start, _) in jieba.tokenize(text) if word.strip()]
        return self._apply_token_pattern(tokens)
