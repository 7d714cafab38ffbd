"""Entitlement parameters and rules kept in the knowledge store, beside the clauses they quote.

One source of truth: the calculator's amounts, dates and quotes live in the same SQLite store as the
policy text, change only through a published draft (knowledge/drafts.py), and every parameter names
the clause it comes from (reference.clause_id) and the exact words (reference.quote). The YAML files
in git (knowledge/parameters/*.yaml, knowledge/rules.yaml) seed an empty store and are the export
format (`python -m knowledge.parameters_store export DIR`), not a second truth.

    seed_parameters(store)                   first start: copy the YAML files into the store
    parameter_files(store) / rules_text(store)   what is published now
    quote_problems(parameters, rules, clause_text)   every quote that no longer matches its clause
    PublishedEntitlementEngine(store)        the calculator over the published parameters; it follows
                                             a publish within `follow_seconds` without a restart
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from .entitlement_parameters import PARAMETERS_DIR, ParameterError, ParameterSet, parameters_from_data, read_yaml
from .entitlement_rules import RULES_FILE, Rules, rules_from_text
from .entitlements import EntitlementEngine
from .parser import extract_amounts
from .store import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parameter_namespaces (namespace TEXT PRIMARY KEY, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parameters (
    name TEXT PRIMARY KEY, namespace TEXT NOT NULL, key TEXT NOT NULL, ordinal INTEGER NOT NULL,
    entry TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (
    id INTEGER PRIMARY KEY CHECK (id = 1), text TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
"""
_SPACE = re.compile(r"\s+")


def ensure_tables(store: Store) -> None:
    with store.transaction() as db:
        db.executescript(_SCHEMA)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def read_parameter_files(directory: str | Path = PARAMETERS_DIR) -> dict[str, dict]:
    """namespace → file content, as in git (dates as ISO text)."""
    files = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        files[path.stem] = read_yaml(path)
    if not files:
        raise ParameterError(f"{directory}: no parameter files (*.yaml)")
    return files


def seed_parameters(store: Store, parameters_dir: str | Path = PARAMETERS_DIR,
                    rules_path: str | Path = RULES_FILE) -> bool:
    """Copy the YAML parameters and rules into a store that has none; True if it did."""
    ensure_tables(store)
    with store.transaction() as db:
        if db.execute("SELECT COUNT(*) FROM parameters").fetchone()[0]:
            return False
        files = read_parameter_files(parameters_dir)
        text = Path(rules_path).read_text(encoding="utf-8")
        rules_from_text(text, parameters_from_data(files), str(rules_path))  # refuse a broken seed
        for namespace, data in files.items():
            db.execute("INSERT INTO parameter_namespaces(namespace, description) VALUES (?, ?)",
                       (namespace, data["description"]))
            for ordinal, (key, entry) in enumerate(data["parameters"].items()):
                db.execute("INSERT INTO parameters(name, namespace, key, ordinal, entry, version, updated_at) "
                           "VALUES (?,?,?,?,?,1,?)", (f"{namespace}.{key}", namespace, key, ordinal,
                                                      json.dumps(entry, ensure_ascii=False), _now()))
        db.execute("INSERT INTO rules(id, text, version, updated_at) VALUES (1, ?, 1, ?)", (text, _now()))
    return True


# -- reading ---------------------------------------------------------------------------------------
def parameter_rows(db: sqlite3.Connection) -> dict[str, dict]:
    """name → {namespace, key, entry, version} in file order."""
    rows = db.execute("SELECT * FROM parameters ORDER BY namespace, ordinal").fetchall()
    return {r["name"]: {"namespace": r["namespace"], "key": r["key"], "entry": json.loads(r["entry"]),
                        "version": r["version"], "updated_at": r["updated_at"]} for r in rows}


def namespaces(db: sqlite3.Connection) -> dict[str, str]:
    return {r["namespace"]: r["description"] for r in db.execute("SELECT * FROM parameter_namespaces")}


def rules_row(db: sqlite3.Connection) -> dict:
    row = db.execute("SELECT text, version FROM rules WHERE id = 1").fetchone()
    return {"text": row["text"], "version": row["version"]} if row else {"text": "", "version": 0}


def as_files(descriptions: Mapping[str, str], rows: Mapping[str, dict]) -> dict[str, dict]:
    """Parameter rows back into file shape: namespace → {description, parameters: {key: entry}}."""
    files: dict[str, dict] = {ns: {"description": text, "parameters": {}} for ns, text in descriptions.items()}
    for row in rows.values():
        files.setdefault(row["namespace"], {"description": row["namespace"], "parameters": {}})
        files[row["namespace"]]["parameters"][row["key"]] = row["entry"]
    return {ns: data for ns, data in files.items() if data["parameters"]}


def parameter_files(store: Store) -> dict[str, dict]:
    with store.transaction() as db:
        return as_files(namespaces(db), parameter_rows(db))


def rules_text(store: Store) -> str:
    with store.transaction() as db:
        return rules_row(db)["text"]


def load_published(store: Store) -> tuple[Rules, ParameterSet]:
    """The published rules and parameters, validated as if read from files."""
    with store.transaction() as db:
        files, text = as_files(namespaces(db), parameter_rows(db)), rules_row(db)["text"]
    parameters = parameters_from_data(files)
    return rules_from_text(text, parameters), parameters


def export_yaml(store: Store, directory: str | Path) -> list[Path]:
    """Write the published parameters and rules in the git layout: DIR/parameters/<namespace>.yaml and
    DIR/rules.yaml (`export knowledge` writes them back where the seed came from)."""
    directory = Path(directory)
    (directory / "parameters").mkdir(parents=True, exist_ok=True)
    written = []
    for namespace, data in parameter_files(store).items():
        path = directory / "parameters" / f"{namespace}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
        written.append(path)
    rules_path = directory / "rules.yaml"
    rules_path.write_text(rules_text(store), encoding="utf-8")
    return written + [rules_path]


# -- the tie between parameters and clauses -------------------------------------------------------------
def squeeze(text: str) -> str:
    """Whitespace-insensitive form for quote matching (the source puts spaces around numbers)."""
    return _SPACE.sub("", text or "")


def quote_problems(parameters: ParameterSet, rules: Rules | None,
                   clause_text: Callable[[str], str | None]) -> list[dict]:
    """Every parameter (and rule) whose quote is not in its clause, or whose value is not in its quote.

    `clause_text(clause_id)` gives the active text of a clause, or None if it is retired or unknown.
    Each problem: {parameter, clause_id, quote, reason}. Publishing is refused while any exists."""
    problems = []
    for name, parameter in parameters.items():
        reference = parameter.reference
        problem = _quote_problem(reference["clause_id"], reference["quote"], clause_text)
        if problem is None:
            problem = _value_problem(parameter)
        if problem:
            problems.append({"parameter": name, "clause_id": reference["clause_id"],
                             "quote": reference["quote"], "reason": problem})
    if rules is None:
        return problems
    for rule in rules.entitlements:
        clause_id = rules.articles[rule["article"]]["clause_id"]
        problem = _quote_problem(clause_id, rule["quote"], clause_text)
        if problem:
            problems.append({"rule": rule["id"], "clause_id": clause_id, "quote": rule["quote"], "reason": problem})
    return problems


def _quote_problem(clause_id: str, quote: str, clause_text: Callable[[str], str | None]) -> str | None:
    text = clause_text(clause_id)
    if text is None:
        return f"条款 {clause_id} 不存在或已废止"
    if squeeze(quote) not in squeeze(text):
        return f"引文不再出现在条款 {clause_id} 中：请更新引文（和数值）"
    return None


def _value_problem(parameter) -> str | None:
    """A money amount quoted with the value it is tied to: the value must be one the quote states.
    (Ages, months and dates are checked through the quote alone: the parser words them differently.)"""
    if not (parameter.unit or "").startswith("元") or isinstance(parameter.value, bool) \
            or not isinstance(parameter.value, (int, float)):
        return None
    stated = {amount.value for amount in extract_amounts(parameter.reference["quote"])}
    values = [parameter.value] + [value for _, value in parameter.values]
    if stated and not any(value in stated for value in values):
        return f"数值 {parameter.value:g} 与引文中的金额（{'、'.join(f'{v:g}' for v in sorted(stated))}）不一致"
    return None


def published_quote_problems(store: Store) -> list[dict]:
    """quote_problems of what is published now (checked on load)."""
    rules, parameters = load_published(store)
    active = {c.clause_id: c.text for c in store.clauses(active_only=True)}
    return quote_problems(parameters, rules, active.get)


# -- the calculator over the store ---------------------------------------------------------------------
class PublishedEntitlementEngine(EntitlementEngine):
    """EntitlementEngine whose parameters and rules are the store's published ones.

    Every evaluate() checks the store's revision at most every `follow_seconds` and reloads when a
    publish changed it, so every process using the store follows a publish without a restart."""

    def __init__(self, store: Store, follow_seconds: float = 1.0,
                 seed_from: tuple[Path, Path] | None = (PARAMETERS_DIR, RULES_FILE)):
        self.store = store
        self.follow_seconds = follow_seconds
        self.parameters_dir, self.rules_path = PARAMETERS_DIR, RULES_FILE
        self._revision = -1
        self._checked = 0.0
        self._lock = threading.Lock()
        ensure_tables(store)
        if seed_from:
            seed_parameters(store, *seed_from)
        self.reload()

    def reload(self) -> None:
        with self._lock:
            revision = self.store.revision()
            self._state = load_published(self.store)
            self._revision, self._checked = revision, time.monotonic()

    def follow(self) -> bool:
        """Reload if the store was published to since; True if it reloaded."""
        if time.monotonic() - self._checked < self.follow_seconds:
            return False
        self._checked = time.monotonic()
        if self.store.revision() == self._revision:
            return False
        self.reload()
        return True

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def rules(self) -> Rules:
        self.follow()
        return self._state[0]

    @property
    def parameters(self) -> ParameterSet:
        self.follow()
        return self._state[1]

    def evaluate(self, request: Any, params=None) -> dict:
        self.follow()
        return super().evaluate(request, params)


def main(argv: list[str]) -> int:
    """python -m knowledge.parameters_store export DIR [--db var/knowledge.db]   (DIR=knowledge: back into git)"""
    if len(argv) < 2 or argv[0] != "export":
        print(main.__doc__)
        return 2
    db = argv[argv.index("--db") + 1] if "--db" in argv else "var/knowledge.db"
    for path in export_yaml(Store(db), argv[1]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
