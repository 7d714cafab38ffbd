import base64
import os

import pytest

from bot.wechat_config import DEFAULT_API_BASE, WeChatConfigError, WeChatSettings

AES_KEY = base64.b64encode(os.urandom(32)).decode()[:-1]


def test_unset_environment_gives_an_unconfigured_channel():
    settings = WeChatSettings.load(None, {})
    assert not settings.configured and not settings.safe_mode and not settings.can_push
    assert settings.api_base == DEFAULT_API_BASE and settings.reply_deadline_s == 4.0


def test_environment_is_read_and_credentials_override_it():
    env = {"WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s", "WECHAT_AES_KEY": AES_KEY,
           "WECHAT_API_BASE": "http://127.0.0.1:9/", "WECHAT_REPLY_DEADLINE": "3.5"}
    settings = WeChatSettings.load({"token": "from-file", "app_id": ""}, env)
    assert settings.token == "from-file" and settings.app_id == "wx1"
    assert settings.safe_mode and settings.can_push
    assert settings.api_base == "http://127.0.0.1:9" and settings.reply_deadline_s == 3.5


@pytest.mark.parametrize("env", [
    {"WECHAT_AES_KEY": AES_KEY},                                  # safe mode needs the AppID
    {"WECHAT_APP_ID": "wx1", "WECHAT_AES_KEY": "too-short"},
    {"WECHAT_APP_ID": "wx1", "WECHAT_AES_KEY": "!" * 43},
    {"WECHAT_REPLY_DEADLINE": "5"},                                # WeChat gives up after 5 s
    {"WECHAT_REPLY_DEADLINE": "soon"},
    {"WECHAT_API_BASE": "ftp://x"},
])
def test_bad_settings_fail_at_startup_with_a_reason(env):
    with pytest.raises(WeChatConfigError):
        WeChatSettings.load(None, {"WECHAT_TOKEN": "t", **env})
