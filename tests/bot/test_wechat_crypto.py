import base64
import os

import pytest
from wechatpy.crypto import WeChatCrypto

from bot.wechat_crypto import ForgedRequest, SafeMode, UndecryptableBody, sign, valid_signature
from bot.wechat_xml import screen_xml

TOKEN, APP_ID = "token123", "wx0123456789abcdef"
AES_KEY = base64.b64encode(os.urandom(32)).decode()[:-1]


def test_signature_is_sha1_of_sorted_token_timestamp_nonce():
    import hashlib
    expected = hashlib.sha1("".join(sorted([TOKEN, "1700000000", "nonce"])).encode()).hexdigest()
    assert sign(TOKEN, "1700000000", "nonce") == expected
    assert valid_signature(TOKEN, expected, "1700000000", "nonce")


@pytest.mark.parametrize("signature,timestamp,nonce", [
    ("0" * 40, "1700000000", "nonce"), (None, "1700000000", "nonce"), ("x", None, "nonce"), ("x", "1", None)])
def test_forged_or_missing_signature_is_invalid(signature, timestamp, nonce):
    assert not valid_signature(TOKEN, signature, timestamp, nonce)


def test_no_token_means_nothing_is_valid():
    assert not valid_signature("", sign("", "1", "n"), "1", "n")


def envelope(app_id=APP_ID, key=AES_KEY):
    raw = WeChatCrypto(TOKEN, key, app_id).encrypt_message("<xml><MsgType>text</MsgType></xml>", "n1", "1700000000")
    return screen_xml(raw)


def test_safe_mode_round_trip_with_wechatpy():
    mode = SafeMode(TOKEN, AES_KEY, APP_ID)
    sealed = envelope()
    assert mode.decrypt(sealed["Encrypt"], sealed["MsgSignature"], "1700000000", "n1") == \
        "<xml><MsgType>text</MsgType></xml>"
    reply = mode.encrypt("<xml><Content>ok</Content></xml>", "n2", "1700000001")
    parsed = screen_xml(reply)
    assert WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(
        parsed, parsed["MsgSignature"], "1700000001", "n2") == "<xml><Content>ok</Content></xml>"


def test_wrong_msg_signature_is_forged():
    with pytest.raises(ForgedRequest):
        SafeMode(TOKEN, AES_KEY, APP_ID).decrypt(envelope()["Encrypt"], "0" * 40, "1700000000", "n1")


def test_body_for_another_app_id_is_forged():
    sealed = envelope(app_id="wxsomeoneelse000")
    with pytest.raises(ForgedRequest):
        SafeMode(TOKEN, AES_KEY, APP_ID).decrypt(sealed["Encrypt"], sealed["MsgSignature"], "1700000000", "n1")


def test_garbage_ciphertext_is_undecryptable():
    garbage = base64.b64encode(b"short").decode()
    with pytest.raises((UndecryptableBody, ForgedRequest)):
        SafeMode(TOKEN, AES_KEY, APP_ID).decrypt(garbage, sign(TOKEN, "1", "n", garbage), "1", "n")
