"""Chat wording of an entitlement result (the POST /api/entitlements response).

Shared by the action server (end of the screening form) and the agent console, so both say the same:
eligible items first with amounts and citations, then "might apply if …" items, then where to apply.
Each message stays within the channel limit (2048 UTF-8 bytes, cut by bot.text_split).
Pure formatting: every fact shown comes from the result (amount_text, reference, departments, why), none is written here.
"""
from __future__ import annotations

import re
from itertools import groupby
from typing import Callable

from bot import text_split
from bot.text_split import LINE_CUTS, WECHAT_TEXT_LIMIT

from .citations import citation_line

MAX_MESSAGE_BYTES = WECHAT_TEXT_LIMIT
PENDING = "待确认："
# Every status mark is paired with its word, so the meaning survives where the emoji shows as a box.
ELIGIBLE_MARK = "✅【符合】"
TO_CONFIRM_MARK = "❓【待确认】"
WHERE_MARK = "📍【办理部门】"
_UNPROVIDED = re.compile(r"（未提供[^（）]*）$")


def render_entitlements(result: dict, max_bytes: int = MAX_MESSAGE_BYTES) -> list[str]:
    """Messages for the person, each at most `max_bytes` UTF-8 bytes."""
    items = result.get("entitlements", [])
    eligible = [item for item in items if item.get("eligible") is True]
    possible = [item for item in items if item.get("eligible") is None]
    other = [item for item in items if item.get("eligible") is False]
    number = (result.get("document") or {}).get("number", "")
    cards = {card["clause_id"]: card for card in result.get("citations") or [] if "heading" in card}
    blocks = [_heading(eligible, number)]
    blocks += _cited_blocks(eligible, _eligible_block, cards)
    if possible:
        blocks.append("下面这些可能也适用，要看是否满足：")
        blocks += _cited_blocks(possible, _possible_block, cards)
    if eligible or possible:
        blocks.append(_where_block(eligible + possible))
    blocks.append(_closing(other))
    return pack(blocks, max_bytes)


def _heading(eligible: list[dict], number: str) -> str:
    source = f"根据{number}，" if number else ""
    if not eligible:
        return f"按您提供的情况，{source}暂时没有确定能享受的扶持。"
    return f"按您提供的情况，{source}您可以享受这{len(eligible)}项扶持："


def _cited_blocks(items: list[dict], block: Callable[[dict], str], cards: dict[str, dict]) -> list[str]:
    """One block per item, each followed by its citation line; consecutive items resting on the same clause
    share one line after the last of them (以上3项依据：…), so a phone screen does not repeat it."""
    blocks = []
    for clause_id, group in groupby(items, key=lambda item: item["clause_id"]):
        run = list(group)
        blocks += [block(item) for item in run]
        line = _citation(run[0], cards.get(clause_id))
        shared = line if len(run) == 1 else f"以上{len(run)}项{line}"
        blocks[-1] += "\n　" + shared
    return blocks


def _citation(item: dict, card: dict | None) -> str:
    """The same short citation line as an answer's (section and article: 二、（一）…) when the result carries
    the clause's card, else the rule's own reference."""
    return citation_line(card) if card else f"依据：{item['reference']}"


def _headline(item: dict) -> str:
    """Title and benefit, without saying the title twice ("一次性临时救助金：一次性临时救助金，…")."""
    text = item.get("amount_text") or "按规定"
    return text if item["title"] in text else f"{item['title']}：{text}"


def _eligible_block(item: dict) -> str:
    lines = [ELIGIBLE_MARK + _headline(item)]
    lines += [f"　注：{note}" for note in item.get("notes", []) if not note.startswith("已到期")]
    return "\n".join(lines)


def pending_conditions(item: dict) -> list[str]:
    """The conditions still to be confirmed, in plain words (from the `why` trace)."""
    return [_UNPROVIDED.sub("", line[len(PENDING):]) for line in item.get("why", []) if line.startswith(PENDING)]


def _possible_block(item: dict) -> str:
    return f"{TO_CONFIRM_MARK}{_headline(item)}\n　如果：{'；'.join(pending_conditions(item))}"


def _where_block(items: list[dict]) -> str:
    by_departments: dict[tuple, list[str]] = {}
    for item in items:
        by_departments.setdefault(tuple(item.get("departments", [])), []).append(item["title"])
    lines = [WHERE_MARK + "去哪儿办（文件写明的负责部门）："]
    lines += [f"· {names_text(titles)}：{'、'.join(departments)}"
              for departments, titles in by_departments.items() if departments]
    return "\n".join(lines)


def _closing(other: list[dict]) -> str:
    lines = []
    if other:
        names = [item["title"] + ("（已过期）" if item.get("status") == "expired" else "") for item in other]
        lines.append(f"其余{len(names)}项按您说的情况暂不符合：{names_text(names)}。")
    lines.append("以上是按您提供的情况初步测算，具体以经办部门审核为准。说错了可以直接更正，比如“不对，我43岁”；"
                 "需要人工帮助请回复“转人工”。")
    return "\n".join(lines)


def names_text(names: list[str]) -> str:
    """「养老保险暂缓缴费、补缴」「创业担保贷款」: a name that contains 、 stays one visible item."""
    return "".join(f"「{name}」" for name in names)


def pack(blocks: list[str], max_bytes: int = MAX_MESSAGE_BYTES) -> list[str]:
    """Join blocks with newlines into as few messages as fit; oversized blocks split by line, then by character."""
    return text_split.pack([piece for block in blocks for piece in text_split.pieces(block, max_bytes, LINE_CUTS)],
                           max_bytes, "\n", strip=False)
