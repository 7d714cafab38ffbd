"""Rasa's SQL tracker store (SQLite or PostgreSQL), masking personal numbers before events are written.

Phone, 身份证 and bank-card numbers in any event field (user text, parse data, entities, slots, bot text)
are stored masked (bot.masking). The turn that receives a message still sees the original text: masking
happens when events are written, not when they are processed. A SQLite file is created 0600 and written in
WAL mode with synchronous=NORMAL: each message's commit no longer waits for an fsync (a sixth of Rasa's CPU
per message in the profile, docs/bench.md); a crash of the process loses nothing, a power cut at most the
last messages.

endpoints (deploy/render.py writes them):  tracker_store: {type: bot.tracker_store.MaskingSQLTrackerStore, …}
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.masking import mask_tree

logger = logging.getLogger(__name__)


class MaskingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Optional[Any] = None, dialect: Text = "sqlite", db: Text = "rasa.db",
                 **kwargs: Any) -> None:
        if dialect == "sqlite" and db and db != ":memory:":
            _private_file(Path(db))
        super().__init__(domain=domain, dialect=dialect, db=db, **kwargs)
        if dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine.dispose()  # connections opened while creating the tables get the pragmas too

    async def save(self, tracker: DialogueStateTracker) -> None:
        """SQLTrackerStore.save, with every event masked before it is serialised."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = mask_tree(event.as_dict())
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data)))
            session.commit()
        logger.debug("tracker of %s stored (masked)", tracker.sender_id)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)
