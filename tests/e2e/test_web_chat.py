"""The web chat in a real headless Chromium (Debian's chromium + chromium-driver), at phone size (390×844).

DOM assertions, not pictures: the screenshots saved in var/artifacts/ are for people. The README's copies in
docs/ are rewritten only on request, after a change to the page:
UPDATE_DOCS_SCREENSHOTS=1 .venv/app/bin/python -m pytest tests/e2e/test_web_chat.py
Every test starts from an empty browser store, i.e. a new conversation with a new sender id.
"""
import os
import re
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "var" / "artifacts"
DOCS = PROJECT / "docs"
SECTION_AND_ARTICLE = r"[一二三四五六七八九十]+、（[一二三四五六七八九十]+）"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--window-size=390,844", "--lang=zh-CN", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # a phone's viewport (headless windows are at least 500 px wide)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    yield driver
    driver.quit()


@pytest.fixture
def chat(services, browser):
    """A new conversation: empty localStorage, then the page loads and the bot greets."""
    return open_new_conversation(browser, services)


def open_new_conversation(browser, services):
    browser.get(services.service_url + "/static/chat.css")  # same origin, without starting a conversation
    browser.execute_script("localStorage.clear()")
    browser.delete_all_cookies()  # and a new server-issued conversation id
    browser.get(services.service_url + "/")
    wait(browser).until(lambda b: bot_texts(b))
    return browser


def wait(browser, timeout=60):
    return WebDriverWait(browser, timeout)


def bot_texts(browser):
    return [b.text for b in browser.find_elements(By.CSS_SELECTOR, ".msg.bot .bubble") if b.text]


def user_bubbles(browser):
    return browser.find_elements(By.CSS_SELECTOR, ".msg.user .bubble")


def say(browser, text):
    """Types a message and waits until the bot's reply has arrived (the typing dots are gone)."""
    before = len(bot_texts(browser))
    box = browser.find_element(By.ID, "text")
    box.send_keys(text)
    browser.find_element(By.ID, "send").click()
    wait(browser).until(lambda b: len(bot_texts(b)) > before and not b.find_element(By.ID, "typing").is_displayed())


def click_chip(browser, title):
    before = len(bot_texts(browser))
    chip = next(c for c in browser.find_elements(By.CSS_SELECTOR, ".chip:not([disabled])") if c.text == title)
    chip.click()
    wait(browser).until(lambda b: len(bot_texts(b)) > before and not b.find_element(By.ID, "typing").is_displayed())


def compact(text):
    return re.sub(r"\s+", "", text)


def screenshot(browser, name, in_readme=True):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    if in_readme and os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        browser.save_screenshot(str(DOCS / name))


# Scrolls the chat log so that the first bubble line containing arguments[0] is at the top.
SCROLL_TO_TEXT = """
    const [text, log] = arguments;
    const bubble = [...log.querySelectorAll('.bubble')].find(b => b.textContent.includes(text));
    const range = document.createRange();
    const node = bubble.firstChild, start = node.textContent.indexOf(text);
    range.setStart(node, start);
    range.setEnd(node, start + text.length);
    log.scrollTop += range.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;"""


# Counts every user bubble the page ever adds, from the first byte of the document on (before chat.js runs).
COUNT_USER_BUBBLES = """
    window.userBubblesAdded = 0;
    new MutationObserver(function (changes) {
        changes.forEach(function (change) {
            change.addedNodes.forEach(function (node) {
                if (node.nodeType !== 1) return;
                if (node.matches(".msg.user") || node.querySelector(".msg.user")) window.userBubblesAdded += 1;
            });
        });
    }).observe(document, {childList: true, subtree: true});"""


def test_the_bot_speaks_first_and_no_user_bubble_appears_before_the_user_types(services, browser):
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COUNT_USER_BUBBLES})
    try:
        chat = open_new_conversation(browser, services)
        assert chat.execute_script("return window.userBubblesAdded") == 0  # not even for a moment
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    log = chat.find_element(By.ID, "log")
    first = log.find_elements(By.CSS_SELECTOR, ".msg:not(.typing)")[0]
    assert "bot" in first.get_attribute("class").split()
    assert first.find_element(By.CSS_SELECTOR, ".avatar").is_displayed()  # the bot's avatar
    assert "小助手" in first.text
    assert user_bubbles(chat) == []
    assert log.find_elements(By.CSS_SELECTOR, ".time")  # a time line opens the conversation
    assert chat.find_elements(By.CSS_SELECTOR, ".chip:not([disabled])")  # the greeting's quick replies
    history = chat.execute_script("return JSON.parse(localStorage.getItem('policy-chat-history'))")
    assert history and not any("user" in entry for entry in history)
    screenshot(chat, "web-chat-greeting.png", in_readme=False)
    chat.refresh()  # still no fake user line after a reload
    wait(chat).until(lambda b: bot_texts(b))
    assert user_bubbles(chat) == []


def test_answer_has_a_complete_card_that_does_not_repeat_the_bubble_and_opens_the_article(chat):
    say(chat, "创业担保贷款最多能贷多少？")
    assert any("20" in text and "万" in text for text in bot_texts(chat))
    card = wait(chat).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".card")))
    head = card.find_element(By.CSS_SELECTOR, ".card-head").text
    assert "宝政办发〔2020〕49号" in head and "二、（一）优化贷款税收等政策支持个体经营发展" in head
    assert "实施意见" in card.find_element(By.CSS_SELECTOR, ".doc-title").text
    assert "市人社局" in card.find_element(By.CSS_SELECTOR, ".departments").text
    # the quoted sentence is shown once: in the bubble, or else in the card
    citation = chat.execute_script(
        "return JSON.parse(localStorage.getItem('policy-chat-history'))"
        ".map(e => e.bot && e.bot.custom && e.bot.custom.citations).filter(Boolean)[0][0]")
    quotes = citation["quotes"]
    assert citation["expiry_notes"]
    shown = [compact(text) for text in bot_texts(chat)]
    shown += [compact(quote.text) for quote in card.find_elements(By.CSS_SELECTOR, ".quote, .expired")]
    for quote in quotes:
        assert sum(text.count(compact(quote)) for text in shown) == 1
    for note in citation["expiry_notes"]:  # 2020年内优先支持… has expired: said once
        assert sum(text.count(compact(note)) for text in shown) == 1
    chat.execute_script("arguments[0].scrollIntoView()", user_bubbles(chat)[-1])
    screenshot(chat, "web-chat.png")
    # the article in context, with the quoted sentences marked
    card.find_element(By.CSS_SELECTOR, ".context summary").click()
    marks = wait(chat).until(lambda b: card.find_elements(By.CSS_SELECTOR, ".context-text mark"))
    assert sorted(compact(mark.text) for mark in marks) == sorted(compact(quote) for quote in quotes)
    assert "引导劳动者以市场为导向" in card.find_element(By.CSS_SELECTOR, ".context-text").text

    answered = len(bot_texts(chat))
    click_chip(chat, "有帮助")  # the feedback quick reply of the current step works
    assert len(bot_texts(chat)) > answered
    assert user_bubbles(chat)[-1].text == "有帮助"


def test_an_answer_bubble_has_the_answer_and_a_citation_line_and_the_card_has_the_quote(chat):
    say(chat, "创业担保贷款最多能贷多少？")
    card = wait(chat).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".card")))
    answers = [text for text in bot_texts(chat) if "依据" in text]
    assert len(answers) == 1  # one bubble, not the full text before it
    lines = answers[0].splitlines()
    assert "20万元" in lines[0]  # the answer first
    assert "依据：宝政办发〔2020〕49号 二、（一）优化贷款税收等政策支持个体经营发展" in lines
    assert "负责部门" not in answers[0]  # the card shows the departments
    citation = chat.execute_script(
        "return JSON.parse(localStorage.getItem('policy-chat-history'))"
        ".map(e => e.bot && e.bot.custom && e.bot.custom.citations).filter(Boolean)[0][0]")
    quote = compact(citation["quotes"][0])
    assert not any(quote in compact(text) for text in bot_texts(chat))  # the quote is not in a bubble …
    assert quote in compact(card.find_element(By.CSS_SELECTOR, ".quote").text)  # … but in the card
    shown = bot_texts(chat)
    chat.refresh()  # the transcript keeps the short bubble, and the card its quote
    wait(chat).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".card .quote"))
    assert bot_texts(chat) == shown
    assert quote in compact(chat.find_element(By.CSS_SELECTOR, ".card .quote").text)


def test_screening_result_has_complete_cards_marks_with_words_and_a_true_count(chat):
    say(chat, "帮我算算我能享受啥扶持政策")
    say(chat, "35")
    click_chip(chat, "农民工")
    say(chat, "想开个小吃店")
    result = next(b for b in chat.find_elements(By.CSS_SELECTOR, ".msg.bot .bubble") if "您可以享受" in b.text)
    text = "\n".join(bot_texts(chat)[bot_texts(chat).index(result.text):])
    citation_lines = [line.strip() for line in text.splitlines() if "依据：" in line]
    assert citation_lines and all(re.match(r"(以上\d+项)?依据：宝政办发〔2020〕49号 " + SECTION_AND_ARTICLE, line)
                                  for line in citation_lines)  # the section too, not （一） alone
    for mark, word in (("✅", "【符合】"), ("❓", "【待确认】"), ("📍", "【办理部门】")):
        assert mark + word in text and text.count(mark) == text.count(mark + word)

    finished = [chip for chip in chat.find_elements(By.CSS_SELECTOR, ".chip") if chip.text == "农民工"]
    assert finished and not any(chip.is_enabled() for chip in finished)  # the finished form's buttons are dead

    count, names = re.search(r"其余(\d+)项按您说的情况暂不符合：(.*)。", text).groups()
    assert int(count) == len(re.findall(r"「[^」]+」", names)) > 0
    assert "「养老保险暂缓缴费、补缴" in names  # a name containing 、 is one item

    cards = chat.find_elements(By.CSS_SELECTOR, ".card")
    assert cards
    clause_ids = [card.get_attribute("data-clause") for card in cards]
    assert len(clause_ids) == len(set(clause_ids))  # one card per clause
    for card in cards:
        assert card.find_element(By.CSS_SELECTOR, ".doc-number").text == "宝政办发〔2020〕49号"
        assert card.find_element(By.CSS_SELECTOR, ".quote").text.strip("“”")
        assert re.match(SECTION_AND_ARTICLE, card.find_element(By.CSS_SELECTOR, ".heading").text)
    chat.execute_script("arguments[0].scrollIntoView()", result)
    screenshot(chat, "web-chat-screening.png")
    chat.execute_script(SCROLL_TO_TEXT, "其余", chat.find_element(By.ID, "log"))  # the count, then the cards
    screenshot(chat, "web-chat-screening-cards.png")


def test_quick_replies_of_a_cancelled_step_do_nothing(chat):
    say(chat, "帮我算算能拿多少补贴")
    say(chat, "35")
    assert any(chip.text == "农民工" for chip in chat.find_elements(By.CSS_SELECTOR, ".chip:not([disabled])"))
    say(chat, "算了")
    stale = [chip for chip in chat.find_elements(By.CSS_SELECTOR, ".chip") if chip.text == "农民工"]
    assert stale and all(not chip.is_enabled() for chip in stale)
    users_before = len(user_bubbles(chat))
    chat.execute_script("""
        window.chatRequests = 0;
        const original = window.fetch;
        window.fetch = function () { window.chatRequests += 1; return original.apply(this, arguments); };""")
    chat.execute_script("arguments[0].click()", stale[0])
    # even with the disabled attribute removed, the retired step ignores the click
    chat.execute_script("arguments[0].disabled = false; arguments[0].click()", stale[0])
    # send() shows the user's bubble and calls fetch synchronously, so nothing sent means nothing now
    assert chat.execute_script("return window.chatRequests") == 0
    assert len(user_bubbles(chat)) == users_before


def test_agent_messages_are_marked_and_kept_and_supersede_the_bot_s_quick_replies(chat):
    greeting_chips = chat.find_elements(By.CSS_SELECTOR, ".chip")
    assert greeting_chips and all(chip.is_enabled() for chip in greeting_chips)
    chat.execute_script("window.chatUI.addMessage('您好，我是人工客服，请问有什么可以帮您？', {from: 'agent'})")
    agent = chat.find_element(By.CSS_SELECTOR, ".msg.agent")
    assert agent.find_element(By.CSS_SELECTOR, ".name").text == "人工客服"
    assert "请问有什么可以帮您" in agent.find_element(By.CSS_SELECTOR, ".bubble").text
    avatar, body = agent.find_element(By.CSS_SELECTOR, ".avatar"), agent.find_element(By.CSS_SELECTOR, ".body")
    assert avatar.rect["x"] + avatar.rect["width"] <= body.rect["x"]  # beside the bubble, as the bot's
    assert not any(chip.is_enabled() for chip in greeting_chips)  # the agent leads now

    def color(selector):
        return chat.find_element(By.CSS_SELECTOR, selector).value_of_css_property("background-color")
    assert color(".msg.agent .bubble") != color(".msg.bot .bubble")  # a distinct style
    chat.refresh()
    wait(chat).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".msg.agent .name"))


def test_time_lines_separate_turns_more_than_five_minutes_apart(chat):
    chat.execute_script("""
        const at = (h, m) => new Date(2020, 2, 1, h, m).getTime();
        localStorage.setItem('policy-chat-history', JSON.stringify([
            {bot: {text: '您好'}, at: at(9, 5)}, {user: '摆摊要交费吗', at: at(9, 6)},
            {bot: {text: '不收费'}, at: at(9, 6)}, {user: '谢谢', at: at(9, 20)}]));""")
    chat.refresh()
    wait(chat).until(lambda b: "谢谢" in b.find_element(By.ID, "log").text)
    times = [t.text for t in chat.find_elements(By.CSS_SELECTOR, "#log .time")]
    assert times == ["2020年3月1日 09:05", "2020年3月1日 09:20"]


def test_server_issued_id_and_transcript_persist_across_reloads(chat):
    say(chat, "摆摊要交费吗")
    first = chat.get_cookie("policy_chat")
    assert first and first["httpOnly"]  # issued by the server, invisible to page scripts
    assert "policy_chat" not in chat.execute_script("return document.cookie")
    chat.refresh()
    assert chat.get_cookie("policy_chat")["value"] == first["value"]
    wait(chat).until(lambda b: "摆摊要交费吗" in b.find_element(By.ID, "log").text)
    assert [bubble.text for bubble in user_bubbles(chat)] == ["摆摊要交费吗"]


def test_handoff_button_shows_transfer_notice(chat):
    chat.find_element(By.ID, "handoff").click()
    wait(chat).until(lambda b: "已为您转接人工客服" in b.find_element(By.ID, "log").text)
