"""What staff learn from the questions citizens ask: unanswered questions, answers rated 没帮助 (with
the answer that was given), top topics over 7 / 30 days, dated provisions and their expiry, and the
questions staff add to the regression set (run by every impact preview). All lists are paginated.

Questions are logged by the answer route with phone, 身份证 and bank-card numbers masked
(bot.masking.mask) and the sender as a hash, never the raw id.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.masking import mask

from .drafts import read_state, write_audit
from .store import Store, inserted_id

_SCHEMA = """
CREATE TABLE IF NOT EXISTS question_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, sender TEXT NOT NULL,
    question TEXT NOT NULL, answer TEXT NOT NULL, answerable INTEGER NOT NULL, clause_ids TEXT NOT NULL,
    topic TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS question_log_time ON question_log(created_at);
CREATE INDEX IF NOT EXISTS question_log_sender ON question_log(sender, id);
CREATE TABLE IF NOT EXISTS provision_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, note TEXT NOT NULL, account TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS regression_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, q TEXT NOT NULL UNIQUE, account TEXT NOT NULL, created_at TEXT NOT NULL);
"""
SOON_DAYS = 90


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _page(total: int, items: list, page: int, per_page: int) -> dict:
    return {"total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page)),
            "items": items}


def provision_status(until: dt.date, today: dt.date) -> str:
    """expired | ends_soon (within 90 days, the end day included) | in_force."""
    if until < today:
        return "expired"
    return "ends_soon" if (until - today).days <= SOON_DAYS else "in_force"


class Insights:
    def __init__(self, store: Store, clock=_now):
        self.store, self.clock = store, clock
        with store.transaction() as db:
            db.executescript(_SCHEMA)

    # -- recording --------------------------------------------------------------------------------
    def record_answer(self, question: str, answer: dict, sender: str = "") -> int:
        """Log one answered (or not) question, masked; the topic is the first cited article. Greetings,
        clarifying questions and screening requests are not policy questions and are not logged."""
        if answer.get("kind") not in (None, "answer", "no_answer"):
            return 0
        citations = answer.get("citations") or []
        topic = ""
        if citations:
            first = citations[0]
            topic = f"{first.get('doc_number') or first.get('doc') or ''} {first.get('article_label') or first.get('title') or ''}".strip()
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO question_log(created_at, sender, question, answer, answerable, clause_ids, topic) "
                "VALUES (?,?,?,?,?,?,?)",
                (self.clock().isoformat(timespec="seconds"), sender, mask(question)[:2000],
                 mask("\n".join(answer.get("parts") or []))[:4000], int(bool(answer.get("answerable"))),
                 json.dumps([c.get("clause_id") for c in citations], ensure_ascii=False), topic))
            return inserted_id(cursor)

    # -- lists ------------------------------------------------------------------------------------
    def feedback(self, kind: str, page: int = 1, per_page: int = 50) -> dict:
        """unanswered: questions the bot could not answer (most asked first); unhelpful: answers rated
        没帮助, each with the answer that was given (from the question log when the rating lacks it)."""
        if kind == "unanswered":
            return self._unanswered(page, per_page)
        with self.store.transaction() as db:
            total = db.execute("SELECT COUNT(*) FROM feedback WHERE rating = 'negative'").fetchone()[0]
            rows = db.execute("SELECT * FROM feedback WHERE rating = 'negative' ORDER BY id DESC LIMIT ? OFFSET ?",
                              (per_page, (page - 1) * per_page)).fetchall()
            items = []
            for row in rows:
                answer = row["answer"] or self._answer_given(db, row["sender"], row["question"], row["created_at"])
                items.append({"id": row["id"], "created_at": row["created_at"], "question": mask(row["question"]),
                              "answer": mask(answer), "clause_ids": json.loads(row["clause_ids"]),
                              "comment": mask(row["comment"]), "channel": row["channel"]})
        return _page(total, items, page, per_page)

    @staticmethod
    def _answer_given(db, sender: str, question: str, before: str) -> str:
        if not sender:
            return ""
        row = db.execute("SELECT answer FROM question_log WHERE sender = ? AND created_at <= ? "
                         "ORDER BY (question = ?) DESC, id DESC LIMIT 1", (sender, before, mask(question))).fetchone()
        return row["answer"] if row else ""

    def _unanswered(self, page: int, per_page: int) -> dict:
        with self.store.transaction() as db:
            total = db.execute("SELECT COUNT(DISTINCT question) FROM question_log WHERE answerable = 0").fetchone()[0]
            rows = db.execute(
                "SELECT question, COUNT(*) AS times, MAX(created_at) AS last_asked FROM question_log "
                "WHERE answerable = 0 GROUP BY question ORDER BY times DESC, last_asked DESC LIMIT ? OFFSET ?",
                (per_page, (page - 1) * per_page)).fetchall()
        return _page(total, [dict(r) for r in rows], page, per_page)

    def topics(self, days: int = 7, page: int = 1, per_page: int = 20) -> dict:
        """Most asked topics (cited article) over the last `days` days, with example questions."""
        since = (self.clock() - dt.timedelta(days=max(1, days))).isoformat(timespec="seconds")
        with self.store.transaction() as db:
            total = db.execute("SELECT COUNT(DISTINCT topic) FROM question_log WHERE created_at >= ?",
                               (since,)).fetchone()[0]
            rows = db.execute(
                "SELECT topic, COUNT(*) AS times, SUM(answerable = 0) AS unanswered FROM question_log "
                "WHERE created_at >= ? GROUP BY topic ORDER BY times DESC, topic LIMIT ? OFFSET ?",
                (since, per_page, (page - 1) * per_page)).fetchall()
            items = []
            for row in rows:
                examples = [r[0] for r in db.execute(
                    "SELECT DISTINCT question FROM question_log WHERE topic = ? AND created_at >= ? "
                    "ORDER BY id DESC LIMIT 3", (row["topic"], since))]
                items.append({"topic": row["topic"] or "（未能回答）", "times": row["times"],
                              "unanswered": row["unanswered"], "examples": examples})
        return {**_page(total, items, page, per_page), "days": days}

    # -- regression set ----------------------------------------------------------------------------
    def add_regression(self, question: str, account: str) -> dict:
        question = mask(question.strip())
        with self.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO regression_questions(q, account, created_at) VALUES (?,?,?)",
                       (question, account, self.clock().isoformat(timespec="seconds")))
            row = db.execute("SELECT * FROM regression_questions WHERE q = ?", (question,)).fetchone()
            write_audit(db, account, "regression.add", "regression", {"q": question},
                        self.clock().isoformat(timespec="seconds"))
        return dict(row)

    def regression_questions(self) -> list[str]:
        with self.store.transaction() as db:
            return [r[0] for r in db.execute("SELECT q FROM regression_questions ORDER BY id")]

    # -- expiry -----------------------------------------------------------------------------------
    def provisions(self, today: dt.date) -> dict:
        """Every dated provision (a clause's time limit, a parameter's period) with its end date,
        status and notes, soonest first."""
        state = read_state(self.store)
        notes = self._notes()
        items: list[dict[str, Any]] = []
        for clause in state.clauses.values():
            if not clause.active:
                continue
            for limit in clause.time_limits:
                sentence = next((s for s in [clause.title, *clause.sentences] if limit.raw in s), limit.raw)
                key = f"{clause.clause_id}#{limit.raw}"
                items.append({"key": key, "kind": "clause", "clause_id": clause.clause_id, "raw": limit.raw,
                              "until": limit.until, "status": provision_status(limit.until, today),
                              "text": sentence, "document": state.documents.get(clause.doc_id, {}).get("number", ""),
                              "title": clause.title, "version": clause.version, "notes": notes.get(key, [])})
        for name, row in state.parameters.items():
            period = row["entry"].get("period") or {}
            if period.get("until"):
                until = dt.date.fromisoformat(str(period["until"]))
                key = f"parameter:{name}"
                items.append({"key": key, "kind": "parameter", "parameter": name, "raw": period.get("raw", ""),
                              "until": until, "status": provision_status(until, today),
                              "clause_id": row["entry"]["reference"]["clause_id"],
                              "text": row["entry"].get("description", ""), "version": row["version"],
                              "notes": notes.get(key, [])})
        items.sort(key=lambda item: (item["until"], item["key"]))
        counts = {status: sum(1 for i in items if i["status"] == status)
                  for status in ("expired", "ends_soon", "in_force")}
        return {"today": today, "counts": counts, "items": items}

    def _notes(self) -> dict[str, list[dict]]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM provision_notes ORDER BY id").fetchall()
        notes: dict[str, list[dict]] = {}
        for row in rows:
            notes.setdefault(row["key"], []).append({"note": row["note"], "account": row["account"],
                                                     "created_at": row["created_at"]})
        return notes

    def add_note(self, key: str, note: str, account: str) -> dict:
        at = self.clock().isoformat(timespec="seconds")
        with self.store.transaction() as db:
            db.execute("INSERT INTO provision_notes(key, note, account, created_at) VALUES (?,?,?,?)",
                       (key, note, account, at))
            write_audit(db, account, "provision.note", key, {"note": note}, at)
        return {"key": key, "note": note, "account": account, "created_at": at}
