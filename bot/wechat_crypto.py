"""Request signatures and safe mode (消息加解密) for the WeChat channel, on top of wechatpy.

* `signature` (every request): SHA-1 of the sorted token, timestamp and nonce.
* `msg_signature` (safe mode): SHA-1 of the sorted token, timestamp, nonce and the Encrypt field.
Both are compared in constant time. Bodies are AES-256-CBC as WeChat specifies (wechatpy's WeChatCrypto),
and the AppID inside every decrypted body must be ours.
"""
from __future__ import annotations

import hmac
import time
from typing import Optional

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.utils import WeChatSigner


class ForgedRequest(ValueError):
    """A signature does not match, or the body was encrypted for another account."""


class UndecryptableBody(ValueError):
    """The Encrypt field is not a valid ciphertext."""


def sign(token: str, *parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return signer.signature


def valid_signature(token: str, signature: Optional[str], timestamp: Optional[str], nonce: Optional[str],
                    *extra: str) -> bool:
    if not (token and signature and timestamp and nonce):
        return False
    return hmac.compare_digest(sign(token, timestamp, nonce, *extra).encode(), signature.encode())


class SafeMode:
    """Decrypts requests and encrypts replies for one Official Account."""

    def __init__(self, token: str, aes_key: str, app_id: str):
        self.token = token
        self._crypto = WeChatCrypto(token, aes_key, app_id)

    def decrypt(self, encrypted: str, msg_signature: Optional[str], timestamp: str, nonce: str) -> str:
        if not encrypted or not valid_signature(self.token, msg_signature, timestamp, nonce, encrypted):
            raise ForgedRequest("msg_signature does not match")
        try:
            return self._crypto.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce)
        except InvalidAppIdException as error:
            raise ForgedRequest("encrypted for another AppID") from error
        except Exception as error:  # bad base64, block size, padding or length prefix
            raise UndecryptableBody(type(error).__name__) from error

    def encrypt(self, reply_xml: str, nonce: str, timestamp: Optional[str] = None) -> str:
        return self._crypto.encrypt_message(reply_xml, nonce, timestamp or str(int(time.time())))
