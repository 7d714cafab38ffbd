"""WeChat's side of the Official Account protocol, built with wechatpy as an independent client.

Builds what WeChat's servers post to a developer's URL — signed query strings, message XML, safe-mode
envelopes — and reads the replies back (decrypting them in safe mode).
"""
from __future__ import annotations

import itertools
import secrets
import time
from typing import Any, Dict, Optional, Tuple

from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import deserialize_reply
from wechatpy.utils import WeChatSigner

from bot.wechat_xml import screen_xml

_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def new_openid() -> str:
    return "o" + secrets.token_urlsafe(20)[:27]  # 28 characters, like a real OpenID


def message_xml(fields: Dict[str, Any]) -> str:
    nodes = "".join(f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
                    for k, v in fields.items())
    return f"<xml>{nodes}</xml>"


class WeChatServerSide:
    def __init__(self, token: str, app_id: str, aes_key: str, original_id: str):
        self.token = token
        self.app_id = app_id
        self.original_id = original_id
        self.crypto = WeChatCrypto(token, aes_key, app_id)

    # --- signing ---------------------------------------------------------------------------------
    def signature(self, timestamp: str, nonce: str, *extra: str) -> str:
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce, *extra)
        return signer.signature

    def signed_query(self, **extra: str) -> Dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        return {"signature": self.signature(timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}

    # --- messages --------------------------------------------------------------------------------
    def _base(self, openid: str, msg_type: str, create_time: Optional[int] = None) -> Dict[str, Any]:
        return {"ToUserName": self.original_id, "FromUserName": openid,
                "CreateTime": create_time or int(time.time()), "MsgType": msg_type}

    def text(self, openid: str, content: str, msg_id: Optional[int] = None, create_time: Optional[int] = None) -> str:
        return message_xml({**self._base(openid, "text", create_time), "Content": content,
                            "MsgId": msg_id or next(_msg_ids)})

    def voice(self, openid: str, recognition: str, msg_id: Optional[int] = None) -> str:
        return message_xml({**self._base(openid, "voice"), "MediaId": "media-" + secrets.token_hex(4),
                            "Format": "amr", "Recognition": recognition, "MsgId": msg_id or next(_msg_ids)})

    def image(self, openid: str) -> str:
        return message_xml({**self._base(openid, "image"), "PicUrl": "http://mmbiz.qpic.cn/x.jpg",
                            "MediaId": "media-" + secrets.token_hex(4), "MsgId": next(_msg_ids)})

    def event(self, openid: str, event: str, create_time: Optional[int] = None) -> str:
        return message_xml({**self._base(openid, "event", create_time), "Event": event, "EventKey": ""})

    # --- safe mode -------------------------------------------------------------------------------
    def encrypted(self, plain_xml: str) -> Tuple[Dict[str, str], str]:
        """(query, body) as WeChat posts them in safe mode."""
        return self.seal(self.signed_query(), plain_xml)

    def seal(self, query: Dict[str, str], plain_xml: str) -> Tuple[Dict[str, str], str]:
        """Encrypt `plain_xml` under `query`'s timestamp and nonce (its `signature` is kept, forged or not)."""
        if query.get("encrypt_type") == "aes":
            return query, plain_xml
        envelope = screen_xml(self.crypto.encrypt_message(plain_xml, query["nonce"], query["timestamp"]))
        body = message_xml({"ToUserName": self.original_id, "Encrypt": envelope["Encrypt"]})
        return {**query, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}, body

    def decrypt_reply(self, body: str) -> str:
        envelope = screen_xml(body)
        return self.crypto.decrypt_message(envelope, envelope["MsgSignature"], envelope["TimeStamp"],
                                           envelope["Nonce"])

    def reply(self, body: str) -> Any:
        """The passive reply (decrypted first in safe mode) as a wechatpy reply object (EmptyReply for "success")."""
        if "<Encrypt>" in body:
            body = self.decrypt_reply(body)
        return deserialize_reply("" if body == "success" else body)
