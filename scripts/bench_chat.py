"""Chat throughput benchmark (`make bench`): the supervised stack under concurrent load, beside a bare-Rasa floor.

Starts the three services exactly as `make run` does (deploy/render.py + supervisord) in a scratch directory,
then, in one run on this machine:
  - bare Rasa floor: "你好" (NLU + a domain response, no action server, no retrieval) at concurrency 16;
  - chat: policy questions from knowledge/eval/questions.yaml through the REST channel (NLU, action server,
    retrieval, answer composition, tracker store) at concurrency 16 and 32, each message from a new sender;
  - search alone: GET /api/search at concurrency 16.
Figures are written to docs/bench.md as absolute numbers and as ratios to the bare floor of the same run, with
CPU time and RSS per process and the top entries of a py-spy profile of Rasa and of the policy service.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml

from tests.e2e.services import PROJECT, Services

QUESTIONS = PROJECT / "knowledge" / "eval" / "questions.yaml"
REPORT = PROJECT / "docs" / "bench.md"
PROGRAMS = ("rasa", "actions", "service")
TARGETS = {"chat_c16_rate": 35.0, "chat_c16_p95_ms": 800.0, "chat_c32_p95_ms": 2000.0, "ratio": 0.55,
           "search_c16_rate": 60.0}


@dataclass
class Run:
    label: str
    count: int
    seconds: float
    latencies_ms: list
    errors: int
    cpu_s: dict
    slow_replies: int = 0

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def p(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")

    def cpu_ms_per_message(self, program: str) -> float:
        return 1000 * self.cpu_s.get(program, 0.0) / max(self.count, 1)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children (Sanic workers, ...)."""
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += tree_cpu_seconds(int(child))
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def load(label: str, services: Services, pids: dict, concurrency: int, count: int, request) -> Run:
    latencies, errors, slow = [], 0, 0
    queue = iter(range(count))
    before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}

    async def worker(session):
        nonlocal errors, slow
        for number in queue:
            began = time.perf_counter()
            try:
                ok, was_slow = await request(session, number)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                ok, was_slow = False, False
            latencies.append((time.perf_counter() - began) * 1000)
            errors += not ok
            slow += was_slow

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    cpu = {name: tree_cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return Run(label, count, seconds, latencies, errors, cpu, slow)


def chat_request(services: Services, messages: list[str]):
    from bot.channel_policy import SLOW_REPLY

    async def send(session, number):
        body = {"sender": f"bench-{uuid.uuid4().hex[:12]}", "message": messages[number % len(messages)]}
        async with session.post(f"{services.rasa_url}/webhooks/rest/webhook", json=body) as response:
            replies = await response.json()
        texts = [reply.get("text") or "" for reply in replies] if response.status == 200 else []
        return bool(texts) and any(texts), SLOW_REPLY in texts
    return send


def search_request(services: Services, questions: list[str]):
    async def send(session, number):
        async with session.get(f"{services.service_url}/api/search",
                               params={"q": questions[number % len(questions)], "k": "5"}) as response:
            await response.read()
        return response.status == 200, False
    return send


def profile(pid: int, seconds: int, output: Path) -> subprocess.Popen | None:
    py_spy = shutil.which("py-spy") or str(PROJECT / ".venv/app/bin/py-spy")
    if not Path(py_spy).exists():
        return None
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
                             "--format", "raw", "--output", str(output), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def top_entries(raw: Path, limit: int = 12) -> list[tuple[str, float, float]]:
    """(function, self %, inclusive %) from py-spy's collapsed stacks, by self time."""
    if not raw.exists():
        return []
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        frames = [frame.split(" (")[0] + " (" + frame.split(" (")[1].split(":")[0].split("/")[-1] + ")"
                  if " (" in frame else frame for frame in stack.split(";")]
        count = int(samples)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return [(frame, 100 * count / total, 100 * inclusive[frame] / total) for frame, count in own.most_common(limit)]


def row(run: Run, floor: Run | None) -> str:
    ratio = f"{run.rate / floor.rate:.2f}" if floor else "1.00"
    return (f"| {run.label} | {run.count} | {run.rate:.1f} | {ratio} | {run.p(0.5):.0f} | {run.p(0.95):.0f} | "
            f"{run.errors} | {run.slow_replies} | "
            + " | ".join(f"{run.cpu_ms_per_message(name):.1f}" for name in PROGRAMS) + " |")


def verdict(name: str, value: float, higher_is_better: bool = True) -> str:
    target = TARGETS[name]
    met = value >= target if higher_is_better else value <= target
    return f"{value:.2f} (target {'≥' if higher_is_better else '≤'} {target:g}: {'met' if met else 'NOT met'})"


async def measure(services: Services, messages: int, profile_s: int, workdir: Path) -> str:
    questions = [item["q"] for item in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    pids = {name: services.pid(name) for name in PROGRAMS}
    chat = chat_request(services, questions)
    greet = chat_request(services, ["你好"])
    await load("warm-up", services, pids, 8, 64, chat)
    await load("warm-up", services, pids, 8, 32, greet)
    floor = await load("bare Rasa (你好), c16", services, pids, 16, messages, greet)
    profilers = {name: profile(pids[name], profile_s, workdir / f"{name}.raw") for name in ("rasa", "service")}
    c16 = await load("chat (policy questions), c16", services, pids, 16, messages, chat)
    for process in profilers.values():
        if process is not None:
            process.wait(timeout=profile_s + 30)
    c32 = await load("chat (policy questions), c32", services, pids, 32, messages, chat)
    search = await load("GET /api/search, c16", services, pids, 16, messages, search_request(services, questions))
    rss = {name: rss_mb(pids[name]) for name in PROGRAMS}

    lines = [
        "# Chat throughput benchmark", "",
        f"`make bench` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"{messages} messages per row, every chat message from a new sender; the stack runs as `make run` runs it). "
        "Ratios are to the bare-Rasa floor measured in the same run.", "",
        "| load | messages | msg/s | ratio to bare | p50 ms | p95 ms | errors | late replies | "
        "CPU ms/msg rasa | actions | service |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        row(floor, None), row(c16, floor), row(c32, floor), row(search, floor), "",
        "## Targets (issue #10)", "",
        f"- chat at concurrency 16: {verdict('chat_c16_rate', c16.rate)} msg/s",
        f"- chat p95 at concurrency 16: {verdict('chat_c16_p95_ms', c16.p(0.95), False)} ms",
        f"- chat p95 at concurrency 32: {verdict('chat_c32_p95_ms', c32.p(0.95), False)} ms",
        f"- errors: {c16.errors + c32.errors + search.errors}",
        f"- ratio to bare Rasa, same run: {verdict('ratio', c16.rate / floor.rate)}",
        f"- search alone at concurrency 16: {verdict('search_c16_rate', search.rate)} req/s", "",
        "## Resident memory after the run", "",
        *(f"- {name}: {rss[name]:.0f} MB" for name in PROGRAMS), "",
    ]
    for name in ("rasa", "service"):
        entries = top_entries(workdir / f"{name}.raw")
        lines += [f"## Profile: {name} during the c16 chat run (py-spy, top by own time)", ""]
        if not entries:
            lines += ["(py-spy not available)", ""]
            continue
        lines += ["| function | own % | incl. % |", "|---|---|---|"]
        lines += [f"| `{frame}` | {own:.1f} | {incl:.1f} |" for frame, own, incl in entries] + [""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--messages", type=int, default=400, help="messages per row")
    parser.add_argument("--profile-seconds", type=int, default=10)
    parser.add_argument("--sanic-workers", type=int, default=1, help="Rasa workers (needs --scale-out for > 1)")
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL tracker store + Redis lock store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        services = Services(workdir=workdir)
        options = {"sanic_workers": args.sanic_workers}
        if args.scale_out:
            database = f"policybotbench{uuid.uuid4().hex[:8]}"  # also the Redis key prefix: alphanumeric
            options.update(store_profile="postgres-redis",
                           postgres={"url": "127.0.0.1", "port": 5432, "db": database, "username": "postgres",
                                     "login_db": "test"},
                           redis={"url": "127.0.0.1", "port": 6379, "db": 1, "key_prefix": database})
        services.run_options = options
        services.start()
        try:
            report = asyncio.run(measure(services, args.messages, args.profile_seconds, workdir))
        finally:
            services.stop()
    if args.scale_out or args.sanic_workers > 1:
        report = report.replace("# Chat throughput benchmark",
                                f"# Chat throughput benchmark (PostgreSQL + Redis, SANIC_WORKERS={args.sanic_workers})")
    print(report)
    target = REPORT if not (args.scale_out or args.sanic_workers > 1) else REPORT.with_name("bench-scale-out.md")
    target.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
