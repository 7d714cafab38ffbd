"""What a question asks about (knowledge/asked_object.py): the asked-for thing and place, and whether a clause names it."""
from knowledge.asked_object import asked_objects, object_missing, place_elsewhere, policy_wording
from knowledge.textnorm import normalize

PENSION_CLAUSE = ("筑牢困难灵活就业人员兜底保障。2020年以个人身份参加企业职工基本养老保险的个体工商户和灵活就业人员，"
                  "缴费确有困难的可自愿暂缓缴费。推动失业保险金“畅通领、安全办”。落实工程建设领域农民工按项目参加工伤保险政策。")
FEE_CLAUSE = "劳动者从事个体经营依法自主选择经营范围，依法登记注册，不收取任何费用。"
SYNONYMS = [("社保", ("社会保险",)), ("工本费", ("登记注册", "收取", "费用")), ("乱罚款", ("违规收费",))]


def terms(question: str) -> list[str]:
    return [asked.term for asked in asked_objects(normalize(question))]


def test_a_lone_head_is_named_by_the_word_before_it():
    assert "高龄补贴" in terms("屋里老人的高龄补贴一个月发多少")
    assert "生育保险" in terms("灵活就业人员能交生育保险不")
    assert "占道费" in terms("摆摊的占道费要交不")  # two characters jieba split are joined


def test_compound_nouns_are_asked_things_and_verbs_are_not():
    assert "电工证" in terms("考个电工证要花多少钱")
    assert "公租房" in terms("公租房排队要等多久")   # the character jieba cut off the front belongs to it
    assert terms("培训是免费的吗") == []               # 免费 ends in 费 but asks for no fee


def test_words_that_only_say_what_is_done_with_a_benefit_name_nothing():
    assert terms("领取补贴要啥条件") == ["补贴"]
    assert terms("农民工返乡创业一次性补贴多少钱") == ["补贴"]
    assert terms("搞个体要交一堆费吗") == []              # how much of it, not which one
    assert terms("持就业创业证开店，三年税费能免多少") == ["就业创业证", "税费"]  # 3 年 税费: a numeral before it


def test_events_of_a_benefit_are_asked_things():
    assert "注销" in terms("个体户营业执照咋注销")
    assert "逾期" in terms("贷款逾期了咋办")


def test_a_thing_the_clause_does_not_name_is_missing():
    assert object_missing(normalize("灵活就业人员能交生育保险不"), PENSION_CLAUSE, SYNONYMS) == 1.0
    assert object_missing(normalize("养老保险交不起了能缓缴不"), PENSION_CLAUSE, SYNONYMS) == 0.0
    assert object_missing(normalize("失业金能按时领不"), PENSION_CLAUSE, SYNONYMS) == 0.0  # 失业 and 金 both named


def test_the_policy_wording_of_a_colloquial_term_counts_as_named():
    assert object_missing(normalize("个体户登记要交工本费不"), FEE_CLAUSE, SYNONYMS) == 0.0
    assert object_missing(normalize("个体户登记要交工本费不"), FEE_CLAUSE, []) == 1.0
    assert policy_wording("社保补贴", SYNONYMS) == ["社会保险"]
    assert policy_wording("罚", SYNONYMS) == ["违规收费"]


def test_a_question_asking_for_nothing_in_particular_misses_nothing():
    assert object_missing(normalize("社区工厂是个啥"), FEE_CLAUSE, SYNONYMS) == 0.0


def test_another_places_policy_is_elsewhere():
    assert place_elsewhere(normalize("西安的灵活就业人员社保补贴一个月多少")) == 1.0
    assert place_elsewhere(normalize("咸阳那边创业担保贷款最高能贷多少")) == 1.0
    assert place_elsewhere(normalize("铜川有没有以工代训补贴")) == 1.0


def test_where_the_asker_works_or_comes_from_and_local_places_are_not_elsewhere():
    assert place_elsewhere(normalize("在深圳打了几年工，回村开店有补贴不")) == 0.0
    assert place_elsewhere(normalize("从西安回来想开个小吃店，能贷多少")) == 0.0
    assert place_elsewhere(normalize("岐山县的个体户登记注册收费吗")) == 0.0
    assert place_elsewhere(normalize("西安的工地干完了，回宝鸡开店能贷款不")) == 0.0
    assert place_elsewhere(normalize("创业担保贷款最多贷多少")) == 0.0
