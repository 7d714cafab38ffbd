"""Drafts, publishing, releases and the audit log of the knowledge store.

Staff never change what citizens are told directly. Clause edits, retirements, new documents,
parameter values and rule changes collect in a draft; the draft shows a readable diff and every
problem (a parameter quote that no longer matches its clause, a rule that no longer validates, an
edit based on a version someone else has since published); publishing applies the whole draft in
one SQLite transaction and records a release — a snapshot of everything published — so any earlier
release can be restored the same way (as a new draft that is published).

Edits carry the version they were based on: a clause's version as the editor saw it (the published
version plus the edits already in the draft). A mismatch raises StaleEdit (HTTP 409), never a
silent overwrite.

Running processes follow a publish through the store's revision (Store.state()): the search index
is rebuilt beside the live one and swapped in (service/publishing.py), and the calculator reloads
(knowledge.parameters_store.PublishedEntitlementEngine).
"""
from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from .entitlement_parameters import ParameterError, parameters_from_data
from .parameters_store import (as_files, ensure_tables, namespaces, parameter_rows, quote_problems, rules_row,
                               squeeze)
from .entitlement_rules import rules_from_text
from .parser import analyze_clause_text, parse_document, split_sentences
from .staff_lexicon import LexiconEntryError, clean_entry, clean_key, entry_target
from .store import StoredClause, Store, inserted_id, lexicon_rows

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, author TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    release_id INTEGER);
CREATE TABLE IF NOT EXISTS draft_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, draft_id INTEGER NOT NULL REFERENCES drafts(id),
    kind TEXT NOT NULL, target TEXT NOT NULL, payload TEXT NOT NULL, base_version INTEGER NOT NULL,
    edits INTEGER NOT NULL DEFAULT 1, author TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (draft_id, kind, target));
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT, draft_id INTEGER, author TEXT NOT NULL, note TEXT NOT NULL,
    created_at TEXT NOT NULL, revision INTEGER NOT NULL, summary TEXT NOT NULL, snapshot TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, account TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
"""
KINDS = ("clause", "document", "parameter", "rules", "lexicon")
PARAMETER_FIELDS = ("description", "value", "unit", "op", "period", "reference", "values")


class DraftError(ValueError):
    """A change that cannot be made (bad input, unknown target); the service answers 400/404."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class StaleEdit(DraftError):
    """An edit (or a publish) based on a version that is no longer current: 409."""

    def __init__(self, message: str, conflicts: list[dict]):
        super().__init__(message, 409)
        self.conflicts = conflicts


class PublishRefused(DraftError):
    """The draft has problems (quotes, validation): 422 with every reason."""

    def __init__(self, problems: list[dict]):
        super().__init__("发布被拒绝：" + "；".join(p["reason"] for p in problems), 422)
        self.problems = problems


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def write_audit(db: sqlite3.Connection, account: str, action: str, target: str, detail: Any = None,
                at: str | None = None) -> None:
    """One audit row: who (the authenticated account), what, on what, when."""
    db.execute("INSERT INTO audit(at, account, action, target, detail) VALUES (?,?,?,?,?)",
               (at or _now(), account, action, target, json.dumps(detail or {}, ensure_ascii=False)))


# -- the knowledge as a value: published, or published + a draft ---------------------------------------
@dataclass
class KnowledgeState:
    documents: dict[str, dict]
    clauses: dict[str, StoredClause]
    parameters: dict[str, dict]          # name → {namespace, key, entry, version}
    namespaces: dict[str, str]
    rules: str
    rules_version: int
    revision: int = 0
    store_id: str = ""
    lexicon: dict[str, dict] = field(default_factory=dict)  # "kind:key" → staff synonym / term

    def clause_text(self, clause_id: str) -> str | None:
        clause = self.clauses.get(clause_id)
        return clause.text if clause is not None and clause.active else None

    def parameter_set(self):
        return parameters_from_data(as_files(self.namespaces, self.parameters))

    def snapshot(self) -> dict:
        return {"documents": self.documents,
                "clauses": {cid: {"doc_id": c.doc_id, "title": c.title, "text": c.text, "active": c.active}
                            for cid, c in self.clauses.items()},
                "parameters": {name: {k: row[k] for k in ("namespace", "key", "entry")}
                               for name, row in self.parameters.items()},
                "namespaces": self.namespaces, "rules": self.rules,
                "lexicon": {target: {k: e[k] for k in ("kind", "key", "terms")} for target, e in self.lexicon.items()}}


def read_state(store: Store, db: sqlite3.Connection | None = None) -> KnowledgeState:
    if db is None:
        with store.transaction() as db:
            return read_state(store, db)
    documents = {r["doc_id"]: {"number": r["number"], "issuer": r["issuer"], "date": r["date"],
                               "title": r["title"], "active": bool(r["active"])}
                 for r in db.execute("SELECT * FROM documents ORDER BY doc_id")}
    from .store import _row_to_clause  # the store's own row reader
    clauses = {r["clause_id"]: _row_to_clause(r)
               for r in db.execute("SELECT * FROM clauses ORDER BY doc_id, ordinal")}
    rules = rules_row(db)
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    return KnowledgeState(documents, clauses, parameter_rows(db), namespaces(db), rules["text"],
                          rules["version"], int(meta["revision"]), meta["store_id"], lexicon_rows(db))


class StateView:
    """A KnowledgeState read like a Store by the index builder (knowledge.index.build_index)."""

    def __init__(self, state: KnowledgeState, label: str = "draft"):
        self.draft, self.label = state, label

    def revision(self) -> int:
        return self.draft.revision

    def store_id(self) -> str:
        return f"{self.draft.store_id}:{self.label}"

    def state(self) -> tuple[str, int]:
        return self.store_id(), self.revision()

    def documents(self) -> list[dict]:
        return [{"doc_id": doc_id, **doc} for doc_id, doc in self.draft.documents.items()]

    def clauses(self, active_only: bool = True, doc_id: str | None = None) -> list[StoredClause]:
        return sorted((c for c in self.draft.clauses.values()
                       if (c.active or not active_only) and (doc_id is None or c.doc_id == doc_id)),
                      key=lambda c: (c.doc_id, c.ordinal))

    def clause(self, clause_id: str) -> StoredClause | None:
        return self.draft.clauses.get(clause_id)

    def content_hash(self) -> str:
        return f"{self.label}:{self.draft.revision}"

    def lexicon(self) -> dict[str, dict]:
        return self.draft.lexicon


def _edited_clause(clause: StoredClause, text: str) -> StoredClause:
    fields = analyze_clause_text(text, lead_title=clause.has_lead_title)
    return replace(clause, text=fields["text"], title=fields["title"] or clause.title,
                   sentences=fields["sentences"], departments=fields["departments"],
                   amounts=list(fields["amounts"]), time_limits=list(fields["time_limits"]),
                   version=clause.version + 1)


def _apply(state: KnowledgeState, change: dict) -> None:
    """Apply one draft change to an in-memory state (the same effect publishing has on the store)."""
    kind, target, payload = change["kind"], change["target"], change["payload"]
    if kind == "clause":
        clause = state.clauses[target]
        if payload.get("text") is not None:
            clause = _edited_clause(clause, payload["text"])
        if payload.get("active") is not None:
            clause = replace(clause, active=bool(payload["active"]))
        state.clauses[target] = clause
    elif kind == "document":
        if payload.get("text") is not None:
            document = parse_document(payload["text"], target)
            state.documents[target] = {"number": document.number, "issuer": document.issuer,
                                       "date": document.date.isoformat() if document.date else None,
                                       "title": document.title, "active": True}
            seen = set()
            for ordinal, parsed in enumerate(document.clauses):
                seen.add(parsed.clause_id)
                old = state.clauses.get(parsed.clause_id)
                state.clauses[parsed.clause_id] = StoredClause(**{**parsed.__dict__}, active=True,
                                                               version=(old.version + 1) if old else 1,
                                                               ordinal=ordinal)
            for clause_id, clause in list(state.clauses.items()):
                if clause.doc_id == target and clause_id not in seen:
                    state.clauses[clause_id] = replace(clause, active=False)
        if payload.get("active") is not None:
            active = bool(payload["active"])
            state.documents[target] = {**state.documents[target], "active": active}
            wanted = payload.get("clauses") or {}
            for clause_id, clause in list(state.clauses.items()):
                if clause.doc_id == target:
                    state.clauses[clause_id] = replace(clause, active=bool(wanted.get(clause_id, active)))
    elif kind == "parameter":
        if payload.get("entry") is None:
            state.parameters.pop(target, None)
        else:
            namespace, key = target.split(".", 1)
            before = state.parameters.get(target, {"version": 0})
            state.parameters[target] = {"namespace": namespace, "key": key, "entry": payload["entry"],
                                        "version": before["version"] + 1}
            if namespace not in state.namespaces:
                state.namespaces[namespace] = payload.get("namespace_description") or namespace
    elif kind == "rules":
        state.rules, state.rules_version = payload["text"], state.rules_version + 1
    elif kind == "lexicon":
        if payload.get("entry") is None:
            state.lexicon.pop(target, None)
        else:
            before = state.lexicon.get(target, {"version": 0})
            state.lexicon[target] = {**payload["entry"], "version": before["version"] + 1}


# -- readable differences ----------------------------------------------------------------------------------
def text_diff(before: str, after: str) -> list[list[str]]:
    """Character-level diff as [op, text] runs (op: equal | delete | insert), merged for reading."""
    runs: list[list[str]] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            runs.append(["delete", before[a1:a2]])
        if op in ("insert", "replace"):
            runs.append(["insert", after[b1:b2]])
        if op == "equal":
            runs.append(["equal", before[a1:a2]])
    return runs


def lines_diff(before: str, after: str) -> list[str]:
    return list(difflib.unified_diff(before.splitlines(), after.splitlines(), "已发布", "草稿", lineterm="", n=2))


def suggest_quote(old_quote: str, new_text: str) -> str | None:
    """The sentence of the edited clause most like the old quote: what the parameter should now quote."""
    sentences = split_sentences(new_text)
    if not sentences:
        return None
    best = max(sentences, key=lambda s: difflib.SequenceMatcher(None, squeeze(old_quote), squeeze(s)).ratio())
    return best if difflib.SequenceMatcher(None, squeeze(old_quote), squeeze(best)).ratio() > 0.5 else None


# -- the store side ---------------------------------------------------------------------------------------------
class Drafts:
    """Drafts, releases and audit over one knowledge store. Every method takes the acting account."""

    def __init__(self, store: Store, review_required: bool = False):
        """review_required: a draft publishes only after another staff member approved it."""
        self.store, self.review_required = store, review_required
        ensure_tables(store)
        with store.transaction() as db:
            db.executescript(_SCHEMA)
            if "approved_by" not in {row["name"] for row in db.execute("PRAGMA table_info(drafts)")}:
                db.execute("ALTER TABLE drafts ADD COLUMN approved_by TEXT")
        if not self.releases(limit=1):
            self._record_release(author="system", note="初始版本（由种子数据载入）", draft_id=None, summary=[])

    # -- audit ---------------------------------------------------------------------------------
    _audit = staticmethod(write_audit)

    def audit(self, account: str, action: str, target: str, detail: Any = None) -> None:
        with self.store.transaction() as db:
            self._audit(db, account, action, target, detail)

    def audit_log(self, limit: int = 50, offset: int = 0, account: str | None = None) -> dict:
        where, params = ("WHERE account = ?", [account]) if account else ("", [])
        with self.store.transaction() as db:
            total = db.execute(f"SELECT COUNT(*) FROM audit {where}", params).fetchone()[0]
            rows = db.execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                              params + [limit, offset]).fetchall()
        return {"total": total, "items": [dict(r, detail=json.loads(r["detail"])) for r in rows]}

    # -- drafts --------------------------------------------------------------------------------
    def create(self, author: str, title: str = "") -> dict:
        with self.store.transaction() as db:
            cursor = db.execute("INSERT INTO drafts(title, author, created_at, updated_at) VALUES (?,?,?,?)",
                                (title or "未命名草稿", author, _now(), _now()))
            draft_id = inserted_id(cursor)
            self._audit(db, author, "draft.create", f"draft:{draft_id}", {"title": title})
        return self.get(draft_id)

    def list_drafts(self, status: str | None = None) -> list[dict]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        with self.store.transaction() as db:
            rows = db.execute(f"SELECT d.*, (SELECT COUNT(*) FROM draft_changes c WHERE c.draft_id = d.id) "
                              f"AS changes FROM drafts d {where} ORDER BY id DESC", params).fetchall()
        return [dict(r) for r in rows]

    def get(self, draft_id: int) -> dict:
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM drafts WHERE id = ?", (draft_id,)).fetchone()
            if row is None:
                raise DraftError(f"没有草稿 {draft_id}", 404)
            changes = [self._change(r) for r in db.execute(
                "SELECT * FROM draft_changes WHERE draft_id = ? ORDER BY id", (draft_id,))]
        return {**dict(row), "changes": changes}

    @staticmethod
    def _change(row: sqlite3.Row) -> dict:
        change = dict(row, payload=json.loads(row["payload"]))
        change["version"] = change["base_version"] + change["edits"]  # what the next edit must be based on
        return change

    def _open(self, db: sqlite3.Connection, draft_id: int) -> None:
        row = db.execute("SELECT status FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        if row is None:
            raise DraftError(f"没有草稿 {draft_id}", 404)
        if row["status"] != "open":
            raise DraftError(f"草稿 {draft_id} 已{ {'published': '发布', 'discarded': '放弃'}[row['status']] }，不能再修改",
                             409)

    def discard(self, draft_id: int, account: str) -> dict:
        with self.store.transaction() as db:
            self._open(db, draft_id)
            db.execute("UPDATE drafts SET status = 'discarded', updated_at = ? WHERE id = ?", (_now(), draft_id))
            self._audit(db, account, "draft.discard", f"draft:{draft_id}")
        return self.get(draft_id)

    def approve(self, draft_id: int, account: str) -> dict:
        """A second staff member's approval; any later change to the draft withdraws it."""
        draft = self.get(draft_id)
        authors = {draft["author"]} | {change["author"] for change in draft["changes"]}
        if account in authors:
            raise DraftError("审核须由未参与修改的另一位工作人员进行", 409)
        if not draft["changes"]:
            raise DraftError("草稿中没有修改")
        with self.store.transaction() as db:
            self._open(db, draft_id)
            db.execute("UPDATE drafts SET approved_by = ?, updated_at = ? WHERE id = ?", (account, _now(), draft_id))
            self._audit(db, account, "draft.approve", f"draft:{draft_id}")
        return self.get(draft_id)

    def remove_change(self, draft_id: int, change_id: int, account: str) -> dict:
        with self.store.transaction() as db:
            self._open(db, draft_id)
            gone = db.execute("DELETE FROM draft_changes WHERE id = ? AND draft_id = ?", (change_id, draft_id))
            db.execute("UPDATE drafts SET approved_by = NULL WHERE id = ?", (draft_id,))
            if not gone.rowcount:
                raise DraftError(f"草稿 {draft_id} 中没有修改 {change_id}", 404)
            self._audit(db, account, "draft.remove_change", f"draft:{draft_id}", {"change": change_id})
        return self.get(draft_id)

    # -- changes -------------------------------------------------------------------------------
    def _put_change(self, draft_id: int, kind: str, target: str, payload: dict, based_on: int | None,
                    published_version: int, account: str, merge: bool = True) -> dict:
        """Add or update the draft's change of `target`, if `based_on` is the version the editor saw."""
        with self.store.transaction() as db:
            db.execute("BEGIN IMMEDIATE")
            self._open(db, draft_id)
            row = db.execute("SELECT * FROM draft_changes WHERE draft_id = ? AND kind = ? AND target = ?",
                             (draft_id, kind, target)).fetchone()
            current = (row["base_version"] + row["edits"]) if row else published_version
            if based_on is not None and based_on != current:
                raise StaleEdit(f"{target} 已被修改：您基于版本 {based_on}，当前是版本 {current}。请刷新后重做修改。",
                                [{"kind": kind, "target": target, "based_on": based_on, "current": current}])
            if row:
                merged = {**json.loads(row["payload"]), **payload} if merge else payload
                db.execute("UPDATE draft_changes SET payload = ?, edits = edits + 1, author = ?, updated_at = ? "
                           "WHERE id = ?", (json.dumps(merged, ensure_ascii=False), account, _now(), row["id"]))
            else:
                db.execute("INSERT INTO draft_changes(draft_id, kind, target, payload, base_version, author, "
                           "updated_at) VALUES (?,?,?,?,?,?,?)",
                           (draft_id, kind, target, json.dumps(payload, ensure_ascii=False), published_version,
                            account, _now()))
            db.execute("UPDATE drafts SET updated_at = ?, approved_by = NULL WHERE id = ?", (_now(), draft_id))
            self._audit(db, account, f"draft.{kind}", target, {"draft": draft_id, **_short_payload(payload)})
            change = db.execute("SELECT * FROM draft_changes WHERE draft_id = ? AND kind = ? AND target = ?",
                                (draft_id, kind, target)).fetchone()
        return self._change(change)

    def edit_clause(self, draft_id: int, clause_id: str, account: str, based_on: int | None,
                    text: str | None = None, active: bool | None = None) -> dict:
        clause = self.store.clause(clause_id)
        if clause is None:
            raise DraftError(f"没有条款 {clause_id}", 404)
        if text is None and active is None:
            raise DraftError("请给出新的条款文字（text）或是否生效（active）")
        if text is not None and not analyze_clause_text(text, clause.has_lead_title)["sentences"] \
                and not clause.has_lead_title:
            raise DraftError("条款文字没有完整的句子")
        payload = {key: value for key, value in (("text", text), ("active", active)) if value is not None}
        return self._put_change(draft_id, "clause", clause_id, payload, based_on, clause.version, account)

    def set_parameter(self, draft_id: int, name: str, account: str, based_on: int | None,
                      changes: dict) -> dict:
        """Change a parameter's fields. `value` with `from` (YYYY-MM-DD) adds a dated value and keeps the
        old one for earlier dates; `value` without `from` corrects the value for all dates."""
        unknown = set(changes) - set(PARAMETER_FIELDS) - {"from", "quote", "clause_id", "note"}
        if unknown:
            raise DraftError(f"未知字段：{', '.join(sorted(unknown))}")
        state = self.state(draft_id)
        row = state.parameters.get(name)
        if row is None and "." not in name:
            raise DraftError("参数名应为 文件名.参数名，如 startup_subsidy.amount")
        try:
            entry = self._changed_entry(copy.deepcopy(row["entry"]) if row else {}, changes)
        except (TypeError, AttributeError) as error:
            raise DraftError(f"参数 {name} 的修改格式不对：{error}") from error
        self._validate_entry(name, entry)
        return self._put_change(draft_id, "parameter", name, {"entry": entry}, based_on,
                                self._published_parameter_version(name), account, merge=False)

    @staticmethod
    def _changed_entry(entry: dict, changes: dict) -> dict:
        for key in ("description", "unit", "op", "period", "reference"):
            if key in changes:
                entry[key] = changes[key]
        if "quote" in changes or "clause_id" in changes:
            entry.setdefault("reference", {})
            for key in ("quote", "clause_id"):
                if key in changes:
                    entry["reference"][key] = changes[key]
        if "value" in changes:
            if changes.get("from"):
                _date_text(changes["from"])
                dated = [v for v in entry.get("values", []) if v["from"] != changes["from"]]
                dated.append({"from": changes["from"], "value": changes["value"],
                              **({"note": changes["note"]} if changes.get("note") else {})})
                entry["values"] = sorted(dated, key=lambda v: v["from"])
            else:
                entry["value"] = changes["value"]
        elif "values" in changes:
            entry["values"] = changes["values"]
        return entry

    def _published_parameter_version(self, name: str) -> int:
        with self.store.transaction() as db:
            row = db.execute("SELECT version FROM parameters WHERE name = ?", (name,)).fetchone()
        return row["version"] if row else 0

    @staticmethod
    def _validate_entry(name: str, entry: dict) -> None:
        namespace, key = name.split(".", 1)
        try:
            parameters_from_data({namespace: {"description": namespace, "parameters": {key: entry}}})
        except ParameterError as error:
            raise DraftError(f"参数 {name} 无效：{str(error).split(': ', 1)[-1]}") from error

    def set_rules(self, draft_id: int, text: str, account: str, based_on: int | None) -> dict:
        published = self._published_rules_version()
        try:
            rules_from_text(text)
        except ParameterError as error:
            raise DraftError(f"规则无效：{error}") from error
        return self._put_change(draft_id, "rules", "rules", {"text": text}, based_on, published, account)

    def set_lexicon(self, draft_id: int, kind: str, key: str, terms, account: str, based_on: int | None,
                    remove: bool = False) -> dict:
        """Add, change or (remove=True) delete a staff synonym (kind "synonym": key → policy terms) or
        search term (kind "term"); live with the draft's publish (knowledge.staff_lexicon)."""
        try:
            entry = None if remove else clean_entry(kind, key, terms)
            target = entry_target(kind, clean_key(kind, key))
        except LexiconEntryError as error:
            raise DraftError(str(error)) from None
        published = self.store.lexicon().get(target)
        if remove and published is None and target not in self.state(draft_id).lexicon:
            raise DraftError(f"没有这个{'同义词' if kind == 'synonym' else '词条'}：{target}", 404)
        return self._put_change(draft_id, "lexicon", target, {"entry": entry}, based_on,
                                (published or {}).get("version", 0), account, merge=False)

    def add_document(self, draft_id: int, doc_id: str, text: str, account: str, source: str = "") -> dict:
        document = parse_document(text, doc_id)
        if not document.clauses:
            raise DraftError("文本中没有找到条款：这是一份有编号的政策文件吗？")
        known = self.store.document(doc_id)
        payload = {"text": text, "source": source, "active": True}
        return self._put_change(draft_id, "document", doc_id, payload, None,
                                1 if known else 0, account, merge=False)

    def set_document_active(self, draft_id: int, doc_id: str, active: bool, account: str) -> dict:
        if self.store.document(doc_id) is None and not any(
                c["kind"] == "document" and c["target"] == doc_id for c in self.get(draft_id)["changes"]):
            raise DraftError(f"没有文件 {doc_id}", 404)
        return self._put_change(draft_id, "document", doc_id, {"active": active}, None, 1, account)

    def apply_suggestions(self, draft_id: int, account: str) -> list[dict]:
        """Take every suggested quote (parameters and rules whose quote an edit broke) into the draft.
        Values stay the editor's job: a money value its new quote no longer states is then a problem."""
        applied = []
        for problem in self.problems(draft_id):
            quote = problem.get("suggested_quote")
            if not quote:
                continue
            if "parameter" in problem:
                self.set_parameter(draft_id, problem["parameter"], account, None, {"quote": quote})
            elif "rule" in problem:
                text = self.state(draft_id).rules
                if problem["quote"] not in text:
                    continue
                self._put_change(draft_id, "rules", "rules", {"text": text.replace(problem["quote"], quote)}, None,
                                 self._published_rules_version(), account)
            applied.append({**problem, "applied": quote})
        return applied

    def _published_rules_version(self) -> int:
        with self.store.transaction() as db:
            return rules_row(db)["version"]

    # -- reading a draft -------------------------------------------------------------------------
    def state(self, draft_id: int | None = None) -> KnowledgeState:
        """The published state, or what it would be with the draft published."""
        state = read_state(self.store)
        if draft_id is not None:
            for change in self.get(draft_id)["changes"]:
                _apply(state, change)
            state.revision = -draft_id
        return state

    def diff(self, draft_id: int) -> list[dict]:
        """Each change, readable: clause text runs, parameter fields before → after, rules lines, plus
        the parameters that quote an edited clause (with a suggested new quote when theirs broke)."""
        draft = self.get(draft_id)
        published, after = read_state(self.store), self.state(draft_id)
        items = []
        for change in draft["changes"]:
            item = {"id": change["id"], "kind": change["kind"], "target": change["target"],
                    "version": change["version"], "author": change["author"], "updated_at": change["updated_at"]}
            item.update(_describe(change, published, after))
            items.append(item)
        return items

    def problems(self, draft_id: int) -> list[dict]:
        """Everything that stops this draft from publishing, each with a reason staff can act on."""
        state = self.state(draft_id)
        problems = self._stale(self.get(draft_id)["changes"], read_state(self.store))
        try:
            parameters = state.parameter_set()
            rules = rules_from_text(state.rules, parameters)
        except ParameterError as error:
            return problems + [{"reason": f"参数或规则无效：{error}"}]
        for problem in quote_problems(parameters, rules, state.clause_text):
            text = state.clause_text(problem["clause_id"])
            suggestion = suggest_quote(problem["quote"], text) if text else None
            problems.append({**problem, "suggested_quote": suggestion})
        return problems

    @staticmethod
    def _stale(changes: Iterable[dict], published: KnowledgeState) -> list[dict]:
        stale = []
        for change in changes:
            now = _published_version(change, published)
            if now is not None and now != change["base_version"]:
                stale.append({"kind": change["kind"], "target": change["target"], "based_on": change["base_version"],
                              "current": now, "reason": f"{change['target']} 在本草稿开始后已被另一次发布修改"
                                                        f"（基于版本 {change['base_version']}，现为 {now}）"})
        return stale

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, draft_id: int, account: str, note: str = "", review_waived: bool = False) -> dict:
        """Apply the draft in one transaction and record a release; refused with every reason."""
        draft = self.get(draft_id)
        if draft["status"] != "open":
            raise DraftError(f"草稿 {draft_id} 不是待发布状态", 409)
        if not draft["changes"]:
            raise DraftError("草稿中没有修改")
        if self.review_required and not draft.get("approved_by") and not review_waived:
            raise DraftError("发布前需要另一位工作人员审核（审核通过）", 409)
        problems = self.problems(draft_id)
        stale = [p for p in problems if "based_on" in p]
        if stale:
            raise StaleEdit("草稿基于的版本已被另一次发布修改：" + "；".join(p["reason"] for p in stale), stale)
        if problems:
            raise PublishRefused(problems)
        summary = [{"kind": c["kind"], "target": c["target"]} for c in draft["changes"]]
        with self.store.transaction() as db:
            db.execute("BEGIN IMMEDIATE")
            stale = self._stale(draft["changes"], read_state(self.store, db))
            if stale:  # someone published between the check and the lock
                raise StaleEdit("草稿基于的版本已被另一次发布修改", stale)
            for change in draft["changes"]:
                self._apply_to_store(db, change, account, f"草稿 #{draft_id}")
            self.store.bump_in(db)
            release = self._insert_release(db, account, note or draft["title"], draft_id, summary)
            db.execute("UPDATE drafts SET status = 'published', release_id = ?, updated_at = ? WHERE id = ?",
                       (release, _now(), draft_id))
            self._audit(db, account, "publish", f"release:{release}", {"draft": draft_id, "changes": summary})
        return self.release(release)

    def _apply_to_store(self, db: sqlite3.Connection, change: dict, account: str, note: str) -> None:
        kind, target, payload = change["kind"], change["target"], change["payload"]
        if kind == "clause":
            if payload.get("text") is not None:
                self.store.update_clause_in(db, target, payload["text"], account, note)
            if payload.get("active") is not None:
                active = db.execute("SELECT active FROM clauses WHERE clause_id = ?", (target,)).fetchone()[0]
                if bool(active) != bool(payload["active"]):
                    self.store.set_active_in(db, target, bool(payload["active"]), account, note)
        elif kind == "document":
            if payload.get("text") is not None:
                self.store.add_document_in(db, parse_document(payload["text"], target), account, note)
            if payload.get("active") is not None:
                self.store.set_document_active_in(db, target, bool(payload["active"]))
                wanted = payload.get("clauses") or {}
                for row in db.execute("SELECT clause_id, active FROM clauses WHERE doc_id = ?", (target,)).fetchall():
                    should = bool(wanted.get(row["clause_id"], payload["active"]))
                    if bool(row["active"]) != should:
                        self.store.set_active_in(db, row["clause_id"], should, account, note)
        elif kind == "parameter":
            self._store_parameter(db, target, payload)
        elif kind == "rules":
            db.execute("UPDATE rules SET text = ?, version = version + 1, updated_at = ? WHERE id = 1",
                       (payload["text"], _now()))
        elif kind == "lexicon":
            self._store_lexicon(db, payload.get("entry"), target)

    @staticmethod
    def _store_lexicon(db: sqlite3.Connection, entry: dict | None, target: str) -> None:
        kind, key = target.split(":", 1)
        if entry is None:
            db.execute("DELETE FROM lexicon_entries WHERE kind = ? AND key = ?", (kind, key))
            return
        terms = json.dumps(entry["terms"], ensure_ascii=False)
        updated = db.execute("UPDATE lexicon_entries SET terms = ?, version = version + 1, updated_at = ? "
                             "WHERE kind = ? AND key = ?", (terms, _now(), kind, key))
        if not updated.rowcount:
            db.execute("INSERT INTO lexicon_entries(kind, key, terms, version, updated_at) VALUES (?,?,?,1,?)",
                       (kind, key, terms, _now()))

    @staticmethod
    def _store_parameter(db: sqlite3.Connection, name: str, payload: dict) -> None:
        if payload.get("entry") is None:
            db.execute("DELETE FROM parameters WHERE name = ?", (name,))
            return
        namespace, key = name.split(".", 1)
        entry = json.dumps(payload["entry"], ensure_ascii=False)
        db.execute("INSERT OR IGNORE INTO parameter_namespaces(namespace, description) VALUES (?, ?)",
                   (namespace, payload.get("namespace_description") or namespace))
        updated = db.execute("UPDATE parameters SET entry = ?, version = version + 1, updated_at = ? "
                             "WHERE name = ?", (entry, _now(), name))
        if not updated.rowcount:
            ordinal = db.execute("SELECT COUNT(*) FROM parameters WHERE namespace = ?", (namespace,)).fetchone()[0]
            db.execute("INSERT INTO parameters(name, namespace, key, ordinal, entry, version, updated_at) "
                       "VALUES (?,?,?,?,?,1,?)", (name, namespace, key, ordinal, entry, _now()))

    # -- releases --------------------------------------------------------------------------------
    def _record_release(self, author: str, note: str, draft_id: int | None, summary: list) -> int:
        with self.store.transaction() as db:
            return self._insert_release(db, author, note, draft_id, summary)

    def _insert_release(self, db, author: str, note: str, draft_id: int | None, summary: list) -> int:
        state = read_state(self.store, db)
        cursor = db.execute(
            "INSERT INTO releases(draft_id, author, note, created_at, revision, summary, snapshot) "
            "VALUES (?,?,?,?,?,?,?)", (draft_id, author, note, _now(), state.revision,
                                       json.dumps(summary, ensure_ascii=False),
                                       json.dumps(state.snapshot(), ensure_ascii=False)))
        return inserted_id(cursor)

    def releases(self, limit: int = 50, offset: int = 0) -> list[dict]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT id, draft_id, author, note, created_at, revision, summary FROM releases "
                              "ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)).fetchall()
        return [dict(r, summary=json.loads(r["summary"])) for r in rows]

    def release(self, release_id: int) -> dict:
        with self.store.transaction() as db:
            row = db.execute("SELECT id, draft_id, author, note, created_at, revision, summary FROM releases "
                             "WHERE id = ?", (release_id,)).fetchone()
        if row is None:
            raise DraftError(f"没有发布版本 {release_id}", 404)
        return dict(row, summary=json.loads(row["summary"]))

    def current_release(self) -> dict:
        return self.releases(limit=1)[0]

    def rollback_draft(self, release_id: int, account: str) -> dict:
        """A draft that brings back everything as release `release_id` had it (publish it to restore)."""
        self.release(release_id)
        with self.store.transaction() as db:
            snapshot = json.loads(db.execute("SELECT snapshot FROM releases WHERE id = ?",
                                             (release_id,)).fetchone()[0])
        published = read_state(self.store)
        draft = self.create(account, f"恢复到发布版本 #{release_id}")
        for change in _changes_to(snapshot, published):
            self._put_change(draft["id"], change["kind"], change["target"], change["payload"], None,
                             change["version"], account, merge=False)
        return self.get(draft["id"])

    def rollback(self, release_id: int, account: str) -> dict:
        draft = self.rollback_draft(release_id, account)
        if not draft["changes"]:
            self.discard(draft["id"], account)
            raise DraftError(f"当前内容与发布版本 #{release_id} 相同，无需恢复", 409)
        # restoring what was already published (and reviewed then) needs no second review
        return self.publish(draft["id"], account, note=f"恢复到发布版本 #{release_id}", review_waived=True)


def _published_version(change: dict, published: KnowledgeState) -> int | None:
    kind, target = change["kind"], change["target"]
    if kind == "clause":
        clause = published.clauses.get(target)
        return clause.version if clause else None
    if kind == "parameter":
        row = published.parameters.get(target)
        return row["version"] if row else 0
    if kind == "rules":
        return published.rules_version
    if kind == "lexicon":
        return (published.lexicon.get(target) or {}).get("version", 0)
    return None  # documents replace as a whole


def _changes_to(snapshot: dict, published: KnowledgeState) -> list[dict]:
    """Draft changes that turn the published state into the snapshot."""
    changes = []
    for doc_id, doc in published.documents.items():
        old = snapshot["documents"].get(doc_id)
        if old is None or bool(old["active"]) != doc["active"]:
            wanted = {cid: bool((snapshot["clauses"].get(cid) or {}).get("active", False))
                      for cid, c in published.clauses.items() if c.doc_id == doc_id}
            changes.append({"kind": "document", "target": doc_id, "version": 1,
                            "payload": {"active": bool(old and old["active"]), "clauses": wanted}})
    retired_docs = {c["target"] for c in changes}
    for clause_id, clause in published.clauses.items():
        old = snapshot["clauses"].get(clause_id)
        payload = {}
        if old is None:
            if clause.active and clause.doc_id not in retired_docs:
                payload["active"] = False
        else:
            if old["text"] != clause.text:
                payload["text"] = old["text"]
            if bool(old["active"]) != clause.active and clause.doc_id not in retired_docs:
                payload["active"] = bool(old["active"])
        if payload:
            changes.append({"kind": "clause", "target": clause_id, "version": clause.version, "payload": payload})
    for name in sorted(set(snapshot["parameters"]) | set(published.parameters)):
        old, now = snapshot["parameters"].get(name), published.parameters.get(name)
        if (old or {}).get("entry") != (now or {}).get("entry"):
            changes.append({"kind": "parameter", "target": name, "version": (now or {}).get("version", 0),
                            "payload": {"entry": old["entry"] if old else None,
                                        "namespace_description": snapshot["namespaces"].get(name.split(".")[0])}})
    if snapshot["rules"] != published.rules:
        changes.append({"kind": "rules", "target": "rules", "version": published.rules_version,
                        "payload": {"text": snapshot["rules"]}})
    old_lexicon = snapshot.get("lexicon") or {}  # releases from before staff lexicon entries had none
    for target in sorted(set(old_lexicon) | set(published.lexicon)):
        old, now = old_lexicon.get(target), published.lexicon.get(target)
        if (old or {}).get("terms") != (now or {}).get("terms") or bool(old) != bool(now):
            changes.append({"kind": "lexicon", "target": target, "version": (now or {}).get("version", 0),
                            "payload": {"entry": old}})
    return changes


def _describe(change: dict, published: KnowledgeState, after: KnowledgeState) -> dict:
    kind, target = change["kind"], change["target"]
    if kind == "clause":
        before, now = published.clauses[target], after.clauses[target]
        quoted_by = [name for name, row in after.parameters.items()
                     if row["entry"].get("reference", {}).get("clause_id") == target]
        return {"summary": _clause_summary(before, now), "text": text_diff(before.text, now.text),
                "active": [before.active, now.active],
                "amounts": [[a.raw for a in before.amounts], [a.raw for a in now.amounts]],
                "parameters": [{"name": name, "quote_ok": squeeze(after.parameters[name]["entry"]["reference"]["quote"])
                                in squeeze(now.text)} for name in quoted_by]}
    if kind == "document":
        payload = change["payload"]
        old = published.documents.get(target)
        count = sum(1 for c in after.clauses.values() if c.doc_id == target and c.active)
        verb = "新增" if old is None else ("重新载入" if payload.get("text") else
                                          ("恢复" if payload.get("active") else "废止"))
        return {"summary": f"{verb}文件 {(after.documents.get(target) or {}).get('number') or target}"
                           f"（生效条款 {count} 条）", "source": payload.get("source", "")}
    if kind == "parameter":
        old = (published.parameters.get(target) or {}).get("entry")
        new = (after.parameters.get(target) or {}).get("entry")
        fields = sorted(set(old or {}) | set(new or {}))
        return {"summary": f"参数 {target}", "fields": [
            {"field": f, "before": (old or {}).get(f), "after": (new or {}).get(f)}
            for f in fields if (old or {}).get(f) != (new or {}).get(f)]}
    if kind == "lexicon":
        old, new = published.lexicon.get(target), after.lexicon.get(target)
        entry_kind, key = target.split(":", 1)
        label = "同义词" if entry_kind == "synonym" else "检索词条"
        verb = "删除" if new is None else ("新增" if old is None else "修改")
        return {"summary": f"{verb}{label}“{key}”" + (f" → {' '.join(new['terms'])}" if new and new["terms"] else ""),
                "fields": [{"field": "terms" if entry_kind == "synonym" else "词条",
                            "before": (old["terms"] if entry_kind == "synonym" else key) if old else None,
                            "after": (new["terms"] if entry_kind == "synonym" else key) if new else None}]}
    return {"summary": "计算规则（rules.yaml）", "lines": lines_diff(published.rules, after.rules)}


def _clause_summary(before: StoredClause, now: StoredClause) -> str:
    if before.active != now.active:
        return f"{'恢复' if now.active else '废止'}条款 {now.clause_id}"
    return f"修改条款 {now.clause_id}（{now.title}）"


def _date_text(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise DraftError(f"日期“{text}”应为 YYYY-MM-DD") from None


def _short_payload(payload: dict) -> dict:
    return {key: (value[:200] + "…" if isinstance(value, str) and len(value) > 200 else value)
            for key, value in payload.items() if key != "clauses"}


