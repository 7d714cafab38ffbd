import pytest

from bot.wechat_api import CustomerServiceApi, WeChatApiError
from tests.support.fake_wechat_api import FakeWeChatApi


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake():
    api = FakeWeChatApi("wx1", "secret").start()
    yield api
    api.stop()


async def test_token_is_cached_until_it_expires(fake):
    clock = Clock()
    api = CustomerServiceApi("wx1", "secret", fake.url, clock=clock)
    await api.send_text("oUser", "第一条")
    await api.send_text("oUser", "第二条")
    assert fake.token_requests == 1
    clock.now += 7200
    await api.send_text("oUser", "第三条")
    assert fake.token_requests == 2
    assert [m.content for m in fake.messages_to("oUser")] == ["第一条", "第二条", "第三条"]


async def test_token_invalidated_elsewhere_is_refreshed_once(fake):
    api = CustomerServiceApi("wx1", "secret", fake.url)
    await api.send_text("oUser", "a")
    fake.expire_tokens()
    await api.send_text("oUser", "b")
    assert fake.token_requests == 2 and fake.rejected_sends == 1
    assert len(fake.messages_to("oUser")) == 2


async def test_wrong_secret_is_an_error_without_the_secret_in_it(fake):
    api = CustomerServiceApi("wx1", "wrong-secret", fake.url)
    with pytest.raises(WeChatApiError) as error:
        await api.send_text("oUser", "a")
    assert "wrong-secret" not in str(error.value)


async def test_unreachable_api_is_an_error():
    with pytest.raises(WeChatApiError):
        await CustomerServiceApi("wx1", "s", "http://127.0.0.1:9").send_text("oUser", "a")
