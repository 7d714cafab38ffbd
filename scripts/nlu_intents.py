#!/usr/bin/env python
"""Writes the trained NLU's intent and confidence for every question of a question set (JSON).

Runs in the Rasa runtime (.venv/rasa) and feeds `python -m knowledge.calibrate --chat`, which fits how much
the chat's answer decision should trust the intent (knowledge/decision.py) — on the tuning set only.

    .venv/rasa/bin/python scripts/nlu_intents.py models/policy-bot.tar.gz knowledge/eval/questions.yaml var/nlu_intents.json
"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import yaml
from rasa.core.agent import Agent


async def parse_all(model: str, texts: list[str]) -> dict[str, list]:
    agent = Agent.load(model)
    parsed = {}
    for text in texts:
        intent = (await agent.parse_message(text)).get("intent") or {}
        parsed[text] = [intent.get("name") or "", round(float(intent.get("confidence") or 0.0), 4)]
    return parsed


def main(model: str, *paths: str) -> int:
    """nlu_intents.py MODEL QUESTIONS.yaml [MORE.yaml …] OUT.json"""
    *question_files, out = paths
    texts = [item["q"] for path in question_files
             for item in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["questions"]]
    parsed = asyncio.run(parse_all(model, texts))
    Path(out).write_text(json.dumps(parsed, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(parsed)} questions → {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
