"""A Rasa input channel served by a real Sanic server, with a scripted agent in place of Rasa's dialogue.

The channel is registered exactly as Rasa's server registers it (`rasa.core.channels.channel.register`), so
requests go through its blueprint, Sanic's streaming body and Rasa's `UserMessage` and output channel; only
`app.ctx.agent` — what Rasa would run the message through — is the `ScriptedAgent` below. Needs the Rasa
runtime (.venv/rasa): `make test` runs these tests there.
"""
from __future__ import annotations

import asyncio
import itertools
import socket
from typing import Any, Awaitable, Callable, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

_app_names = itertools.count()


class ScriptedAgent:
    """Stands in for rasa.core.agent.Agent: `reply(message)` decides what the bot says; every message is kept."""

    def __init__(self):
        self.received: List[UserMessage] = []
        self.reply: Callable[[UserMessage], Awaitable[List[str]]] = self.echo
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.release = asyncio.Event()  # set when the server stops: frees a reply that waits forever

    @staticmethod
    async def echo(message: UserMessage) -> List[str]:
        return [f"答：{message.text}"]

    async def never(self, message: UserMessage) -> List[str]:
        await self.release.wait()
        return ["（迟到的回答）"]

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        for text in await self.reply(message):
            await message.output_channel.send_text_message(message.sender_id, text)

    async def pause(self, sender_id: str) -> None:
        """As when an agent claims the conversation: the tracker holds a pause event."""
        tracker = DialogueStateTracker.from_events(sender_id, [UserUttered("转人工"), ConversationPaused()])
        await self.tracker_store.save(tracker)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChannelServer:
    """`async with ChannelServer(channel) as server:` serves the channel under /webhooks/ on 127.0.0.1."""

    def __init__(self, channel: InputChannel, agent: Optional[ScriptedAgent] = None):
        Sanic.test_mode = True  # as sanic-testing does: several apps in one process (Sanic re-compiles on start)
        self.channel = channel
        self.agent = agent or ScriptedAgent()
        self.app = Sanic(f"channel_test_{next(_app_names)}")
        self.app.ctx.agent = self.agent
        register([channel], self.app, route="/webhooks/")
        self._server: Any = None
        self.url = ""

    async def __aenter__(self) -> "ChannelServer":
        port = free_port()
        self._server = await self.app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                                    access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.url = f"http://127.0.0.1:{port}/webhooks/{self.channel.name()}"
        return self

    async def __aexit__(self, *_: Any) -> None:
        self.agent.release.set()
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()
