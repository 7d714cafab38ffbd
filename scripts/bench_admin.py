#!/usr/bin/env python
"""Citizen search latency while staff load a 200-clause document, as a ratio against idle in the same run.

Sends searches at a steady rate (default 20/s) to a running policy service: first idle, then while a
staff account publishes a synthetic 200-clause document (draft → add document → publish) until the
service's live index includes it. Reports failures, p50/p95 idle and under load, their ratio, and how
long the document took from publish to live.

Every search is a distinct question by default (the tuning questions, each asked in many wordings): the
service caches query vectors (service/caching.py), so a repeated list would let the load phase hit the
cache the idle phase filled and flatter the ratio. --repeat-questions cycles the plain list instead.

    .venv/app/bin/python scripts/bench_admin.py              # starts its own service on a free port
    .venv/app/bin/python scripts/bench_admin.py --url http://127.0.0.1:8000 --token TOKEN

Prints figures; asserts nothing. tests/e2e/test_admin_load.py runs `measure()` and checks only that no
search fails and the document goes live.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
CN_DIGITS = "一二三四五六七八九十"
TOPICS = ("夜市摊位", "社区食堂", "家政培训", "电商直播", "快递驿站", "农家乐", "托育服务", "维修网点",
          "共享菜园", "文创市集")
DEPARTMENTS = ("市人社局", "市商务局", "市财政局", "市民政局", "市城市管理执法局")


def chinese(n: int) -> str:
    """1..99 in Chinese numerals (十一, 二十, 二十三)."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else CN_DIGITS[tens - 1]) + "十" if tens else "") + (CN_DIGITS[ones - 1] if ones else "")


def synthetic_document(clauses: int = 200, seed: str = "") -> str:
    """A numbered policy document with `clauses` distinct articles (10 sections × N （n） items)."""
    per_section = -(-clauses // 10)
    lines = ["某市人民政府办公室文件", "", f"某政办发〔2026〕{len(seed) + 31}号", "",
             "某市人民政府办公室关于扶持社区便民服务业的实施意见", "",
             "各县区人民政府，市政府各工作部门：为扶持社区便民服务业发展，现提出以下意见。", ""]
    made = 0
    for section in range(1, 11):
        topic = TOPICS[section - 1]
        lines += [f"{chinese(section)}、支持{topic}发展", ""]
        for item in range(1, per_section + 1):
            if made == clauses:
                break
            made += 1
            amount = 1000 + 37 * made
            other = TOPICS[(section + item) % len(TOPICS)]
            lines += [f"（{chinese(item)}）{topic}第{made}项扶持措施{seed}。对符合条件的{topic}经营者，按规定给予"
                      f"每户{amount}元补贴，补贴期限不超过{item % 12 + 1}个月，申请材料在{20 + made % 9}个工作日内办结。"
                      f"鼓励{topic}与{other}联合经营，共用场地和设施的，场地租金按{made % 5 + 3}折计算，"
                      f"水电气价格按居民标准执行，所需资金从就业补助资金中列支。各街道要在{made % 4 + 2}个月内"
                      f"摸清辖区{topic}底数，建立第{made}号服务台账，对吸纳登记失业人员{made % 7 + 2}人以上的经营者"
                      f"优先安排培训名额，每人每期培训补贴{300 + made * 3}元。对连续经营满{made % 3 + 1}年且无违法"
                      f"记录的{topic}，在评优评先和信用评价中予以加分，具体办法由{DEPARTMENTS[(made + 2) % 5]}"
                      f"会同有关部门另行制定。"
                      f"（{DEPARTMENTS[made % len(DEPARTMENTS)]}负责）", ""]
    lines += ["某市人民政府办公室", "", "2026年3月1日", ""]
    return "\n".join(lines)


def questions() -> list[str]:
    data = yaml.safe_load((ROOT / "knowledge" / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    return [item["q"] for item in data["questions"]]


OPENINGS = ("", "请问", "想问下，", "咨询一下：", "你好，", "麻烦问一下，", "我想了解：", "打扰一下，")
CLOSINGS = ("", "？", "呢", "，谢谢", "，麻烦告诉我", "，急")


def distinct_questions() -> list[str]:
    """Each tuning question in every opening × closing: ≈ 48 wordings each, all different strings, so no
    search finds its query vector already cached. The bases alternate, so neighbours differ in topic."""
    bases = questions()
    wordings = (f"{opening}{base.rstrip('？?')}{closing}" for opening in OPENINGS for closing in CLOSINGS
                for base in bases)
    return list(dict.fromkeys(wordings))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


class Load:
    """Searches at a fixed rate from a small thread pool; records (start, seconds, ok) per search."""

    def __init__(self, url: str, rate: float, texts: list[str]):
        """`texts` are asked in order, from the start again after the last (then repeated questions)."""
        self.url, self.interval, self.texts = url, 1.0 / rate, texts
        self.records: list[tuple[float, float, bool]] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=16)
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, text: str) -> None:
        started = time.monotonic()
        try:
            response = self._session.get(self.url + "/api/search", params={"q": text, "k": 5}, timeout=10)
            ok = response.status_code == 200 and "hits" in response.json()
        except (requests.RequestException, ValueError):
            ok = False
        self.records.append((started, time.monotonic() - started, ok))

    def _run(self) -> None:
        next_at, n = time.monotonic(), 0
        while not self._stop.is_set():
            self._pool.submit(self._one, self.texts[n % len(self.texts)])
            n += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> "Load":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=True)

    def between(self, start: float, end: float) -> list[tuple[float, float, bool]]:
        return [r for r in self.records if start <= r[0] < end]


def summary(records) -> dict:
    seconds = [r[1] for r in records if r[2]]
    return {"searches": len(records), "failed": sum(1 for r in records if not r[2]),
            "p50_ms": round(1000 * percentile(seconds, 0.5), 1), "p95_ms": round(1000 * percentile(seconds, 0.95), 1)}


def publish_document(url: str, headers: dict, text: str, doc_id: str) -> dict:
    draft = requests.post(url + "/api/admin/drafts", headers=headers, json={"title": "载入 200 条文件"}, timeout=60)
    draft.raise_for_status()
    draft_id = draft.json()["id"]
    body = json.dumps({"doc_id": doc_id, "text": text}, ensure_ascii=False).encode()  # UTF-8: half the bytes
    requests.post(f"{url}/api/admin/drafts/{draft_id}/documents", data=body, timeout=120,
                  headers={**headers, "Content-Type": "application/json"}).raise_for_status()
    release = requests.post(f"{url}/api/admin/drafts/{draft_id}/publish", headers=headers, timeout=120)
    release.raise_for_status()
    return release.json()


def live_revision(url: str, headers: dict) -> int:
    return requests.get(url + "/api/admin/releases", headers=headers, timeout=30).json()["live_revision"]


def wait_live(url: str, headers: dict, revision: int, timeout: float) -> bool:
    """Block until `revision` is live in the service (GET /api/admin/live waits for the keeper's signal)."""
    deadline = time.monotonic() + timeout
    while True:
        wait = max(0.0, min(60.0, deadline - time.monotonic()))
        body = requests.get(url + "/api/admin/live", headers=headers, timeout=wait + 30,
                            params={"revision": revision, "timeout": wait}).json()
        if body["live"] or wait == 0.0:
            return body["live"]


def measure(url: str, headers: dict, rate: float = 20.0, idle_seconds: float = 10.0, clauses: int = 200,
            doc_id: str | None = None, live_timeout: float = 300.0, distinct: bool = True) -> dict:
    """Idle phase, then the document load; returns the figures (and retires nothing: the caller may).
    `distinct`: every search a question not asked before in the run (see the module's doc)."""
    doc_id = doc_id or f"bench-{secrets.token_hex(3)}"
    texts = distinct_questions() if distinct else questions()
    load = Load(url, rate, texts).start()
    try:
        time.sleep(idle_seconds)
        load_started = time.monotonic()
        release = publish_document(url, headers, synthetic_document(clauses, doc_id), doc_id)
        published = time.monotonic()
        wait_live(url, headers, release["revision"], live_timeout)
        live = time.monotonic()
        time.sleep(1.0)  # the first searches on the new index count as "during the load" too
        load_ended = time.monotonic()
    finally:
        load.stop()
    idle = summary(load.between(0, load_started))
    during = summary(load.between(load_started, load_ended))
    asked = len(load.records)
    return {"rate_per_s": rate, "clauses": clauses, "doc_id": doc_id, "release": release["id"],
            "distinct_questions": min(asked, len(texts)), "repeated_questions": max(0, asked - len(texts)),
            "publish_seconds": round(published - load_started, 2), "live_seconds": round(live - load_started, 2),
            "live": live_revision(url, headers) >= release["revision"],
            "idle": idle, "during_load": during,
            "p95_ratio": round(during["p95_ms"] / idle["p95_ms"], 2) if idle["p95_ms"] else None}


def start_service(workdir: Path, token: str) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "POLICY_VAR_DIR": str(workdir), "STAFF_TOKEN": token, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "service", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=open(workdir / "service.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"service did not start; see {workdir / 'service.log'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url"), parser.add_argument("--token", default=os.environ.get("STAFF_TOKEN", ""))
    parser.add_argument("--rate", type=float, default=20.0), parser.add_argument("--clauses", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--live-timeout", type=float, default=300.0, help="stop waiting for the document after this")
    parser.add_argument("--repeat-questions", action="store_true",
                        help="cycle the tuning questions as they are (repeats hit the query-vector cache)")
    args = parser.parse_args()
    process = None
    url, token = args.url, args.token
    if not url:
        token = secrets.token_hex(16)
        process, url = start_service(Path(tempfile.mkdtemp(prefix="bench-admin-")), token)
    try:
        figures = measure(url, {"Authorization": f"Bearer {token}"}, args.rate, args.idle_seconds, args.clauses,
                          live_timeout=args.live_timeout, distinct=not args.repeat_questions)
    finally:
        if process:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    print(f"\n{figures['during_load']['searches']} searches during the load, {figures['during_load']['failed']} failed; "
          f"p95 {figures['during_load']['p95_ms']} ms vs {figures['idle']['p95_ms']} ms idle "
          f"(ratio {figures['p95_ratio']}); document live {figures['live_seconds']} s after publishing began")
    return 0


if __name__ == "__main__":
    sys.exit(main())
