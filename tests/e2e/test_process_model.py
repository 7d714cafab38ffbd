"""The production process model under test: loopback binding, supervision, deadlines with a stopped process.

Deadlines are checked the way a user meets them: the HTTP client gives up at the deadline (requests'
timeout), so a reply that is later fails the test.
"""
import os
import signal
import time
import uuid
from contextlib import contextmanager

import pytest
import requests

from tests.e2e.services import reply_text

LOAN_QUESTION = "创业担保贷款最多能贷多少？"
RASA_DEADLINE_S = 4.0
WEB_CHAT_DEADLINE_S = 5.0


def new_sender() -> str:
    return f"proc-{uuid.uuid4().hex[:8]}"


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                    found.add(address)
    return found


LOOPBACK_V4, LOOPBACK_V6 = "0100007F", "00000000000000000000000001000000"


@pytest.mark.parametrize("program", ["actions", "rasa", "service"])
def test_internal_services_listen_on_loopback_only(services, program):
    port = {"actions": services.actions_port, "rasa": services.rasa_port, "service": services.service_port}[program]
    addresses = listening_addresses(port)
    assert addresses and addresses <= {LOOPBACK_V4, LOOPBACK_V6}, addresses


@contextmanager
def stopped(services, program):
    """`program` frozen with SIGSTOP (alive, accepting connections, never answering) for the block."""
    group = services.pid(program)  # supervisord starts each program as a process group (Sanic's workers too)
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


def test_hung_action_server_gets_a_polite_reply_within_rasa_deadline(services):
    services.say(new_sender(), LOAN_QUESTION)  # warm
    with stopped(services, "actions"):
        reply = requests.post(f"{services.rasa_url}/webhooks/rest/webhook", timeout=RASA_DEADLINE_S,
                              json={"sender": new_sender(), "message": LOAN_QUESTION}).json()
    assert reply and reply_text(reply)
    assert "20万" not in reply_text(reply)  # no answer could be composed, the user is told so


def test_hung_policy_service_gets_a_polite_reply_within_rasa_deadline(services):
    with stopped(services, "service"):
        reply = requests.post(f"{services.rasa_url}/webhooks/rest/webhook", timeout=RASA_DEADLINE_S,
                              json={"sender": new_sender(), "message": "摆摊要交占道费吗"}).json()
    assert reply_text(reply)


def test_hung_rasa_gets_a_polite_web_chat_reply_within_its_deadline(services):
    with stopped(services, "rasa"):
        response = requests.post(f"{services.service_url}/api/chat", json={"message": LOAN_QUESTION},
                                 timeout=WEB_CHAT_DEADLINE_S)
    assert response.status_code == 503
    assert response.json()["error"] and response.json()["messages"] == []


def wait_for_new_pid(services, program, old_pid, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            pid = services.pid(program)
            if pid and pid != old_pid:
                return pid
        except ValueError:  # supervisorctl prints an error while the program is between lives
            pass
        time.sleep(0.5)
    raise AssertionError(f"{program} was not restarted:\n{services.log_tail('supervisord')}")


@pytest.mark.parametrize("program", ["actions", "service", "rasa"])
def test_a_killed_process_is_restarted_alone_and_the_conversation_continues(services, program):
    sender = new_sender()
    assert "年龄" in reply_text(services.say(sender, "帮我算算我能享受啥扶持政策"))
    others = {name: services.pid(name) for name in ("actions", "service", "rasa") if name != program}
    killed = services.pid(program)
    os.killpg(killed, signal.SIGKILL)  # the program crashes, workers and all
    wait_for_new_pid(services, program, killed)
    services.wait_ready()
    assert {name: services.pid(name) for name in others} == others  # nobody else was restarted
    services.say(sender, "三十五")  # the half-filled form goes on where it was
    services.say(sender, "我是农民工")
    text = reply_text(services.say(sender, "想开个小吃店"))
    assert "一次性创业补贴" in text and "宝政办发〔2020〕49号" in text
