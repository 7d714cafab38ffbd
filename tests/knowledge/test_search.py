import pytest

from knowledge.search import split_question


@pytest.mark.parametrize("question, article", [
    ("创业担保贷款最多能贷多少？", 1),
    ("借8万开店的话需要别人给我做反担保吗", 1),
    ("夜里在广场支个小摊行不行？", 8),
    ("个体户办营业执照要钱不", 7),
    ("以工代训补贴一个月多少钱", 2),
    ("老板拖欠工资不给咋办", 12),
])
def test_colloquial_questions_find_their_article(searcher, question, article):
    result = searcher.search(question, k=5)
    assert result.answerable
    assert result.hits[0].article == article


@pytest.mark.parametrize("question, article", [
    ("镇上修水渠招本地人干活不", 6),         # rural infrastructure work → 以工代赈 (六), not 村镇工厂 (五)
    ("村里修桥的活本村人能干不", 6),
    ("这份实施意见的初衷是啥", 0),           # the purpose is stated in the preamble / 总体要求
    ("跑外卖的平台抽成能不能降一降", 3),     # platform fees → 减免…服务费用 (三)
    ("宝鸡有没有夜间经济的扶持", 2),         # the city's name tells no article from another
    ("公司让新来的人边干边学，有补贴吗", 2),  # learning while working → 以工代训 (二)
    ("养老护理家政的活，政府扩大岗位吗", 2),    # more jobs in these trades → 增加就业岗位 (二), not 家政 training (四)
    ("送外卖的活算不算灵活就业", 3),          # whether a job counts → the 新就业形态 it belongs to (三)
    ("想学电商，有没有这方面的培训", 11),     # e-commerce skills → 直播销售/媒体运营 training (十一)
])
def test_everyday_wording_finds_the_article_that_states_it(searcher, question, article):
    assert searcher.search(question, k=5).hits[0].article == article


def test_village_shop_question_finds_startup_support(searcher):
    assert searcher.search("回村开个小超市有啥扶持？", k=3).hits[0].article in (1, 5)


def test_traditional_characters_work(searcher):
    result = searcher.search("創業擔保貸款最多貸多少", k=3)
    assert result.normalized == "创业担保贷款最多贷多少"
    assert result.answerable and result.hits[0].article == 1


def test_homophone_typo_is_corrected(searcher):
    result = searcher.search("困难家庭 能吃底保", k=3)
    assert "低保" in result.normalized and result.hits[0].article == 13


@pytest.mark.parametrize("question", [
    "失业保险金最长能领几个月",      # near-miss: article 13 names 失业保险金 but not how long it is paid
    "今天下雨吗",
    "宝鸡到西安的高铁几点",
    "灵活就业人员养老保险一个月交多少钱",  # near-miss: article 13 is about deferring, not the amount
])
def test_questions_the_policy_does_not_answer_are_not_answerable(searcher, question):
    result = searcher.search(question, k=5)
    assert result.answerable is False
    assert result.relevance < result.threshold


def test_hits_carry_the_contract_fields(searcher):
    hit = searcher.search("创业担保贷款最多能贷多少？", k=5).hits[0]
    assert hit.clause_id == "baoji-2020-49:2.1" and hit.doc == "baoji-2020-49" and hit.article == 1
    assert hit.title == "优化贷款税收等政策支持个体经营发展" and hit.doc_number == "宝政办发〔2020〕49号"
    assert hit.departments[0] == "市财政局" and hit.text.startswith("优化贷款税收")
    assert hit.sentences[0].startswith("创业担保贷款个贷最高额度20万元")  # most relevant sentence first
    assert len(hit.sentences) == len(hit.sentence_scores) and hit.score > 0


def test_two_questions_in_one_message_are_both_retrieved(searcher):
    result = searcher.search("开理发店要交登记费吗？能贷多少？", k=5)
    assert result.parts == ["开理发店要交登记费吗", "能贷多少"]
    assert [p.hits[0].article for p in result.by_part] == [7, 1]
    assert {7, 1} <= {h.article for h in result.hits[:3]}


def test_empty_or_wordless_input_is_not_answerable(searcher):
    for text in ("", "   ", "😀😀", "？？？"):
        result = searcher.search(text)
        assert result.answerable is False and result.hits == []


def test_split_question():
    assert split_question("占道经营收费?夜市能摆摊?") == ["占道经营收费", "夜市能摆摊"]
    assert split_question("how much is the loan, and do i pay a fee") == ["how much is the loan", "do i pay a fee"]
    assert split_question("好的。谢谢") == ["好的 谢谢"]


@pytest.mark.parametrize("text, parts", [
    ("秦青优惠贷最多多少,家政培训有没有", ["秦青优惠贷最多多少", "家政培训有没有"]),
    ("开个体户收费不,贷款能贷多少", ["开个体户收费不", "贷款能贷多少"]),
    ("贷款能贷多少,我是农民工", ["贷款能贷多少,我是农民工"]),  # the rest asks nothing: one question
    ("我48岁了,还能贷款吗", ["我48岁了,还能贷款吗"]),
    ("我想开店,能贷多少", ["我想开店,能贷多少"]),
])
def test_a_comma_after_a_question_word_splits_two_questions(text, parts):
    assert split_question(text) == parts


def test_the_quoted_sentence_is_picked_with_the_policy_wording_of_colloquial_words(searcher):
    hit = searcher.search("到哪里看招工信息").hits[0]
    assert hit.article == 10 and "信息发布专区" in hit.sentences[0]


@pytest.mark.parametrize("text", ["好的", "谢谢", "转人工", "你好"])
def test_chat_acknowledgements_are_not_policy_questions(searcher, text):
    assert searcher.search(text).answerable is False


def test_overlong_input_is_bounded(searcher):
    result = searcher.search("我想问一下贷款的事情。" * 500)
    assert len(result.parts) <= 3 and all(len(p) <= searcher.config.max_part_chars for p in result.parts)


def test_a_how_question_ends_a_part_when_another_question_follows():
    assert split_question("一是老板拖欠工资怎么处理,二是农民工的工伤保险怎么参加") == [
        "一是老板拖欠工资怎么处理", "二是农民工的工伤保险怎么参加"]
    assert split_question("我想了解怎么办理,我是农民工") == ["我想了解怎么办理,我是农民工"]  # the rest asks nothing
