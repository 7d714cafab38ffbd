"""The policy service over real HTTP, with the real knowledge library and the offline encoder."""
import pytest

from bot.pseudonym import pseudonym
from tests.service.conftest import STAFF_TOKEN

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}


def test_healthz_describes_the_index(policy_service):
    body = policy_service.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["index"]


def test_search_follows_the_contract(policy_service):
    body = policy_service.get("/api/search", params={"q": "创业担保贷款最多能贷多少", "k": 3}).json()
    assert set(body) == {"query", "normalized", "answerable", "hits"}
    assert body["answerable"] is True
    assert 1 <= len(body["hits"]) <= 3
    top = body["hits"][0]
    assert set(top) == {"clause_id", "doc", "article", "title", "text", "score", "departments"}
    assert top["article"] == 1 and isinstance(top["article"], int)
    assert "市人社局" in top["departments"]
    scores = [hit["score"] for hit in body["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_search_normalises_traditional_input(policy_service):
    body = policy_service.get("/api/search", params={"q": "創業擔保貸款最多貸多少"}).json()
    assert "创业担保贷款" in body["normalized"]
    assert body["hits"][0]["article"] == 1


def test_search_rejects_unanswerable_question(policy_service):
    body = policy_service.get("/api/search", params={"q": "今天宝鸡下雨吗"}).json()
    assert body["answerable"] is False


@pytest.mark.parametrize("params,reason", [({}, "q"), ({"q": "   "}, "q"), ({"q": "贷款", "k": "x"}, "k"),
                                           ({"q": "贷" * 501}, "q")])
def test_search_bad_parameters_are_400_with_reason(policy_service, params, reason):
    response = policy_service.get("/api/search", params=params)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_answer_quotes_and_cites(policy_service):
    body = policy_service.post("/api/answer", json={"q": "创业担保贷款最多能贷多少？"}).json()
    assert body["answerable"] is True
    text = "\n".join(body["parts"])
    assert "20万" in text and "宝政办发〔2020〕49号" in text and "（一）" in text
    assert all(len(part.encode("utf-8")) <= 2048 for part in body["parts"])
    assert body["citations"][0]["clause_id"] == "baoji-2020-49:2.1"
    assert body["offer_screening"] is True  # article （一） has entitlements to calculate
    assert_complete_card(body["citations"][0])
    # the web chat's short form: the answer and a citation line, the quote left to the card
    assert "依据：宝政办发〔2020〕49号 二、（一）" in body["bubble"] and body["citations"][0]["quote"] not in body["bubble"]


@pytest.mark.parametrize("question", ["我48岁，开个修车铺，秦青优惠贷能办吗？", "我下岗了想摆个小吃摊，能贷款不？有没有补贴？",
                                      "开理发店要交登记费吗？能贷多少？"])
def test_every_answer_citation_is_a_complete_card_one_per_clause(policy_service, question):
    cards = policy_service.post("/api/answer", json={"q": question}).json()["citations"]
    assert cards
    assert len({card["clause_id"] for card in cards}) == len(cards)
    for card in cards:
        assert_complete_card(card)


def assert_complete_card(card: dict) -> None:
    """The one citation shape of knowledge.citations, whatever produced it."""
    assert card["doc_number"] == "宝政办发〔2020〕49号"
    assert card["doc_title"] == "宝鸡市人民政府办公室关于支持多渠道灵活就业的实施意见"
    assert card["section_label"] and card["article_mark"] and card["title"] and card["quote"]
    assert card["heading"] == card["section_label"] + card["article_mark"] + card["title"]
    assert card["departments"] and isinstance(card["expiry_notes"], list)
    assert card["context_url"] == f"/api/clauses/{card['clause_id']}"


def test_answer_without_entitlements_offers_no_screening(policy_service):
    body = policy_service.post("/api/answer", json={"q": "家政服务业有什么支持"}).json()
    assert body["answerable"] is True
    assert body["offer_screening"] is False


def test_answer_uses_the_context_of_the_conversation(policy_service):
    first = policy_service.post("/api/answer", json={"q": "创业担保贷款最多能贷多少？", "intent": "ask_loan",
                                                     "confidence": 0.97}).json()
    context = {"question": first["topic_question"], "clauses": first["topic_clauses"], "facts": {}}
    follow_up = policy_service.post("/api/answer", json={"q": "这个去哪办？", "intent": "out_of_scope",
                                                         "confidence": 0.9, "context": context}).json()
    assert follow_up["kind"] == "answer" and follow_up["follow_up"] is True
    assert "市人社局" in follow_up["parts"][0].splitlines()[0]


def test_unanswered_questions_are_recorded_by_the_answer_call_itself(policy_service):
    body = policy_service.post("/api/answer", json={"q": "宝鸡明天会下雨吗", "intent": "out_of_scope",
                                                    "confidence": 0.99, "sender": "rest:abc"}).json()
    assert body["kind"] == "no_answer" and body["answerable"] is False
    recorded = policy_service.get("/api/feedback?kind=unanswered", headers=STAFF).json()["feedback"]
    assert any(record["question"] == "宝鸡明天会下雨吗" for record in recorded)


def test_answer_returns_to_an_earlier_topic_of_the_history(policy_service):
    loan = policy_service.post("/api/answer", json={"q": "创业担保贷款最多能贷多少？"}).json()
    training = policy_service.post("/api/answer", json={"q": "以工代训补贴标准是多少？", "context": {
        "question": loan["topic_question"], "clauses": loan["topic_clauses"]}}).json()
    assert training["topic_history"] == [{"question": loan["topic_question"], "clauses": loan["topic_clauses"]}]
    back = policy_service.post("/api/answer", json={"q": "回到刚才那个贷款，这个去哪办？", "context": {
        "question": training["topic_question"], "clauses": training["topic_clauses"],
        "history": training["topic_history"]}}).json()
    assert back["returned"] is True and back["citations"][0]["article"] == 1
    assert "市人社局" in back["parts"][0].splitlines()[0]


@pytest.mark.parametrize("body", [{"q": "贷款", "context": "x"}, {"q": "贷款", "context": {"clauses": "x"}},
                                  {"q": "贷款", "context": {"history": "x"}},
                                  {"q": "贷款", "intent": 5}, {"q": "贷款", "confidence": "high"}])
def test_answer_with_a_malformed_hint_or_context_is_400(policy_service, body):
    assert policy_service.post("/api/answer", json=body).status_code == 400


@pytest.mark.parametrize("body", [{}, {"q": ""}, {"q": 5}, [1, 2]])
def test_answer_bad_request_is_400(policy_service, body):
    assert policy_service.post("/api/answer", json=body).status_code == 400


def test_clause_and_documents(policy_service):
    clause = policy_service.get("/api/clauses/baoji-2020-49:3.7").json()
    assert clause["article"] == 7
    assert "不收取任何费用" in clause["text"]
    assert policy_service.get("/api/clauses/nope:9").status_code == 404
    documents = policy_service.get("/api/documents").json()["documents"]
    assert any(doc["number"] == "宝政办发〔2020〕49号" for doc in documents)


def test_wording_of_the_contract_names_comes_from_the_rules_in_force(policy_service):
    wording = policy_service.get("/api/entitlements/wording").json()
    assert wording["groups"]["migrant_worker"] == "农民工"
    assert wording["activities"]["self_employed"] == "个体经营/创业"


def test_entitlements_lists_every_entitlement(policy_service):
    body = policy_service.post("/api/entitlements", json={
        "age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"]}).json()
    ids = {item["id"] for item in body["entitlements"]}
    assert {"guarantee_loan", "qinqing_loan", "tax_relief", "startup_subsidy", "social_insurance_subsidy",
            "training_subsidy", "registration_free", "licence_exempt", "road_fee_exempt", "pension_deferral",
            "temporary_relief"} <= ids
    subsidy = next(item for item in body["entitlements"] if item["id"] == "startup_subsidy")
    assert subsidy["eligible"] is True and subsidy["amount"] == 5000


def test_entitlements_cite_each_clause_once_with_complete_cards(policy_service):
    body = policy_service.post("/api/entitlements", json={
        "age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"], "as_of": "2026-11-26"}).json()
    cards = body["citations"]
    assert len({card["clause_id"] for card in cards}) == len(cards)  # merged per clause
    for card in cards:
        assert_complete_card(card)
    loans = next(card for card in cards if card["clause_id"] == "baoji-2020-49:2.1")
    assert loans["heading"] == "二、（一）优化贷款税收等政策支持个体经营发展"
    assert {"guarantee_loan", "qinqing_loan", "startup_subsidy"} <= set(loans["entitlements"])
    assert "20 万元" in loans["quote"] or "20万元" in loans["quote"]
    shown = {item["clause_id"] for item in body["entitlements"] if item["eligible"] is not False}
    assert {card["clause_id"] for card in cards} == shown


def test_entitlements_unknown_group_is_400_naming_the_field(policy_service):
    response = policy_service.post("/api/entitlements", json={"groups": ["astronaut"]})
    assert response.status_code == 400
    assert response.json()["field"] == "groups"


def test_feedback_is_stored_and_readable_by_staff_only(policy_service):
    created = policy_service.post("/api/feedback", json={"kind": "negative", "question": "摆摊收费吗",
                                                         "sender": "openid-123"})
    assert created.status_code == 201
    assert policy_service.get("/api/feedback").status_code == 401
    records = policy_service.get("/api/feedback", headers=STAFF).json()["feedback"]
    assert records[0]["question"] == "摆摊收费吗"
    assert records[0]["sender"] == pseudonym("openid-123") and "openid-123" not in str(records)


def test_feedback_with_unknown_kind_is_400(policy_service):
    assert policy_service.post("/api/feedback", json={"kind": "meh"}).status_code == 400


def test_chat_proxy_degrades_politely_when_rasa_is_down(policy_service):
    response = policy_service.post("/api/chat", json={"sender": "u", "message": "你好"})
    assert response.status_code == 503
    assert response.json()["error"] and response.json()["messages"] == []


def test_web_chat_page_is_served(policy_service):
    page = policy_service.get("/")
    assert page.status_code == 200 and "灵活就业政策助手" in page.text
    assert policy_service.get("/static/chat.js").status_code == 200


def startup_subsidy(policy_service) -> dict:
    body = policy_service.post("/api/entitlements", json={
        "age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"]}).json()
    return next(item for item in body["entitlements"] if item["id"] == "startup_subsidy")


def test_yaml_is_the_seed_not_a_second_truth(policy_service):
    """Parameters live in the store (changed through drafts); editing the git YAML changes nothing,
    and the reload route only re-reads what is published."""
    path = policy_service.settings.parameters_dir / "startup_subsidy.yaml"
    original = path.read_text(encoding="utf-8")
    assert policy_service.post("/api/admin/reload").status_code == 401
    try:
        path.write_text(original.replace("value: 5000", "value: 6000"), encoding="utf-8")
        assert policy_service.post("/api/admin/reload", headers=STAFF).status_code == 200
        assert startup_subsidy(policy_service)["amount"] == 5000
    finally:
        path.write_text(original, encoding="utf-8")


# --- staff keep the knowledge base current -------------------------------------------------------------
def settled(policy_service) -> None:
    """Wait until the latest publish is live. A staff route waits at most 10 s for the new index
    (service/staff.py LIVE_WAIT_SECONDS); a loaded CI machine can take longer, and the next search would then
    see the old index. The keeper signals the swap (/api/admin/live), nothing here sleeps."""
    releases = policy_service.get("/api/admin/releases", headers=STAFF).json()["releases"]
    latest = max(release["revision"] for release in releases)
    for _ in range(10):  # ≤ 10 minutes: only a broken build gets this far
        live = policy_service.get("/api/admin/live", headers=STAFF, params={"revision": latest, "timeout": 60})
        if live.json()["live"]:
            return
    raise AssertionError(f"revision {latest} never went live: {live.json()}")


def top_article(policy_service, question: str):
    body = policy_service.get("/api/search", params={"q": question}).json()
    return body["hits"][0]["article"] if body["answerable"] and body["hits"] else None


def test_staff_routes_need_the_token(policy_service):
    assert policy_service.post("/api/clauses/baoji-2020-49:3.8/retire", json={"editor": "x"}).status_code == 401
    assert policy_service.put("/api/clauses/baoji-2020-49:3.8", json={"text": "x", "editor": "x"}).status_code == 401


def test_retired_clause_is_no_longer_answered_and_can_be_restored(policy_service):
    question = "夜里在广场支个小摊行不行"
    assert top_article(policy_service, question) == 8
    retired = policy_service.post("/api/clauses/baoji-2020-49:3.8/retire", headers=STAFF,
                                  json={"editor": "王科员", "reason": "测试下架"})
    assert retired.status_code == 200 and retired.json()["active"] is False
    try:
        settled(policy_service)
        assert top_article(policy_service, question) != 8
    finally:
        policy_service.post("/api/clauses/baoji-2020-49:3.8/restore", headers=STAFF, json={"editor": "王科员"})
        settled(policy_service)
    assert top_article(policy_service, question) == 8
    history = policy_service.get("/api/clauses/baoji-2020-49:3.8/history", headers=STAFF).json()["history"]
    assert [entry["action"] for entry in history][-2:] == ["retire", "restore"]
    assert history[-2]["editor"] == "staff-token"  # the account the token acts as, not a name in the body


def test_edited_text_is_searched_and_quoted_without_restart(policy_service):
    clause_id = "baoji-2020-49:4.9"
    current = policy_service.get(f"/api/clauses/{clause_id}").json()
    original = current["text"]
    edited = original.replace("提供登记、培训、招聘等便利化公共就业服务", "提供登记、培训、招聘、法律援助等便利化公共就业服务")
    assert edited != original
    try:
        response = policy_service.put(f"/api/clauses/{clause_id}", headers=STAFF,
                                      json={"text": edited, "version": current["version"], "note": "补充服务内容"})
        assert response.status_code == 200 and response.json()["version"] == current["version"] + 1
        settled(policy_service)
        answer = policy_service.post("/api/answer", json={"q": "社区就业服务平台提供法律援助吗"}).json()
        assert "法律援助" in "\n".join(answer["parts"])
    finally:
        policy_service.put(f"/api/clauses/{clause_id}", headers=STAFF,
                           json={"text": original, "version": current["version"] + 1})
        settled(policy_service)


def test_edit_of_unknown_clause_is_404_and_bad_edit_is_400(policy_service):
    assert policy_service.put("/api/clauses/nope:1", headers=STAFF,
                              json={"text": "x。", "version": 1}).status_code == 404
    response = policy_service.put("/api/clauses/baoji-2020-49:4.9", headers=STAFF, json={"text": "  "})
    assert response.status_code == 400 and response.json()["field"] == "text"


def test_staff_add_a_document_from_text(policy_service):
    text = ("某市人民政府办公室文件\n\n某政办发〔2026〕7号\n\n某市人民政府办公室 关于试行夜市摊位登记的通知\n\n"
            "一、登记办法\n\n（一）夜市摊位实行免费登记。摊主凭身份证在街道办登记。（市城市管理执法局负责）\n\n"
            "某市人民政府办公室\n\n2026年1月5日\n")
    response = policy_service.post("/api/documents", headers=STAFF,
                                   json={"doc_id": "test-2026-7", "text": text, "editor": "李科长"})
    try:
        assert response.status_code == 201, response.text
        assert response.json()["clauses"] == 1
        documents = policy_service.get("/api/documents").json()["documents"]
        assert any(doc["doc_id"] == "test-2026-7" for doc in documents)
        bad = policy_service.post("/api/documents", headers=STAFF,
                                  json={"doc_id": "Bad Id", "text": text, "editor": "x"})
        assert bad.status_code == 400 and bad.json()["field"] == "doc_id"
    finally:  # the session's service is shared: its night-market clause would outrank article (八) elsewhere
        retired = policy_service.post("/api/clauses/test-2026-7:1.1/retire", headers=STAFF, json={"reason": "测试"})
        assert retired.status_code == 200, retired.text
        settled(policy_service)
