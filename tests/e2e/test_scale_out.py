"""Scale-out profile: two Rasa servers over one PostgreSQL tracker store and one Redis lock store.

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database `test` to log in to) and Redis on 127.0.0.1:6379
(.ci/run checks both). Each run uses its own database and lock-key prefix, dropped afterwards.
"""
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.services import Services, free_port, reply_text


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    database = f"policybote2e{uuid.uuid4().hex[:8]}"  # also the Redis key prefix: alphanumeric
    running = Services(workdir=tmp_path_factory.mktemp("scale-out"))
    running.run_options = {
        "store_profile": "postgres-redis",
        "postgres": {"url": "127.0.0.1", "port": 5432, "db": database, "username": "postgres", "login_db": "test"},
        "redis": {"url": "127.0.0.1", "port": 6379, "db": 1, "key_prefix": database},
    }
    try:
        running.start()
        second = running.start_rasa_replica(free_port())
    except BaseException:
        running.stop()
        raise
    yield running, [running.rasa_url, second]
    running.stop()
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c",
                    f'DROP DATABASE IF EXISTS "{database}"'], capture_output=True, timeout=60)


def say(url, sender, message, timeout=30):
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=timeout)
    response.raise_for_status()
    return response.json()


def test_a_half_filled_screening_form_survives_alternating_replicas(replicas):
    _, urls = replicas
    sender = f"scale-{uuid.uuid4().hex[:8]}"
    steps = ["帮我算算我能享受啥扶持政策", "三十五", "我是农民工", "想开个小吃店"]
    replies = [reply_text(say(urls[number % 2], sender, text)) for number, text in enumerate(steps)]
    assert "年龄" in replies[0]
    text = replies[-1]
    assert "5000" in text and "一次性创业补贴" in text and "宝政办发〔2020〕49号" in text


def test_ten_concurrent_messages_of_one_sender_are_all_answered(replicas):
    running, urls = replicas
    sender = f"burst-{uuid.uuid4().hex[:8]}"
    messages = [f"你好{number}" for number in range(10)]
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda pair: say(urls[pair[0] % 2], sender, pair[1], timeout=60),
                                enumerate(messages)))
    assert all(reply_text(reply) for reply in replies)
    # a reply later than the channel's deadline says so; that message is still processed, in ticket order
    deadline = time.monotonic() + 60
    while len(stored := postgres_user_texts(running, "rest:" + sender)) < len(messages) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sorted(stored) == sorted(messages)


def postgres_user_texts(running, sender_id):
    database = running.run_options["postgres"]["db"]
    query = (f"SELECT data::json->>'text' FROM events WHERE sender_id = '{sender_id}' "
             f"AND type_name = 'user' ORDER BY id")
    result = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-At", "-c", query],
                            capture_output=True, text=True, timeout=60, check=True)
    return [line for line in result.stdout.splitlines() if line]
