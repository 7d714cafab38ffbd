"""REST latency benchmark: starts the three real services, sends 100 sequential questions, prints p50/p95.

Also reports startup time (all three ready) and the model size. Figures go to stdout and docs/bench-rest.md.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from tests.e2e.services import MODEL, PROJECT, Services

QUESTIONS = PROJECT / "knowledge" / "eval" / "questions.yaml"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="number of sequential questions")
    args = parser.parse_args()
    questions = [item["q"] for item in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    with tempfile.TemporaryDirectory() as workdir:
        services = Services(workdir=Path(workdir))
        started = time.perf_counter()
        services.start()
        startup = time.perf_counter() - started
        try:
            services.say("bench-warmup", "你好")
            latencies = []
            for i in range(args.n):
                began = time.perf_counter()
                services.say(f"bench-{i % 10}", questions[i % len(questions)])
                latencies.append((time.perf_counter() - began) * 1000)
        finally:
            services.stop()
    report = (
        f"# REST benchmark\n\n"
        f"- model size: {MODEL.stat().st_size / 1e6:.1f} MB\n"
        f"- startup (service, actions, Rasa all ready): {startup:.1f} s\n"
        f"- {args.n} sequential questions through POST /webhooks/rest/webhook (full stack, retrieval included):\n"
        f"  p50 {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
        f"max {max(latencies):.0f} ms\n"
    )
    print(report)
    (PROJECT / "docs" / "bench-rest.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
