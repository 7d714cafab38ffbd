"""The live handoff queue: state rules (unit) and the HTTP flow against a fake Rasa API and WeChat API."""
import datetime as dt
import os
import secrets
import shutil
from pathlib import Path

import pytest

from service import core
from service import identity
from service.config import PROJECT_ROOT, Settings
from service.handoff_routes import QUEUE
from service.handoff import HandoffError, HandoffQueue, OfficeHours, channel_of
from service.rasa_api import transcript
from service.users import UserStore
from tests.support.fake_wechat_api import FakeWeChatApi
from tests.service.conftest import RunningApp
from tests.service.fake_rasa import FakeRasaApi

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Short questions retrieval alone answers weakly: for some of them an out_of_scope intent at 0.99 tips the decision
# to no_answer. Which ones depends on the calibrated weights (knowledge/retrieval.yaml), so the test looks for one.
COPY_CANDIDATES = ("开个网店", "网店", "跑滴滴", "当保姆", "开网店", "做直播", "送快递", "做代驾", "开出租", "开小货车", "开顺风车")


def at(year, month, day, hour, minute=0) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).timestamp()


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


# --- unit -------------------------------------------------------------------------------------------------
def test_office_hours():
    hours = OfficeHours.parse("1-5 09:00-17:30")
    assert hours.open_at(at(2026, 12, 1, 10))        # Tuesday morning
    assert not hours.open_at(at(2026, 12, 1, 18))    # after work
    assert not hours.open_at(at(2026, 12, 5, 10))    # Saturday
    assert OfficeHours.parse("always").open_at(at(2026, 12, 5, 3))
    with pytest.raises(ValueError):
        OfficeHours.parse("weekdays")


@pytest.mark.parametrize("sender,tracker_channel,expected", [
    ("web:1f2e", "rest", "web"), ("web-1f2e", "rest", "web"), ("wechat:oAbC", None, "wechat"),
    ("oAbCdEf", "wechat", "wechat"), ("demo", "rest", "rest"), ("demo", None, "rest")])
def test_channel_comes_from_the_id_prefix_or_the_tracker(sender, tracker_channel, expected):
    assert channel_of(sender, tracker_channel) == expected


@pytest.fixture()
def queue(tmp_path):
    return HandoffQueue(tmp_path / "handoff.db", OfficeHours.parse("1-5 09:00-17:30"), clock=Clock(at(2026, 12, 1, 10)))


def test_queue_file_is_private_and_questions_masked(queue):
    handoff, _ = queue.enqueue("web:a", "user_request", "web", "我的电话13812345678，身份证610302199001011234")
    assert queue.path.stat().st_mode & 0o777 == 0o600
    assert "13812345678" not in handoff.question and "610302199001011234" not in handoff.question
    assert handoff.question.endswith("1234")


def test_enqueue_is_idempotent_and_positions_count_the_queue(queue):
    first, created = queue.enqueue("web:a", "user_request", "web")
    again, created_again = queue.enqueue("web:a", "user_request", "web")
    second, _ = queue.enqueue("wechat:b", "no_answer", "wechat")
    assert created and not created_again and again.id == first.id
    assert (queue.position(first), queue.position(second)) == (0, 1)
    queue.claim(first.id, "li")
    assert queue.position(queue.get(second.id)) == 0


def test_out_of_hours_is_recorded_and_stays_queued(queue):
    queue.clock.now = at(2026, 12, 5, 20)  # Saturday evening
    handoff, _ = queue.enqueue("web:a", "user_request", "web")
    assert handoff.out_of_hours and handoff.status == "queued"
    assert [h.id for h in queue.open_handoffs()] == [handoff.id]


def test_claim_reply_resolve_rules(queue):
    handoff, _ = queue.enqueue("web:a", "user_request", "web")
    with pytest.raises(HandoffError) as unclaimed:
        queue.held_by(handoff.id, "li")
    assert unclaimed.value.status == 409
    queue.claim(handoff.id, "li")
    assert queue.claim(handoff.id, "li").claimed_by == "li"  # claiming twice is harmless
    with pytest.raises(HandoffError):
        queue.claim(handoff.id, "wang")
    with pytest.raises(HandoffError):
        queue.resolve(handoff.id, "wang")
    assert queue.resolve(handoff.id, "li").status == "resolved"
    assert queue.open_for("web:a") is None
    new, created = queue.enqueue("web:a", "user_request", "web")
    assert created and new.id != handoff.id  # asking again later opens a new conversation


def test_unclaim_puts_it_back_in_place(queue):
    first, _ = queue.enqueue("web:a", "user_request", "web")
    second, _ = queue.enqueue("web:b", "user_request", "web")
    queue.claim(first.id, "li")
    queue.unclaim(first.id)
    assert (queue.position(queue.get(first.id)), queue.position(queue.get(second.id))) == (0, 1)


def test_transcript_masks_numbers_and_marks_agent_and_pause():
    tracker = {"events": [
        {"event": "user", "text": "我的卡号6222020200112233445，电话13812345678", "timestamp": 1, "input_channel": "rest"},
        {"event": "bot", "text": "好的，已为您转接人工客服。", "timestamp": 2},
        {"event": "pause", "timestamp": 3},
        {"event": "user", "text": "人呢", "timestamp": 4, "input_channel": "rest"},
        {"event": "bot", "text": "您好，我是小李", "timestamp": 5, "metadata": {"agent": "li"}},
        {"event": "user", "text": "/human_handoff", "timestamp": 6,
         "parse_data": {"intent": {"name": "human_handoff"}}},
    ]}
    conversation = transcript("web:a", tracker)
    shown = " ".join(line.text for line in conversation.lines)
    assert "6222020200112233445" not in shown and "13812345678" not in shown and "5678" in shown
    assert [line.author for line in conversation.lines] == ["user", "bot", "event", "user", "agent", "user"]
    assert conversation.lines[4].agent == "li" and conversation.paused
    assert conversation.last_user_at == 6 and conversation.channel == "rest"


# --- HTTP -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The policy service wired to a fake Rasa API and a fake WeChat customer-service API."""
    var = Path(tmp_path_factory.mktemp("handoff-var"))
    shutil.copytree(PROJECT_ROOT / "knowledge" / "parameters", var / "parameters")
    rasa = FakeRasaApi(secrets.token_hex(8)).start()
    wechat = FakeWeChatApi("wx" + secrets.token_hex(8), secrets.token_hex(16)).start()
    saved = {key: os.environ.get(key) for key in ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_API_BASE")}
    os.environ.update(WECHAT_APP_ID=wechat.app_id, WECHAT_APP_SECRET=wechat.app_secret, WECHAT_API_BASE=wechat.url)
    settings = Settings(db_path=var / "knowledge.db", index_dir=var / "index", encoder=None, rasa_url=rasa.url,
                        staff_token="", parameters_dir=var / "parameters", rasa_token=rasa.token,
                        handoff_hours="always")
    try:
        app = RunningApp(settings).start()
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    queue = app.runner.app[QUEUE]
    rasa.clock = lambda: queue.clock()  # events are stamped by the clock the queue judges them by (tests inject it)
    users = UserStore(settings.users_db)
    users.add("li", "long enough password", "agent")
    users.add("wang", "long enough password", "agent")
    tokens = {name: {"Authorization": f"Bearer {users.issue_token(name)}"} for name in ("li", "wang")}
    yield app, rasa, wechat, tokens
    app.stop()
    rasa.stop()
    wechat.stop()


def file_handoff(app, sender, reason="user_request", channel="rest", rasa=None):
    """What action_handoff does: file the conversation; Rasa then logs the action in the tracker."""
    response = app.post("/api/handoff", json={"sender": sender, "reason": reason, "question": "", "channel": channel})
    if rasa is not None:
        rasa.action_ran(sender, "action_handoff")
    return response


def chat_cookie(app, sender):
    """The signed cookie the web chat's browser holds for the conversation `web:<id>`."""
    secret = app.runner.app[core.CHAT_SECRET]
    return {identity.COOKIE: identity.signed(secret, sender.removeprefix("web:"))}


def test_junk_ids_and_a_missing_chat_cookie_get_json_4xx(world):
    app, _, _, tokens = world
    for handoff in ("abc", "0", str(2 ** 70)):
        response = app.get(f"/api/agent/queue/{handoff}", headers=tokens["li"])
        assert response.status_code == 404 and response.json() == {"error": "no such conversation"}
    retry = app.post(f"/api/agent/messages/{2 ** 70}/retry", headers=tokens["li"])
    assert retry.status_code == 404 and retry.json()["error"] == "no such message"
    polled = app.get("/api/chat/agent-messages")
    assert polled.status_code == 401 and "send a message first" in polled.json()["error"]


def test_web_handoff_claim_reply_resolve(world):
    app, rasa, _, tokens = world
    sender = "web:" + secrets.token_hex(6)
    rasa.user_says(sender, "我电话13812345678，摆摊要交占道费吗")
    rasa.user_says(sender, "转人工")
    filed = file_handoff(app, sender, rasa=rasa)
    assert filed.status_code == 201
    again = file_handoff(app, sender).json()
    assert again["id"] == filed.json()["id"] and again["created"] is False
    handoff_id = again["id"]

    listed = app.get("/api/agent/queue", headers=tokens["li"]).json()["conversations"]
    mine = next(c for c in listed if c["id"] == handoff_id)
    assert mine["reason_text"] == "用户要求转人工" and mine["waiting_s"] >= 0 and mine["channel"] == "web"

    detail = app.get(f"/api/agent/queue/{handoff_id}", headers=tokens["li"]).json()
    shown = " ".join(line["text"] for line in detail["transcript"])
    assert "13812345678" not in shown and "5678" in shown

    assert app.post(f"/api/agent/queue/{handoff_id}/reply", headers=tokens["li"],
                    json={"text": "您好"}).status_code == 409  # claim first
    assert app.post(f"/api/agent/queue/{handoff_id}/claim", headers=tokens["li"]).status_code == 200
    assert rasa.paused(sender)
    assert app.post(f"/api/agent/queue/{handoff_id}/claim", headers=tokens["wang"]).status_code == 409
    assert app.post(f"/api/agent/queue/{handoff_id}/reply", headers=tokens["wang"],
                    json={"text": "插话"}).status_code == 409

    sent = app.post(f"/api/agent/queue/{handoff_id}/reply", headers=tokens["li"], json={"text": "您好，我是人工客服小李"})
    assert sent.status_code == 201 and sent.json()["message"]["status"] == "pending"
    assert rasa.events[sender][-1]["metadata"] == {"agent": "li"}  # the transcript has the agent's line
    polled = app.get("/api/chat/agent-messages", cookies=chat_cookie(app, sender)).json()
    assert [(m["from"], m["label"], m["text"]) for m in polled["messages"]] == [("agent", "人工客服", "您好，我是人工客服小李")]
    assert polled["handoff"]["status"] == "claimed"
    cursor = polled["messages"][-1]["id"]
    polled_again = app.get("/api/chat/agent-messages", params={"after": cursor}, cookies=chat_cookie(app, sender))
    assert polled_again.json()["messages"] == []

    assert app.post(f"/api/agent/queue/{handoff_id}/resolve", headers=tokens["li"]).status_code == 200
    assert not rasa.paused(sender) and rasa.kinds(sender)[-2:] == ["resume", "bot"]
    notice = app.get("/api/chat/agent-messages", params={"after": cursor}, cookies=chat_cookie(app, sender)).json()
    assert notice["messages"][0]["from"] == "bot" and "智能助手" in notice["messages"][0]["text"]
    assert notice["handoff"] is None


def test_suggestions_follow_the_citizens_last_message(world):
    app, rasa, _, tokens = world
    sender = "web:" + secrets.token_hex(6)
    rasa.user_says(sender, "创业担保贷款最多能贷多少")
    handoff_id = file_handoff(app, sender).json()["id"]
    detail = app.get(f"/api/agent/queue/{handoff_id}", headers=tokens["li"]).json()
    cards = detail["suggestions"]["cards"]
    assert cards[0]["clause_id"] == "baoji-2020-49:2.1" and cards[0]["location"] == "二、（一）"


def test_wechat_reply_goes_through_the_customer_service_api(world):
    app, rasa, wechat, tokens = world
    openid = "o" + secrets.token_hex(8)
    sender = "wechat:" + openid
    rasa.user_says(sender, "转人工", channel="wechat")
    handoff_id = file_handoff(app, sender, channel="wechat", rasa=rasa).json()["id"]
    app.post(f"/api/agent/queue/{handoff_id}/claim", headers=tokens["li"])
    sent = app.post(f"/api/agent/queue/{handoff_id}/reply", headers=tokens["li"], json={"text": "您好，请讲"}).json()
    assert sent["message"]["status"] == "sent"
    assert [m.content for m in wechat.messages_to(openid)] == ["【人工客服】您好，请讲"]
    app.post(f"/api/agent/queue/{handoff_id}/resolve", headers=tokens["li"])
    assert "智能助手" in wechat.messages_to(openid)[-1].content


def test_wechat_48h_window_and_failures_are_visible_and_retried(world):
    app, rasa, wechat, tokens = world
    openid = "o" + secrets.token_hex(8)
    rasa.user_says(openid, "转人工", channel="wechat", at=hours_ago(app, 49))
    handoff_id = file_handoff(app, openid, channel="wechat", rasa=rasa).json()["id"]
    app.post(f"/api/agent/queue/{handoff_id}/claim", headers=tokens["li"])
    late = app.post(f"/api/agent/queue/{handoff_id}/reply", headers=tokens["li"], json={"text": "还在吗"}).json()
    assert late["message"]["status"] == "expired" and "48" in late["message"]["error"]
    assert wechat.messages_to(openid) == []

    rasa.user_says(openid, "在的", channel="wechat")
    secret, wechat.app_secret = wechat.app_secret, "rotated"
    wechat.expire_tokens()
    try:
        failed = app.post(f"/api/agent/queue/{handoff_id}/reply", headers=tokens["li"], json={"text": "好的"}).json()
        assert failed["message"]["status"] == "failed" and failed["message"]["error"]
        outbox = app.get(f"/api/agent/queue/{handoff_id}", headers=tokens["li"]).json()["outbox"]
        assert [m["status"] for m in outbox] == ["expired", "failed"]
    finally:
        wechat.app_secret = secret
    retried = app.post(f"/api/agent/messages/{failed['message']['id']}/retry", headers=tokens["li"]).json()
    assert retried["message"]["status"] == "sent"
    assert [m.content for m in wechat.messages_to(openid)] == ["【人工客服】好的"]


def hours_ago(app, hours: float) -> float:
    """A moment on the queue's clock, the one the 48-hour window is judged by."""
    return app.runner.app[QUEUE].clock() - hours * 3600


def test_claim_is_refused_when_the_bot_cannot_be_paused(world, tmp_path):
    app, rasa, _, tokens = world
    sender = "web:" + secrets.token_hex(6)
    handoff_id = file_handoff(app, sender, rasa=rasa).json()["id"]
    rasa.refuse_appends = True
    try:
        refused = app.post(f"/api/agent/queue/{handoff_id}/claim", headers=tokens["li"])
    finally:
        rasa.refuse_appends = False
    assert refused.status_code == 503
    assert app.get(f"/api/agent/queue/{handoff_id}", headers=tokens["li"]).json()["handoff"]["status"] == "queued"


def test_a_handoff_filed_without_the_bot_cannot_be_claimed(world):
    """Posting someone's sender id to /api/handoff must not let an agent silence the bot for them."""
    app, rasa, _, tokens = world
    sender = "wechat:o" + secrets.token_hex(8)
    rasa.user_says(sender, "创业担保贷款最多能贷多少", channel="wechat")  # a real conversation that never asked
    handoff_id = file_handoff(app, sender).json()["id"]
    refused = app.post(f"/api/agent/queue/{handoff_id}/claim", headers=tokens["li"])
    assert refused.status_code == 409 and "action_handoff" in refused.json()["error"]
    assert not rasa.paused(sender)


@pytest.mark.parametrize("body", [{}, {"sender": ""}, {"sender": "x" * 201}, [1]])
def test_bad_handoff_requests_are_400(world, body):
    app, *_ = world
    assert app.post("/api/handoff", json=body).status_code == 400


@pytest.mark.parametrize("handoff_id", ["junk", "0", "99999999999999999999"])
def test_a_conversation_id_no_row_can_have_is_not_found(world, handoff_id):
    app, _, _, tokens = world
    answer = app.get(f"/api/agent/queue/{handoff_id}", headers=tokens["li"])
    assert answer.status_code == 404
    assert answer.json() == {"error": "no such conversation"}


def test_out_of_hours_handoff_is_recorded_and_stays_in_the_queue(world, monkeypatch):
    """HANDOFF_HOURS with the queue's injected clock: Saturday evening, then Monday morning."""
    app, rasa, _, tokens = world
    queue = app.runner.app[QUEUE]
    clock = Clock(at(2026, 12, 5, 20))
    monkeypatch.setattr(queue, "hours", OfficeHours.parse("1-5 09:00-17:30"))
    monkeypatch.setattr(queue, "clock", clock)
    sender = "web:" + secrets.token_hex(6)
    filed = file_handoff(app, sender).json()
    rasa.action_ran(sender, "action_handoff", at=clock.now)
    assert filed["created"] and filed["open_now"] is False  # action_handoff then says 留言已记录，工作日会有人回复
    listed = app.get("/api/agent/queue", headers=tokens["li"]).json()
    assert listed["open_now"] is False
    mine = next(c for c in listed["conversations"] if c["id"] == filed["id"])
    assert mine["status"] == "queued" and mine["out_of_hours"] is True

    clock.now = at(2026, 12, 7, 9, 30)  # Monday: still waiting, for the whole weekend
    listed = app.get("/api/agent/queue", headers=tokens["li"]).json()
    mine = next(c for c in listed["conversations"] if c["id"] == filed["id"])
    assert listed["open_now"] is True and mine["status"] == "queued"
    assert mine["waiting_s"] == int(at(2026, 12, 7, 9, 30) - at(2026, 12, 5, 20))
    assert app.post(f"/api/agent/queue/{filed['id']}/claim", headers=tokens["li"]).status_code == 200


def test_asking_again_while_waiting_reports_the_place_in_the_queue(world):
    app, rasa, _, tokens = world
    ahead = [file_handoff(app, "web:" + secrets.token_hex(6), rasa=rasa).json() for _ in range(2)]
    sender = "web:" + secrets.token_hex(6)
    first = file_handoff(app, sender, rasa=rasa).json()
    again = file_handoff(app, sender).json()  # 「人呢？」: action_handoff asks again
    assert again["id"] == first["id"] and again["created"] is False and again["position"] == first["position"] >= 2
    app.post(f"/api/agent/queue/{ahead[-1]['id']}/claim", headers=tokens["li"])
    assert file_handoff(app, sender).json()["position"] == first["position"] - 1


def answer_kind(app, question: str, intent: str = "") -> str:
    body = {"q": question, "intent": intent, "confidence": 0.99} if intent else {"q": question}
    return app.post("/api/answer", json=body).json()["kind"]


def test_copied_answer_uses_the_intent_rasa_gives_the_bot(world):
    """The console asks Rasa's NLU, as the bot's answer action does, and composes with that evidence."""
    app, rasa, _, tokens = world
    question = next((q for q in COPY_CANDIDATES if answer_kind(app, q, "out_of_scope") != answer_kind(app, q)), None)
    assert question, "no candidate question whose answer the intent decides: add one to COPY_CANDIDATES"
    rasa.intents[question] = ("out_of_scope", 0.99)
    console = app.post("/api/agent/answer", json={"q": question}, headers=tokens["li"]).json()
    assert rasa.parsed[-1] == question and console["nlu"] == {"intent": "out_of_scope", "confidence": 0.99}
    bot = app.post("/api/answer", json={"q": question, "intent": "out_of_scope", "confidence": 0.99}).json()
    without_nlu = app.post("/api/answer", json={"q": question}).json()
    assert console["parts"] == bot["parts"] and console["kind"] == bot["kind"]
    assert bot["kind"] != without_nlu["kind"]  # the intent decides this one: ignoring it would copy another answer
    assert console["copy_text"] == "\n\n".join(bot["parts"])
