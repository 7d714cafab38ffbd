from bot.ratelimit import RateLimiter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_flood_from_one_key_does_not_starve_another():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1, burst=3, clock=clock)
    assert [limiter.allow("flooder") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.allow("someone-else")
    assert limiter.retry_after("flooder") == 1.0


def test_tokens_come_back_with_time_up_to_the_burst():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2, burst=2, clock=clock)
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    clock.now = 0.5
    assert limiter.allow("a") and not limiter.allow("a")
    clock.now = 100
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]


def test_memory_is_bounded_by_forgetting_the_least_recent_key():
    limiter = RateLimiter(rate_per_s=0.001, burst=1, max_keys=2, clock=Clock())
    assert limiter.allow("a") and limiter.allow("b") and limiter.allow("c")
    assert limiter.allow("a")  # forgotten, so a fresh bucket
    assert not limiter.allow("c")
