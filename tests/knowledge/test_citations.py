"""Citation cards (knowledge/citations.py): one complete shape for answers and screenings, merged per clause."""
import datetime as dt

from knowledge.citations import citation_card, complete_cards, entitlement_citations, in_clause_words, merge_cards, section_label

TODAY = dt.date(2026, 11, 26)
DOCUMENT = {"number": "宝政办发〔2020〕49号", "title": "宝鸡市人民政府办公室关于支持多渠道灵活就业的实施意见"}


def test_card_names_document_section_article_quote_and_departments(articles):
    clause = articles[1]
    quote = next(sentence for sentence in clause.sentences if "14400" in sentence)
    card = citation_card(clause, DOCUMENT["number"], DOCUMENT["title"], [quote], TODAY)
    assert card["heading"] == "二、（一）优化贷款税收等政策支持个体经营发展"
    assert (card["section_label"], card["article_mark"], card["article"]) == ("二、", "（一）", 1)
    assert card["article_label"] == "（一）优化贷款税收等政策支持个体经营发展"
    assert card["doc_number"] == DOCUMENT["number"] and card["doc_title"] == DOCUMENT["title"]
    assert card["quote"] == quote and card["quotes"] == [quote]
    assert card["departments"][0] == "市财政局" and card["expired"] is False
    assert card["context_url"] == "/api/clauses/baoji-2020-49:2.1"
    assert "text" not in card  # the article is fetched on demand, not carried in every message


def test_expired_time_limit_in_the_quote_gives_a_note(articles):
    quote = next(sentence for sentence in articles[1].sentences if "2020 年内" in sentence or "2020年内" in sentence)
    card = citation_card(articles[1], DOCUMENT["number"], DOCUMENT["title"], [quote], TODAY)
    assert card["expired"] is True and "已于2020年12月31日到期" in card["expiry_notes"][0]
    before = citation_card(articles[1], DOCUMENT["number"], DOCUMENT["title"], [quote], dt.date(2020, 6, 1))
    assert before["expired"] is False and before["expiry_notes"] == []


def test_section_label():
    assert section_label("二、积极拓宽渠道，开发更多灵活就业岗位") == "二、"
    assert section_label("十二、其他") == "十二、"
    assert section_label("前言") == ""


def test_cards_for_the_same_clause_are_merged_in_order(articles):
    first, second = articles[1].sentences[:2]
    cards = [citation_card(articles[1], "n", "t", [first], TODAY) | {"entitlements": ["a"]},
             citation_card(articles[7], "n", "t", [articles[7].sentences[0]], TODAY) | {"entitlements": ["b"]},
             citation_card(articles[1], "n", "t", [second, first], TODAY) | {"entitlements": ["c"]}]
    merged = merge_cards(cards)
    assert [card["article"] for card in merged] == [1, 7]
    assert merged[0]["quotes"] == [first, second] and merged[0]["quote"] == first + second
    assert merged[0]["entitlements"] == ["a", "c"]
    assert cards[0]["quotes"] == [first]  # inputs are not modified


def test_screening_citations_cover_the_shown_entitlements_once_per_clause(document, entitlement_engine):
    clauses = {clause.clause_id: clause for clause in document.clauses}
    result = entitlement_engine.evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": TODAY.isoformat()})
    cards = entitlement_citations(result, clauses.get, lambda doc_id: DOCUMENT, TODAY)
    shown = [item for item in result["entitlements"] if item["eligible"] is not False]
    assert [card["clause_id"] for card in cards] == list(dict.fromkeys(item["clause_id"] for item in shown))
    for card in cards:
        assert card["quote"] and card["doc_number"] and card["heading"].startswith(card["section_label"])
        for quote in card["quotes"]:
            assert quote in clauses[card["clause_id"]].text  # every quote is the clause's own words
    assert sorted(id_ for card in cards for id_ in card["entitlements"]) == sorted(item["id"] for item in shown)


def test_screening_citations_skip_a_clause_the_store_does_not_have(entitlement_engine):
    result = entitlement_engine.evaluate({"age": 35, "groups": ["migrant_worker"], "activities": ["self_employed"],
                       "as_of": TODAY.isoformat()})
    assert entitlement_citations(result, lambda clause_id: None, lambda doc_id: DOCUMENT, TODAY) == []


def test_a_quote_is_given_in_the_clause_s_own_words():
    text = "（一）标题。创业担保贷款个贷最高额度20万元，10万元以下免除反担保。其他。"
    assert in_clause_words(text, "最高额度 20 万元，10 万元以下免除反担保。") == "最高额度20万元，10万元以下免除反担保。"
    assert in_clause_words(text, "没有这句") == "没有这句"
    assert in_clause_words("a b\nc", "bc") == "b\nc"


def test_a_bare_reference_becomes_a_complete_card_and_merges_with_its_clause(document, articles):
    clauses = {clause.clause_id: clause for clause in document.clauses}
    quote = next(sentence for sentence in articles[1].sentences if "14400" in sentence)
    full = citation_card(articles[1], DOCUMENT["number"], DOCUMENT["title"], [articles[1].sentences[0]], TODAY)
    bare = {"clause_id": "baoji-2020-49:2.1", "quote": quote.replace("14400", "14400 "), "entitlement": "tax_relief"}
    (card,) = complete_cards([full, bare], clauses.get, lambda doc_id: DOCUMENT, TODAY)
    assert card["quotes"] == [articles[1].sentences[0], quote]  # in the clause's own words
    assert card["entitlements"] == ["tax_relief"] and card["heading"].startswith("二、（一）")
    assert complete_cards([{"clause_id": "nope:1", "quote": "x"}], clauses.get, lambda doc_id: DOCUMENT, TODAY) == []
