"""Feedback and unanswered questions, kept in SQLite for policy staff to review."""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

KINDS = ("positive", "negative", "unanswered")

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    clause_ids TEXT NOT NULL DEFAULT '[]',
    sender_hash TEXT NOT NULL DEFAULT ''
)
"""


class FeedbackLog:
    def __init__(self, path: Path | str):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(SCHEMA)
        self._db.commit()

    def add(self, kind: str, question: str = "", answer: str = "", clause_ids=(), sender_hash: str = "") -> int:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO feedback (created_at, kind, question, answer, clause_ids, sender_hash)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (datetime.now(timezone.utc).isoformat(timespec="seconds"), kind, question[:2000],
                 answer[:4000], json.dumps(list(clause_ids), ensure_ascii=False), sender_hash),
            )
            self._db.commit()
            return cursor.lastrowid

    def recent(self, limit: int = 100, kind: str | None = None) -> list[dict]:
        query = "SELECT id, created_at, kind, question, answer, clause_ids FROM feedback"
        params: tuple = ()
        if kind:
            query, params = query + " WHERE kind = ?", (kind,)
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", params + (limit,)).fetchall()
        return [
            {"id": r[0], "created_at": r[1], "kind": r[2], "question": r[3], "answer": r[4],
             "clause_ids": json.loads(r[5])}
            for r in rows
        ]

    def close(self) -> None:
        self._db.close()
