"""A small SQLite file under var/ that only the service's user may read (accounts, handoff transcripts)."""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from knowledge.store import inserted_id


class PrivateDatabase:
    def __init__(self, path: Path, schema: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # owner-only from the first byte, whatever the umask
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with closing(self._connect()) as db, db:
            db.executescript(schema)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with closing(self._connect()) as db, db:
            return db.execute(sql, args).fetchall()

    def _insert(self, sql: str, args: tuple) -> int:
        with closing(self._connect()) as db, db:
            return inserted_id(db.execute(sql, args))
