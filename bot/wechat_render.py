"""Turns the bot's messages into what WeChat can show: plain text parts and a transfer to customer service.

* Text messages are joined and cut into parts ≤ 2048 bytes (bot.text_split).
* Buttons / quick replies: WeChat text has no buttons, so their titles are appended as a hint line
  (您可以直接回复：「创业担保贷款能贷多少」「转人工」). When the user then types a title exactly, the
  channel sends the button's payload to the bot instead (ButtonMemory), so "/check_entitlements"-style
  buttons keep working.
* custom {"handoff": true}: the passive reply becomes WeChat's transfer_customer_service message; the
  bot's handoff text goes to the user as a customer-service message. With "queued": true our own agents
  took the conversation (they answer through the customer-service API): the text is a normal reply.
* Other custom payloads (e.g. {"citations": [...]}), images and attachments are ignored: the answer text
  already quotes and cites the clause.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional

from wechatpy.replies import TextReply, TransferCustomerServiceReply

from bot.text_split import WECHAT_TEXT_LIMIT, pack_messages

BUTTON_HINT = "您可以直接回复：{titles}"


@dataclass
class BotReply:
    parts: List[str] = field(default_factory=list)  # each ≤ 2048 bytes
    handoff: bool = False
    buttons: Dict[str, str] = field(default_factory=dict)  # title -> payload offered in this reply

    @property
    def passive_text(self) -> Optional[str]:
        return None if self.handoff or not self.parts else self.parts[0]

    @property
    def follow_ups(self) -> List[str]:
        """What goes through the customer-service API after a passive reply."""
        return list(self.parts) if self.handoff else list(self.parts[1:])


def cdata_safe(text: str) -> str:
    """wechatpy writes text into CDATA unescaped: "]]>" would end it and let text inject XML."""
    return text.replace("]]>", "]] >")


def _buttons_of(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    return [b for b in buttons if isinstance(b, dict) and str(b.get("title") or "").strip()]


def _with_hint(text: str, buttons: List[Dict[str, Any]]) -> str:
    if not buttons:
        return text
    hint = BUTTON_HINT.format(titles="".join(f"「{str(b['title']).strip()}」" for b in buttons))
    return f"{text}\n{hint}" if text else hint


def is_handoff(message: Dict[str, Any]) -> bool:
    """A transfer to WeChat's own customer service: only when our agents' queue did not take the
    conversation ("queued": agents reply through the customer-service API, and WeChat must keep
    posting the user's messages to us)."""
    custom = message.get("custom")
    return isinstance(custom, dict) and custom.get("handoff") is True and not custom.get("queued")


def bot_reply(messages: Iterable[Dict[str, Any]], limit: int = WECHAT_TEXT_LIMIT) -> BotReply:
    texts: List[str] = []
    reply = BotReply()
    for message in messages:
        reply.handoff = reply.handoff or is_handoff(message)
        buttons = _buttons_of(message)
        for button in buttons:
            reply.buttons[str(button["title"]).strip()] = str(button.get("payload") or button["title"])
        text = _with_hint(str(message.get("text") or "").strip(), buttons)
        if text:
            texts.append(cdata_safe(text))
    reply.parts = pack_messages(texts, limit)
    return reply


def render_passive(message: Any, reply: BotReply) -> str:
    """The passive reply XML (plaintext; safe mode encrypts it afterwards). "" when nothing to say."""
    if reply.handoff:
        return TransferCustomerServiceReply(message=message).render()
    if reply.passive_text:
        return render_text(message, reply.passive_text)
    return ""


def render_text(message: Any, text: str) -> str:
    return TextReply(message=message, content=cdata_safe(text)).render()


class ButtonMemory:
    """The buttons last offered to each user, so that typing a title acts like pressing the button."""

    def __init__(self, ttl_s: float = 3600, max_users: int = 10000, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.max_users = max_users
        self._clock = clock
        self._offers: "OrderedDict[str, tuple]" = OrderedDict()

    def remember(self, user: str, buttons: Dict[str, str]) -> None:
        self._offers.pop(user, None)
        if buttons:
            self._offers[user] = (self._clock(), dict(buttons))
            while len(self._offers) > self.max_users:
                self._offers.popitem(last=False)

    def resolve(self, user: str, text: str) -> str:
        offered = self._offers.get(user)
        if not offered or self._clock() - offered[0] > self.ttl_s:
            return text
        return offered[1].get(text.strip(), text)
