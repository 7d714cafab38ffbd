import re

import pytest

from bot.text_split import (LINE_CUTS, PARAGRAPH_CUTS, WECHAT_TEXT_LIMIT, pack, pack_messages, pieces, split_text,
                            utf8_len)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def policy_text(chars: int) -> str:
    sentence = "第{n}句：创业担保贷款最高额度为20万元，个人首次创业的可以申请。"
    text, n = "", 1
    while len(text) < chars:
        text += sentence.format(n=n)
        n += 1
    return text[:chars]


def test_short_text_is_one_part():
    assert split_text("摆摊要交费吗？") == ["摆摊要交费吗？"]


def test_5000_characters_become_parts_of_at_most_2048_bytes_without_losing_text():
    text = policy_text(5000)
    parts = split_text(text)
    assert len(parts) >= utf8_len(text) // WECHAT_TEXT_LIMIT + 1
    assert all(utf8_len(part) <= WECHAT_TEXT_LIMIT for part in parts)
    assert "".join(parts) == text


def test_parts_end_at_sentence_boundaries():
    parts = split_text(policy_text(5000))
    assert all(part.endswith("。") for part in parts[:-1])


def test_closing_quote_stays_with_its_sentence():
    text = "他说：“可以申请。”" * 300
    parts = split_text(text, 100)
    assert all(part.endswith("。”") for part in parts)
    assert "".join(parts) == text


def test_sentence_longer_than_limit_is_cut_at_commas():
    text = "，".join(["创业担保贷款"] * 400) + "。"
    parts = split_text(text, 300)
    assert all(utf8_len(part) <= 300 for part in parts)
    assert all(part.endswith(("，", "。")) for part in parts)
    assert "".join(parts) == text


def test_text_without_any_punctuation_is_cut_between_characters():
    text = "贷" * 1000 + "😀" * 300
    parts = split_text(text)
    assert all(utf8_len(part) <= WECHAT_TEXT_LIMIT for part in parts)
    assert "".join(parts) == text  # no character was cut in half


def test_short_messages_share_a_part_and_long_ones_are_split():
    parts = pack_messages(["答：可以。", policy_text(3000), "这个回答对您有帮助吗？"])
    assert parts[0].startswith("答：可以。\n\n第1句")
    assert parts[-1].endswith("这个回答对您有帮助吗？")
    assert all(utf8_len(part) <= WECHAT_TEXT_LIMIT for part in parts)
    assert squeeze("".join(parts)) == squeeze("答：可以。" + policy_text(3000) + "这个回答对您有帮助吗？")


def test_blank_messages_are_dropped():
    assert pack_messages(["", "  ", "你好"]) == ["你好"]


def test_absurd_limit_is_refused():
    with pytest.raises(ValueError):
        split_text("你好", 2)


def test_paragraph_cuts_prefer_a_paragraph_break_to_filling_the_part():
    paragraphs = ["第一段。" * 10, "第二段。" * 10]
    text = "\n\n".join(paragraphs)
    limit = utf8_len(paragraphs[0]) + 20  # the second paragraph's first sentences would still fit
    assert [part.strip() for part in pack(pieces(text, limit, PARAGRAPH_CUTS), limit)] == paragraphs
    assert split_text(text, limit)[0].startswith(paragraphs[0] + "\n\n第二段。")  # sentence cuts fill the part


def test_line_cuts_keep_lines_whole_and_join_them_with_newlines():
    blocks = ["✅【符合】甲\n　依据：一", "✅【符合】乙\n　依据：二" + "很长" * 40]
    parts = pack([p for block in blocks for p in pieces(block, 100, LINE_CUTS)], 100, "\n", strip=False)
    assert all(utf8_len(part) <= 100 for part in parts)
    assert parts[0] == "✅【符合】甲\n　依据：一\n✅【符合】乙"  # the indent of a continued block stays
    assert "".join(parts).replace("\n", "") == "".join(blocks).replace("\n", "")
