"""SQLite source of truth: documents, clauses, clause_versions, feedback.

Every change (load, edit, retire, restore) writes a clause_versions row (editor, time, note) and
bumps a store-wide `revision` counter, which the search index compares to know it is stale.
Derived clause fields (sentences, departments, amounts, time limits) are re-computed from the
text by the parser whenever text changes, so the text stays the only thing staff edit.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

from .parser import Amount, Clause, Document, TimeLimit, analyze_clause_text, parse_file

DATA_DIR = Path(__file__).resolve().parent / "data"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, number TEXT NOT NULL, issuer TEXT NOT NULL, date TEXT,
    title TEXT NOT NULL, source_hash TEXT NOT NULL, loaded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clauses (
    clause_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    path TEXT NOT NULL, ordinal INTEGER NOT NULL, section TEXT NOT NULL, article INTEGER NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, sentences TEXT NOT NULL, departments TEXT NOT NULL,
    amounts TEXT NOT NULL, time_limits TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS clauses_doc ON clauses(doc_id, ordinal);
CREATE TABLE IF NOT EXISTS clause_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, clause_id TEXT NOT NULL, version INTEGER NOT NULL,
    action TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL, active INTEGER NOT NULL,
    editor TEXT NOT NULL, note TEXT NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (clause_id, version));
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, sender TEXT NOT NULL,
    question TEXT NOT NULL, answer TEXT NOT NULL, clause_ids TEXT NOT NULL,
    rating TEXT NOT NULL, comment TEXT NOT NULL, channel TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lexicon_entries (
    kind TEXT NOT NULL, key TEXT NOT NULL, terms TEXT NOT NULL, version INTEGER NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (kind, key));
"""


def lexicon_rows(db: sqlite3.Connection) -> dict[str, dict]:
    return {f"{r['kind']}:{r['key']}": {"kind": r["kind"], "key": r["key"], "terms": json.loads(r["terms"]),
                                        "version": r["version"]}
            for r in db.execute("SELECT * FROM lexicon_entries ORDER BY kind, key")}


class ClauseNotFound(KeyError):
    pass


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id of the row an INSERT just wrote."""
    if cursor.lastrowid is None:
        raise sqlite3.DatabaseError("the statement inserted no row")
    return cursor.lastrowid


class ClauseSource(Protocol):
    """What building an index and searching read of a Store; a draft's StateView (knowledge.drafts) reads alike."""

    def revision(self) -> int: ...
    def store_id(self) -> str: ...
    def state(self) -> tuple[str, int]: ...
    def content_hash(self) -> str: ...
    def lexicon(self) -> dict[str, dict]: ...
    def documents(self) -> list[dict]: ...
    def clause(self, clause_id: str) -> StoredClause | None: ...
    def clauses(self, active_only: bool = True, doc_id: str | None = None) -> list[StoredClause]: ...


@dataclass
class StoredClause(Clause):
    active: bool = True
    version: int = 1
    updated_at: str = ""
    ordinal: int = 0


@dataclass
class ClauseVersion:
    clause_id: str
    version: int
    action: str  # create | update | retire | restore
    title: str
    text: str
    active: bool
    editor: str
    note: str
    created_at: str


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _amounts_json(amounts: list[Amount]) -> str:
    return json.dumps([{"value": a.value, "unit": a.unit, "raw": a.raw} for a in amounts], ensure_ascii=False)


def _limits_json(limits: list[TimeLimit]) -> str:
    return json.dumps([{"raw": t.raw, "until": t.until.isoformat(), "kind": t.kind} for t in limits],
                      ensure_ascii=False)


def _row_to_clause(row: sqlite3.Row) -> StoredClause:
    return StoredClause(
        clause_id=row["clause_id"], doc_id=row["doc_id"], path=row["path"], section=row["section"],
        article=row["article"], title=row["title"], text=row["text"],
        sentences=json.loads(row["sentences"]), departments=json.loads(row["departments"]),
        amounts=[Amount(**a) for a in json.loads(row["amounts"])],
        time_limits=[TimeLimit(raw=t["raw"], until=dt.date.fromisoformat(t["until"]), kind=t["kind"])
                     for t in json.loads(row["time_limits"])],
        active=bool(row["active"]), version=row["version"], updated_at=row["updated_at"],
        ordinal=row["ordinal"])


def _private_file(path: Path) -> None:
    """Feedback holds citizens' questions: the file (and SQLite's -wal/-shm, which copy its mode) is 0600."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _private_file(self.path)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('revision', '0')")
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('store_id', ?)", (uuid.uuid4().hex,))
            if "active" not in {row["name"] for row in db.execute("PRAGMA table_info(documents)")}:
                db.execute("ALTER TABLE documents ADD COLUMN active INTEGER NOT NULL DEFAULT 1")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A short-lived connection per operation: safe across threads and processes (service + scripts).
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            with db:
                yield db
        finally:
            db.close()

    def transaction(self):
        """One SQLite transaction for several changes (publishing a draft applies all or nothing)."""
        return self._connect()

    # -- revision -------------------------------------------------------------------------------
    def revision(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT value FROM meta WHERE key='revision'").fetchone()[0])

    def store_id(self) -> str:
        with self._connect() as db:
            return db.execute("SELECT value FROM meta WHERE key='store_id'").fetchone()[0]

    def state(self) -> tuple[str, int]:
        """(store id, revision) in one read: what an index compares to know whether it is stale."""
        with self._connect() as db:
            rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('store_id', 'revision')").fetchall())
        return rows["store_id"], int(rows["revision"])

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='revision'")

    def content_hash(self) -> str:
        """Hash of every active clause's id, version and text: identical content ⇒ identical hash."""
        digest = hashlib.sha256()
        with self._connect() as db:
            for row in db.execute("SELECT clause_id, version, title, text FROM clauses "
                                  "WHERE active=1 ORDER BY doc_id, ordinal"):
                digest.update("\x1f".join(map(str, tuple(row))).encode() + b"\x1e")
            for row in db.execute("SELECT kind, key, terms FROM lexicon_entries ORDER BY kind, key"):
                digest.update(b"lexicon\x1f" + "\x1f".join(map(str, tuple(row))).encode() + b"\x1e")
        return digest.hexdigest()

    # -- staff lexicon (synonyms and search terms published through drafts) ---------------------
    def lexicon(self) -> dict[str, dict]:
        """Published staff lexicon entries: "kind:key" → {kind, key, terms, version} (knowledge.lexicon_store)."""
        with self._connect() as db:
            return lexicon_rows(db)

    # -- documents ------------------------------------------------------------------------------
    def add_document(self, doc: Document, editor: str = "loader", note: str = "") -> bool:
        """Insert or re-load a parsed document. Idempotent: identical content changes nothing.

        Returns True if anything changed. Clauses whose text differs get a new version, new ones are
        created, and clauses that disappeared from the source are retired (never deleted).
        """
        with self._connect() as db:
            changed = self.add_document_in(db, doc, editor, note)
            if changed:
                self._bump(db)
        return changed

    def add_document_in(self, db: sqlite3.Connection, doc: Document, editor: str, note: str = "") -> bool:
        """add_document inside the caller's transaction; the caller bumps the revision."""
        source_hash = hashlib.sha256(json.dumps(doc.to_dict(), ensure_ascii=False,
                                                sort_keys=True).encode()).hexdigest()
        row = db.execute("SELECT source_hash, active FROM documents WHERE doc_id=?", (doc.doc_id,)).fetchone()
        if row and row["source_hash"] == source_hash and row["active"]:
            return False
        db.execute(
            "INSERT INTO documents(doc_id, number, issuer, date, title, source_hash, loaded_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(doc_id) DO UPDATE SET number=excluded.number, "
            "issuer=excluded.issuer, date=excluded.date, title=excluded.title, "
            "source_hash=excluded.source_hash, loaded_at=excluded.loaded_at, active=1",
            (doc.doc_id, doc.number, doc.issuer, doc.date.isoformat() if doc.date else None,
             doc.title, source_hash, _now()))
        seen = set()
        for ordinal, clause in enumerate(doc.clauses):
            seen.add(clause.clause_id)
            self._upsert_parsed(db, clause, ordinal, editor, note or "loaded from source")
        for old in db.execute("SELECT clause_id FROM clauses WHERE doc_id=? AND active=1",
                              (doc.doc_id,)).fetchall():
            if old["clause_id"] not in seen:
                self._set_active(db, old["clause_id"], False, editor, "removed from source", "retire")
        return True

    def _upsert_parsed(self, db, clause: Clause, ordinal: int, editor: str, note: str) -> None:
        row = db.execute("SELECT * FROM clauses WHERE clause_id=?", (clause.clause_id,)).fetchone()
        if row and row["text"] == clause.text and row["title"] == clause.title and row["active"]:
            db.execute("UPDATE clauses SET ordinal=?, section=?, article=? WHERE clause_id=?",
                       (ordinal, clause.section, clause.article, clause.clause_id))
            return
        version = (row["version"] + 1) if row else 1
        db.execute(
            "INSERT INTO clauses(clause_id, doc_id, path, ordinal, section, article, title, text, "
            "sentences, departments, amounts, time_limits, active, version, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1,?,?) ON CONFLICT(clause_id) DO UPDATE SET "
            "ordinal=excluded.ordinal, section=excluded.section, article=excluded.article, "
            "title=excluded.title, text=excluded.text, sentences=excluded.sentences, "
            "departments=excluded.departments, amounts=excluded.amounts, "
            "time_limits=excluded.time_limits, active=1, version=excluded.version, "
            "updated_at=excluded.updated_at",
            (clause.clause_id, clause.doc_id, clause.path, ordinal, clause.section, clause.article,
             clause.title, clause.text, json.dumps(clause.sentences, ensure_ascii=False),
             json.dumps(clause.departments, ensure_ascii=False), _amounts_json(clause.amounts),
             _limits_json(clause.time_limits), version, _now()))
        self._record(db, clause.clause_id, version, "create" if row is None else "update",
                     clause.title, clause.text, True, editor, note)

    def documents(self) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT d.*, (SELECT COUNT(*) FROM clauses c WHERE c.doc_id=d.doc_id AND c.active=1) "
                "AS clause_count FROM documents d ORDER BY doc_id").fetchall()
        return [{"doc_id": r["doc_id"], "number": r["number"], "issuer": r["issuer"], "date": r["date"],
                 "title": r["title"], "clause_count": r["clause_count"], "loaded_at": r["loaded_at"],
                 "active": bool(r["active"])}
                for r in rows]

    def document(self, doc_id: str) -> dict | None:
        return next((d for d in self.documents() if d["doc_id"] == doc_id), None)

    # -- clauses --------------------------------------------------------------------------------
    def clause(self, clause_id: str) -> StoredClause | None:
        """The clause (active or retired), or None if there is no such id."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM clauses WHERE clause_id=?", (clause_id,)).fetchone()
        return None if row is None else _row_to_clause(row)

    def _existing(self, clause_id: str) -> StoredClause:
        found = self.clause(clause_id)
        if found is None:
            raise ClauseNotFound(clause_id)
        return found

    def clauses(self, active_only: bool = True, doc_id: str | None = None) -> list[StoredClause]:
        query = "SELECT * FROM clauses WHERE 1=1"
        params: list = []
        if active_only:
            query += " AND active=1"
        if doc_id:
            query += " AND doc_id=?"
            params.append(doc_id)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY doc_id, ordinal", params).fetchall()
        return [_row_to_clause(r) for r in rows]

    def update_clause(self, clause_id: str, text: str, editor: str, note: str = "",
                      title: str | None = None) -> StoredClause:
        """Replace a clause's text (new version); derived fields are re-parsed from the new text."""
        with self._connect() as db:
            self.update_clause_in(db, clause_id, text, editor, note, title)
            self._bump(db)
        return self._existing(clause_id)

    def update_clause_in(self, db: sqlite3.Connection, clause_id: str, text: str, editor: str, note: str = "",
                         title: str | None = None) -> None:
        """update_clause inside the caller's transaction; the caller bumps the revision."""
        row = db.execute("SELECT * FROM clauses WHERE clause_id=?", (clause_id,)).fetchone()
        if row is None:
            raise ClauseNotFound(clause_id)
        current = _row_to_clause(row)
        fields = analyze_clause_text(text, lead_title=current.has_lead_title)
        new_title = title if title is not None else (fields["title"] or current.title)
        version = current.version + 1
        db.execute(
            "UPDATE clauses SET title=?, text=?, sentences=?, departments=?, amounts=?, "
            "time_limits=?, version=?, updated_at=? WHERE clause_id=?",
            (new_title, fields["text"], json.dumps(fields["sentences"], ensure_ascii=False),
             json.dumps(fields["departments"], ensure_ascii=False), _amounts_json(fields["amounts"]),
             _limits_json(fields["time_limits"]), version, _now(), clause_id))
        self._record(db, clause_id, version, "update", new_title, fields["text"],
                     current.active, editor, note)

    def retire_clause(self, clause_id: str, editor: str, reason: str = "") -> StoredClause:
        with self._connect() as db:
            self._set_active(db, clause_id, False, editor, reason, "retire")
            self._bump(db)
        return self._existing(clause_id)

    def restore_clause(self, clause_id: str, editor: str, note: str = "") -> StoredClause:
        with self._connect() as db:
            self._set_active(db, clause_id, True, editor, note, "restore")
            self._bump(db)
        return self._existing(clause_id)

    def set_active_in(self, db: sqlite3.Connection, clause_id: str, active: bool, editor: str, note: str = "") -> None:
        """Retire or restore inside the caller's transaction; the caller bumps the revision."""
        self._set_active(db, clause_id, active, editor, note, "restore" if active else "retire")

    def set_document_active_in(self, db: sqlite3.Connection, doc_id: str, active: bool) -> None:
        db.execute("UPDATE documents SET active=? WHERE doc_id=?", (int(active), doc_id))

    @staticmethod
    def bump_in(db: sqlite3.Connection) -> None:
        Store._bump(db)

    def _set_active(self, db, clause_id: str, active: bool, editor: str, note: str, action: str) -> None:
        row = db.execute("SELECT version, title, text FROM clauses WHERE clause_id=?", (clause_id,)).fetchone()
        if row is None:
            raise ClauseNotFound(clause_id)
        version = row["version"] + 1
        db.execute("UPDATE clauses SET active=?, version=?, updated_at=? WHERE clause_id=?",
                   (int(active), version, _now(), clause_id))
        self._record(db, clause_id, version, action, row["title"], row["text"], active, editor, note)

    @staticmethod
    def _record(db, clause_id, version, action, title, text, active, editor, note) -> None:
        db.execute(
            "INSERT INTO clause_versions(clause_id, version, action, title, text, active, editor, note, "
            "created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (clause_id, version, action, title, text, int(active), editor, note or "", _now()))

    def history(self, clause_id: str) -> list[ClauseVersion]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM clause_versions WHERE clause_id=? ORDER BY version",
                              (clause_id,)).fetchall()
        return [ClauseVersion(clause_id=r["clause_id"], version=r["version"], action=r["action"],
                              title=r["title"], text=r["text"], active=bool(r["active"]),
                              editor=r["editor"], note=r["note"], created_at=r["created_at"]) for r in rows]

    # -- feedback -------------------------------------------------------------------------------
    def add_feedback(self, rating: str, question: str = "", answer: str = "", clause_ids=(),
                     comment: str = "", sender: str = "", channel: str = "") -> int:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback(created_at, sender, question, answer, clause_ids, rating, comment, "
                "channel) VALUES (?,?,?,?,?,?,?,?)",
                (_now(), sender, question, answer, json.dumps(list(clause_ids), ensure_ascii=False),
                 str(rating), comment, channel))
            return inserted_id(cursor)

    def feedback(self, limit: int = 100, rating: str | None = None) -> list[dict]:
        query = "SELECT * FROM feedback"
        params: tuple[str, ...] = ()
        if rating:
            query, params = query + " WHERE rating=?", (rating,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY id DESC LIMIT ?", params + (limit,)).fetchall()
        return [dict(r, clause_ids=json.loads(r["clause_ids"])) for r in rows]


def seed_store(store: Store, data_dir: str | Path = DATA_DIR) -> list[str]:
    """Load knowledge/data/*.txt documents the store does not have yet; returns the doc ids added.

    Documents already present are left alone: after seeding, staff edits in the store are the truth.
    """
    known = {d["doc_id"] for d in store.documents()}
    added = []
    for path in sorted(Path(data_dir).glob("*.txt")):
        if path.stem not in known:
            store.add_document(parse_file(path))
            added.append(path.stem)
    return added
