#!/usr/bin/env python
"""Chat evaluation, end to end through Rasa's REST channel (POST /webhooks/rest/webhook).

Starts the three real services (policy service, action server, Rasa) in a temporary workdir,
or talks to a running stack given with --url, and scores two sets side by side:

* tuning — knowledge/eval/questions.yaml (the set retrieval is tuned on): answered vs refused and
  article R@1 from the citations the bot sends in its custom payload; plus the single questions and the
  dialogues of knowledge/eval/chat_tuning.yaml (the set answer composition, lexicons and the conversation
  context are tuned on), which carry expected facts and are scored like the test's;
* test — knowledge/eval/chat_test.yaml (held out, never tuned on): additionally the expected
  facts in the reply, greetings, clarifying questions and multi-turn dialogues.

Every single question and every dialogue uses a fresh sender id; messages go one at a time
(concurrency 1), so the latency percentiles are those of one user. Figures are printed and
written into docs/eval-report.md (the chat section only; the retrieval section is kept).
Targets from issue #8 are shown beside the figures and never asserted.

    .venv/app/bin/python scripts/eval_chat.py [--only test|tuning|tuning-chat] [--kind situation]
                                              [--json out.json] [--url http://127.0.0.1:5005] [--no-report]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import re
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.eval import (CHAT_SECTION_END, CHAT_SECTION_START, QUESTIONS_PATH,  # noqa: E402
                          REPORT_PATH, _md_cell, fmt, load_warning, machine_description, percentile,
                          ratio, verdict)

TEST_PATH = ROOT / "knowledge" / "eval" / "chat_test.yaml"
TUNING_DIALOGUES_PATH = ROOT / "knowledge" / "eval" / "chat_tuning.yaml"
REPORT_START, REPORT_END = CHAT_SECTION_START, CHAT_SECTION_END
REQUEST_TIMEOUT_S = 30
REPLY_SHOWN_CHARS = 220
# Targets on the test set from issue #8 (shown, never asserted).
TARGETS = {"fact_coverage": (0.90, True), "in_scope_refused": (0.03, False), "oos_refused": (0.85, True),
           "r1": (0.93, True), "dialogues_right": (0.90, True), "p95_ms": (300.0, False)}
EXPECTS = ("answer", "refuse", "greeting", "clarify")

# Wording of an honest no-answer: the document does not cover or does not state it.
NO_ANSWER_WORDING = re.compile(
    r"没有涉及|未涉及|不涉及|没有写明|未写明|没有写|没写|没有明确|未明确|没有规定|未规定|没有具体|没有提到|未提及"
    r"|没有相关|没有找到|未找到|无法回答|不能回答|无法提供|不在[^。！？\n]{0,16}范围|不属于[^。！？\n]{0,16}范围"
    r"|not covered|does not cover|doesn't cover|no information", re.IGNORECASE)
GREETING_WORDING = re.compile(r"您好|你好|欢迎|哈喽|\bhello\b|\bhi\b", re.IGNORECASE)
# A fact preceded by one of these is negated ("不符合" is not "符合").
NEGATIONS = "不没未无"
KEPT_SYMBOLS = ".%"


# ── text matching ─────────────────────────────────────────────────────────────
@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # opencc-python-reimplemented: pure python, no download
    return OpenCC("t2s")


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Text folded for comparison: full→half width, Traditional→Simplified, lower case, no spaces,
    punctuation or thousands separators ("20 万元" = "20万元", "２００，０００" = "200000")."""
    text = _t2s().convert(unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return "".join(ch for ch in text if ch in KEPT_SYMBOLS
                   or not unicodedata.category(ch).startswith(("P", "Z", "C")))


def states(text: str, alternative: str) -> bool:
    """`text` contains `alternative`, at least once not directly after a negation."""
    folded, wanted = fold(text), fold(alternative)
    if not wanted:
        return False
    start = folded.find(wanted)
    while start >= 0:
        if start == 0 or folded[start - 1] not in NEGATIONS or wanted[0] in NEGATIONS:
            return True
        start = folded.find(wanted, start + 1)
    return False


def fact_found(text: str, alternatives: list[str]) -> bool:
    return any(states(text, alternative) for alternative in alternatives)


# ── sets ──────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Turn:
    q: str
    articles: tuple[int, ...] = ()
    facts: tuple[tuple[str, ...], ...] = ()
    expect: str = "answer"
    note: str = ""


@dataclass(frozen=True)
class Item:
    """One conversation: a single question (one turn) or a dialogue. `group` is the per-kind row it is
    reported in (the kind, unless told otherwise)."""
    id: str
    kind: str
    turns: tuple[Turn, ...]
    dialogue: bool = False
    group: str = ""


def make_turn(raw: dict) -> Turn:
    articles = tuple(raw.get("articles") or ())
    expect = raw.get("expect") or ("answer" if articles else "refuse")
    facts = tuple(tuple(str(alt) for alt in fact) for fact in raw.get("facts") or ())
    return Turn(raw["q"], articles, facts, expect, raw.get("note", ""))


def load_dialogues(path: Path) -> list[Item]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return [Item(raw["id"], raw["kind"], tuple(make_turn(turn) for turn in raw["turns"]), dialogue=True)
            for raw in (data or {}).get("dialogues") or ()]


def load_questions(path: Path, prefix: str) -> list[Item]:
    """The single questions of a chat set (chat_test.yaml, chat_tuning.yaml), with their expected facts."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return [Item(f"{prefix}{index}", raw["kind"], (make_turn(raw),))
            for index, raw in enumerate((data or {}).get("questions") or (), start=1)]


def load_test_set(path: Path = TEST_PATH) -> list[Item]:
    return load_questions(path, "q") + load_dialogues(path)


def load_tuning_chat(path: Path = TUNING_DIALOGUES_PATH) -> list[Item]:
    """chat_tuning.yaml: single questions and dialogues with expected facts, scored like the test set."""
    return load_questions(path, "c") + load_dialogues(path)


def load_tuning_set(path: Path = QUESTIONS_PATH, chat: Path = TUNING_DIALOGUES_PATH) -> list[Item]:
    """questions.yaml carries articles only (scored on answered vs refused and R@1; reported in rows of
    their own, "colloquial (questions.yaml)"); chat_tuning.yaml's questions and dialogues carry facts like
    the test set's."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    singles = [Item(f"t{index}", raw["kind"], (make_turn({"q": raw["q"], "articles": raw["articles"]}),),
                    group=f"{raw['kind']} ({path.name})")
               for index, raw in enumerate(data["questions"], start=1)]
    return singles + load_tuning_chat(chat)


# ── talking to the bot ────────────────────────────────────────────────────────
@dataclass
class Reply:
    texts: list[str]
    buttons: list[str]
    citations: list[dict]
    latency_ms: float
    error: str = ""

    @property
    def visible(self) -> str:
        """What the user sees: the texts and the button titles."""
        return "\n".join(self.texts + self.buttons)

    @property
    def cited_articles(self) -> list[int]:
        articles = []
        for citation in self.citations:
            try:
                articles.append(int(citation.get("article")))
            except (TypeError, ValueError):
                continue
        return articles


def parse_reply(messages: list[dict], latency_ms: float) -> Reply:
    texts, buttons, citations = [], [], []
    for message in messages:
        if message.get("text"):
            texts.append(message["text"])
        buttons += [button.get("title", "") for button in message.get("buttons") or []]
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("citations"), list):
            citations += [c for c in custom["citations"] if isinstance(c, dict)]
    return Reply(texts, buttons, citations, latency_ms)


class Chat:
    def __init__(self, rasa_url: str):
        self.url = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"
        self.session = requests.Session()

    def say(self, sender: str, message: str) -> Reply:
        started = time.perf_counter()
        try:
            response = self.session.post(self.url, json={"sender": sender, "message": message},
                                         timeout=REQUEST_TIMEOUT_S)
            response.raise_for_status()
            messages = response.json()
        except (requests.RequestException, ValueError) as error:
            return Reply([], [], [], (time.perf_counter() - started) * 1000, error=str(error))
        return parse_reply(messages, (time.perf_counter() - started) * 1000)


# ── judging ───────────────────────────────────────────────────────────────────
@dataclass
class TurnResult:
    q: str
    expect: str
    articles: list[int]
    cited: list[int]
    reply: str
    latency_ms: float
    facts: list[list[str]]
    found: list[bool]
    refused: bool          # no citation: the bot did not answer from a clause
    honest_no_answer: bool
    greeting: bool
    asks: bool
    error: str = ""

    @property
    def article_ok(self) -> bool:
        return bool(self.cited) and self.cited[0] in self.articles

    @property
    def missing_facts(self) -> list[list[str]]:
        return [fact for fact, found in zip(self.facts, self.found) if not found]

    @property
    def ok(self) -> bool:
        facts_ok = all(self.found)
        if self.expect == "answer":
            return not self.refused and (self.article_ok or not self.articles) and facts_ok
        if self.expect == "refuse":
            return self.honest_no_answer
        if self.expect == "greeting":
            return self.greeting and self.refused
        return self.asks and self.refused and not self.honest_no_answer and facts_ok  # clarify

    def why(self) -> str:
        if self.error:
            return f"request failed: {self.error}"
        if self.expect == "refuse":
            return "no honest no-answer" + (f" (cited {self.cited[:3]})" if self.cited else "")
        if self.expect == "greeting":
            return "not a greeting"
        reasons = []
        if self.expect == "clarify" and not (self.asks and self.refused and not self.honest_no_answer):
            reasons.append("no clarifying question")
        if self.expect == "answer" and self.refused:
            reasons.append("refused / no citation")
        elif self.expect == "answer" and self.articles and not self.article_ok:
            reasons.append(f"first cited article {self.cited[0]} not in {self.articles}")
        if self.missing_facts:
            reasons.append("missing " + "; ".join(" / ".join(fact[:3]) for fact in self.missing_facts))
        return ", ".join(reasons)


def judge(turn: Turn, reply: Reply) -> TurnResult:
    text = reply.visible
    asks = bool(re.search(r"[？?]", "\n".join(reply.texts))) or len(reply.buttons) >= 2
    return TurnResult(
        q=turn.q, expect=turn.expect, articles=list(turn.articles), cited=reply.cited_articles,
        reply=" / ".join(reply.texts), latency_ms=reply.latency_ms, facts=[list(f) for f in turn.facts],
        found=[fact_found(text, list(fact)) for fact in turn.facts], refused=not reply.citations,
        honest_no_answer=bool(NO_ANSWER_WORDING.search(text)), greeting=bool(GREETING_WORDING.search(text)),
        asks=asks, error=reply.error)


@dataclass
class ItemResult:
    id: str
    kind: str
    dialogue: bool
    turns: list[TurnResult] = field(default_factory=list)
    group: str = ""

    @property
    def ok(self) -> bool:
        return all(turn.ok for turn in self.turns)

    def as_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "dialogue": self.dialogue, "ok": self.ok,
                "turns": [{**dataclasses.asdict(turn), "ok": turn.ok, "why": "" if turn.ok else turn.why()}
                          for turn in self.turns]}


def run_items(chat: Chat, items: list[Item], label: str, progress: bool = True) -> list[ItemResult]:
    run_id = uuid.uuid4().hex[:8]
    results = []
    for number, item in enumerate(items, start=1):
        sender = f"eval-{label}-{run_id}-{item.id}"  # fresh conversation per item
        result = ItemResult(item.id, item.kind, item.dialogue, group=item.group)
        for turn in item.turns:
            result.turns.append(judge(turn, chat.say(sender, turn.q)))
        results.append(result)
        if progress and number % 25 == 0:
            print(f"  {label}: {number}/{len(items)}", file=sys.stderr, flush=True)
    return results


# ── metrics ───────────────────────────────────────────────────────────────────
def _share(turns: list[TurnResult], test) -> float | None:
    return ratio(sum(1 for turn in turns if test(turn)), len(turns))


def fact_coverage(turns: list[TurnResult]) -> tuple[float | None, int]:
    expected = [found for turn in turns for found in turn.found]
    return ratio(sum(expected), len(expected)), len(expected)


def single_question_metrics(singles: list[TurnResult]) -> dict:
    in_scope = [t for t in singles if t.expect == "answer"]
    out_scope = [t for t in singles if t.expect == "refuse"]
    return {
        "n": len(singles), "n_in_scope": len(in_scope), "n_out_of_scope": len(out_scope),
        "in_scope_refused": _share(in_scope, lambda t: t.refused),
        "in_scope_refused_wording": _share(in_scope, lambda t: t.refused and t.honest_no_answer),
        "oos_refused": _share(out_scope, lambda t: t.honest_no_answer),
        "oos_cited": _share(out_scope, lambda t: not t.refused),
        "r1": _share(in_scope, lambda t: t.article_ok),
        "right": _share(singles, lambda t: t.ok),
    }


def compute_metrics(results: list[ItemResult]) -> dict:
    singles = [r.turns[0] for r in results if not r.dialogue]
    dialogues = [r for r in results if r.dialogue]
    dialogue_turns = [t for r in dialogues for t in r.turns]
    all_turns = [t for r in results for t in r.turns]
    latencies = [t.latency_ms for t in all_turns if not t.error]
    coverage, n_facts = fact_coverage(all_turns)
    by_kind = defaultdict(list)
    for result in results:
        by_kind[("dialogue " if result.dialogue else "") + (result.group or result.kind)].append(result)
    return {
        **single_question_metrics(singles),
        "fact_coverage": coverage, "n_facts": n_facts,  # single questions and dialogue turns together
        "fact_coverage_singles": fact_coverage(singles)[0],
        "fact_coverage_dialogue_turns": fact_coverage(dialogue_turns)[0],
        "n_dialogues": len(dialogues),
        "dialogues_right": ratio(sum(r.ok for r in dialogues), len(dialogues)),
        "dialogue_turns_right": _share(dialogue_turns, lambda t: t.ok),
        "n_requests": len(all_turns), "errors": sum(1 for t in all_turns if t.error),
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "max_ms": max(latencies) if latencies else None,
        "per_kind": {kind: kind_metrics(group) for kind, group in by_kind.items()},
    }


def kind_metrics(group: list[ItemResult]) -> dict:
    turns = [t for r in group for t in r.turns]
    answers = [t for t in turns if t.expect == "answer"]
    return {"n": len(group), "right": ratio(sum(r.ok for r in group), len(group)),
            "fact_coverage": fact_coverage(turns)[0],
            "refused": _share(answers, lambda t: t.refused) if answers else None,
            "r1": _share(answers, lambda t: t.article_ok) if answers else None}


# ── report ────────────────────────────────────────────────────────────────────
HEADLINE = [
    ("chat fact coverage", "fact_coverage"),
    ("in-scope refused", "in_scope_refused"),
    ("out-of-scope honestly refused", "oos_refused"),
    ("article R@1 (first cited article)", "r1"),
    ("dialogues fully right", "dialogues_right"),
    ("REST p95 at concurrency 1 (ms)", "p95_ms"),
]
DETAIL = [
    ("fact coverage, single questions", "fact_coverage_singles"),
    ("fact coverage, dialogue turns", "fact_coverage_dialogue_turns"),
    ("in-scope refused with no-answer wording", "in_scope_refused_wording"),
    ("out-of-scope answered with a citation", "oos_cited"),
    ("single questions fully right", "right"),
    ("dialogue turns right", "dialogue_turns_right"),
    ("REST p50 (ms)", "p50_ms"),
    ("REST max (ms)", "max_ms"),
]


def _value(metrics: dict | None, key: str) -> str:
    if not metrics:
        return "—"
    digits = 0 if key.endswith("_ms") else 3
    return fmt(metrics.get(key), digits)


def headline_table(runs: dict) -> list[str]:
    lines = ["| measure | tuning (questions.yaml + chat_tuning.yaml) | test (chat_test.yaml) | target (test) | |",
             "|---|---|---|---|---|"]
    test = (runs.get("test") or {}).get("metrics")
    for label, key in HEADLINE:
        target, higher = TARGETS[key]
        shown = f"{'≥' if higher else '≤'} {target:g}"
        mark = verdict(test.get(key), target, higher) if test else ""
        lines.append(f"| {label} | {_value(runs.get('tuning', {}).get('metrics'), key)} | "
                     f"{_value(test, key)} | {shown} | {mark} |")
    for label, key in DETAIL:
        lines.append(f"| {label} | {_value(runs.get('tuning', {}).get('metrics'), key)} | "
                     f"{_value(test, key)} | | |")
    return lines


def per_kind_table(metrics: dict) -> list[str]:
    lines = ["| kind | n | fully right | fact coverage | in-scope refused | R@1 |", "|---|---|---|---|---|---|"]
    for kind, row in metrics["per_kind"].items():
        lines.append(f"| {kind} | {row['n']} | {fmt(row['right'])} | {fmt(row['fact_coverage'])} | "
                     f"{fmt(row['refused'])} | {fmt(row['r1'])} |")
    return lines


def failure_lines(results: list[ItemResult]) -> list[str]:
    lines = []
    for result in results:
        if result.ok:
            continue
        label = f"dialogue `{result.id}` ({result.kind})" if result.dialogue else f"{result.kind}"
        for number, turn in enumerate(result.turns, start=1):
            where = f"{label} turn {number}" if result.dialogue else label
            mark = "✗" if not turn.ok else "✓"
            if result.dialogue or not turn.ok:
                reply = _md_cell(turn.reply[:REPLY_SHOWN_CHARS] + ("…" if len(turn.reply) > REPLY_SHOWN_CHARS else ""))
                why = "" if turn.ok else f" — {_md_cell(turn.why())}"
                lines.append(f"- {mark} [{where}] **{_md_cell(turn.q)}** (expect {turn.expect}"
                             f"{' ' + str(turn.articles) if turn.articles else ''}){why}  \n  ↳ {reply or '(no text)'}")
    return lines


def render_section(runs: dict, meta: dict) -> str:
    lines = [REPORT_START, "# Chat evaluation (end to end, REST channel)", "",
             f"Generated by `scripts/eval_chat.py` on {meta['when']}. Every message goes through "
             "`POST /webhooks/rest/webhook` of a real Rasa + action server + policy service; each question "
             "and each dialogue is a fresh conversation; one message at a time (concurrency 1).", "",
             "* **tuning** = `knowledge/eval/questions.yaml`, the set retrieval and the chat are tuned on "
             "(answered vs refused and R@1 only: it has no expected facts; its rows say `(questions.yaml)`), plus "
             "the single questions and dialogues of `knowledge/eval/chat_tuning.yaml` (answer composition, "
             "lexicons and the conversation context are tuned on them; they carry facts and are scored like the test's).",
             "* **test** = `knowledge/eval/chat_test.yaml`, held out: written from the policy text, never tuned on.",
             "* in-scope refused = the reply carries no citation; out-of-scope honestly refused = the reply says "
             "the document does not cover or state it; R@1 = the first cited article is an expected one; "
             "fact coverage = share of expected facts stated in the replies (single questions and dialogue turns).",
             f"* Machine: {meta['machine']}", ""]
    if meta.get("load_warning"):
        lines += [f"**{meta['load_warning']}**", ""]
    lines += ["## Headline figures", ""] + headline_table(runs) + [""]
    for name, run in runs.items():
        lines += [f"## Per kind — {name} ({run['metrics']['n_requests']} messages)", ""]
        lines += per_kind_table(run["metrics"]) + [""]
    for name, run in runs.items():
        failures = failure_lines(run["results"])
        count = sum(not r.ok for r in run["results"])
        title = f"Failures — {name} ({count} of {len(run['results'])} conversations)"
        if name == "tuning":
            lines += [f"<details><summary>{title}</summary>", ""] + failures + ["", "</details>", ""]
        else:
            lines += [f"## {title}", ""] + failures + [""]
    lines.append(REPORT_END)
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replaces the chat section of the report, keeping everything else (the retrieval report)."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(REPORT_START) + r".*?" + re.escape(REPORT_END), re.DOTALL)
    if pattern.search(existing):
        updated = pattern.sub(lambda _: section, existing)
    else:
        updated = existing.rstrip("\n") + ("\n\n" if existing else "") + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def print_summary(runs: dict) -> None:
    print("\n".join(headline_table(runs)))
    for name, run in runs.items():
        print(f"\n{name}: per kind")
        print("\n".join(per_kind_table(run["metrics"])))


# ── main ──────────────────────────────────────────────────────────────────────
def evaluate(chat: Chat, sets: dict[str, list[Item]]) -> dict:
    chat.say(f"eval-warmup-{uuid.uuid4().hex[:8]}", "你好")  # first request loads lazy parts
    runs = {}
    for name, items in sets.items():
        results = run_items(chat, items, name)
        runs[name] = {"metrics": compute_metrics(results), "results": results}
    return runs


def run_against(url: str | None, sets: dict[str, list[Item]]) -> dict:
    if url:
        return evaluate(Chat(url), sets)
    from tests.e2e.services import Services

    with tempfile.TemporaryDirectory(prefix="eval-chat-") as workdir:
        services = Services(workdir=Path(workdir))
        try:
            services.start()
            return evaluate(Chat(services.rasa_url), sets)
        finally:
            services.stop()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("test", "tuning", "tuning-chat"),
                        help="score one set only; tuning-chat = chat_tuning.yaml alone (questions with facts, dialogues)")
    parser.add_argument("--kind", action="append", help="only items of this kind (repeatable), e.g. --kind dialect")
    parser.add_argument("--url", help="talk to a running Rasa at this URL instead of starting the services")
    parser.add_argument("--json", type=Path, help="also write all figures and every turn's result here")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="markdown report (chat section replaced)")
    parser.add_argument("--no-report", action="store_true", help="print only, do not write the report")
    parser.add_argument("--limit", type=int, help="only the first N items of each set (quick check)")
    parser.add_argument("--dialogues", action="store_true", help="only the multi-turn dialogues of each set")
    return parser.parse_args(argv)


def chosen_sets(args: argparse.Namespace, loaders: dict | None = None) -> dict[str, list[Item]]:
    """The sets and items the command line asks for (--only, --kind, --dialogues, --limit)."""
    loaders = loaders or {"tuning": load_tuning_chat if args.only == "tuning-chat" else load_tuning_set,
                          "test": load_test_set}
    wanted = {"tuning-chat": "tuning"}.get(args.only, args.only)
    return {name: [item for item in load() if (item.dialogue or not args.dialogues)
                   and (not args.kind or item.kind in args.kind)][:args.limit]
            for name, load in loaders.items() if wanted in (None, name)}


def main(argv=None) -> int:
    args = parse_args(argv)
    meta = {"when": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine_description(),
            "load_warning": load_warning()}
    runs = run_against(args.url, chosen_sets(args))
    print_summary(runs)
    if not args.no_report:
        write_section(args.report, render_section(runs, meta))
        print(f"chat section written to {args.report}")
    if args.json:
        payload = {**meta, "targets": TARGETS, "sets": {
            name: {"metrics": run["metrics"], "results": [r.as_json() for r in run["results"]]}
            for name, run in runs.items()}}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"json written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
