"""How scripts/eval_chat.py judges a reply: tolerant text matching and the verdict per expectation."""
import pytest

from scripts.eval_chat import Turn, fact_found, fold, judge, parse_reply, states, write_section

CITED_ART_1 = {"custom": {"citations": [{"clause_id": "baoji-2020-49/1", "article": 1}]}}


def reply(*texts, citations=None, buttons=()):
    messages = [{"text": text} for text in texts]
    if buttons:
        messages.append({"text": "请选择", "buttons": [{"title": b, "payload": b} for b in buttons]})
    if citations is not None:
        messages.append({"custom": {"citations": citations}})
    return parse_reply(messages, latency_ms=12.0)


@pytest.mark.parametrize("raw, folded", [
    ("20 万元", "20万元"), ("２０万元", "20万元"), ("200,000 元", "200000元"), ("創業擔保貸款", "创业担保贷款"),
    ("不低于 5%的比例", "不低于5%的比例"), ("4.32 万", "4.32万"), ("“秦青优惠贷”", "秦青优惠贷"),
])
def test_fold_ignores_width_spacing_punctuation_and_script(raw, folded):
    assert fold(raw) == folded


def test_a_negated_word_is_not_the_word():
    assert not states("您48岁，不符合秦青优惠贷的条件", "符合")
    assert states("秦青优惠贷您不符合；创业担保贷款您符合", "符合")
    assert states("您不符合", "不符合")
    assert not states("补贴不超过10万元", "超过")


def test_a_fact_is_found_through_any_alternative():
    assert fact_found("三年最多4.32 万元", ["43200", "4.32万"])
    assert not fact_found("每户每年14400元", ["43200", "4.32万"])


def test_an_answer_needs_a_citation_of_the_expected_article_and_every_fact():
    turn = Turn("创业贷款最多多少", articles=(1,), facts=(("20万",),))
    assert judge(turn, reply("最多20 万元。", citations=[{"article": 1}])).ok
    assert not judge(turn, reply("最多20万元。", citations=[{"article": 7}])).ok
    assert not judge(turn, reply("最多20万元。")).ok  # no citation = not answered from a clause
    missing = judge(turn, reply("请看原文。", citations=[{"article": 1}]))
    assert not missing.ok and "20万" in missing.why()


def test_an_honest_no_answer_is_recognised_by_its_wording_not_by_silence():
    turn = Turn("医保报销比例", expect="refuse")
    assert judge(turn, reply("抱歉，这份政策没有涉及这个问题。需要为您转人工吗？")).ok
    assert judge(turn, reply("政策原文没有写明报销比例，请咨询市医保局。", citations=[{"article": 13}])).ok
    assert not judge(turn, reply("您好！我是小助手。")).ok
    assert not judge(turn, reply("根据（十三）：…", citations=[{"article": 13}])).ok


def test_greeting_and_clarifying_question():
    assert judge(Turn("你好", expect="greeting"), reply("您好！我是政策小助手。")).ok
    assert not judge(Turn("你好", expect="greeting"), reply("您好，最多20万元。", citations=[{"article": 1}])).ok
    clarify = Turn("有什么补贴？", expect="clarify", facts=(("创业补贴",), ("以工代训",)))
    assert judge(clarify, reply("您想问哪一种补贴？", buttons=("创业补贴", "以工代训", "社保补贴"))).ok
    assert not judge(clarify, reply("一次性创业补贴每人5000元。", citations=[{"article": 1}])).ok


def test_the_chat_section_replaces_itself_and_keeps_the_rest(tmp_path):
    report = tmp_path / "eval-report.md"
    report.write_text("# Retrieval evaluation report\n\nR@1 0.97\n", encoding="utf-8")
    write_section(report, "<!-- chat-eval:start -->\nfirst\n<!-- chat-eval:end -->")
    write_section(report, "<!-- chat-eval:start -->\nsecond\n<!-- chat-eval:end -->")
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Retrieval evaluation report") and "R@1 0.97" in text
    assert "second" in text and "first" not in text


def test_metrics_count_refusals_r1_facts_and_whole_dialogues():
    import json

    from scripts.eval_chat import ItemResult, compute_metrics

    answer = Turn("创业贷款最多多少", articles=(1,), facts=(("20万",), ("10万",)))
    refuse = Turn("医保报销比例", expect="refuse")
    results = [
        ItemResult("q1", "situation", False, [judge(answer, reply("最多20万元。", citations=[{"article": 1}]))]),
        ItemResult("q2", "situation", False, [judge(answer, reply("抱歉，这份政策没有涉及这个问题。"))]),
        ItemResult("q3", "oos", False, [judge(refuse, reply("抱歉，这份政策没有涉及这个问题。"))]),
        ItemResult("d1", "followup", True, [judge(answer, reply("最多20万元，10万元以下免除反担保。",
                                                               citations=[{"article": 1}])),
                                            judge(refuse, reply("您好！"))]),
    ]
    metrics = compute_metrics(results)
    assert metrics["in_scope_refused"] == 0.5 and metrics["r1"] == 0.5 and metrics["oos_refused"] == 1.0
    assert metrics["fact_coverage"] == 3 / 6  # q1 one of two, q2 none, d1 turn 1 both
    assert metrics["dialogues_right"] == 0.0 and metrics["dialogue_turns_right"] == 0.5
    assert json.loads(json.dumps(results[3].as_json()))["turns"][1]["why"] == "no honest no-answer"


def test_the_tuning_set_scores_chat_tuning_questions_with_their_facts(tmp_path):
    from scripts.eval_chat import ItemResult, compute_metrics, load_tuning_chat, load_tuning_set

    questions = tmp_path / "questions.yaml"
    questions.write_text('questions:\n- {q: "创业贷款最多多少", articles: [1], kind: english}\n', encoding="utf-8")
    chat = tmp_path / "chat_tuning.yaml"
    chat.write_text('questions:\n- {q: "额想贷款开店，最多贷多少", articles: [1], kind: dialect, facts: [["20万"]]}\n'
                    '- {q: "Max startup loan?", articles: [1], kind: english, facts: [["20万"]]}\n'
                    'dialogues:\n- id: d\n  kind: repeat\n  turns:\n'
                    '  - {q: "秦青优惠贷最高多少", articles: [1], facts: [["300万"]]}\n', encoding="utf-8")
    items = load_tuning_set(questions, chat)
    assert [(item.id, item.kind, item.dialogue) for item in items] == [
        ("t1", "english", False), ("c1", "dialect", False), ("c2", "english", False), ("d", "repeat", True)]
    assert items[1].turns[0].facts == (("20万",),) and items[0].turns[0].facts == ()
    assert [item.id for item in load_tuning_chat(chat)] == ["c1", "c2", "d"]
    # questions.yaml (articles only) is reported in rows of its own, beside the kinds that carry facts
    results = [ItemResult(item.id, item.kind, item.dialogue, [judge(turn, reply("最多20万元。", citations=[{"article": 1}]))
                                                               for turn in item.turns], group=item.group)
               for item in items]
    per_kind = compute_metrics(results)["per_kind"]
    assert set(per_kind) == {"english (questions.yaml)", "dialect", "english", "dialogue repeat"}
    assert per_kind["english"]["fact_coverage"] == 1.0 and per_kind["english (questions.yaml)"]["fact_coverage"] is None


def test_the_command_line_picks_sets_and_kinds(tmp_path):
    from scripts.eval_chat import Item, chosen_sets, parse_args

    items = [Item("c1", "dialect", (Turn("额想贷款", (1,)),)), Item("c2", "english", (Turn("loan?", (1,)),)),
             Item("d1", "repeat", (Turn("秦青贷", (1,)),), dialogue=True)]
    loaders = {"tuning": lambda: items, "test": lambda: items[:1]}
    assert set(chosen_sets(parse_args([]), loaders)) == {"tuning", "test"}
    picked = chosen_sets(parse_args(["--only", "tuning", "--kind", "dialect", "--kind", "repeat"]), loaders)
    assert list(picked) == ["tuning"] and [item.id for item in picked["tuning"]] == ["c1", "d1"]
    assert [item.id for item in chosen_sets(parse_args(["--only", "test", "--dialogues"]), loaders)["test"]] == []
    assert list(chosen_sets(parse_args(["--only", "tuning-chat", "--limit", "1"]), loaders)) == ["tuning"]
