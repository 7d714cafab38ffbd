"""NLU components: a tokenizer that reads the same normalised text as retrieval, and a guard on control intents.

Rasa's JiebaTokenizer sees the raw message; retrieval sees knowledge.textnorm.normalize(message) —
Traditional→Simplified, full→half width, Chinese numerals → digits, domain typos (担宝 → 担保). This
subclass tokenizes the normalised text, so the intent classifier and the retriever read the same words
("創業擔保貸款" and "创业担宝贷款" reach DIET as 创业担保贷款). It imports the one normaliser of the
knowledge library (pure Python, no index or model) rather than keeping a copy in the Rasa runtime.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY,
                                       TEXT)
from rasa.shared.nlu.training_data.message import Message

from bot.intent_guard import MAX_CHARS, MAX_LATIN_WORDS, is_misfiled, screening_cues
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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ControlIntentGuard(GraphComponent, IntentClassifier):
    """Turns an intent the message cannot mean (bot.intent_guard: a long message's control intent, an English
    question's handoff, a handoff that asks for nobody, a screening request that asks for no screening) into
    nlu_fallback, so it reaches the answer decision
    (action_answer_policy) instead of a yes/no, feedback or handoff rule. Buttons send payloads, which skip the NLU."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": MAX_CHARS, "max_latin_words": MAX_LATIN_WORDS, "handoff_cues": []}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.max_chars = int(config["max_chars"])
        self.max_latin_words = int(config.get("max_latin_words", MAX_LATIN_WORDS))
        self.handoff_cues = tuple(normalize(str(cue)).lower() for cue in config.get("handoff_cues") or [])
        self.screening_cues = screening_cues()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ControlIntentGuard":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            text = normalize(message.get(TEXT) or "")
            if is_misfiled(intent.get(INTENT_NAME_KEY), text, self.max_chars, self.max_latin_words,
                           self.handoff_cues, self.screening_cues):
                fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                            PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY, 0.0)}
                message.set(INTENT, fallback, add_to_output=True)
                message.data.setdefault(INTENT_RANKING_KEY, []).insert(0, fallback)
        return messages
