"""The WeChat Official Account protocol, independent of the web framework and of Rasa.

POST handling, in this order (nothing is parsed before the signature is checked):
  size bound (413) → `signature` and a timestamp within 300 s (403) → with an AES key configured,
  `encrypt_type=aes` is required (403) → defusedxml screen of the body (400) → safe mode: `msg_signature`
  (403), AES decrypt + AppID check (403/400), screen the decrypted XML (400) → the (timestamp, nonce) pair
  not used before for another message (403, bot.wechat_replay) → dispatch by message type.

Deadline: the bot gets until `reply_deadline_s` after the request arrived, measured on the endpoint's
`clock` (monotonic seconds; injected by tests). An answer ready by then is
the passive reply; otherwise WeChat gets "success" at once and the answer follows through the
customer-service API — only within 48 h of the user's message (WeChat's rule). Exactly one of the two
happens per message, however many copies of it WeChat posts (see bot.wechat_dedup).

Long answers: the first part (≤ 2048 bytes) is the passive reply, the remaining parts follow as
customer-service messages, one second later so that they arrive after it.

Handoff: WeChat only accepts transfer_customer_service as a passive reply. When the handoff answer is late,
the user still gets the bot's handoff notice as a customer-service message, but no transfer happens.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional

from bot.channel_policy import namespaced
from bot.guard import NO_TEXT_REPLY, screen_text, with_fallback_reply
from bot.pseudonym import pseudonym
from bot.ratelimit import SLOW_DOWN_REPLY, RateLimiter, sender_limiter
from bot.wechat_api import CustomerServiceApi, WeChatApiError
from bot.wechat_config import WeChatSettings
from bot.wechat_crypto import ForgedRequest, SafeMode, UndecryptableBody, valid_signature
from bot.wechat_dedup import ASYNC, PASSIVE, DedupWindow, Pending
from bot.wechat_replay import ReplayGuard
from bot.wechat_render import BotReply, ButtonMemory, bot_reply, render_passive, render_text
from bot.wechat_xml import MalformedXml, UnsafeXml, parse_wechat_message, screen_xml

logger = logging.getLogger(__name__)

CHANNEL = "wechat"  # the sender namespace: Rasa sees wechat:<OpenID>
SUCCESS = "success"  # WeChat: "received, no passive reply" — it neither shows anything nor retries
WELCOME_MESSAGE = "/greet"  # subscribers get the bot's own greeting: what it can do, with examples
VOICE_NOT_RECOGNISED_REPLY = "抱歉，没能听清您的语音 😅 请直接打字提问，例如：“创业担保贷款最多能贷多少？”"
CUSTOMER_SERVICE_WINDOW_S = 48 * 3600
FOLLOW_UP_DELAY_S = 1.0
MAX_ECHOSTR_CHARS = 256

AskBot = Callable[[str, str, Dict[str, Any]], Awaitable[List[Dict[str, Any]]]]


@dataclass
class HttpReply:
    status: int
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"


def openid_pseudonym(openid: str) -> str:
    """What the logs show instead of an OpenID: the pseudonym (bot.pseudonym) of its sender id wechat:<OpenID>."""
    return pseudonym(namespaced(CHANNEL, openid))


_OPENID_PARAM = re.compile(r"(openid=)([^&\s]+)")


class OpenIdRedactor(logging.Filter):
    """WeChat puts `openid=` in the webhook's query string: Sanic's access log must not show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, str) and "openid=" in request:
            record.request = _OPENID_PARAM.sub(lambda m: m.group(1) + openid_pseudonym(m.group(2)), request)
        return True


def dedup_key(fields: Mapping[str, str]) -> str:
    """WeChat's advice: MsgId for messages, FromUserName + CreateTime for events."""
    if fields.get("MsgId"):
        return f"msg:{fields['MsgId']}"
    return f"event:{fields.get('FromUserName')}:{fields.get('CreateTime')}:{fields.get('Event', '').lower()}"


def _sent_at(fields: Mapping[str, str], now: float) -> float:
    try:
        return min(float(fields.get("CreateTime") or now), now)
    except ValueError:
        return now


class WeChatEndpoint:
    def __init__(self, settings: WeChatSettings, ask_bot: AskBot, api: Optional[CustomerServiceApi] = None,
                 dedup: Optional[DedupWindow] = None, buttons: Optional[ButtonMemory] = None,
                 wall_clock: Callable[[], float] = time.time, follow_up_delay_s: float = FOLLOW_UP_DELAY_S,
                 replay: Optional[ReplayGuard] = None, limiter: Optional[RateLimiter] = None,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.ask_bot = ask_bot
        if api is None and settings.can_push:
            api = CustomerServiceApi(settings.app_id, settings.app_secret, settings.api_base)
        self.api = api
        self.dedup = dedup or DedupWindow()
        self.buttons = buttons or ButtonMemory()
        self.safe_mode = SafeMode(settings.token, settings.aes_key, settings.app_id) if settings.safe_mode else None
        self.wall_clock = wall_clock  # timestamps WeChat signs, the 48 h customer-service window
        self.clock = clock  # the reply deadline
        self.replay = replay or ReplayGuard(wall_clock=wall_clock)
        self.limiter = limiter or sender_limiter()  # a flood from one OpenID does not starve the others
        self.follow_up_delay_s = follow_up_delay_s

    # --- HTTP ------------------------------------------------------------------------------------
    def verify(self, query: Mapping[str, str]) -> HttpReply:
        """GET: WeChat's URL check. Echo `echostr` only to a correctly signed request."""
        if not self.settings.configured:
            return HttpReply(503, "WeChat channel not configured: set WECHAT_TOKEN")
        if not self._signed(query) or not self.replay.fresh(query.get("timestamp")):
            return HttpReply(403, "invalid signature or timestamp")
        echostr = query.get("echostr") or ""
        if not echostr or len(echostr) > MAX_ECHOSTR_CHARS:
            return HttpReply(400, "echostr missing or too long")
        return HttpReply(200, echostr)

    async def receive(self, query: Mapping[str, str], body: bytes, started: Optional[float] = None) -> HttpReply:
        """POST: one message or event from WeChat; `started`: its arrival on self.clock (default: now)."""
        started = self.clock() if started is None else started
        if not self.settings.configured:
            return HttpReply(503, "WeChat channel not configured: set WECHAT_TOKEN")
        if len(body) > self.settings.max_body_bytes:
            return HttpReply(413, f"body larger than {self.settings.max_body_bytes} bytes")
        if not self._signed(query) or not self.replay.fresh(query.get("timestamp")):
            return HttpReply(403, "invalid signature or timestamp")
        encrypted = (query.get("encrypt_type") or "raw").lower() == "aes"
        if self.safe_mode is not None and not encrypted:  # plaintext only when no key is configured
            return HttpReply(403, "encrypt_type=aes required: WECHAT_AES_KEY is configured")
        try:
            fields, message = self._open(query, body, encrypted)
        except ForgedRequest as error:
            logger.warning("wechat: refused a safe-mode body: %s", error)
            return HttpReply(403, "invalid msg_signature or AppID")
        except UnsafeXml as error:
            logger.warning("wechat: refused an XML body with a DTD/entities (%s)", error)
            return HttpReply(400, "XML with DTD or entities is not accepted")
        except (MalformedXml, UndecryptableBody) as error:
            logger.warning("wechat: refused a malformed body: %s", error)
            return HttpReply(400, "malformed WeChat message")
        if not self.replay.admit(query.get("timestamp"), query.get("nonce"), dedup_key(fields)):
            logger.warning("wechat: refused a reused timestamp and nonce for another message")
            return HttpReply(403, "timestamp and nonce already used")
        reply_xml = await self._answer(fields, message, started)
        return self._seal(reply_xml, encrypted, query)

    async def settle(self) -> None:
        """Wait until every message's work and the messages that follow it are done (tests; a clean stop)."""
        while busy := self.dedup.unfinished():
            await asyncio.gather(*busy, return_exceptions=True)

    def _signed(self, query: Mapping[str, str]) -> bool:
        return valid_signature(self.settings.token, query.get("signature"), query.get("timestamp"),
                               query.get("nonce"))

    def _open(self, query: Mapping[str, str], body: bytes, encrypted: bool):
        if not encrypted:
            return parse_wechat_message(body)
        envelope = screen_xml(body)
        if self.safe_mode is None:
            raise MalformedXml("encrypted message but safe mode is not configured (WECHAT_AES_KEY)")
        plaintext = self.safe_mode.decrypt(envelope.get("Encrypt", ""), query.get("msg_signature"),
                                           query.get("timestamp", ""), query.get("nonce", ""))
        return parse_wechat_message(plaintext)

    def _seal(self, reply_xml: str, encrypted: bool, query: Mapping[str, str]) -> HttpReply:
        if not reply_xml or reply_xml == SUCCESS:  # "success" is never encrypted
            return HttpReply(200, SUCCESS)
        if encrypted:
            reply_xml = self.safe_mode.encrypt(reply_xml, query.get("nonce", ""))  # type: ignore[union-attr]
        return HttpReply(200, reply_xml, "application/xml; charset=utf-8")

    # --- messages --------------------------------------------------------------------------------
    async def _answer(self, fields: Mapping[str, str], message: Any, started: float) -> str:
        kind = fields["MsgType"].lower()
        if kind == "event":  # read from the XML: events wechatpy does not know must stay silent too
            if fields.get("Event", "").lower() == "subscribe":  # also subscribing by scanning a QR code
                return await self._ask_bot_in_time(fields, message, WELCOME_MESSAGE, started)
            return SUCCESS  # unsubscribe, menu clicks, location reports …: nothing to say
        if kind == "text":
            raw = message.content or ""
        elif kind == "voice":
            raw = message.recognition or ""
            if not raw.strip():
                return render_text(message, VOICE_NOT_RECOGNISED_REPLY)
        else:  # image, video, shortvideo, location, link, file, unknown …
            return render_text(message, NO_TEXT_REPLY)
        screened = screen_text(raw)
        if screened.reply:
            return render_text(message, screened.reply)
        return await self._ask_bot_in_time(fields, message, screened.text, started)

    async def _ask_bot_in_time(self, fields: Mapping[str, str], message: Any, text: str, started: float) -> str:
        openid = message.source
        sent_at = _sent_at(fields, self.wall_clock())
        metadata = {"wechat": {"msg_type": fields["MsgType"].lower(), "msg_id": fields.get("MsgId")}}
        pending, first = self.dedup.claim(dedup_key(fields), lambda: self._run_bot(openid, text, metadata))
        if not first:
            logger.info("wechat: repeated delivery of a message from %s joins the first one",
                        openid_pseudonym(openid))
        if pending.delivery == ASYNC:
            return SUCCESS
        remaining = self.settings.reply_deadline_s - (self.clock() - started)
        try:
            reply = await asyncio.wait_for(asyncio.shield(pending.task), timeout=max(remaining, 0))
        except asyncio.TimeoutError:
            self._answer_late(pending, openid, sent_at)
            return SUCCESS
        except asyncio.CancelledError:  # WeChat hung up: it will retry, the retry gets "success"
            self._answer_late(pending, openid, sent_at)
            raise
        if pending.decide(PASSIVE):
            pending.spawn(self._push(openid, reply.follow_ups, sent_at, delay=self.follow_up_delay_s))
        elif pending.delivery == ASYNC:
            return SUCCESS
        return render_passive(message, reply) or SUCCESS

    async def _run_bot(self, openid: str, text: str, metadata: Dict[str, Any]) -> BotReply:
        if not self.limiter.allow(openid):
            logger.info("wechat: %s sends too fast; asked to slow down", openid_pseudonym(openid))
            return bot_reply([{"text": SLOW_DOWN_REPLY}])
        try:
            messages = await self.ask_bot(openid, self.buttons.resolve(openid, text), metadata)
        except Exception:  # the user still gets an answer; the traceback goes to the log
            logger.exception("wechat: processing a message from %s failed", openid_pseudonym(openid))
            messages = []
        reply = bot_reply(with_fallback_reply(messages))
        self.buttons.remember(openid, reply.buttons)
        return reply

    def _answer_late(self, pending: Pending, openid: str, sent_at: float) -> None:
        if pending.decide(ASYNC):
            logger.info("wechat: answer for %s not ready in time, it follows as a customer-service message",
                        openid_pseudonym(openid))
            pending.spawn(self._deliver_late(pending, openid, sent_at))

    async def _deliver_late(self, pending: Pending, openid: str, sent_at: float) -> None:
        reply: BotReply = await pending.task
        await self._push(openid, reply.parts, sent_at)

    async def _push(self, openid: str, texts: List[str], sent_at: float, delay: float = 0) -> None:
        if not texts:
            return
        who = openid_pseudonym(openid)
        if self.api is None:
            logger.warning("wechat: %d message(s) for %s dropped: set WECHAT_APP_ID and WECHAT_APP_SECRET",
                           len(texts), who)
            return
        if self.wall_clock() - sent_at >= CUSTOMER_SERVICE_WINDOW_S:
            logger.warning("wechat: %d message(s) for %s dropped: over 48 h since the user wrote", len(texts), who)
            return
        if delay:
            await asyncio.sleep(delay)
        for number, text in enumerate(texts, start=1):
            try:
                await self.api.send_text(openid, text)
            except WeChatApiError as error:
                logger.warning("wechat: customer-service message %d/%d to %s failed: %s",
                               number, len(texts), who, error)
                return
