import asyncio

from bot.wechat_dedup import ASYNC, PASSIVE, DedupWindow


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


async def test_concurrent_copies_share_one_run():
    runs = []

    async def work():
        runs.append(1)
        await asyncio.sleep(0.05)
        return "answer"

    window = DedupWindow()

    async def copy():
        pending, _ = window.claim("msg:1", work)
        return await pending.task

    assert await asyncio.gather(copy(), copy(), copy()) == ["answer"] * 3
    assert len(runs) == 1


async def test_only_first_claim_starts():
    window = DedupWindow()

    async def work():
        return 1

    first = window.claim("k", work)
    second = window.claim("k", work)
    assert first[1] is True and second[1] is False and first[0] is second[0]
    await first[0].task


async def test_delivery_is_decided_once():
    window = DedupWindow()

    async def work():
        return 1

    pending, _ = window.claim("k", work)
    assert pending.decide(ASYNC) is True
    assert pending.decide(PASSIVE) is False
    assert pending.delivery == ASYNC
    await pending.task


async def test_entries_expire_after_ttl_and_size_is_bounded():
    clock = Clock()
    window = DedupWindow(ttl_s=10, max_entries=3, clock=clock)

    async def work():
        return 1

    pendings = [window.claim(f"k{i}", work)[0] for i in range(5)]
    assert len(window) == 3
    clock.now += 11
    _, started = window.claim("k4", work)
    assert started is True  # the old copy is outside the window: a new message
    assert len(window) == 1
    await asyncio.gather(*(p.task for p in pendings))
