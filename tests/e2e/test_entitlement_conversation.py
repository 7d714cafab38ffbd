"""A personal screening through the REST channel reaches a cited, personalised list (F3)."""
import uuid

from tests.e2e.services import reply_text


def new_sender() -> str:
    return f"screen-{uuid.uuid4().hex[:8]}"


def assert_snack_shop_entitlements(text: str) -> None:
    assert "5000" in text and "一次性创业补贴" in text
    assert "20万" in text and "10万元以下免除反担保" in text.replace(" ", "")
    assert "300万" in text and "秦青优惠贷" in text
    assert "宝政办发〔2020〕49号" in text and "（一）" in text


def test_step_by_step_screening_of_a_migrant_worker_opening_a_snack_shop(services):
    sender = new_sender()
    assert "年龄" in reply_text(services.say(sender, "帮我算算我能享受啥扶持政策"))
    services.say(sender, "三十五")
    services.say(sender, "我是农民工")
    text = reply_text(services.say(sender, "想开个小吃店"))
    assert_snack_shop_entitlements(text)


def test_correction_mid_screening_changes_the_result(services):
    sender = new_sender()
    services.say(sender, "我能享受啥政策")
    services.say(sender, "50岁")
    services.say(sender, "不对，我35岁")
    services.say(sender, "农民工")
    text = reply_text(services.say(sender, "开了个面馆"))
    assert_snack_shop_entitlements(text)  # 35 ≤ 45: 秦青优惠贷 applies after the correction


def test_stopping_the_screening(services):
    sender = new_sender()
    services.say(sender, "帮我算算能拿多少补贴")
    reply = reply_text(services.say(sender, "算了"))
    assert "5000" not in reply
    assert "20万" in reply_text(services.say(sender, "创业担保贷款最多能贷多少？"))


def test_correction_after_the_list_recalculates(services):
    sender = new_sender()
    first = reply_text(services.say(sender, "帮我算算：我是农民工，44岁，想开个面馆"))
    assert "✅ 秦青优惠贷" in first
    corrected = reply_text(services.say(sender, "不对，我50岁"))
    assert "50岁" in corrected
    assert "✅ 秦青优惠贷" not in corrected  # 45 岁以下 no longer holds
    assert "✅ 一次性创业补贴" in corrected


def test_a_described_situation_gets_a_personal_answer_and_a_correction_updates_it(services):
    sender = new_sender()
    first = reply_text(services.say(sender, "我是农民工，44岁，想开个面馆，能享受啥？"))
    assert "秦青优惠贷：按您说的情况符合" in first and "多大年龄" not in first
    corrected = reply_text(services.say(sender, "不对，我50岁"))
    assert "50岁" in corrected and "秦青优惠贷：按您说的情况符合" not in corrected
    assert "一次性创业补贴：按您说的情况符合" in corrected
