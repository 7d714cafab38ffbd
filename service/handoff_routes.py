"""HTTP side of the live handoff queue (service.handoff): the bot files conversations, agents work them.

    POST /api/handoff                      the action server files a conversation (or asks its place)
    GET  /api/chat/agent-messages          the web chat fetches agent messages (polling, marked 人工客服)
    GET  /api/agent/queue                  agent: open conversations, claimed first, then oldest first
    GET  /api/agent/queue/{id}             agent: transcript from Rasa's tracker (masked), outbox, suggestions
    POST /api/agent/queue/{id}/claim|reply|resolve, /api/agent/messages/{id}/retry

Claiming pauses the conversation in Rasa (a `pause` event) so the bot stays quiet for that sender;
resolving appends `resume` and a short notice. Replies go back through the citizen's channel: the web chat
polls; WeChat gets customer-service messages, only within 48 h of the citizen's last message.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from aiohttp import web

from bot.channel_policy import namespaced
from bot.wechat_api import CustomerServiceApi, WeChatApiError
from service import core
from service import errors
from service import identity
from service import openapi
from service.auth import current_user, require_role
from service.console import search_cards
from service.handoff import POLLED_CHANNELS, Handoff, HandoffError, HandoffQueue, OutboxMessage, channel_of
from service.rasa_api import RASA, RasaApi, RasaUnavailable

logger = logging.getLogger(__name__)

QUEUE = web.AppKey("handoff_queue", HandoffQueue)
WECHAT = web.AppKey[Optional[CustomerServiceApi]]("wechat_push")  # None when WeChat is not configured
WECHAT_WINDOW_S = 48 * 3600
MAX_REPLY_CHARS = 1000  # WeChat text messages stay under 2048 bytes
RESUME_NOTICE = "人工客服已结束本次服务，接下来由智能助手继续为您解答。还有问题可以直接问我。"
SUGGESTIONS = 3
CLOCK_SLACK_S = 5  # Rasa and this service stamp events with their own clocks


def queue_of(request: web.Request) -> HandoffQueue:
    return request.app[QUEUE]


def handoff_error(error: HandoffError) -> web.Response:
    return errors.json_error(error.status, error.message)


def handoff_id(request: web.Request) -> int:
    found = core.row_id(request.match_info["handoff_id"])
    if found is None:
        raise errors.refusal(404, "no such conversation")
    return found


# --- the bot's side --------------------------------------------------------------------------------------
async def file_handoff(request: web.Request) -> web.Response:
    """From action_handoff: queue the sender (once) and say where they stand."""
    body = await core.read_json_object(request)
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > 200:
        return errors.json_error(400, 'field "sender" is required (at most 200 characters)', field="sender")
    queue = queue_of(request)
    handoff, created = queue.enqueue(sender, str(body.get("reason") or "user_request"),
                                     channel_of(sender, body.get("channel")), str(body.get("question") or ""))
    if created:
        logger.info("handoff %d queued (%s, %s)", handoff.id, handoff.channel, handoff.reason)
    return web.json_response({
        "id": handoff.id, "status": handoff.status, "created": created, "position": queue.position(handoff),
        "open_now": queue.hours.open_at(queue.clock()), "claimed_by_agent": handoff.status == "claimed",
    }, status=201 if created else 200)


def chat_sender(request: web.Request) -> str:
    """The Rasa sender id of this web-chat browser, from its signed cookie as /api/chat resolves it — never a
    sender the client names, so nobody can read another conversation's agent messages."""
    chat_id = identity.verified_id(request.app[core.CHAT_SECRET], request.cookies.get(identity.COOKIE))
    if not chat_id:
        raise errors.refusal(401, "no web chat conversation: send a message first")
    return namespaced("web", chat_id)


async def agent_messages(request: web.Request) -> web.Response:
    """The web chat polls this while it is open: agent replies and the resume notice, oldest first."""
    sender = chat_sender(request)
    try:
        after = max(0, int(request.query.get("after", "0")))
    except ValueError:
        return errors.json_error(400, "parameter after must be an integer", field="after")
    queue = queue_of(request)
    messages = queue.collect_polled(sender, after)
    handoff = queue.open_for(sender)
    return web.json_response({
        "messages": [{"id": m.id, "from": m.author, "label": "人工客服" if m.author == "agent" else "智能助手",
                      "text": m.text, "at": m.created_at} for m in messages],
        "handoff": None if handoff is None else {"status": handoff.status, "position": queue.position(handoff)},
    })


# --- the agents' side ------------------------------------------------------------------------------------
@require_role("agent")
async def list_queue(request: web.Request) -> web.Response:
    queue = queue_of(request)
    now = queue.clock()
    return web.json_response({"conversations": [handoff.json(now, queue.position(handoff))
                                                for handoff in queue.open_handoffs()],
                              "open_now": queue.hours.open_at(queue.clock())})


@require_role("agent")
async def show_conversation(request: web.Request) -> web.Response:
    queue = queue_of(request)
    try:
        handoff = queue.require(handoff_id(request))
    except HandoffError as error:
        return handoff_error(error)
    body: dict[str, Any] = {"handoff": handoff.json(queue.clock(), queue.position(handoff)),
            "outbox": [outbox_json(m) for m in queue.messages(handoff.id)], "transcript": [], "suggestions": None}
    try:
        conversation = await request.app[RASA].conversation(handoff.sender_id)
    except RasaUnavailable as error:
        body["transcript_error"] = str(error)
        return web.json_response(body)
    body["transcript"] = [vars(line) for line in conversation.lines]
    body["paused"] = conversation.paused
    last = conversation.last_user_text
    if last and not last.startswith("[按钮"):
        body["suggestions"] = await core.in_worker(request, search_cards, request.app[core.SEARCHER],
                                                   last[:core.MAX_QUERY_CHARS], SUGGESTIONS)
    return web.json_response(body)


def outbox_json(message: OutboxMessage) -> dict:
    return {"id": message.id, "from": message.author, "agent": message.agent, "text": message.text,
            "at": message.created_at, "status": message.status, "error": message.error,
            "channel": message.channel, "attempts": message.attempts}


@require_role("agent")
async def claim(request: web.Request) -> web.Response:
    queue, agent = queue_of(request), current_user(request).username
    try:
        await require_asked(request.app[RASA], queue.require(handoff_id(request)))
        handoff = queue.claim(handoff_id(request), agent)
    except HandoffError as error:
        return handoff_error(error)
    try:
        await request.app[RASA].pause(handoff.sender_id)
    except RasaUnavailable as error:  # without the pause the bot would talk over the agent: give it back
        queue.unclaim(handoff.id)
        return errors.json_error(503, f"could not pause the bot for this conversation: {error}")
    logger.info("handoff %d claimed by %s", handoff.id, agent)
    return web.json_response({"handoff": handoff.json(queue.clock(), 0)})


async def require_asked(rasa: RasaApi, handoff: Handoff) -> None:
    """/api/handoff is called by the action server, but anyone could post a sender id: before an agent takes
    a conversation (and silences the bot for it), its tracker must show that action_handoff really ran."""
    try:
        conversation = await rasa.conversation(handoff.sender_id)
    except RasaUnavailable as error:
        raise HandoffError(503, f"could not read the conversation: {error}") from None
    if conversation.last_handoff_at is None or conversation.last_handoff_at < handoff.created_at - CLOCK_SLACK_S:
        raise HandoffError(409, "this conversation has not asked for a person (no action_handoff in its tracker yet)")


@require_role("agent")
async def reply(request: web.Request) -> web.Response:
    body = await core.read_json_object(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARS:
        return errors.json_error(400, f'field "text" must be 1-{MAX_REPLY_CHARS} characters', field="text")
    queue, agent = queue_of(request), current_user(request).username
    try:
        handoff = queue.held_by(handoff_id(request), agent)
    except HandoffError as error:
        return handoff_error(error)
    message = queue.add_message(handoff, "agent", text.strip(), agent)
    await record_in_tracker(request, handoff.sender_id, agent, message.text)
    message = await deliver(request.app, message)
    return web.json_response({"message": outbox_json(message)}, status=201)


async def record_in_tracker(request: web.Request, sender_id: str, agent: str, text: str) -> None:
    """Best effort: the citizen still gets the reply when Rasa cannot record it (the outbox has it)."""
    try:
        await request.app[RASA].record_agent_message(sender_id, agent, text)
    except RasaUnavailable as error:
        logger.warning("agent reply not recorded in the tracker: %s", error)


@require_role("agent")
async def resolve(request: web.Request) -> web.Response:
    queue, agent = queue_of(request), current_user(request).username
    try:
        handoff = queue.resolve(handoff_id(request), agent)
    except HandoffError as error:
        return handoff_error(error)
    try:
        await request.app[RASA].resume(handoff.sender_id, RESUME_NOTICE)
    except RasaUnavailable as error:
        logger.error("handoff %d resolved but the bot could not be resumed: %s", handoff.id, error)
        return errors.json_error(503, f"resolved, but the bot could not be resumed: {error}")
    notice = await deliver(request.app, queue.add_message(handoff, "bot", RESUME_NOTICE))
    logger.info("handoff %d resolved by %s", handoff.id, agent)
    return web.json_response({"handoff": handoff.json(queue.clock()), "notice": outbox_json(notice)})


@require_role("agent")
async def retry(request: web.Request) -> web.Response:
    queue = queue_of(request)
    message_id = core.row_id(request.match_info["message_id"])
    message = None if message_id is None else queue.message(message_id)
    if message is None:
        return errors.json_error(404, "no such message")
    if message.status not in ("failed", "expired"):
        return errors.json_error(409, f"message is {message.status}")
    return web.json_response({"message": outbox_json(await deliver(request.app, message))})


# --- delivery --------------------------------------------------------------------------------------------
async def deliver(app: web.Application, message: OutboxMessage) -> OutboxMessage:
    """Push to WeChat now; polled channels pick the message up themselves (it stays pending until then)."""
    queue = app[QUEUE]
    if message.channel in POLLED_CHANNELS:
        return message
    if message.channel != "wechat":
        return queue.mark(message.id, "failed", f"no delivery route for channel {message.channel}")
    push = app[WECHAT]
    if push is None:
        return queue.mark(message.id, "failed", "WeChat customer-service API not configured "
                                                "(WECHAT_APP_ID / WECHAT_APP_SECRET)")
    try:
        conversation = await app[RASA].conversation(message.sender_id)
    except RasaUnavailable as error:
        return queue.mark(message.id, "failed", f"cannot check WeChat's 48 h window: {error}")
    if conversation.last_user_at is None or queue.clock() - conversation.last_user_at > WECHAT_WINDOW_S:
        return queue.mark(message.id, "expired", "用户最后一条消息已超过48小时，微信不允许再发客服消息")
    openid = message.sender_id.split(":", 1)[1] if message.sender_id.startswith("wechat:") else message.sender_id
    text = f"【人工客服】{message.text}" if message.author == "agent" else message.text
    try:
        await push.send_text(openid, text)
    except WeChatApiError as error:
        logger.warning("WeChat delivery of outbox message %d failed: %s", message.id, error)
        return queue.mark(message.id, "failed", str(error))
    return queue.mark(message.id, "sent")


def wechat_push_from_env() -> CustomerServiceApi | None:
    """The customer-service API client when WeChat is configured for this service, else None."""
    from bot.wechat_config import WeChatConfigError, WeChatSettings
    try:
        settings = WeChatSettings.load()
    except WeChatConfigError as error:
        logger.warning("WeChat delivery off: %s", error)
        return None
    return CustomerServiceApi(settings.app_id, settings.app_secret, settings.api_base) if settings.can_push else None


_ID = {"name": "handoff_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_AGENT = openapi.ACCOUNT_SECURITY


def _agent_post(summary: str, body: dict | None = None, parameter: dict = _ID) -> dict:
    operation = {"summary": summary, "security": _AGENT, "parameters": [parameter],
                 "responses": openapi.responses(200, None, 400, 401, 403, 404, 409, 503)}
    if body:
        operation["requestBody"] = body
    return {"post": operation}


OPENAPI_PATHS = {
    "/api/handoff": {"post": {
        "summary": "action server: queue a conversation for a human (idempotent per sender), with its place",
        "requestBody": openapi.json_body({"sender": {"type": "string", "maxLength": 200},
                                          "reason": {"type": "string"}, "question": {"type": "string"},
                                          "channel": {"type": "string"}}, ("sender",)),
        "responses": openapi.responses(201, None, 400)}},
    "/api/chat/agent-messages": {"get": {
        "summary": "web chat: agent messages (人工客服) and the resume notice after `after`",
        "parameters": [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
        "responses": openapi.responses(200, None, 400, 401)}},
    "/api/agent/queue": {"get": {"summary": "agent: open handoff conversations with reason and waiting time",
                                 "security": _AGENT, "responses": openapi.responses(200, None, 401, 403)}},
    "/api/agent/queue/{handoff_id}": {"get": {
        "summary": "agent: one conversation: masked transcript from the tracker store, outbox, suggestions",
        "security": _AGENT, "parameters": [_ID], "responses": openapi.responses(200, None, 401, 403, 404)}},
    "/api/agent/queue/{handoff_id}/claim": _agent_post("agent: take the conversation (the bot pauses)"),
    "/api/agent/queue/{handoff_id}/reply": _agent_post(
        "agent: send a message through the citizen's channel",
        openapi.json_body({"text": {"type": "string", "maxLength": MAX_REPLY_CHARS}}, ("text",))),
    "/api/agent/queue/{handoff_id}/resolve": _agent_post("agent: give the conversation back to the bot"),
    "/api/agent/messages/{message_id}/retry": _agent_post(
        "agent: deliver a failed or expired message again",
        parameter={"name": "message_id", "in": "path", "required": True, "schema": {"type": "integer"}}),
}


def add_handoff_routes(app: web.Application, queue: HandoffQueue, rasa: RasaApi,
                       wechat_push: CustomerServiceApi | None) -> None:
    app[QUEUE], app[RASA], app[WECHAT] = queue, rasa, wechat_push
    app.router.add_post("/api/handoff", file_handoff)
    app.router.add_get("/api/chat/agent-messages", agent_messages)
    app.router.add_get("/api/agent/queue", list_queue)
    app.router.add_get("/api/agent/queue/{handoff_id}", show_conversation)
    app.router.add_post("/api/agent/queue/{handoff_id}/claim", claim)
    app.router.add_post("/api/agent/queue/{handoff_id}/reply", reply)
    app.router.add_post("/api/agent/queue/{handoff_id}/resolve", resolve)
    app.router.add_post("/api/agent/messages/{message_id}/retry", retry)
    openapi.contribute(app, OPENAPI_PATHS)
