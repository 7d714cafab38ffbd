"""A paused conversation is silent on purpose: channels get a marker instead of the failure reply."""
from types import SimpleNamespace

from bot.guard import with_fallback_reply
from bot.pause import PAUSED_MARKER, silent_or_paused


class Store:
    def __init__(self, paused):
        self.paused = paused

    async def retrieve(self, sender_id):
        return None if self.paused is None else SimpleNamespace(is_paused=lambda: self.paused)


def app(paused):
    return SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=Store(paused))))


async def test_paused_conversation_gets_the_marker_and_no_failure_reply():
    messages = await silent_or_paused(app(True), "web:a", [])
    assert messages == [PAUSED_MARKER]
    assert with_fallback_reply(messages) == [PAUSED_MARKER]


async def test_silence_without_a_pause_still_gets_the_failure_reply():
    assert await silent_or_paused(app(False), "web:a", []) == []
    assert await silent_or_paused(app(None), "web:new", []) == []
    assert await silent_or_paused(None, "web:a", []) == []  # no server known: never guess a pause


async def test_messages_pass_through_untouched():
    said = [{"text": "您好"}]
    assert await silent_or_paused(app(True), "web:a", said) is said
