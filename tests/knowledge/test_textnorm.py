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


def test_the_policy_text_passes_through_the_typo_and_dialect_tables_unchanged():
    # Both tables run over the indexed document too: an entry that rewrote a word of the policy would
    # silently change what retrieval and the quoted clause read (额度, 兜底保障, 不得额外 …).
    from pathlib import Path

    from knowledge.textnorm import convert_numerals, fix_typos, standardize_dialect

    policy = (Path(__file__).resolve().parents[2] / "knowledge" / "data" / "baoji-2020-49.txt").read_text(encoding="utf-8")
    for paragraph in filter(None, policy.splitlines()):
        text = convert_numerals(to_halfwidth(squeeze_spaces(to_simplified(paragraph))))
        assert standardize_dialect(fix_typos(text)) == text, paragraph[:40]


@pytest.mark.parametrize("dialect, standard", [
    ("俺屋里人在外头揽工", "我家里人在外头打工"),            # 俺 = 我, 揽工 = 打工
    ("能贷多钱", "能贷多少钱"),                            # 多钱 = 多少钱
    ("创业补贴给几个钱", "创业补贴给多少钱"),
    ("该克阿搭问", "该去哪里问"),                          # 克 = 去, 阿搭 = 哪里
    ("寻银行贷款", "找银行贷款"),                          # 寻 = 找
    ("手里木有本钱,木得办法", "手里没有本钱,没有办法"),
    ("三个月木有进项,恓惶得很", "3个月没有收入,困难得很"),
    ("额大想开个碎卖部", "我爸想开个小卖部"),              # 大 = 爸 after 我
    ("后晌在铺子门口卖饭", "下午在铺子门口卖饭"),
    ("年时回来的,问哈", "去年回来的,问下"),
    ("咋么个弄法", "怎么个弄法"),
    ("想在社区登个记", "想在社区登记"),                    # separable verb joined: 登个记 = 登记
])
def test_broad_guanzhong_vocabulary_becomes_standard_chinese(dialect, standard):
    assert normalize(dialect) == standard


@pytest.mark.parametrize("text", [
    "个贷最高额度20万元", "获得成功", "取得成效", "不得成立", "能成为", "包揽工程", "进项税", "2020年时",
    "3年时间", "粉碎生产线", "寻找工作", "寻求帮助", "克服困难", "千克", "坦克", "巧克力", "饿了么平台",
    "我大学毕业", "我大概知道", "很多钱", "好多钱", "看哈尔滨", "兜底保障", "建设保障", "因公伤亡",
])
def test_broad_dialect_and_typo_rules_leave_standard_words_alone(text):
    assert normalize(text) == text.lower()


def test_more_ime_homophones_of_domain_terms_are_corrected():
    assert normalize("贷款免返担保") == "贷款免反担保"
    assert normalize("以工代迅 以公代赈") == "以工代训 以工代赈"
    assert normalize("营业直照 勤云就业 黑明单") == "营业执照 秦云就业 黑名单"


def test_everyday_and_english_words_of_every_article_expand_to_its_terms():
    for question, term in (("小本生意没本钱", "创业担保贷款"), ("厂子倒闭下岗了", "企业失业人员"),
                           ("在店门口外摆", "出店经营"), ("网上发的招零工信息", "岗位信息"),
                           ("Can companies share staff?", "共享用工"), ("Who leads the task force?", "稳就业工作专班"),
                           ("Are there internships on the mini-program?", "就业见习"),
                           ("How is the policy publicised?", "宣传"), ("Do I need a business permit?", "许可"),
                           ("loans for graduates", "高校毕业生"),
                           ("help for households where nobody has a job", "零就业"),
                           ("apple growers doing live sales", "直播销售")):
        assert term in expand(normalize(question))[0], question
