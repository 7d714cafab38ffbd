"""Impact preview: what a draft would change in the answers citizens get, before it is published.

Runs the project's question set (knowledge/eval/questions.yaml, plus questions staff added to the
regression set) through answer composition against the published index and against an index of the
draft (built in memory beside the live one; only changed text is encoded), and runs the calculator
cases (tests/entitlements/*.yaml) with the published and the draft parameters and rules. It lists
every answer and entitlement that would change, before → after, and every question that would
become unanswered.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from .drafts import Drafts, KnowledgeState, StateView, read_state, text_diff
from .entitlement_request import RequestError
from .entitlement_rules import rules_from_text
from .entitlements import EntitlementEngine
from .index import PolicyIndex, build_index
from .reply import respond
from .search import Searcher
from .search_config import SearchConfig

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_FILE = ROOT / "knowledge" / "eval" / "questions.yaml"
CASES_DIR = ROOT / "tests" / "entitlements"
COMPARED = ("eligible", "amount", "max_total", "status", "amount_text")


class QueryCache:
    """An encoder that remembers query vectors: the same questions are asked of both indexes, and
    of every preview, so each is encoded once per process."""

    def __init__(self, encoder, size: int = 5000):
        self.encoder, self.name, self.dim = encoder, encoder.name, encoder.dim
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def encode_queries(self, texts):
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.encoder.encode_queries(missing)):
                with self._lock:
                    self._vectors[text] = vector
                    while len(self._vectors) > self._size:
                        self._vectors.popitem(last=False)
        with self._lock:
            return np.stack([self._vectors[t] for t in texts])

    def encode_passages(self, texts):
        return self.encoder.encode_passages(texts)


def load_questions(path: Path = QUESTIONS_FILE) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [{"q": item["q"], "kind": item.get("kind", "")} for item in data.get("questions", [])]


def load_cases(directory: Path = CASES_DIR) -> list[dict]:
    cases = []
    for path in sorted(directory.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if "expect" in case:
                cases.append({**case, "file": path.stem})
    return cases


def _answer_view(reply) -> dict:
    return {"answerable": reply.answerable, "kind": reply.kind, "text": "\n".join(reply.parts),
            "clause_ids": [c.get("clause_id") for c in reply.citations]}


class ImpactPreview:
    """One per process: keeps the encoder's query cache and the published answers per revision."""

    def __init__(self, drafts: Drafts, encoder, questions: list[dict] | None = None,
                 cases: list[dict] | None = None, config: SearchConfig | None = None):
        self.drafts = drafts
        self.encoder = QueryCache(encoder)
        self.questions = questions if questions is not None else load_questions()
        self.cases = cases if cases is not None else load_cases()
        self.config = dataclasses.replace(config or SearchConfig.load(encoder_name=encoder.name),
                                          auto_refresh_seconds=-1)
        self._before: dict[tuple, dict] = {}
        self._lock = threading.Lock()

    def _searcher(self, state: KnowledgeState, index: PolicyIndex, label: str) -> Searcher[StateView]:
        return Searcher(StateView(state, label), None, self.encoder, index, self.config)

    def run(self, draft_id: int, live_index: PolicyIndex, today: dt.date | None = None,
            extra_questions: Sequence[str] = ()) -> dict:
        with self._lock:  # one preview at a time: each uses both cores for a few seconds
            return self._run(draft_id, live_index, today or dt.date.today(), list(extra_questions))

    def _run(self, draft_id: int, live_index: PolicyIndex, today: dt.date, extra: list[str]) -> dict:
        started = time.perf_counter()
        published, draft = read_state(self.drafts.store), self.drafts.state(draft_id)
        draft_index = build_index(StateView(draft), None, self.encoder, previous=live_index)
        questions = self.questions + [{"q": q, "kind": "regression"} for q in extra]
        before_searcher = self._searcher(published, live_index, "published")
        after_searcher = self._searcher(draft, draft_index, f"draft-{draft_id}")
        engines = self.engines(published, draft)
        key = (live_index.meta.get("content_hash"), live_index.meta.get("revision"), today)
        before_cache = self._before.setdefault(key, {})
        if len(self._before) > 4:
            self._before = {key: before_cache}
        changed, unanswered = [], []
        for question in questions:
            q = question["q"]
            if q not in before_cache:
                before_cache[q] = _answer_view(respond(q, before_searcher, engines.get("before"), today=today))
            before, after = before_cache[q], _answer_view(respond(q, after_searcher, engines.get("after"), today=today))
            if before == after:
                continue
            row = {"q": q, "kind": question["kind"], "before": before, "after": after,
                   "diff": text_diff(before["text"], after["text"])}
            if before["answerable"] and not after["answerable"]:
                unanswered.append(row)
            else:
                changed.append(row)
        return {"draft_id": draft_id, "today": today.isoformat(), "questions": len(questions),
                "changed_answers": changed, "unanswered": unanswered,
                "entitlements": self.entitlement_changes(published, draft, engines),
                "index": draft_index.describe(), "seconds": round(time.perf_counter() - started, 2)}

    @staticmethod
    def engines(published: KnowledgeState, draft: KnowledgeState) -> dict:
        """The calculator before and after (a draft whose parameters do not validate has none: its
        problems are listed by the draft, and its answers are previewed without calculator lines)."""
        engines = {}
        for label, state in (("before", published), ("after", draft)):
            try:
                parameters = state.parameter_set()
                engines[label] = EntitlementEngine.of(rules_from_text(state.rules, parameters), parameters)
            except ValueError:
                pass
        return engines

    def entitlement_changes(self, published: KnowledgeState, draft: KnowledgeState, engines: dict) -> dict:
        """Every calculator case whose result would change, at its own date and at each date the draft
        gives a parameter a new value (so a value from next month shows up too)."""
        if set(engines) != {"before", "after"}:
            return {"cases": len(self.cases), "changed": [], "error": "参数或规则无效，无法计算（见发布前检查）"}
        new_dates = sorted({v["from"] for name, row in draft.parameters.items()
                            for v in row["entry"].get("values", [])
                            if v not in (published.parameters.get(name) or {"entry": {}})["entry"].get("values", [])})
        changed, runs = [], 0
        for case in self.cases:
            as_of = str(case["request"].get("as_of") or dt.date.today().isoformat())
            for day in [as_of] + [d for d in new_dates if d > as_of]:
                request = {**case["request"], "as_of": day}
                runs += 1
                try:
                    before, after = (engines[k].evaluate(request) for k in ("before", "after"))
                except RequestError:
                    continue
                for old, new in zip(before["entitlements"], after["entitlements"]):
                    fields = [{"field": f, "before": old.get(f), "after": new.get(f)}
                              for f in COMPARED if old.get(f) != new.get(f)]
                    if fields:
                        changed.append({"case": case["name"], "file": case["file"], "as_of": day,
                                        "entitlement": new["id"], "title": new["title"], "fields": fields})
        return {"cases": len(self.cases), "runs": runs, "changed": changed}
