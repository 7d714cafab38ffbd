import pytest

from knowledge.textnorm import (HomophoneCorrector, chinese_numeral_value, convert_numerals, fix_typos,
                                normalize, squeeze_spaces, to_halfwidth, to_simplified)
from knowledge.tokenize import expand, segment, stopwords, tokenize


def test_traditional_is_converted_to_simplified():
    assert to_simplified("創業擔保貸款最多貸多少") == "创业担保贷款最多贷多少"
    assert normalize("秦青優惠貸最高貸多少") == "秦青优惠贷最高贷多少"


def test_full_width_forms_become_half_width():
    assert to_halfwidth("ＡＢＣ１２３（一）？") == "ABC123(一)?"
    assert normalize("２０ 万元") == "20万元"


@pytest.mark.parametrize("text, expected", [
    ("二十万", "20万"), ("三十五", "35"), ("借八万开店", "借8万开店"), ("十万以下", "10万以下"),
    ("四十五岁以下", "45岁以下"), ("一万四千四百元", "14400元"), ("第十三条", "第13条"),
    ("二〇二〇年", "2020年"), ("连续三个月", "连续3个月"), ("三百万", "300万"), ("两千五", "2500"),
])
def test_chinese_numerals_become_arabic(text, expected):
    assert convert_numerals(text) == expected


@pytest.mark.parametrize("text", ["一次性创业补贴", "统一", "千万别", "万一", "十分方便", "百姓", "五险一金", "十大行动"])
def test_numerals_inside_words_are_left_alone(text):
    assert convert_numerals(text) == text


def test_numeral_values():
    assert chinese_numeral_value("一万四") == 14000
    assert chinese_numeral_value("一百零五") == 105
    assert chinese_numeral_value("三四") is None


def test_domain_typos_come_from_the_data_file():
    assert fix_typos("担宝贷款") == "担保贷款"
    assert normalize("秦清优惠贷 以工带训") == "秦青优惠贷 以工代训"
    assert normalize("以工代镇 以工代振") == "以工代赈 以工代赈"  # zhèn homophones of 以工代赈


def test_spaces_inside_chinese_text_are_removed_but_keyword_gaps_survive():
    assert squeeze_spaces("实行柔性城市管理， 在不影响", keep_word_gaps=False) == "实行柔性城市管理，在不影响"
    assert squeeze_spaces("不低于 5%的比例") == "不低于5%的比例"
    assert normalize("担保贷 免反担保 条件") == "担保贷 免反担保 条件"


def test_a_not_a_questions_collapse():
    assert normalize("城管让不让摆地摊") == "城管让摆地摊"
    assert normalize("宝鸡搞不搞夜经济") == "宝鸡搞夜经济"


def test_homophone_typos_of_domain_terms_are_corrected_and_real_words_kept():
    corrector = HomophoneCorrector({"家政", "低保", "以工代赈", "我市", "培训"}, known={"我市"},
                                   segment=segment, ignore=stopwords())
    assert corrector.correct("家正服务 有啥扶持") == "家政服务 有啥扶持"
    assert corrector.correct("困难家庭能吃底保") == "困难家庭能吃低保"
    assert corrector.correct("以工代镇项目") == "以工代赈项目"
    assert corrector.correct("我是灵活就业的") == "我是灵活就业的"  # 是 is a function word, 我是 ≠ 我市


def test_tokenize_uses_the_shared_user_dictionary_and_drops_fillers():
    tokens = tokenize(normalize("创业担保贷款咋申请啊"))
    assert "创业担保贷款" in tokens and "担保" in tokens  # the term and its sub-words (search mode)
    assert "咋" not in tokens and "啊" not in tokens


def test_colloquial_and_english_wording_expands_to_policy_terms():
    terms, residual = expand(normalize("夜里在广场支个小摊行不行"))
    assert "临时摊点" in terms and "夜市" in terms
    terms, _ = expand(normalize("Do I need a counter-guarantee for a business loan?"))
    assert "反担保" in terms and "创业担保贷款" in terms


def test_shaanxi_dialect_words_become_standard_chinese():
    assert normalize("额们屋里娃毕业一年咧，嫑急") == "我们家里娃毕业1年了,不要急"
    assert normalize("额想寻个活，不得行咋办") == "我想找个活,不行怎么办"
    assert normalize("寻工作的信息在哪达看") == "找工作的信息在哪里看"


@pytest.mark.parametrize("dialect, standard", [
    ("政府给撒补贴", "政府给啥补贴"),                      # 撒 = 啥
    ("三个月么收入，还么交社保", "3个月没收入,还没交社保"),  # 么 = 没 before a word
    ("得是不用寻人担保", "是不用找人担保"),                # 得是 = 是不是 (A不A folds to 是)
    ("想开个碎饭馆", "想开个小饭馆"),                      # 碎 = 小
    ("伢老板说不给", "人家老板说不给"),
    ("城管撵额不", "城管赶我不"),
    ("弄个摊摊", "弄个小摊"),
    ("这达咋弄", "这里怎么办"),
])
def test_more_guanzhong_words_become_standard_chinese(dialect, standard):
    assert normalize(dialect) == standard


@pytest.mark.parametrize("text", ["有扶持么", "为什么", "这么多", "我觉得是这样", "撒谎", "粉碎", "要么"])
def test_dialect_rules_leave_standard_uses_alone(text):
    assert normalize(text) == text


def test_dialect_rules_never_touch_the_documents_words():
    # 额 in 额度/限额/额外/金额 is the word "amount", not the dialect "I"
    for text in ("个贷最高额度20万元", "每户每年14400元限额的税费减免", "不得额外设置条件", "补贴金额按规定"):
        assert normalize(text) == text.lower()


def test_english_words_for_the_whole_document_expand_to_its_terms():
    for question, term in (("Can I do remote work or work from home?", "远程办公"),
                           ("Is there training for e-sports jobs?", "电子竞技"),
                           ("Who handles labour arbitration?", "仲裁"),
                           ("Are there workshops near home for villagers?", "就地就近")):
        assert term in expand(normalize(question))[0], question
