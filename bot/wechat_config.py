"""Settings of the WeChat channel, read from the environment (credentials.yml may override them).

Rasa's `${VAR}` substitution in credentials.yml aborts the server when a variable is unset, so the channel
reads WECHAT_* itself: `make run` starts without them and the endpoint then answers 503 until configured.
See credentials.example.env for every setting.
"""
from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# WeChat drops a reply that is not back within 5 s (measured on its side, network included).
DEFAULT_REPLY_DEADLINE_S = 4.0
MAX_REPLY_DEADLINE_S = 4.5
MAX_BODY_BYTES = 32 * 1024  # real messages are < 2 KB; encrypted ones ~4/3 of that

# credentials.yml key -> environment variable
SOURCES = {
    "token": "WECHAT_TOKEN",
    "app_id": "WECHAT_APP_ID",
    "app_secret": "WECHAT_APP_SECRET",
    "aes_key": "WECHAT_AES_KEY",
    "api_base": "WECHAT_API_BASE",
    "reply_deadline": "WECHAT_REPLY_DEADLINE",
}


class WeChatConfigError(ValueError):
    pass


@dataclass(frozen=True)
class WeChatSettings:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    aes_key: str = ""
    api_base: str = DEFAULT_API_BASE
    reply_deadline_s: float = DEFAULT_REPLY_DEADLINE_S
    max_body_bytes: int = MAX_BODY_BYTES

    @property
    def configured(self) -> bool:
        return bool(self.token)

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_key)

    @property
    def can_push(self) -> bool:
        """Customer-service messages (late and long answers) need the AppID and AppSecret."""
        return bool(self.app_id and self.app_secret)

    @classmethod
    def load(cls, credentials: Optional[Mapping[str, Any]] = None,
             environ: Optional[Mapping[str, str]] = None) -> "WeChatSettings":
        credentials = credentials or {}
        environ = os.environ if environ is None else environ

        def value(key: str) -> str:
            given = credentials.get(key)
            return str(given if given not in (None, "") else environ.get(SOURCES[key], "")).strip()

        settings = cls(token=value("token"), app_id=value("app_id"), app_secret=value("app_secret"),
                       aes_key=value("aes_key"), api_base=(value("api_base") or DEFAULT_API_BASE).rstrip("/"),
                       reply_deadline_s=_deadline(value("reply_deadline")))
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.aes_key:
            if not self.app_id:
                raise WeChatConfigError("WECHAT_AES_KEY needs WECHAT_APP_ID: safe mode checks the AppID")
            if len(self.aes_key) != 43 or not _is_aes_key(self.aes_key):
                raise WeChatConfigError("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
        if not self.api_base.startswith(("https://", "http://")):
            raise WeChatConfigError("WECHAT_API_BASE must be an http(s) URL")


def _is_aes_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _deadline(raw: str) -> float:
    if not raw:
        return DEFAULT_REPLY_DEADLINE_S
    try:
        seconds = float(raw)
    except ValueError:
        raise WeChatConfigError(f"WECHAT_REPLY_DEADLINE must be seconds, got {raw!r}") from None
    if not 0 < seconds <= MAX_REPLY_DEADLINE_S:
        raise WeChatConfigError(f"WECHAT_REPLY_DEADLINE must be in (0, {MAX_REPLY_DEADLINE_S}] seconds")
    return seconds
