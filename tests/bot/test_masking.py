import pytest

from bot.masking import mask, mask_tree


@pytest.mark.parametrize("text,expected", [
    ("我电话13812345678", "我电话*******5678"),
    ("电话 138 1234 5678 回电", "电话 *******5678 回电"),
    ("身份证610302199001011234", "身份证**************1234"),
    ("身份证61030219900101123X", "身份证**************123X"),
    ("卡号6222 0200 1234 5678 901", "卡号***************8901"),
    ("卡号6222020012345678", "卡号************5678"),
    ("座机0917-3261234", "座机********1234"),
    ("全角１３８１２３４５６７８", "全角*******５６７８"),
])
def test_personal_numbers_are_masked_keeping_the_last_four(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    "创业担保贷款最多20万元", "宝政办发〔2020〕49号", "baoji-2020-49:2.1", "我35岁，2021年开的店",
    "1234567890",  # ten digits: no personal number
    "sha 3f2a9c8e1b4d5f60718293a4b5c6d7e8",
])
def test_other_numbers_are_left_alone(text):
    assert mask(text) == text


def test_mask_tree_reaches_nested_strings_and_keeps_other_types():
    event = {"event": "user", "text": "13812345678", "parse_data": {"entities": [{"value": "13812345678"}]},
             "timestamp": 1.5, "flags": [True, None]}
    masked = mask_tree(event)
    assert masked["text"] == masked["parse_data"]["entities"][0]["value"] == "*******5678"
    assert masked["timestamp"] == 1.5 and masked["flags"] == [True, None]
