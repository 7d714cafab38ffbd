import base64
import os
import secrets

import pytest

from tests.support.fake_wechat_api import FakeWeChatApi
from tests.e2e.policy_proxy import PolicyProxy
from tests.e2e.services import Services


@pytest.fixture(scope="session")
def wechat_account():
    """A made-up Official Account: the WeChat channel of the test Rasa server is configured with it."""
    return {
        "token": secrets.token_hex(8),
        "app_id": "wx" + secrets.token_hex(8),
        "app_secret": secrets.token_hex(16),
        "aes_key": base64.b64encode(os.urandom(32)).decode()[:-1],  # EncodingAESKey: 43 characters
        "original_id": "gh_" + secrets.token_hex(6),
    }


@pytest.fixture(scope="session")
def fake_wechat_api(wechat_account):
    """The customer-service API (token + message/custom/send) the WeChat channel pushes late answers to."""
    api = FakeWeChatApi(wechat_account["app_id"], wechat_account["app_secret"]).start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def policy_proxy():
    """Sits between the action server and the policy service; tests can delay or rewrite answers."""
    proxy = PolicyProxy().start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def services(tmp_path_factory, wechat_account, fake_wechat_api, policy_proxy):
    """The three real services; the Rasa model loads once for the whole session (~50 s)."""
    running = Services(workdir=tmp_path_factory.mktemp("services"))
    running.extra_credentials = "bot.wechat.WeChatInput:\n"
    running.extra_env = {
        "WECHAT_TOKEN": wechat_account["token"], "WECHAT_APP_ID": wechat_account["app_id"],
        "WECHAT_APP_SECRET": wechat_account["app_secret"], "WECHAT_AES_KEY": wechat_account["aes_key"],
        "WECHAT_API_BASE": fake_wechat_api.url,
    }
    policy_proxy.target = running.service_url
    running.actions_env = {"POLICY_SERVICE_URL": policy_proxy.url}
    try:
        running.start()
    except BaseException:
        running.stop()  # no stray servers when one of them fails to come up
        raise
    yield running
    running.stop()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
