from bot.wechat_replay import ReplayGuard


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_timestamps_more_than_300_s_off_are_refused():
    clock = Clock()
    guard = ReplayGuard(wall_clock=clock)
    assert guard.admit(str(int(clock.now) - 300), "n1", "msg:1")
    assert not guard.admit(str(int(clock.now) - 301), "n2", "msg:2")
    assert not guard.admit(str(int(clock.now) + 301), "n3", "msg:3")
    assert not guard.admit("1000000000", "n4", "msg:4")
    assert not guard.admit("not-a-number", "n5", "msg:5")


def test_a_reused_timestamp_and_nonce_for_another_message_is_refused():
    clock = Clock()
    guard = ReplayGuard(wall_clock=clock)
    timestamp = str(int(clock.now))
    assert guard.admit(timestamp, "abc", "msg:1")
    assert not guard.admit(timestamp, "abc", "msg:2")
    assert guard.admit(timestamp, "abc", "msg:1")  # WeChat retrying the same MsgId
    assert guard.admit(timestamp, "abd", "msg:2")


def test_nonces_are_forgotten_once_their_timestamp_left_the_window():
    clock = Clock()
    guard = ReplayGuard(wall_clock=clock)
    assert guard.admit(str(int(clock.now)), "abc", "msg:1")
    clock.now += 301
    assert len(guard._seen) == 1
    assert guard.admit(str(int(clock.now)), "fresh", "msg:9")
    assert len(guard._seen) == 1  # the old nonce is gone; its timestamp alone refuses a replay now
